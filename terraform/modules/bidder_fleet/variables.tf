variable "name" {
  type        = string
  description = "Fleet name and resource name prefix, e.g. \"tern-prod\". Also the `Fleet` dimension of the bidder's CloudWatch metrics."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,22}[a-z0-9]$", var.name))
    error_message = "name must be 3-24 characters of lowercase letters, digits and hyphens (load balancer names are limited to 32 with suffixes)."
  }
}

variable "vpc_id" {
  type        = string
  description = "VPC of the fleet."

  validation {
    condition     = can(regex("^vpc-[0-9a-f]+$", var.vpc_id))
    error_message = "vpc_id must be a VPC id (vpc-...)."
  }
}

variable "vpc_cidr_block" {
  type        = string
  description = "VPC CIDR: bidders may reach Redis (6379) inside it."

  validation {
    condition     = can(cidrhost(var.vpc_cidr_block, 0))
    error_message = "vpc_cidr_block must be a CIDR."
  }
}

variable "private_subnet_ids" {
  type        = list(string)
  description = "Private subnets (one per AZ) for the bidder instances."

  validation {
    condition     = length(var.private_subnet_ids) >= 2
    error_message = "At least two private subnets (AZs) are required."
  }
}

variable "nlb_subnet_ids" {
  type        = list(string)
  description = "Subnets of the bid NLB: public subnets for an internet-facing NLB, private for an internal one."

  validation {
    condition     = length(var.nlb_subnet_ids) >= 2
    error_message = "At least two NLB subnets (AZs) are required."
  }
}

variable "nlb_internal" {
  type        = bool
  description = "true for an internal NLB (partners arrive over PrivateLink/peering), false for internet-facing."
  default     = false
}

variable "partner_cidrs" {
  type        = list(string)
  description = "Supply partners' (exchanges') source CIDRs: the only addresses admitted on the bid listeners. Never 0.0.0.0/0."

  validation {
    condition     = length(var.partner_cidrs) > 0 && alltrue([for c in var.partner_cidrs : can(cidrhost(c, 0))])
    error_message = "partner_cidrs must be a non-empty list of IPv4 CIDRs."
  }

  validation {
    condition     = alltrue([for c in var.partner_cidrs : tonumber(split("/", c)[1]) >= 8])
    error_message = "partner_cidrs must not open the bid port to the internet: no prefix shorter than /8 (0.0.0.0/0 is refused)."
  }
}

variable "ami_id" {
  type        = string
  description = "Bidder AMI built by packer/bidder.pkr.hcl (arm64, Amazon Linux 2023)."

  validation {
    condition     = can(regex("^ami-[0-9a-f]{8,17}$", var.ami_id))
    error_message = "ami_id must be an AMI id (ami-...)."
  }
}

variable "instance_types" {
  type        = list(string)
  description = "Graviton (arm64) instance types, in order of preference, e.g. [\"c7gn.2xlarge\", \"c7g.2xlarge\", \"c8g.2xlarge\"]."
  default     = ["c7gn.2xlarge", "c7g.2xlarge", "c8g.2xlarge"]

  validation {
    condition     = length(var.instance_types) > 0 && alltrue([for t in var.instance_types : can(regex("^[cmr][678]g[dn]*\\.(medium|large|[0-9]*xlarge|metal(-[0-9]+xl)?)$", t))])
    error_message = "instance_types must be Graviton (arm64) types such as c7g.xlarge, c7gn.2xlarge or c8g.4xlarge: the AMI is arm64."
  }
}

variable "root_volume_size_gb" {
  type        = number
  description = "Root EBS volume size (gp3, encrypted)."
  default     = 16

  validation {
    condition     = var.root_volume_size_gb >= 8 && var.root_volume_size_gb <= 1024
    error_message = "root_volume_size_gb must be between 8 and 1024."
  }
}

variable "ebs_kms_key_arn" {
  type        = string
  description = "Customer managed KMS key for the root volumes; null uses the account's aws/ebs key. A customer key must grant the AWSServiceRoleForAutoScaling service-linked role (see README)."
  default     = null

  validation {
    condition     = var.ebs_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.ebs_kms_key_arn))
    error_message = "ebs_kms_key_arn must be a KMS key ARN or null."
  }
}

