variable "name" {
  type        = string
  description = "Name prefix, e.g. \"tern-prod\"."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,28}[a-z0-9]$", var.name))
    error_message = "name must be 3-30 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "stream_mode" {
  type        = string
  description = "Kinesis capacity mode: ON_DEMAND, or PROVISIONED with stream_shard_count."
  default     = "ON_DEMAND"

  validation {
    condition     = contains(["ON_DEMAND", "PROVISIONED"], var.stream_mode)
    error_message = "stream_mode must be ON_DEMAND or PROVISIONED."
  }
}

variable "stream_shard_count" {
  type        = number
  description = "Shards when stream_mode = PROVISIONED (1 MB/s or 1000 records/s each)."
  default     = 4

  validation {
    condition     = var.stream_shard_count >= 1 && var.stream_shard_count <= 1000
    error_message = "stream_shard_count must be between 1 and 1000."
  }
}

variable "stream_retention_hours" {
  type        = number
  description = "Kinesis retention: how long Firehose (or a replay) can lag."
  default     = 24

  validation {
    condition     = var.stream_retention_hours >= 24 && var.stream_retention_hours <= 8760
    error_message = "stream_retention_hours must be between 24 and 8760."
  }
}

variable "firehose_buffer_seconds" {
  type        = number
  description = "Firehose buffering interval before an S3 object is written."
  default     = 300

  validation {
    condition     = var.firehose_buffer_seconds >= 60 && var.firehose_buffer_seconds <= 900
    error_message = "firehose_buffer_seconds must be between 60 and 900."
  }
}

variable "firehose_buffer_mb" {
  type        = number
  description = "Firehose buffering size before an S3 object is written."
  default     = 128

  validation {
    condition     = var.firehose_buffer_mb >= 1 && var.firehose_buffer_mb <= 128
    error_message = "firehose_buffer_mb must be between 1 and 128."
  }
}

variable "events_ia_days" {
  type        = number
  description = "Days before event objects move to S3 Standard-IA."
  default     = 30

  validation {
    condition     = var.events_ia_days >= 30
    error_message = "events_ia_days must be at least 30 (S3 minimum for Standard-IA)."
  }
}

variable "events_glacier_days" {
  type        = number
  description = "Days before event objects move to Glacier Instant Retrieval."
  default     = 90

  validation {
    condition     = var.events_glacier_days > var.events_ia_days
    error_message = "events_glacier_days must be later than events_ia_days."
  }
}

variable "events_expiration_days" {
  type        = number
  description = "Days after which event objects are deleted."
  default     = 400

  validation {
    condition     = var.events_expiration_days > var.events_glacier_days
    error_message = "events_expiration_days must be later than events_glacier_days."
  }
}

variable "athena_results_expiration_days" {
  type        = number
  description = "Days Athena query results are kept."
  default     = 30

  validation {
    condition     = var.athena_results_expiration_days >= 1 && var.athena_results_expiration_days <= 3650
    error_message = "athena_results_expiration_days must be between 1 and 3650."
  }
}

variable "athena_bytes_scanned_cutoff" {
  type        = number
  description = "Per-query scan limit of the Athena workgroup, in bytes."
  default     = 107374182400

  validation {
    condition     = var.athena_bytes_scanned_cutoff >= 10485760
    error_message = "athena_bytes_scanned_cutoff must be at least 10 MiB."
  }
}

variable "partition_projection_start" {
  type        = string
  description = "First date (yyyy-MM-dd) of the dt partition projection."
  default     = "2025-01-01"

  validation {
    condition     = can(regex("^[0-9]{4}-[0-9]{2}-[0-9]{2}$", var.partition_projection_start))
    error_message = "partition_projection_start must be yyyy-MM-dd."
  }
}

variable "log_retention_days" {
  type        = number
  description = "Retention of the Firehose error log group."
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch Logs retention value."
  }
}

variable "force_destroy" {
  type        = bool
  description = "Allow destroying non-empty buckets and workgroups (dev only)."
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
