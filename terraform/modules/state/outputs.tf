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

output "kms_key_arn" {
  description = "KMS key of the table, Redis, its auth token and the notice-signing key."
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

output "redis_address" {
  description = "host:port the bidders connect to: the primary endpoint, which follows failover (null when enable_redis = false)."
  value       = var.enable_redis ? "${aws_elasticache_replication_group.this[0].primary_endpoint_address}:${aws_elasticache_replication_group.this[0].port}" : null
}

output "redis_security_group_id" {
  description = "Security group of Redis."
  value       = try(aws_security_group.redis.id, null)
}
