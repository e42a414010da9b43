variable "name" {
  type        = string
  description = "Name prefix, e.g. \"tern-prod\"."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,28}[a-z0-9]$", var.name))
    error_message = "name must be 3-30 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "vpc_id" {
  type        = string
  description = "VPC of the Redis replication group."

  validation {
    condition     = can(regex("^vpc-[0-9a-f]+$", var.vpc_id))
    error_message = "vpc_id must be a VPC id (vpc-...)."
  }
}

variable "private_subnet_ids" {
  type        = list(string)
  description = "Private subnets (one per AZ) for the Redis nodes."

  validation {
    condition     = length(var.private_subnet_ids) >= 2
    error_message = "At least two private subnets are required for Multi-AZ Redis."
  }
}

variable "redis_client_security_group_ids" {
  type        = list(string)
  description = "Security groups admitted to Redis on 6379 (the bidders, the control plane)."

  validation {
    condition     = alltrue([for id in var.redis_client_security_group_ids : can(regex("^sg-[0-9a-f]+$", id))])
    error_message = "redis_client_security_group_ids must be security group ids."
  }
}

variable "table_deletion_protection" {
  type        = bool
  description = "DynamoDB deletion protection on the campaigns, spend and control tables (on in production)."
  default     = true
}

variable "enable_redis" {
  type        = bool
  description = "Create the ElastiCache Redis replication group. Off only for the offline moto apply, which cannot create ElastiCache; terraform test covers it."
  default     = true
}

variable "redis_node_type" {
  type        = string
  description = "ElastiCache node type (Graviton families preferred)."
  default     = "cache.r7g.large"

  validation {
    condition     = can(regex("^cache\\.[a-z0-9]+\\.[a-z0-9]+$", var.redis_node_type))
    error_message = "redis_node_type must be an ElastiCache node type such as cache.r7g.large."
  }
}

variable "redis_shards" {
  type        = number
  description = "Redis shards (node groups). 1 (the default): cluster mode disabled, one primary with redis_replicas replicas, the bidders get the primary endpoint. More: cluster mode enabled, the key space split over this many primaries (each with redis_replicas replicas) to spread the fleet's frequency-cap traffic; the bidders get the configuration endpoint and follow MOVED/ASK redirects."
  default     = 1

  validation {
    condition     = var.redis_shards >= 1 && var.redis_shards <= 90 && floor(var.redis_shards) == var.redis_shards
    error_message = "redis_shards must be a whole number between 1 and 90."
  }

  validation {
    condition     = var.redis_shards * (1 + var.redis_replicas) <= 90
    error_message = "redis_shards * (1 + redis_replicas) must be at most 90: ElastiCache's default quota of nodes per cluster."
  }
}

variable "redis_replicas" {
  type        = number
  description = "Read replicas of each Redis primary (of the one primary, or of every shard's primary when redis_shards > 1); at least 1 for automatic failover across AZs."
  default     = 1

  validation {
    condition     = var.redis_replicas >= 1 && var.redis_replicas <= 5 && floor(var.redis_replicas) == var.redis_replicas
    error_message = "redis_replicas must be a whole number between 1 and 5 (failover needs a replica; a primary has at most 5)."
  }
}

variable "redis_engine_version" {
  type        = string
  description = "Redis engine version."
  default     = "7.1"

  validation {
    condition     = can(regex("^[67]\\.[0-9]+$", var.redis_engine_version))
    error_message = "redis_engine_version must be 6.x or 7.x (auth tokens with TLS)."
  }
}

variable "redis_snapshot_retention_days" {
  type        = number
  description = "Days of automatic Redis snapshots (frequency caps survive a full outage)."
  default     = 1

  validation {
    condition     = var.redis_snapshot_retention_days >= 1 && var.redis_snapshot_retention_days <= 35
    error_message = "redis_snapshot_retention_days must be between 1 and 35."
  }
}

variable "recovery_window_days" {
  type        = number
  description = "Secrets Manager recovery window for the Redis auth token, the notice-signing key and the control plane's secrets (0 deletes at once: dev only)."
  default     = 30

  validation {
    condition     = var.recovery_window_days == 0 || (var.recovery_window_days >= 7 && var.recovery_window_days <= 30)
    error_message = "recovery_window_days must be 0 or between 7 and 30."
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
