variable "name" {
  type        = string
  description = "Name prefix, e.g. \"tern-prod\"."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,28}[a-z0-9]$", var.name))
    error_message = "name must be 3-30 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "fleet_name" {
  type        = string
  description = "The `Fleet` dimension the bidders' CloudWatch agent puts on Tern/Bidder metrics (bidder_fleet's fleet_name)."

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{1,64}$", var.fleet_name))
    error_message = "fleet_name must be 1-64 characters of letters, digits, dots, underscores and hyphens."
  }
}

variable "autoscaling_group_name" {
  type        = string
  description = "Bidder auto scaling group (dashboard)."

  validation {
    condition     = length(var.autoscaling_group_name) > 0 && length(var.autoscaling_group_name) <= 255
    error_message = "autoscaling_group_name must be 1-255 characters."
  }
}

variable "nlb_arn_suffix" {
  type        = string
  description = "Bid NLB ARN suffix (AWS/NetworkELB LoadBalancer dimension)."

  validation {
    condition     = length(var.nlb_arn_suffix) > 0 && length(var.nlb_arn_suffix) <= 255
    error_message = "nlb_arn_suffix must not be empty."
  }
}

variable "target_group_arn_suffix" {
  type        = string
  description = "Bid target group ARN suffix (AWS/NetworkELB TargetGroup dimension)."

  validation {
    condition     = length(var.target_group_arn_suffix) > 0 && length(var.target_group_arn_suffix) <= 255
    error_message = "target_group_arn_suffix must not be empty."
  }
}

variable "alarm_emails" {
  type        = list(string)
  description = "E-mail addresses subscribed to the alarm topic (each must confirm)."
  default     = []

  validation {
    condition     = alltrue([for e in var.alarm_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "alarm_emails must be e-mail addresses."
  }
}

variable "budget_alert_emails" {
  type        = list(string)
  description = "E-mail addresses subscribed to the budget alert topic, which the bidders publish to when a campaign crosses 50, 80 or 100% of its budget (each must confirm)."
  default     = []

  validation {
    condition     = alltrue([for e in var.budget_alert_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "budget_alert_emails must be e-mail addresses."
  }
}

variable "bid_p99_threshold_seconds" {
  type        = number
  description = "Alarm when the worst instance's bid p99 (tern_request_duration_p99_seconds) stays above this."
  default     = 0.005

  validation {
    condition     = var.bid_p99_threshold_seconds > 0 && var.bid_p99_threshold_seconds <= 1
    error_message = "bid_p99_threshold_seconds must be in (0, 1]."
  }
}

variable "error_rate_threshold_percent" {
  type        = number
  description = "Alarm when 4xx+5xx responses exceed this share of requests."
  default     = 1

  validation {
    condition     = var.error_rate_threshold_percent > 0 && var.error_rate_threshold_percent <= 100
    error_message = "error_rate_threshold_percent must be in (0, 100]."
  }
}

variable "sync_lag_threshold_seconds" {
  type        = number
  description = "Alarm when any bidder's campaign state lags DynamoDB by more than this."
  default     = 30

  validation {
    condition     = var.sync_lag_threshold_seconds >= 1 && var.sync_lag_threshold_seconds <= 3600
    error_message = "sync_lag_threshold_seconds must be between 1 and 3600."
  }
}

variable "events_dropped_threshold" {
  type        = number
  description = "Alarm when more events than this are dropped per minute across the fleet."
  default     = 1000

  validation {
    condition     = var.events_dropped_threshold >= 0
    error_message = "events_dropped_threshold must not be negative."
  }
}

variable "budget_sync_errors_threshold" {
  type        = number
  description = "Alarm when the fleet fails more spend-ledger calls than this per minute (tern_budget_sync_errors_total, every op); 0 alarms on any sustained failure."
  default     = 0

  validation {
    condition     = var.budget_sync_errors_threshold >= 0
    error_message = "budget_sync_errors_threshold must not be negative."
  }
}

variable "budget_late_notices_threshold" {
  type        = number
  description = "Alarm when more billed impressions than this per minute across the fleet had their billing notice later than budget.hold_timeout_s less two flush intervals after the bid (tern_budget_late_notices_total: the spend that can take the fleet past a budget, docs/budgets.md); 0 alarms on any sustained late notice."
  default     = 0

  validation {
    condition     = var.budget_late_notices_threshold >= 0
    error_message = "budget_late_notices_threshold must not be negative."
  }
}

variable "evaluation_periods" {
  type        = number
  description = "Minutes an alarm condition must hold (datapoints to alarm out of the same window)."
  default     = 3

  validation {
    condition     = var.evaluation_periods >= 1 && var.evaluation_periods <= 60
    error_message = "evaluation_periods must be between 1 and 60."
  }
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
