output "bid_endpoint" {
  description = "Where partners send bids: http://<this>/openrtb2/bid."
  value       = module.bidder_fleet.nlb_dns_name
}

output "control_plane_endpoint" {
  description = "Control-plane ALB DNS name."
  value       = module.control_plane.alb_dns_name
}

output "campaigns_table_name" {
  description = "DynamoDB campaigns table."
  value       = module.state.campaigns_table_name
}

output "campaigns_stream_arn" {
  description = "Campaigns table stream (the bidders' sync source)."
  value       = module.state.campaigns_stream_arn
}

output "spend_table_name" {
  description = "DynamoDB spend ledger table (the bidders' fleet-wide budgets)."
  value       = module.state.spend_table_name
}

output "control_table_name" {
  description = "DynamoDB control table (the control plane's API keys, audit log, idempotency records)."
  value       = module.state.control_table_name
}

output "control_plane_bootstrap_key_secret_arn" {
  description = "Secrets Manager secret with the control plane's bootstrap operator key (read it to create the first stored API keys)."
  value       = module.state.control_plane_bootstrap_key_secret_arn
}

output "events_stream_name" {
  description = "Kinesis stream the bidders ship events to."
  value       = module.analytics.kinesis_stream_name
}

output "redis_address" {
  description = "Redis host:port the bidders use: the primary endpoint with one shard, the configuration endpoint when sharded (null without Redis)."
  value       = module.state.redis_address
}

output "redis_auth_secret_arn" {
  description = "Secrets Manager secret with the Redis AUTH token."
  value       = module.state.redis_auth_secret_arn
}

output "notice_secret_arn" {
  description = "Secrets Manager secret with the bidders' billing-notice signing key."
  value       = module.state.notice_secret_arn
}

output "athena_workgroup" {
  description = "Athena workgroup for event queries."
  value       = module.analytics.athena_workgroup_name
}

output "alarm_topic_arn" {
  description = "SNS topic of all alarms."
  value       = module.observability.alarm_topic_arn
}

output "budget_alert_topic_arn" {
  description = "SNS topic the bidders publish budget alerts to."
  value       = module.observability.budget_alert_topic_arn
}

output "bidder_autoscaling_group" {
  description = "Bidder auto scaling group."
  value       = module.bidder_fleet.autoscaling_group_name
}

output "screening_lists_s3_uri" {
  description = "Where operators upload the screening lists (aws s3 sync lists/ <this> --delete) and the bidders poll them: s3://<bucket>/<prefix>."
  value       = module.screening_lists.s3_uri
}

output "screening_lists_bucket" {
  description = "Bucket of the screening lists."
  value       = module.screening_lists.bucket_name
}

output "screening_lists_kms_key_arn" {
  description = "KMS key the screening lists are encrypted with (uploaders need kms:GenerateDataKey on it; null: SSE-S3)."
  value       = module.screening_lists.kms_key_arn
}

output "segments_s3_uri" {
  description = "Where data teams drop first-party segment files (JSON Lines, .gz allowed; docs/segments.md) for the bidders to load into Redis: s3://<bucket>/<prefix> (null: segments_enabled = false)."
  value       = one(module.segments[*].s3_uri)
}

output "segments_bucket" {
  description = "Bucket of the segment files (null: segments_enabled = false)."
  value       = one(module.segments[*].bucket_name)
}

output "segments_kms_key_arn" {
  description = "KMS key the segment files are encrypted with (droppers need kms:GenerateDataKey on it; null: SSE-S3 or segments_enabled = false)."
  value       = one(module.segments[*].kms_key_arn)
}
