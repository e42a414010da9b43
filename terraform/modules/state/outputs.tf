output "campaigns_table_name" {
  description = "DynamoDB campaigns table name."
  value       = try(aws_dynamodb_table.campaigns.name, null)
}

output "campaigns_table_arn" {
  description = "DynamoDB campaigns table ARN."
  value       = try(aws_dynamodb_table.campaigns.arn, null)
}

output "campaigns_stream_arn" {
  description = "Latest stream ARN of the campaigns table (NEW_AND_OLD_IMAGES)."
  value       = try(aws_dynamodb_table.campaigns.stream_arn, null)
}

output "spend_table_name" {
  description = "DynamoDB spend ledger table name (budget.dynamodb.table): one item per campaign, key campaign_id (S)."
  value       = try(aws_dynamodb_table.spend.name, null)
}

output "spend_table_arn" {
  description = "DynamoDB spend ledger table ARN (the bidders' GetItem and UpdateItem)."
  value       = try(aws_dynamodb_table.spend.arn, null)
}

output "control_table_name" {
  description = "DynamoDB control table name (the control plane's tables.control): keys pk (S) and sk (S), TTL on expires_at."
  value       = try(aws_dynamodb_table.control.name, null)
}

output "control_table_arn" {
  description = "DynamoDB control table ARN (the control plane's GetItem, Query, PutItem, UpdateItem)."
  value       = try(aws_dynamodb_table.control.arn, null)
}

output "kms_key_arn" {
  description = "KMS key of the campaigns, spend and control tables, Redis, its auth token, the notice-signing key and the control plane's secrets."
  value       = try(aws_kms_key.this.arn, null)
}

output "redis_auth_secret_arn" {
  description = "Secrets Manager secret holding the Redis AUTH token."
  value       = try(aws_secretsmanager_secret.redis_auth.arn, null)
}

output "notice_secret_arn" {
  description = "Secrets Manager secret holding the bidders' billing-notice HMAC key (notice.secret)."
  value       = try(aws_secretsmanager_secret.notice_signing.arn, null)
}

output "control_plane_bootstrap_key_secret_arn" {
  description = "Secrets Manager secret holding the control plane's bootstrap operator key (auth.bootstrap_operator_key): read by its user data at boot, and by operators to create the first stored keys."
  value       = try(aws_secretsmanager_secret.control_plane_bootstrap_key.arn, null)
}

output "control_plane_pepper_secret_arn" {
  description = "Secrets Manager secret holding the control plane's API-key pepper (auth.pepper), read by its user data at boot."
  value       = try(aws_secretsmanager_secret.control_plane_pepper.arn, null)
}

output "redis_address" {
  description = "host:port the bidders connect to: with one shard the primary endpoint (it follows failover), with more the cluster's configuration endpoint (the bidders follow MOVED/ASK redirects from there); null when enable_redis = false."
  value = (
    !var.enable_redis ? null :
    local.redis_sharded ? "${aws_elasticache_replication_group.this[0].configuration_endpoint_address}:${aws_elasticache_replication_group.this[0].port}" :
    "${aws_elasticache_replication_group.this[0].primary_endpoint_address}:${aws_elasticache_replication_group.this[0].port}"
  )
}

output "redis_cluster_mode" {
  description = "\"enabled\" when Redis is sharded (redis_shards > 1, redis_address is the configuration endpoint), \"disabled\" for one primary with replicas; null when enable_redis = false."
  value       = try(aws_elasticache_replication_group.this[0].cluster_mode, null)
}

output "redis_security_group_id" {
  description = "Security group of Redis."
  value       = try(aws_security_group.redis.id, null)
}
