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
  description = "KMS key of the table, the Redis cluster and its auth token."
  value       = try(aws_kms_key.this.arn, null)
}

output "redis_auth_secret_arn" {
  description = "Secrets Manager secret holding the Redis AUTH token."
  value       = try(aws_secretsmanager_secret.redis_auth.arn, null)
}

output "redis_configuration_endpoint" {
  description = "Cluster-mode configuration endpoint (null when enable_redis = false)."
  value       = try(aws_elasticache_replication_group.this[0].configuration_endpoint_address, null)
}

output "redis_security_group_id" {
  description = "Security group of the Redis cluster."
  value       = try(aws_security_group.redis.id, null)
}
