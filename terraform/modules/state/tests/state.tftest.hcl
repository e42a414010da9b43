# state: the campaigns table the bidders sync from (key, streams with both images,
# PITR, KMS), the spend ledger the fleet shares budgets through (key, no stream,
# PITR, KMS, deletion protection with the campaigns table), the control plane's
# table (keys pk/sk, TTL on expires_at, PITR, KMS, deletion protection) and its two
# secrets, Redis with TLS and an auth token from Secrets Manager in both shapes
# (one shard: a primary plus replicas, cluster mode disabled, primary endpoint;
# several: cluster mode, configuration endpoint), the fleet's notice-signing key;
# the Redis toggle used by the moto apply.
#
# The mock provider still runs the AWS provider's schema validation, which rejects
# num_cache_clusters next to num_node_groups or replicas_per_node_group: a shape
# that set both would fail here before any assert. Attributes the configuration
# leaves unset are computed by the mock (0 for numbers).

mock_provider "aws" {
  source = "../../tests/mocks"
}

# Distinct ARNs for the two secrets (the shared mock gives every secret the same one),
# so the outputs can be told apart.
override_resource {
  target = aws_secretsmanager_secret.redis_auth
  values = { arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:tern-test/redis-auth-token-AbCdEf" }
}

override_resource {
  target = aws_secretsmanager_secret.notice_signing
  values = { arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:tern-test/notice-signing-key-NoTiCe" }
}

# A distinct ARN for the spend and control tables (the shared mock gives every
# table the same one), so their outputs can be told from the campaigns table's.
override_resource {
  target = aws_dynamodb_table.spend
  values = { arn = "arn:aws:dynamodb:us-east-1:123456789012:table/tern-test-spend" }
}

override_resource {
  target = aws_dynamodb_table.control
  values = { arn = "arn:aws:dynamodb:us-east-1:123456789012:table/tern-test-control" }
}

# Distinct ARNs and values for the control plane's two secrets (the shared mock
# gives every secret, and every generated password, the same one).
override_resource {
  target = aws_secretsmanager_secret.control_plane_bootstrap_key
  values = { arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:tern-test/control-plane-bootstrap-key-BoOtSt" }
}

override_resource {
  target = aws_secretsmanager_secret.control_plane_pepper
  values = { arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:tern-test/control-plane-pepper-PePpEr" }
}

override_data {
  target = data.aws_secretsmanager_random_password.control_plane_pepper
  values = { random_password = "MockControlPlanePepper0123456789abcdefMockControlPlanePepper01234" }
}

variables {
  name                            = "tern-test"
  vpc_id                          = "vpc-0123456789abcdef0"
  private_subnet_ids              = ["subnet-0a", "subnet-0b", "subnet-0c"]
  redis_client_security_group_ids = ["sg-0aaaaaaaaaaaaaaaa"]
}

run "campaigns_table_and_redis" {
  command = apply

  assert {
    condition = (
      aws_dynamodb_table.campaigns.hash_key == "campaign_id" &&
      one([for a in aws_dynamodb_table.campaigns.attribute : a.type if a.name == "campaign_id"]) == "S" &&
      length(aws_dynamodb_table.campaigns.attribute) == 1 &&
      aws_dynamodb_table.campaigns.range_key == null
    )
    error_message = "Partition key campaign_id (S) and nothing else declared."
  }

  assert {
    condition     = aws_dynamodb_table.campaigns.billing_mode == "PAY_PER_REQUEST"
    error_message = "The campaigns table is on-demand."
  }

  assert {
    condition     = aws_dynamodb_table.campaigns.stream_enabled && aws_dynamodb_table.campaigns.stream_view_type == "NEW_AND_OLD_IMAGES"
    error_message = "Streams with NEW_AND_OLD_IMAGES feed the bidders' sync."
  }

  assert {
    condition     = aws_dynamodb_table.campaigns.point_in_time_recovery[0].enabled
    error_message = "PITR must be on."
  }

  assert {
    condition     = aws_dynamodb_table.campaigns.server_side_encryption[0].enabled && aws_dynamodb_table.campaigns.server_side_encryption[0].kms_key_arn == aws_kms_key.this.arn
    error_message = "The table is encrypted with the module's customer-managed key."
  }

  assert {
    condition     = aws_dynamodb_table.campaigns.deletion_protection_enabled
    error_message = "Deletion protection is on by default."
  }

  assert {
    condition     = length(aws_elasticache_replication_group.this) == 1
    error_message = "Redis exists by default."
  }

  assert {
    condition = (
      aws_elasticache_replication_group.this[0].transit_encryption_enabled &&
      aws_elasticache_replication_group.this[0].at_rest_encryption_enabled &&
      aws_elasticache_replication_group.this[0].kms_key_id == aws_kms_key.this.arn
    )
    error_message = "Redis must encrypt in transit (TLS) and at rest with the CMK."
  }

  assert {
    condition     = aws_elasticache_replication_group.this[0].auth_token == aws_secretsmanager_secret_version.redis_auth.secret_string && aws_secretsmanager_secret.redis_auth.kms_key_id == aws_kms_key.this.arn
    error_message = "The AUTH token is the KMS-encrypted Secrets Manager value."
  }

  assert {
    condition = (
      aws_elasticache_replication_group.this[0].cluster_mode == "disabled" &&
      output.redis_cluster_mode == "disabled" &&
      aws_elasticache_replication_group.this[0].parameter_group_name == "default.redis7" &&
      aws_elasticache_replication_group.this[0].num_cache_clusters == 1 + var.redis_replicas
    )
    error_message = "One shard by default: cluster mode disabled, the non-cluster default parameter group of Redis 7, one primary plus redis_replicas replicas."
  }

  assert {
    condition = (
      aws_elasticache_replication_group.this[0].num_node_groups == 0 &&
      aws_elasticache_replication_group.this[0].replicas_per_node_group == 0
    )
    error_message = "With one shard the configuration sets neither num_node_groups nor replicas_per_node_group (the mock computes 0 for unset numbers)."
  }

  assert {
    condition     = aws_elasticache_replication_group.this[0].automatic_failover_enabled && aws_elasticache_replication_group.this[0].multi_az_enabled
    error_message = "Redis is Multi-AZ with automatic failover to a replica."
  }

  assert {
    condition = (
      output.redis_address == "${aws_elasticache_replication_group.this[0].primary_endpoint_address}:6379" &&
      output.redis_address != "${aws_elasticache_replication_group.this[0].configuration_endpoint_address}:6379"
    )
    error_message = "With one shard the bidders connect to the primary endpoint on 6379 (it follows failover), not the configuration endpoint."
  }

  # The fleet's notice-signing key: generated like the AUTH token, KMS-encrypted.
  assert {
    condition = (
      aws_secretsmanager_secret.notice_signing.name == "tern-test/notice-signing-key" &&
      aws_secretsmanager_secret.notice_signing.kms_key_id == aws_kms_key.this.arn &&
      aws_secretsmanager_secret_version.notice_signing.secret_id == aws_secretsmanager_secret.notice_signing.id &&
      aws_secretsmanager_secret_version.notice_signing.secret_string == data.aws_secretsmanager_random_password.notice.random_password
    )
    error_message = "The notice key is a Secrets Manager generated value in its own secret, encrypted with the module's key."
  }

  assert {
    condition     = data.aws_secretsmanager_random_password.notice.password_length >= 32 && length(aws_secretsmanager_secret_version.notice_signing.secret_string) >= 32
    error_message = "The notice key has at least 32 random characters."
  }

  assert {
    condition = (
      output.notice_secret_arn == aws_secretsmanager_secret.notice_signing.arn &&
      output.redis_auth_secret_arn == aws_secretsmanager_secret.redis_auth.arn &&
      output.notice_secret_arn != output.redis_auth_secret_arn
    )
    error_message = "The notice key and the AUTH token are separate secrets, each output under its own name."
  }

  assert {
    condition     = aws_vpc_security_group_ingress_rule.redis_clients[0].referenced_security_group_id == "sg-0aaaaaaaaaaaaaaaa" && aws_vpc_security_group_ingress_rule.redis_clients[0].from_port == 6379
    error_message = "Only the client security groups reach 6379."
  }

  assert {
    condition     = aws_kms_key.this.enable_key_rotation
    error_message = "KMS key rotation must be on."
  }
}

# The spend ledger: one item per campaign keyed by campaign_id alone, read and
# conditionally updated by the bidders; protected like the campaigns table.
run "spend_ledger_table" {
  command = apply

  assert {
    condition = (
      aws_dynamodb_table.spend.name == "tern-test-spend" &&
      aws_dynamodb_table.spend.hash_key == "campaign_id" &&
      aws_dynamodb_table.spend.range_key == null &&
      length(aws_dynamodb_table.spend.attribute) == 1 &&
      one([for a in aws_dynamodb_table.spend.attribute : a.type if a.name == "campaign_id"]) == "S"
    )
    error_message = "The spend table <name>-spend has partition key campaign_id (S), no sort key, nothing else declared."
  }

  assert {
    condition     = aws_dynamodb_table.spend.billing_mode == "PAY_PER_REQUEST"
    error_message = "The spend table is on-demand."
  }

  assert {
    condition     = !aws_dynamodb_table.spend.stream_enabled
    error_message = "Nothing tails the spend ledger: no stream."
  }

  assert {
    condition     = aws_dynamodb_table.spend.point_in_time_recovery[0].enabled
    error_message = "PITR must be on for the spend ledger."
  }

  assert {
    condition = (
      aws_dynamodb_table.spend.server_side_encryption[0].enabled &&
      aws_dynamodb_table.spend.server_side_encryption[0].kms_key_arn == aws_kms_key.this.arn &&
      output.kms_key_arn == aws_kms_key.this.arn
    )
    error_message = "The spend table is encrypted with the module's customer-managed key (output kms_key_arn)."
  }

  assert {
    condition     = aws_dynamodb_table.spend.deletion_protection_enabled == aws_dynamodb_table.campaigns.deletion_protection_enabled && aws_dynamodb_table.spend.deletion_protection_enabled
    error_message = "The spend table has deletion protection like the campaigns table (on by default)."
  }

  assert {
    condition = (
      output.spend_table_name == aws_dynamodb_table.spend.name &&
      output.spend_table_arn == aws_dynamodb_table.spend.arn &&
      output.spend_table_arn != output.campaigns_table_arn
    )
    error_message = "The spend table's name and ARN are output under their own names, apart from the campaigns table's."
  }
}

# The control plane's own table: API keys, audit log, idempotency records (which
# expire through TTL), tombstones; keys pk and sk as the service's schema declares
# them (tables/src/schema.rs), protected like the campaigns table.
run "control_table" {
  command = apply

  assert {
    condition = (
      aws_dynamodb_table.control.name == "tern-test-control" &&
      aws_dynamodb_table.control.hash_key == "pk" &&
      aws_dynamodb_table.control.range_key == "sk" &&
      length(aws_dynamodb_table.control.attribute) == 2 &&
      one([for a in aws_dynamodb_table.control.attribute : a.type if a.name == "pk"]) == "S" &&
      one([for a in aws_dynamodb_table.control.attribute : a.type if a.name == "sk"]) == "S"
    )
    error_message = "The control table <name>-control has partition key pk (S) and sort key sk (S), nothing else declared."
  }

  assert {
    condition     = length(aws_dynamodb_table.control.global_secondary_index) == 0 && length(aws_dynamodb_table.control.local_secondary_index) == 0
    error_message = "The control table has no index (the service queries pk and sk only; the role grants the table alone)."
  }

  assert {
    condition     = aws_dynamodb_table.control.billing_mode == "PAY_PER_REQUEST"
    error_message = "The control table is on-demand."
  }

  assert {
    condition     = aws_dynamodb_table.control.ttl[0].enabled && aws_dynamodb_table.control.ttl[0].attribute_name == "expires_at"
    error_message = "Idempotency records expire through TTL on expires_at."
  }

  assert {
    condition     = !aws_dynamodb_table.control.stream_enabled
    error_message = "Nothing tails the control table: no stream."
  }

  assert {
    condition     = aws_dynamodb_table.control.point_in_time_recovery[0].enabled
    error_message = "PITR must be on for the control table (keys and the audit log)."
  }

  assert {
    condition = (
      aws_dynamodb_table.control.server_side_encryption[0].enabled &&
      aws_dynamodb_table.control.server_side_encryption[0].kms_key_arn == aws_kms_key.this.arn &&
      output.kms_key_arn == aws_kms_key.this.arn
    )
    error_message = "The control table is encrypted with the module's customer-managed key (output kms_key_arn)."
  }

  assert {
    condition     = aws_dynamodb_table.control.deletion_protection_enabled
    error_message = "The control table has deletion protection by default, like the campaigns table."
  }

  assert {
    condition = (
      output.control_table_name == aws_dynamodb_table.control.name &&
      output.control_table_arn == aws_dynamodb_table.control.arn &&
      output.control_table_arn != output.campaigns_table_arn &&
      output.control_table_arn != output.spend_table_arn
    )
    error_message = "The control table's name and ARN are output under their own names, apart from the other tables'."
  }
}

# The control plane's bootstrap operator key and pepper: generated like the notice
# key, each in its own KMS-encrypted secret, output for the control plane's module.
run "control_plane_secrets" {
  command = apply

  assert {
    condition = (
      aws_secretsmanager_secret.control_plane_bootstrap_key.name == "tern-test/control-plane-bootstrap-key" &&
      aws_secretsmanager_secret.control_plane_bootstrap_key.kms_key_id == aws_kms_key.this.arn &&
      aws_secretsmanager_secret_version.control_plane_bootstrap_key.secret_id == aws_secretsmanager_secret.control_plane_bootstrap_key.id &&
      aws_secretsmanager_secret_version.control_plane_bootstrap_key.secret_string == data.aws_secretsmanager_random_password.control_plane_bootstrap_key.random_password
    )
    error_message = "The bootstrap operator key is a Secrets Manager generated value in its own secret, encrypted with the module's key."
  }

  assert {
    condition = (
      aws_secretsmanager_secret.control_plane_pepper.name == "tern-test/control-plane-pepper" &&
      aws_secretsmanager_secret.control_plane_pepper.kms_key_id == aws_kms_key.this.arn &&
      aws_secretsmanager_secret_version.control_plane_pepper.secret_id == aws_secretsmanager_secret.control_plane_pepper.id &&
      aws_secretsmanager_secret_version.control_plane_pepper.secret_string == data.aws_secretsmanager_random_password.control_plane_pepper.random_password
    )
    error_message = "The pepper is a Secrets Manager generated value in its own secret, encrypted with the module's key."
  }

  assert {
    condition = (
      data.aws_secretsmanager_random_password.control_plane_bootstrap_key.password_length >= 32 &&
      length(aws_secretsmanager_secret_version.control_plane_bootstrap_key.secret_string) >= 32 &&
      data.aws_secretsmanager_random_password.control_plane_pepper.password_length >= 32 &&
      length(aws_secretsmanager_secret_version.control_plane_pepper.secret_string) >= 32
    )
    error_message = "Both have at least 32 random characters (the service refuses a shorter bootstrap key)."
  }

  assert {
    condition     = aws_secretsmanager_secret_version.control_plane_pepper.secret_string != aws_secretsmanager_secret_version.control_plane_bootstrap_key.secret_string
    error_message = "The pepper and the bootstrap key are separate values."
  }

  assert {
    condition = (
      output.control_plane_bootstrap_key_secret_arn == aws_secretsmanager_secret.control_plane_bootstrap_key.arn &&
      output.control_plane_pepper_secret_arn == aws_secretsmanager_secret.control_plane_pepper.arn &&
      length(toset([output.control_plane_bootstrap_key_secret_arn, output.control_plane_pepper_secret_arn, output.notice_secret_arn, output.redis_auth_secret_arn])) == 4
    )
    error_message = "The control plane's two secrets are output under their own names, apart from each other and from the fleet's."
  }
}

run "table_deletion_protection_off_for_every_table" {
  command = plan

  variables {
    table_deletion_protection = false
  }

  assert {
    condition     = !aws_dynamodb_table.campaigns.deletion_protection_enabled && !aws_dynamodb_table.spend.deletion_protection_enabled && !aws_dynamodb_table.control.deletion_protection_enabled
    error_message = "table_deletion_protection = false (dev) leaves the three tables destroyable."
  }
}

# Sharded: cluster mode with the engine's cluster.on parameter group, and the
# bidders get the configuration endpoint (they follow MOVED/ASK from there).
# Everything that protects the data stays as with one shard. A state of its own
# (state_key, Terraform >= 1.11): applied over the first run's group, the computed
# num_cache_clusters would keep that run's value and say nothing about this shape.
run "redis_sharded" {
  command   = apply
  state_key = "sharded"

  variables {
    redis_shards   = 3
    redis_replicas = 1
  }

  assert {
    condition = (
      aws_elasticache_replication_group.this[0].cluster_mode == "enabled" &&
      output.redis_cluster_mode == "enabled" &&
      aws_elasticache_replication_group.this[0].parameter_group_name == "default.redis7.cluster.on"
    )
    error_message = "Several shards: cluster mode enabled with Redis 7's default cluster.on parameter group."
  }

  assert {
    condition = (
      aws_elasticache_replication_group.this[0].num_node_groups == var.redis_shards &&
      aws_elasticache_replication_group.this[0].replicas_per_node_group == var.redis_replicas &&
      aws_elasticache_replication_group.this[0].num_cache_clusters == 0
    )
    error_message = "redis_shards node groups of a primary plus redis_replicas replicas each; num_cache_clusters is left unset (it conflicts with the shard arguments)."
  }

  assert {
    condition = (
      output.redis_address == "${aws_elasticache_replication_group.this[0].configuration_endpoint_address}:6379" &&
      output.redis_address != "${aws_elasticache_replication_group.this[0].primary_endpoint_address}:6379"
    )
    error_message = "Sharded, the bidders connect to the configuration endpoint on 6379, not a primary endpoint."
  }

  assert {
    condition = (
      aws_elasticache_replication_group.this[0].transit_encryption_enabled &&
      aws_elasticache_replication_group.this[0].at_rest_encryption_enabled &&
      aws_elasticache_replication_group.this[0].kms_key_id == aws_kms_key.this.arn &&
      aws_elasticache_replication_group.this[0].auth_token == aws_secretsmanager_secret_version.redis_auth.secret_string &&
      aws_elasticache_replication_group.this[0].automatic_failover_enabled &&
      aws_elasticache_replication_group.this[0].multi_az_enabled &&
      aws_elasticache_replication_group.this[0].port == 6379 &&
      aws_elasticache_replication_group.this[0].subnet_group_name == aws_elasticache_subnet_group.this[0].name &&
      aws_elasticache_replication_group.this[0].security_group_ids == toset([aws_security_group.redis.id])
    )
    error_message = "Sharding keeps TLS, encryption at rest with the CMK, AUTH, Multi-AZ failover, port, subnets and security group."
  }
}

run "redis_sharded_engine_6" {
  command = plan

  variables {
    redis_shards         = 2
    redis_replicas       = 2
    redis_engine_version = "6.2"
  }

  assert {
    condition = (
      aws_elasticache_replication_group.this[0].parameter_group_name == "default.redis6.x.cluster.on" &&
      aws_elasticache_replication_group.this[0].cluster_mode == "enabled" &&
      aws_elasticache_replication_group.this[0].num_node_groups == 2 &&
      aws_elasticache_replication_group.this[0].replicas_per_node_group == 2
    )
    error_message = "Redis 6 in cluster mode uses default.redis6.x.cluster.on; shards and replicas per shard follow the inputs."
  }
}

run "redis_toggle_off_keeps_the_rest" {
  command = plan

  variables {
    enable_redis = false
  }

  assert {
    condition     = length(aws_elasticache_replication_group.this) == 0 && length(aws_elasticache_subnet_group.this) == 0
    error_message = "enable_redis = false creates no ElastiCache resources."
  }

  assert {
    condition     = aws_dynamodb_table.campaigns.stream_view_type == "NEW_AND_OLD_IMAGES" && aws_dynamodb_table.spend.name == "tern-test-spend" && aws_secretsmanager_secret.redis_auth.name == "tern-test/redis-auth-token"
    error_message = "The tables and the token secret stay."
  }

  assert {
    condition     = aws_secretsmanager_secret.notice_signing.name == "tern-test/notice-signing-key"
    error_message = "The notice key exists without Redis too: every fleet signs notices."
  }

  assert {
    condition     = aws_dynamodb_table.control.name == "tern-test-control" && aws_secretsmanager_secret.control_plane_pepper.name == "tern-test/control-plane-pepper"
    error_message = "The control plane's table and secrets do not depend on Redis."
  }

  assert {
    condition     = output.redis_address == null && output.redis_cluster_mode == null
    error_message = "No Redis, no address: the bidders keep their in-process caps."
  }
}

run "redis_replicas_and_engine_6" {
  command = plan

  variables {
    redis_replicas       = 2
    redis_engine_version = "6.2"
  }

  assert {
    condition = (
      aws_elasticache_replication_group.this[0].num_cache_clusters == 3 &&
      aws_elasticache_replication_group.this[0].parameter_group_name == "default.redis6.x" &&
      aws_elasticache_replication_group.this[0].cluster_mode == "disabled"
    )
    error_message = "Two replicas make three nodes; Redis 6 uses default.redis6.x (not cluster.on)."
  }
}

run "rejects_redis_without_replicas" {
  command = plan

  variables {
    redis_replicas = 0
  }

  expect_failures = [var.redis_replicas]
}

run "rejects_more_replicas_than_a_group_holds" {
  command = plan

  variables {
    redis_replicas = 6
  }

  expect_failures = [var.redis_replicas]
}

run "rejects_zero_shards" {
  command = plan

  variables {
    redis_shards = 0
  }

  expect_failures = [var.redis_shards]
}

run "rejects_fractional_shards" {
  command = plan

  variables {
    redis_shards = 2.5
  }

  expect_failures = [var.redis_shards]
}

run "accepts_a_cluster_of_90_nodes" {
  command = plan

  variables {
    redis_shards   = 45
    redis_replicas = 1
  }

  assert {
    condition     = aws_elasticache_replication_group.this[0].num_node_groups == 45
    error_message = "45 shards of a primary and a replica are 90 nodes: within the default quota."
  }
}

run "rejects_more_nodes_than_a_cluster_holds" {
  command = plan

  variables {
    redis_shards   = 31
    redis_replicas = 2
  }

  expect_failures = [var.redis_shards]
}
