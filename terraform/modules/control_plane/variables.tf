variable "name" {
  type        = string
  description = "Name prefix, e.g. \"tern-prod\"."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,22}[a-z0-9]$", var.name))
    error_message = "name must be 3-24 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "vpc_id" {
  type        = string
  description = "VPC of the control plane."

  validation {
    condition     = can(regex("^vpc-[0-9a-f]+$", var.vpc_id))
    error_message = "vpc_id must be a VPC id (vpc-...)."
  }
}

variable "alb_subnet_ids" {
  type        = list(string)
  description = "Subnets of the ALB (public for internet-facing, private for internal)."

  validation {
    condition     = length(var.alb_subnet_ids) >= 2
    error_message = "An ALB needs at least two subnets in different AZs."
  }
}

variable "private_subnet_ids" {
  type        = list(string)
  description = "Private subnets of the control-plane instances."

  validation {
    condition     = length(var.private_subnet_ids) >= 2
    error_message = "At least two private subnets are required."
  }
}

variable "internal" {
  type        = bool
  description = "Internal ALB (reached over VPN/peering) instead of internet-facing."
  default     = false
}

variable "allowed_cidrs" {
  type        = list(string)
  description = "Operator/tooling CIDRs admitted to the control-plane ALB."

  validation {
    condition     = length(var.allowed_cidrs) > 0 && alltrue([for c in var.allowed_cidrs : can(cidrhost(c, 0)) && tonumber(split("/", c)[1]) >= 8])
    error_message = "allowed_cidrs must be a non-empty list of IPv4 CIDRs no wider than /8."
  }
}

variable "certificate_arn" {
  type        = string
  description = "ACM certificate for HTTPS. With it, port 80 only redirects to 443; without it (dev), port 80 serves HTTP."
  default     = null

  validation {
    condition     = var.certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN or null."
  }
}

variable "tls_policy" {
  type        = string
  description = "ALB TLS security policy."
  default     = "ELBSecurityPolicy-TLS13-1-2-2021-06"

  validation {
    condition     = can(regex("^ELBSecurityPolicy-TLS13-1-[23]-", var.tls_policy))
    error_message = "tls_policy must be a TLS 1.3 policy allowing at least TLS 1.2."
  }
}

variable "service_port" {
  type        = number
  description = "Port of the control plane's API on the instances (server.listen = 0.0.0.0:<this>, written by the user data) and of the ALB's target group. The default is the service's own default port."
  default     = 7070

  validation {
    condition     = var.service_port >= 1024 && var.service_port <= 65535 && floor(var.service_port) == var.service_port
    error_message = "service_port must be an unprivileged port (1024-65535): the service has no capabilities."
  }

  validation {
    condition     = var.service_port != 7071
    error_message = "service_port must not be 7071: the admin listener (server.admin_listen, /metrics) holds it on loopback."
  }
}

variable "health_check_path" {
  type        = string
  description = "ALB health check path on the API listener."
  default     = "/health"

  validation {
    condition     = var.health_check_path == "/health"
    error_message = "health_check_path must be /health: it is the only API route open without a key (any other answers 401, and every instance would be unhealthy)."
  }
}

variable "ami_id" {
  type        = string
  description = "AMI of the control-plane instances (arm64)."

  validation {
    condition     = can(regex("^ami-[0-9a-f]{8,17}$", var.ami_id))
    error_message = "ami_id must be an AMI id (ami-...)."
  }
}

variable "instance_type" {
  type        = string
  description = "Graviton instance type of the control plane."
  default     = "t4g.small"

  validation {
    condition     = can(regex("^[cmrt][678]g[dn]*\\.(nano|micro|small|medium|large|[0-9]*xlarge)$", var.instance_type)) || can(regex("^t4g\\.", var.instance_type))
    error_message = "instance_type must be a Graviton (arm64) type such as t4g.small or c7g.large."
  }
}

variable "min_size" {
  type        = number
  description = "Minimum control-plane instances."
  default     = 2

  validation {
    condition     = var.min_size >= 0 && var.min_size <= 20
    error_message = "min_size must be between 0 and 20."
  }
}

variable "max_size" {
  type        = number
  description = "Maximum control-plane instances."
  default     = 4

  validation {
    condition     = var.max_size >= var.min_size && var.max_size <= 20
    error_message = "max_size must be at least min_size and at most 20."
  }
}