variable "min_size" {
  type        = number
  description = "Minimum number of bidder instances."
  default     = 3

  validation {
    condition     = var.min_size >= 0 && var.min_size <= 1000
    error_message = "min_size must be between 0 and 1000."
  }
}

variable "max_size" {
  type        = number
  description = "Maximum number of bidder instances."
  default     = 30

  validation {
    condition     = var.max_size >= var.min_size && var.max_size <= 1000
    error_message = "max_size must be at least min_size and at most 1000."
  }
}

variable "desired_capacity" {
  type        = number
  description = "Initial number of instances (afterwards owned by target tracking; Terraform ignores drift)."
  default     = 3

  validation {
    condition     = var.desired_capacity >= var.min_size && var.desired_capacity <= var.max_size
    error_message = "desired_capacity must be between min_size and max_size."
  }
}

variable "target_cpu_utilization" {
  type        = number
  description = "Target tracking: average CPU utilisation (percent) the ASG keeps. Busy polling burns CPU, so this is higher than for typical services."
  default     = 60

  validation {
    condition     = var.target_cpu_utilization >= 10 && var.target_cpu_utilization <= 90
    error_message = "target_cpu_utilization must be between 10 and 90."
  }
}

variable "instance_warmup_seconds" {
  type        = number
  description = "Seconds a new instance needs before it counts for scaling and instance refresh (boot + state bootstrap)."
  default     = 120

  validation {
    condition     = var.instance_warmup_seconds >= 0 && var.instance_warmup_seconds <= 3600
    error_message = "instance_warmup_seconds must be between 0 and 3600."
  }
}

variable "refresh_min_healthy_percentage" {
  type        = number
  description = "Instance refresh keeps at least this share of the fleet in service while it replaces instances."
  default     = 90

  validation {
    condition     = var.refresh_min_healthy_percentage >= 50 && var.refresh_min_healthy_percentage <= 100
    error_message = "refresh_min_healthy_percentage must be between 50 and 100."
  }
}

variable "bid_port" {
  type        = number
  description = "Bidder's bid port on the instance (POST /openrtb2/bid)."
  default     = 8080

  validation {
    condition     = var.bid_port >= 1024 && var.bid_port <= 65535
    error_message = "bid_port must be an unprivileged port (1024-65535): the bidder has no capabilities."
  }
}

variable "admin_port" {
  type        = number
  description = "Bidder's admin port (/health, /ready, /metrics); only the NLB health checks reach it."
  default     = 9090

  validation {
    condition     = var.admin_port >= 1024 && var.admin_port <= 65535 && var.admin_port != var.bid_port
    error_message = "admin_port must be an unprivileged port different from bid_port."
  }
}

variable "listener_port" {
  type        = number
  description = "Plain TCP listener port on the NLB for partners."
  default     = 80

  validation {
    condition     = var.listener_port >= 1 && var.listener_port <= 65535
    error_message = "listener_port must be a TCP port."
  }
}

variable "tls_certificate_arn" {
  type        = string
  description = "ACM certificate for an optional TLS listener on tls_listener_port; null means no TLS listener."
  default     = null

  validation {
    condition     = var.tls_certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:", var.tls_certificate_arn))
    error_message = "tls_certificate_arn must be an ACM certificate ARN or null."
  }
}

variable "tls_listener_port" {
  type        = number
  description = "TLS listener port (used when tls_certificate_arn is set)."
  default     = 443

  validation {
    condition     = var.tls_listener_port >= 1 && var.tls_listener_port <= 65535 && var.tls_listener_port != var.listener_port
    error_message = "tls_listener_port must be a TCP port different from listener_port."
  }
}

variable "tls_policy" {
  type        = string
  description = "NLB TLS security policy."
  default     = "ELBSecurityPolicy-TLS13-1-2-2021-06"

  validation {
    condition     = can(regex("^ELBSecurityPolicy-TLS13-1-[23]-", var.tls_policy))
    error_message = "tls_policy must be a TLS 1.3 policy that allows at least TLS 1.2 (ELBSecurityPolicy-TLS13-1-2-* or -1-3-*)."
  }
}

