output "bucket_name" {
  description = "Bucket holding the lists or files (created here, or existing_bucket_name)."
  value       = try(aws_s3_bucket.this[0].bucket, var.existing_bucket_name)
}

output "bucket_arn" {
  description = "ARN of bucket_name."
  value       = try(aws_s3_bucket.this[0].arn, "arn:${local.partition}:s3:::${var.existing_bucket_name}")
}

output "prefix" {
  description = "Key prefix of the lists or files, ending in \"/\"."
  value       = var.prefix
}

output "s3_uri" {
  description = "Where operators upload and the bidders read (screening.s3_uri, or segments.s3_uri for purpose \"segments\"): s3://<bucket>/<prefix>."
  value       = "s3://${try(aws_s3_bucket.this[0].bucket, var.existing_bucket_name)}/${var.prefix}"
}

output "kms_key_arn" {
  description = "KMS key the objects are encrypted with: this module's for a created bucket, existing_kms_key_arn otherwise (null: SSE-S3)."
  value       = try(aws_kms_key.this[0].arn, var.existing_kms_key_arn)
}

output "created" {
  description = "Whether this module created the bucket (false: existing_bucket_name)."
  value       = local.create
}

output "current_version_days" {
  description = "Days after upload current objects expire in the created bucket (null: never, or an existing bucket, whose lifecycle is its owner's)."
  value       = local.create ? var.current_version_days : null
}
