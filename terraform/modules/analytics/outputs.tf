output "kinesis_stream_name" {
  description = "Event stream the bidders ship to."
  value       = try(aws_kinesis_stream.this.name, null)
}

output "kinesis_stream_arn" {
  description = "Event stream ARN."
  value       = try(aws_kinesis_stream.this.arn, null)
}

output "kms_key_arn" {
  description = "KMS key of the stream, the buckets and Athena results."
  value       = try(aws_kms_key.this.arn, null)
}

output "events_bucket_name" {
  description = "S3 bucket Firehose writes events to (events/dt=YYYY-MM-DD/)."
  value       = try(aws_s3_bucket.this["events"].id, null)
}

output "athena_results_bucket_name" {
  description = "S3 bucket of Athena query results."
  value       = try(aws_s3_bucket.this["athena_results"].id, null)
}

output "firehose_delivery_stream_name" {
  description = "Firehose delivery stream."
  value       = try(aws_kinesis_firehose_delivery_stream.this.name, null)
}

output "glue_database_name" {
  description = "Glue database holding the events table."
  value       = try(aws_glue_catalog_database.this.name, null)
}

output "glue_table_name" {
  description = "Glue table over the events."
  value       = try(aws_glue_catalog_table.events.name, null)
}

output "athena_workgroup_name" {
  description = "Athena workgroup with enforced, encrypted results."
  value       = try(aws_athena_workgroup.this.name, null)
}

output "athena_named_query_ids" {
  description = "Saved queries of docs/analytics.md in the workgroup: id by query name (win-rate, loss-reasons, ...)."
  value       = try({ for k, q in aws_athena_named_query.this : k => q.id }, {})
}