variable "waf_rate_limit" {
  type        = number
  description = "WAF rate-based rule: requests per source IP per 5 minutes before blocking."
  default     = 2000

  validation {
    condition     = var.waf_rate_limit >= 100 && var.waf_rate_limit <= 2000000000
    error_message = "waf_rate_limit must be between 100 and 2e9."
  }
}

variable "waf_managed_rule_groups" {
  type        = list(string)
  description = "AWS managed rule groups applied after AWSManagedRulesKnownBadInputsRuleSet (always on) and before the rate rule, in priority order (at most 80)."
  default     = ["AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesCommonRuleSet"]

  validation {
    condition     = length(var.waf_managed_rule_groups) <= 80 && alltrue([for g in var.waf_managed_rule_groups : can(regex("^AWSManagedRules[A-Za-z0-9]+$", g)) && g != "AWSManagedRulesKnownBadInputsRuleSet"])
    error_message = "waf_managed_rule_groups must be at most 80 AWSManagedRules* names, without AWSManagedRulesKnownBadInputsRuleSet (already always on)."
  }
}

variable "campaigns_table_name" {
  type        = string
  description = "DynamoDB campaigns table (tables.campaigns, key campaign_id): the table the bidders follow through its stream; the control plane reads, lists and writes it."

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{3,255}$", var.campaigns_table_name))
    error_message = "campaigns_table_name must be a DynamoDB table name (3-255 of letters, digits, _ . -)."
  }
}

variable "campaigns_table_arn" {
  type        = string
  description = "ARN of campaigns_table_name. The role may GetItem, Scan, DescribeTable, and PutItem, DeleteItem, ConditionCheckItem (in transactions) on it."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]{3,255}$", var.campaigns_table_arn))
    error_message = "campaigns_table_arn must be a DynamoDB table ARN (arn:aws:dynamodb:REGION:ACCOUNT:table/NAME)."
  }

  validation {
    condition     = endswith(var.campaigns_table_arn, ":table/${var.campaigns_table_name}")
    error_message = "campaigns_table_arn must be the ARN of campaigns_table_name."
  }
}

variable "control_table_name" {
  type        = string
  description = "DynamoDB control table (tables.control, keys pk and sk): the control plane's own records (API keys, audit log, idempotency records, tombstones)."

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{3,255}$", var.control_table_name))
    error_message = "control_table_name must be a DynamoDB table name (3-255 of letters, digits, _ . -)."
  }

  validation {
    condition     = !contains([var.campaigns_table_name, var.spend_table_name], var.control_table_name)
    error_message = "control_table_name must be a table of its own, neither the campaigns nor the spend table."
  }
}

variable "control_table_arn" {
  type        = string
  description = "ARN of control_table_name. The role may GetItem, Query, DescribeTable, and PutItem, UpdateItem, ConditionCheckItem (in transactions) on it."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]{3,255}$", var.control_table_arn))
    error_message = "control_table_arn must be a DynamoDB table ARN (arn:aws:dynamodb:REGION:ACCOUNT:table/NAME)."
  }

  validation {
    condition     = endswith(var.control_table_arn, ":table/${var.control_table_name}")
    error_message = "control_table_arn must be the ARN of control_table_name."
  }
}

variable "spend_table_name" {
  type        = string
  description = "DynamoDB spend ledger of the fleet (tables.spend, key campaign_id), read for campaign status."

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{3,255}$", var.spend_table_name))
    error_message = "spend_table_name must be a DynamoDB table name (3-255 of letters, digits, _ . -)."
  }

  validation {
    condition     = var.spend_table_name != var.campaigns_table_name
    error_message = "spend_table_name must not be the campaigns table: the ledger has a table of its own."
  }
}

variable "spend_table_arn" {
  type        = string
  description = "ARN of spend_table_name. The role may GetItem on it and nothing else: the bidders alone write the ledger."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]{3,255}$", var.spend_table_arn))
    error_message = "spend_table_arn must be a DynamoDB table ARN (arn:aws:dynamodb:REGION:ACCOUNT:table/NAME)."
  }

  validation {
    condition     = endswith(var.spend_table_arn, ":table/${var.spend_table_name}")
    error_message = "spend_table_arn must be the ARN of spend_table_name."
  }
}

variable "bootstrap_key_secret_arn" {
  type        = string
  description = "Secrets Manager secret holding the bootstrap operator key (auth.bootstrap_operator_key, at least 32 characters), read by the user data at boot into TERN_CP_AUTH__BOOTSTRAP_OPERATOR_KEY. Never rendered into user data."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:", var.bootstrap_key_secret_arn))
    error_message = "bootstrap_key_secret_arn must be a Secrets Manager secret ARN."
  }
}

