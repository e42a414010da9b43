# state: the campaigns table the bidders sync from (key, streams with both images,
# PITR, KMS), Redis as one primary plus replicas (cluster mode disabled) with TLS
# and an auth token from Secrets Manager, the fleet's notice-signing key; the Redis
# toggle used by the moto apply.

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
      aws_elasticache_replication_group.this[0].parameter_group_name == "default.redis7" &&
      aws_elasticache_replication_group.this[0].num_cache_clusters == 2
    )
    error_message = "Redis (7.1, one replica by default) is one primary plus one replica with the non-cluster default parameter group: the bidders' client does not follow cluster redirects."
  }

  assert {
    condition     = aws_elasticache_replication_group.this[0].automatic_failover_enabled && aws_elasticache_replication_group.this[0].multi_az_enabled
    error_message = "Redis is Multi-AZ with automatic failover to a replica."
  }

  assert {
    condition     = output.redis_address == "master.mock-freqcap.abc123.use1.cache.amazonaws.com:6379"
    error_message = "The bidders connect to the primary endpoint on 6379 (it follows failover)."
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
    condition     = aws_dynamodb_table.campaigns.stream_view_type == "NEW_AND_OLD_IMAGES" && aws_secretsmanager_secret.redis_auth.name == "tern-test/redis-auth-token"
    error_message = "The table and the token secret stay."
  }

  assert {
    condition     = aws_secretsmanager_secret.notice_signing.name == "tern-test/notice-signing-key"
    error_message = "The notice key exists without Redis too: every fleet signs notices."
  }

  assert {
    condition     = output.redis_address == null
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