variable "health_check_path" {
  type        = string
  description = "Readiness path on the admin port: 200 when ready, 503 while draining or stale."
  default     = "/ready"

  validation {
    condition     = var.health_check_path == "/ready"
    error_message = "health_check_path must be /ready: /health is liveness only and stays 200 while the bidder drains."
  }
}

variable "health_check_interval_seconds" {
  type        = number
  description = "NLB health check interval."
  default     = 10

  validation {
    condition     = contains([5, 10, 15, 20, 30], var.health_check_interval_seconds)
    error_message = "health_check_interval_seconds must be 5, 10, 15, 20 or 30."
  }
}

variable "drain_timeout_ms" {
  type        = number
  description = "Bidder shutdown.drain_timeout_ms: after SIGTERM it turns not-ready, finishes in-flight requests and exits within this time. Passed to the instances as TERN_SHUTDOWN__DRAIN_TIMEOUT_MS."
  default     = 10000

  validation {
    condition     = var.drain_timeout_ms >= 1000 && var.drain_timeout_ms <= 300000 && floor(var.drain_timeout_ms) == var.drain_timeout_ms
    error_message = "drain_timeout_ms must be a whole number of milliseconds between 1000 and 300000."
  }
}

variable "unready_delay_ms" {
  type        = number
  description = "Bidder shutdown.unready_delay_ms: after SIGTERM it keeps serving while /ready answers 503, until the NLB has marked it unhealthy. null = health check interval x unhealthy threshold (2) + 2 s."
  default     = null

  validation {
    condition     = var.unready_delay_ms == null || try(var.unready_delay_ms >= 0 && var.unready_delay_ms <= 120000, false)
    error_message = "unready_delay_ms must be null or between 0 and 120000."
  }
}

variable "public_url" {
  type        = string
  description = "Base URL exchanges use to reach the bidder for billing notices (server.public_url, no trailing /). null = the NLB's DNS name (https when a TLS listener exists)."
  default     = null

  validation {
    condition     = var.public_url == null || can(regex("^https?://[^/\\s\"$]+(/[^\\s\"$]*[^/\\s\"$])?$", var.public_url))
    error_message = "public_url must be an http(s) URL without a trailing slash."
  }
}

variable "deregistration_delay_seconds" {
  type        = number
  description = "NLB target group deregistration delay: how long a leaving bidder keeps its connections. Must exceed the drain time."
  default     = 30

  validation {
    condition     = var.deregistration_delay_seconds * 1000 > var.drain_timeout_ms && var.deregistration_delay_seconds <= 3600
    error_message = "deregistration_delay_seconds must be longer than drain_timeout_ms (and at most 3600)."
  }
}

variable "stop_grace_seconds" {
  type        = number
  description = "Added to the drain time for systemd's TimeoutStopSec (event flush, process exit)."
  default     = 10

  validation {
    condition     = var.stop_grace_seconds >= 1 && var.stop_grace_seconds <= 300
    error_message = "stop_grace_seconds must be between 1 and 300."
  }
}

variable "housekeeping_cpus" {
  type        = number
  description = "CPUs reserved for ENA interrupts and the OS; the bidder gets the rest (see packer/README.md)."
  default     = 1

  validation {
    condition     = var.housekeeping_cpus >= 1 && var.housekeeping_cpus <= 8
    error_message = "housekeeping_cpus must be between 1 and 8."
  }
}