variable "pepper_secret_arn" {
  type        = string
  description = "Secrets Manager secret holding the pepper of stored API key hashes (auth.pepper), read by the user data at boot into TERN_CP_AUTH__PEPPER. Never rendered into user data; never rotated (a new pepper invalidates every stored key)."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:", var.pepper_secret_arn))
    error_message = "pepper_secret_arn must be a Secrets Manager secret ARN."
  }

  validation {
    condition     = var.pepper_secret_arn != var.bootstrap_key_secret_arn
    error_message = "pepper_secret_arn and bootstrap_key_secret_arn must be two secrets: the pepper keys the stored hashes, the bootstrap key is an API key."
  }
}

variable "kms_key_arns" {
  type        = list(string)
  description = "KMS keys of the three tables and the two secrets (the state module's key); the role uses them through DynamoDB and Secrets Manager only."
  default     = []

  validation {
    condition     = alltrue([for a in var.kms_key_arns : can(regex("^arn:aws[a-z-]*:kms:", a))])
    error_message = "kms_key_arns must be KMS key ARNs."
  }
}

variable "logs_kms_key_arn" {
  type        = string
  description = "KMS key for the WAF log group (its policy must admit CloudWatch Logs)."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.logs_kms_key_arn))
    error_message = "logs_kms_key_arn must be a KMS key ARN."
  }
}

variable "log_retention_days" {
  type        = number
  description = "Retention of the WAF log group."
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch Logs retention value."
  }
}

variable "deletion_protection" {
  type        = bool
  description = "ALB deletion protection."
  default     = true
}

variable "wait_for_capacity_timeout" {
  type        = string
  description = "How long terraform apply waits for min_size healthy instances (\"0\" disables waiting)."
  default     = "10m"

  validation {
    condition     = can(regex("^[0-9]+[smh]?$", var.wait_for_capacity_timeout))
    error_message = "wait_for_capacity_timeout must be a duration like 10m or 0."
  }
}

variable "access_logs_bucket" {
  type        = string
  description = "S3 bucket (SSE-S3, with the ELB log-delivery bucket policy) for load balancer access logs; null disables them."
  default     = null

  validation {
    condition     = var.access_logs_bucket == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.access_logs_bucket))
    error_message = "access_logs_bucket must be an S3 bucket name or null."
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

variable "drain_timeout_ms" {
  type        = number
  description = "Control plane shutdown.drain_timeout_ms: after SIGTERM it finishes in-flight requests and exits within this time. Passed to the instances as TERN_CP_SHUTDOWN__DRAIN_TIMEOUT_MS; systemd's TimeoutStopSec is this plus stop_grace_seconds."
  default     = 10000

  validation {
    condition     = var.drain_timeout_ms >= 1000 && var.drain_timeout_ms <= 300000 && floor(var.drain_timeout_ms) == var.drain_timeout_ms
    error_message = "drain_timeout_ms must be a whole number of milliseconds between 1000 and 300000."
  }
}

variable "stop_grace_seconds" {
  type        = number
  description = "Added to the drain time for systemd's TimeoutStopSec (process exit)."
  default     = 10

  validation {
    condition     = var.stop_grace_seconds >= 1 && var.stop_grace_seconds <= 300
    error_message = "stop_grace_seconds must be between 1 and 300."
  }
}

variable "control_plane_env" {
  type        = map(string)
  description = "Extra control-plane config overrides, written to /etc/tern/control-plane.env: keys TERN_CP_<SECTION>__<KEY> (e.g. TERN_CP_LOG__LEVEL), values without quotes, backslashes, dollars or newlines. The module's own keys (listener, tables, drain) win."
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.control_plane_env : can(regex("^TERN_CP_[A-Z0-9_]+__[A-Z0-9_]+$", k)) && can(regex("^[^\"\\\\$\\n]*$", v))])
    error_message = "control_plane_env keys must be TERN_CP_<SECTION>__<KEY> and values must not contain quotes, backslashes, dollars or newlines."
  }

  validation {
    condition     = length(setintersection(keys(var.control_plane_env), ["TERN_CP_AUTH__BOOTSTRAP_OPERATOR_KEY", "TERN_CP_AUTH__PEPPER"])) == 0
    error_message = "Secrets never go through control_plane_env (it is rendered into user data): the bootstrap operator key and the pepper are read from bootstrap_key_secret_arn and pepper_secret_arn at boot."
  }
}
