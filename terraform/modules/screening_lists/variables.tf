variable "name" {
  type        = string
  description = "Name prefix, e.g. \"tern-prod\". The created bucket is <name>-screening-<account id>."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,28}[a-z0-9]$", var.name))
    error_message = "name must be 3-30 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "prefix" {
  type        = string
  description = "Key prefix of the lists in the bucket, ending in \"/\" (e.g. \"lists/\"): the bidders poll s3://<bucket>/<prefix> and may read nothing else. Segments of letters, digits, _ . - (no wildcards, which would widen the bidders' grant)."
  default     = "lists/"

  validation {
    condition     = can(regex("^([A-Za-z0-9_-][A-Za-z0-9_.-]*/)+$", var.prefix)) && length(var.prefix) <= 256
    error_message = "prefix must be one or more segments of letters, digits, _ . - each followed by \"/\" (e.g. \"lists/\" or \"tern/prod/lists/\"), at most 256 characters, without a leading \"/\"."
  }
}

variable "existing_bucket_name" {
  type        = string
  description = "An existing bucket to keep the lists in (under prefix) instead of creating one; its encryption, versioning and policy are then its owner's. null: create <name>-screening-<account id>."
  default     = null

  validation {
    condition     = var.existing_bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.existing_bucket_name))
    error_message = "existing_bucket_name must be an S3 bucket name (3-63 lowercase letters, digits, dots and hyphens) or null."
  }
}

variable "existing_kms_key_arn" {
  type        = string
  description = "With existing_bucket_name: the KMS key its objects are encrypted with (SSE-KMS), which the bidders may then use to decrypt through S3 only. null: the bucket uses SSE-S3 (no key grant needed)."
  default     = null

  validation {
    condition     = var.existing_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.existing_kms_key_arn))
    error_message = "existing_kms_key_arn must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID, not an alias) or null."
  }

  validation {
    condition     = var.existing_kms_key_arn == null || var.existing_bucket_name != null
    error_message = "existing_kms_key_arn only goes with existing_bucket_name: a created bucket uses this module's own key."
  }
}

variable "noncurrent_version_days" {
  type        = number
  description = "Days replaced or deleted list versions are kept in the created bucket (to roll back a bad upload)."
  default     = 30

  validation {
    condition     = var.noncurrent_version_days >= 1 && var.noncurrent_version_days <= 3650 && floor(var.noncurrent_version_days) == var.noncurrent_version_days
    error_message = "noncurrent_version_days must be a whole number of days between 1 and 3650."
  }
}

variable "force_destroy" {
  type        = bool
  description = "Allow destroying the created bucket with lists in it (dev only)."
  default     = false
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}

  validation {
    condition     = length(var.tags) <= 40 && alltrue([for k, v in var.tags : length(k) > 0 && length(k) <= 128 && length(v) <= 256])
    error_message = "At most 40 tags, keys 1-128 and values up to 256 characters."
  }
}