variable "bidder_env" {
  type        = map(string)
  description = "Extra bidder config overrides, written to /etc/tern/bidder.env: keys TERN_<SECTION>__<KEY>, values without quotes, backslashes, dollars or newlines."
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.bidder_env : can(regex("^TERN_[A-Z0-9_]+__[A-Z0-9_]+$", k)) && can(regex("^[^\"\\\\$\\n]*$", v))])
    error_message = "bidder_env keys must be TERN_<SECTION>__<KEY> and values must not contain quotes, backslashes, dollars or newlines."
  }

  validation {
    condition     = length(setintersection(keys(var.bidder_env), ["TERN_NOTICE__SECRET", "TERN_FREQUENCY_CAP__REDIS__PASSWORD"])) == 0
    error_message = "Secrets never go through bidder_env (it is rendered into user data): the notice key and the Redis AUTH token are read from notice_secret_arn and redis_auth_secret_arn at boot."
  }

  validation {
    condition     = !contains(keys(var.bidder_env), "TERN_SCREENING__S3_URI")
    error_message = "The screening lists' S3 prefix goes through screening_lists_bucket and screening_lists_prefix, which also grant the role read on it, not through bidder_env."
  }

  validation {
    condition     = !contains(keys(var.bidder_env), "TERN_SEGMENTS__S3_URI")
    error_message = "The segments' S3 prefix goes through segments_bucket and segments_prefix, which also grant the role read on it and enable the loader's timer, not through bidder_env."
  }

  validation {
    condition     = var.redis_address == null || !contains(keys(var.bidder_env), "TERN_SEGMENTS__FILE")
    error_message = "segments.file is for the in-process store: with redis_address the bidders refuse it at start. Drop TERN_SEGMENTS__FILE and drop the file under segments_bucket/segments_prefix instead."
  }
}

variable "screening_lists_bucket" {
  type        = string
  description = "S3 bucket of the screening lists (bots, IP ranges, ads.txt, app-ads.txt, sellers.json, model.json; see the screening_lists module): the bidders poll s3://<bucket>/<screening_lists_prefix> (screening.s3_uri) and the role may list and get that prefix only. null: no S3 lists, the bidders screen with their bundled lists."
  default     = null

  validation {
    condition     = var.screening_lists_bucket == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.screening_lists_bucket))
    error_message = "screening_lists_bucket must be an S3 bucket name (3-63 lowercase letters, digits, dots and hyphens) or null."
  }

  validation {
    condition     = var.screening_lists_bucket == null || !contains(keys(var.bidder_env), "TERN_SCREENING__LISTS_DIR")
    error_message = "The bidder reads its lists from either a directory or S3, not both: drop TERN_SCREENING__LISTS_DIR from bidder_env or set screening_lists_bucket to null."
  }
}

variable "screening_lists_prefix" {
  type        = string
  description = "Key prefix of the screening lists in screening_lists_bucket, ending in \"/\" (e.g. \"lists/\"). The role's grant is s3:GetObject on <bucket>/<prefix>* and s3:ListBucket with s3:prefix like <prefix>*, so it has no wildcards and is never empty."
  default     = "lists/"

  validation {
    condition     = can(regex("^([A-Za-z0-9_-][A-Za-z0-9_.-]*/)+$", var.screening_lists_prefix)) && length(var.screening_lists_prefix) <= 256
    error_message = "screening_lists_prefix must be one or more segments of letters, digits, _ . - each followed by \"/\" (e.g. \"lists/\"), at most 256 characters, without a leading \"/\"."
  }
}

variable "screening_lists_kms_key_arn" {
  type        = string
  description = "KMS key the screening lists are encrypted with (SSE-KMS): the role may kms:Decrypt with it through S3 only. null: the bucket uses SSE-S3."
  default     = null

  validation {
    condition     = var.screening_lists_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.screening_lists_kms_key_arn))
    error_message = "screening_lists_kms_key_arn must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID, not an alias) or null."
  }
}

variable "segments_bucket" {
  type        = string
  description = "S3 bucket where first-party segment files (JSON Lines, optionally .gz; docs/segments.md) are dropped: every bidder runs `bidder segments load` from tern-segments-load.timer (enabled by the user data only when this is set), which loads each object under s3://<bucket>/<segments_prefix> (segments.s3_uri) into the fleet's Redis once; the role may list and get that prefix only. Requires redis_address (the loader writes to Redis). Objects must be gone within 30 days (the loader remembers a loaded object, by key and ETag, that long): expire them with a lifecycle rule (the screening_lists module's current_version_days). null: no segments loading."
  default     = null

  validation {
    condition     = var.segments_bucket == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.segments_bucket))
    error_message = "segments_bucket must be an S3 bucket name (3-63 lowercase letters, digits, dots and hyphens) or null."
  }

  validation {
    condition     = var.segments_bucket == null || var.redis_address != null
    error_message = "Segments are loaded into the frequency-cap Redis (frequency_cap.store = \"redis\"; `bidder segments load` refuses the in-process store): segments_bucket needs redis_address."
  }
}

