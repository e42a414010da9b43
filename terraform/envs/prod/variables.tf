variable "region" {
  type        = string
  description = "AWS region."
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must look like us-east-1."
  }
}

variable "name" {
  type        = string
  description = "Environment name prefix."
  default     = "tern-prod"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,22}[a-z0-9]$", var.name))
    error_message = "name must be 3-24 characters of lowercase letters, digits and hyphens."
  }
}

variable "ami_id" {
  type        = string
  description = "Bidder AMI from `packer build` (packer/manifest.json)."

  validation {
    condition     = can(regex("^ami-[0-9a-f]{8,17}$", var.ami_id))
    error_message = "ami_id must be an AMI id (ami-...)."
  }
}

variable "control_plane_ami_id" {
  type        = string
  description = "AMI of the control-plane instances; null reuses ami_id."
  default     = null

  validation {
    condition     = var.control_plane_ami_id == null || can(regex("^ami-[0-9a-f]{8,17}$", var.control_plane_ami_id))
    error_message = "control_plane_ami_id must be an AMI id or null."
  }
}

variable "partner_cidrs" {
  type        = list(string)
  description = "Exchanges' source CIDRs admitted to the bid listener."

  validation {
    condition     = length(var.partner_cidrs) > 0 && alltrue([for c in var.partner_cidrs : can(cidrhost(c, 0)) && tonumber(split("/", c)[1]) >= 8])
    error_message = "partner_cidrs must be a non-empty list of CIDRs no wider than /8."
  }
}

variable "operator_cidrs" {
  type        = list(string)
  description = "Operators' CIDRs admitted to the control-plane ALB."

  validation {
    condition     = length(var.operator_cidrs) > 0 && alltrue([for c in var.operator_cidrs : can(cidrhost(c, 0)) && tonumber(split("/", c)[1]) >= 8])
    error_message = "operator_cidrs must be a non-empty list of CIDRs no wider than /8."
  }
}

variable "bid_tls_certificate_arn" {
  type        = string
  description = "ACM certificate for the bid NLB's TLS listener (443); null serves plain TCP only."
  default     = null

  validation {
    condition     = var.bid_tls_certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:", var.bid_tls_certificate_arn))
    error_message = "bid_tls_certificate_arn must be an ACM certificate ARN or null."
  }
}

variable "control_plane_certificate_arn" {
  type        = string
  description = "ACM certificate of the control-plane ALB (HTTPS is required in production)."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:acm:", var.control_plane_certificate_arn))
    error_message = "control_plane_certificate_arn must be an ACM certificate ARN."
  }
}

variable "bidder_min_size" {
  type        = number
  description = "Minimum bidder instances (at least one per AZ)."
  default     = 3

  validation {
    condition     = var.bidder_min_size >= 3
    error_message = "bidder_min_size must be at least 3 (one per AZ)."
  }
}

variable "bidder_max_size" {
  type        = number
  description = "Maximum bidder instances."
  default     = 60

  validation {
    condition     = var.bidder_max_size >= var.bidder_min_size
    error_message = "bidder_max_size must be at least bidder_min_size."
  }
}

variable "drain_timeout_ms" {
  type        = number
  description = "Bidder drain time after SIGTERM."
  default     = 10000

  validation {
    condition     = var.drain_timeout_ms >= 1000 && var.drain_timeout_ms <= 300000
    error_message = "drain_timeout_ms must be between 1000 and 300000."
  }
}

variable "bidder_env" {
  type        = map(string)
  description = "Extra TERN_<SECTION>__<KEY> overrides for the bidders."
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.bidder_env : can(regex("^TERN_[A-Z0-9_]+__[A-Z0-9_]+$", k))])
    error_message = "bidder_env keys must be TERN_<SECTION>__<KEY>."
  }
}

variable "alarm_emails" {
  type        = list(string)
  description = "Alarm e-mail recipients (at least one in production)."

  validation {
    condition     = length(var.alarm_emails) > 0 && alltrue([for e in var.alarm_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "alarm_emails must list at least one e-mail address."
  }
}

variable "budget_alert_emails" {
  type        = list(string)
  description = "Budget alert e-mail recipients (campaigns crossing 50, 80 or 100% of their budget)."
  default     = []

  validation {
    condition     = alltrue([for e in var.budget_alert_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "budget_alert_emails must be e-mail addresses."
  }
}

variable "screening_lists_bucket" {
  type        = string
  description = "Existing S3 bucket for the bidders' screening lists (under screening_lists_prefix); null creates <name>-screening-<account id>."
  default     = null

  validation {
    condition     = var.screening_lists_bucket == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.screening_lists_bucket))
    error_message = "screening_lists_bucket must be an S3 bucket name or null."
  }
}

variable "screening_lists_prefix" {
  type        = string
  description = "Key prefix of the screening lists in their bucket, ending in \"/\": the bidders poll it and may read nothing else."
  default     = "lists/"

  validation {
    condition     = can(regex("^([A-Za-z0-9_-][A-Za-z0-9_.-]*/)+$", var.screening_lists_prefix))
    error_message = "screening_lists_prefix must be segments of letters, digits, _ . - each followed by \"/\", e.g. \"lists/\"."
  }
}

variable "screening_lists_kms_key_arn" {
  type        = string
  description = "With screening_lists_bucket: the KMS key its objects are encrypted with (null: SSE-S3). A created bucket uses its own key."
  default     = null

  validation {
    condition     = var.screening_lists_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.screening_lists_kms_key_arn))
    error_message = "screening_lists_kms_key_arn must be a KMS key ARN or null."
  }
}

variable "segments_enabled" {
  type        = bool
  description = "Load first-party segment files dropped under s3://<segments bucket>/<segments_prefix> into Redis: every bidder runs `bidder segments load` from tern-segments-load.timer (the AMI must have it: bake before applying). false: no bucket, no grant, no timer."
  default     = true
}

variable "segments_bucket" {
  type        = string
  description = "Existing S3 bucket for the segment files (under segments_prefix); it must expire them within 30 days itself. null creates <name>-segments-<account id>, whose files expire after segments_expiration_days."
  default     = null

  validation {
    condition     = var.segments_bucket == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.segments_bucket))
    error_message = "segments_bucket must be an S3 bucket name or null."
  }
}

variable "segments_prefix" {
  type        = string
  description = "Key prefix of the segment files in their bucket, ending in \"/\": data teams drop files there, the bidders load them and may read nothing else."
  default     = "segments/"

  validation {
    condition     = can(regex("^([A-Za-z0-9_-][A-Za-z0-9_.-]*/)+$", var.segments_prefix))
    error_message = "segments_prefix must be segments of letters, digits, _ . - each followed by \"/\", e.g. \"segments/\"."
  }
}

variable "segments_kms_key_arn" {
  type        = string
  description = "With segments_bucket: the KMS key its objects are encrypted with (null: SSE-S3). A created bucket uses its own key."
  default     = null

  validation {
    condition     = var.segments_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.segments_kms_key_arn))
    error_message = "segments_kms_key_arn must be a KMS key ARN or null."
  }
}

variable "segments_expiration_days" {
  type        = number
  description = "Days a dropped segment file stays in the created bucket. Fewer than 30: the loader remembers a loaded file (key and ETag) 30 days, and a file still there after that is loaded again, over newer ones."
  default     = 14

  validation {
    condition     = var.segments_expiration_days >= 1 && var.segments_expiration_days <= 29 && floor(var.segments_expiration_days) == var.segments_expiration_days
    error_message = "segments_expiration_days must be a whole number of days from 1 to 29 (the loader forgets a loaded file after 30)."
  }
}
