variable "name" {
  type        = string
  description = "Name prefix, e.g. \"tern-prod\". The created bucket is <name>-<purpose>-<account id>."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,28}[a-z0-9]$", var.name))
    error_message = "name must be 3-30 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "purpose" {
  type        = string
  description = "What the bucket holds: its name <name>-<purpose>-<account id>, its key's alias alias/<name>-<purpose> and its Purpose tag. \"screening\" (default): the screening lists (tag screening-lists); \"segments\": the segment files `bidder segments load` reads."
  default     = "screening"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,17}[a-z0-9]$", var.purpose))
    error_message = "purpose must be 3-19 characters of lowercase letters, digits and hyphens, starting with a letter (it goes into the bucket name)."
  }
}

variable "current_version_days" {
  type        = number
  description = "Days after its upload a current object expires in the created bucket (becoming a noncurrent version, kept noncurrent_version_days more). null (default): current objects never expire, as the screening lists, which stay until replaced. Dropped files that must not be read again expire (segment files: fewer than 30 days, how long the loader remembers a loaded one). Only for a created bucket: an existing bucket's lifecycle is its owner's."
  default     = null

  validation {
    condition     = var.current_version_days == null || try(var.current_version_days >= 1 && var.current_version_days <= 3650 && floor(var.current_version_days) == var.current_version_days, false)
    error_message = "current_version_days must be null or a whole number of days between 1 and 3650."
  }

  validation {
    condition     = var.current_version_days == null || var.existing_bucket_name == null
    error_message = "current_version_days only goes with a created bucket: an existing bucket's lifecycle rules are its owner's (expire the objects under prefix there)."
  }
}

variable "prefix" {
  type        = string
  description = "Key prefix of the lists (or files) in the bucket, ending in \"/\" (e.g. \"lists/\"): the bidders read s3://<bucket>/<prefix> and nothing else. Segments of letters, digits, _ . - (no wildcards, which would widen the bidders' grant)."
  default     = "lists/"

  validation {
    condition     = can(regex("^([A-Za-z0-9_-][A-Za-z0-9_.-]*/)+$", var.prefix)) && length(var.prefix) <= 256
    error_message = "prefix must be one or more segments of letters, digits, _ . - each followed by \"/\" (e.g. \"lists/\" or \"tern/prod/lists/\"), at most 256 characters, without a leading \"/\"."
  }
}

variable "existing_bucket_name" {
  type        = string
  description = "An existing bucket to keep the objects in (under prefix) instead of creating one; its encryption, versioning, lifecycle and policy are then its owner's. null: create <name>-<purpose>-<account id>."
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
  description = "Days replaced, deleted or expired versions are kept in the created bucket (to roll back a bad upload)."
  default     = 30

  validation {
    condition     = var.noncurrent_version_days >= 1 && var.noncurrent_version_days <= 3650 && floor(var.noncurrent_version_days) == var.noncurrent_version_days
    error_message = "noncurrent_version_days must be a whole number of days between 1 and 3650."
  }
}

variable "force_destroy" {
  type        = bool
  description = "Allow destroying the created bucket with objects in it (dev only)."
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