variable "segments_prefix" {
  type        = string
  description = "Key prefix of the segment files in segments_bucket, ending in \"/\" (e.g. \"segments/\"). The role's grant is s3:GetObject on <bucket>/<prefix>* and s3:ListBucket with s3:prefix like <prefix>*, so it has no wildcards and is never empty."
  default     = "segments/"

  validation {
    condition     = can(regex("^([A-Za-z0-9_-][A-Za-z0-9_.-]*/)+$", var.segments_prefix)) && length(var.segments_prefix) <= 256
    error_message = "segments_prefix must be one or more segments of letters, digits, _ . - each followed by \"/\" (e.g. \"segments/\"), at most 256 characters, without a leading \"/\"."
  }
}

variable "segments_kms_key_arn" {
  type        = string
  description = "KMS key the segment files are encrypted with (SSE-KMS): the role may kms:Decrypt with it through S3 only. null: the bucket uses SSE-S3."
  default     = null

  validation {
    condition     = var.segments_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.segments_kms_key_arn))
    error_message = "segments_kms_key_arn must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID, not an alias) or null."
  }
}

variable "dynamodb_table_arns" {
  type        = list(string)
  description = "DynamoDB tables the bidder reads (campaigns) and streams it tails."
  default     = []

  validation {
    condition     = alltrue([for a in var.dynamodb_table_arns : can(regex("^arn:aws[a-z-]*:dynamodb:", a))])
    error_message = "dynamodb_table_arns must be DynamoDB table ARNs."
  }
}

variable "kinesis_stream_arns" {
  type        = list(string)
  description = "Kinesis streams the bidder ships events to (PutRecords)."
  default     = []

  validation {
    condition     = alltrue([for a in var.kinesis_stream_arns : can(regex("^arn:aws[a-z-]*:kinesis:", a))])
    error_message = "kinesis_stream_arns must be Kinesis stream ARNs."
  }
}

variable "campaigns_table_name" {
  type        = string
  description = "DynamoDB campaigns table the bidders sync from (campaigns.source = \"dynamodb\", campaigns.dynamodb.table). Its ARN belongs in dynamodb_table_arns."

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{3,255}$", var.campaigns_table_name))
    error_message = "campaigns_table_name must be a DynamoDB table name (3-255 of letters, digits, _ . -)."
  }
}

variable "events_stream_name" {
  type        = string
  description = "Kinesis stream the bidders ship events to (events.sink = \"kinesis\", events.kinesis.stream). Its ARN belongs in kinesis_stream_arns."

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{1,128}$", var.events_stream_name))
    error_message = "events_stream_name must be a Kinesis stream name (1-128 of letters, digits, _ . -)."
  }
}

variable "spend_table_name" {
  type        = string
  description = "DynamoDB spend ledger table the bidders share campaign budgets through (budget.ledger = \"dynamodb\", budget.dynamodb.table): one item per campaign, key campaign_id (S)."

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
  description = "ARN of spend_table_name. The role may GetItem and UpdateItem on it and nothing else, so it does not belong in dynamodb_table_arns; its KMS key (the state module's) belongs in kms_key_arns."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]{3,255}$", var.spend_table_arn))
    error_message = "spend_table_arn must be a DynamoDB table ARN (arn:aws:dynamodb:REGION:ACCOUNT:table/NAME)."
  }

  validation {
    condition     = endswith(var.spend_table_arn, ":table/${var.spend_table_name}")
    error_message = "spend_table_arn must be the ARN of spend_table_name."
  }

  validation {
    condition     = !contains(var.dynamodb_table_arns, var.spend_table_arn)
    error_message = "spend_table_arn must not be in dynamodb_table_arns, which grants scans and stream reads: the bidders only GetItem and UpdateItem the ledger."
  }
}

variable "budget_alert_topic_arn" {
  type        = string
  description = "SNS topic the bidders publish budget alerts to (budget.alerts.sns_topic_arn; 50, 80 and 100% of a campaign's budget). The role may sns:Publish to it and to no other topic."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", var.budget_alert_topic_arn))
    error_message = "budget_alert_topic_arn must be an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME, not FIFO)."
  }
}

variable "budget_alert_kms_key_arn" {
  type        = string
  description = "KMS key encrypting budget_alert_topic_arn (observability's key). Publishing to an encrypted topic needs kms:GenerateDataKey and kms:Decrypt on it; the role gets them through SNS only."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.budget_alert_kms_key_arn))
    error_message = "budget_alert_kms_key_arn must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), not an alias."
  }
}

variable "redis_address" {
  type        = string
  description = "host:port of the frequency-cap Redis over TLS: an ElastiCache primary endpoint, or the configuration endpoint of a cluster-mode group (the bidders' client follows MOVED/ASK redirects from the node it reaches). null: no Redis, caps are counted in each bidder's process."
  default     = null

  validation {
    condition     = var.redis_address == null || try(can(regex("^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?:[0-9]{1,5}$", var.redis_address)) && tonumber(split(":", var.redis_address)[1]) >= 1 && tonumber(split(":", var.redis_address)[1]) <= 65535, false)
    error_message = "redis_address must be null or host:port, e.g. master.tern-prod-freqcap.abc123.use1.cache.amazonaws.com:6379."
  }
}

variable "redis_auth_secret_arn" {
  type        = string
  description = "Secrets Manager secret holding the Redis AUTH token, read by the user data at boot into frequency_cap.redis.password (only when redis_address is set). null: Redis without AUTH."
  default     = null

  validation {
    condition     = var.redis_auth_secret_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:", var.redis_auth_secret_arn))
    error_message = "redis_auth_secret_arn must be a Secrets Manager secret ARN or null."
  }
}

variable "notice_secret_arn" {
  type        = string
  description = "Secrets Manager secret holding the fleet's billing-notice HMAC key, read by the user data at boot into notice.secret. Required: without a shared key each bidder signs with its own random key and notices routed to another instance fail verification."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:", var.notice_secret_arn))
    error_message = "notice_secret_arn must be a Secrets Manager secret ARN."
  }
}

variable "kms_key_arns" {
  type        = list(string)
  description = "KMS keys protecting those tables, the spend ledger table, streams and the notice and Redis AUTH secrets (decrypt / data keys for them)."
  default     = []

  validation {
    condition     = alltrue([for a in var.kms_key_arns : can(regex("^arn:aws[a-z-]*:kms:", a))])
    error_message = "kms_key_arns must be KMS key ARNs."
  }
}

variable "metrics_log_retention_days" {
  type        = number
  description = "Retention of the CloudWatch agent's embedded-metric log group."
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.metrics_log_retention_days)
    error_message = "metrics_log_retention_days must be a CloudWatch Logs retention value."
  }
}

variable "logs_kms_key_arn" {
  type        = string
  description = "KMS key encrypting the metrics log group (its key policy must admit CloudWatch Logs)."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.logs_kms_key_arn))
    error_message = "logs_kms_key_arn must be a KMS key ARN."
  }
}

variable "enable_ssm_session_manager" {
  type        = bool
  description = "Attach AmazonSSMManagedInstanceCore so operators reach instances through Session Manager (no SSH, no key pairs)."
  default     = true
}

variable "deletion_protection" {
  type        = bool
  description = "NLB deletion protection (on in production)."
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
  description = "Tags added to every resource (and propagated to instances)."
  default     = {}

  validation {
    condition     = length(var.tags) <= 40 && alltrue([for k, v in var.tags : length(k) > 0 && length(k) <= 128 && length(v) <= 256])
    error_message = "At most 40 tags, keys 1-128 and values up to 256 characters."
  }
}
