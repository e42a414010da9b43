variable "name" {
  type        = string
  description = "Name prefix for every resource, e.g. \"tern-prod\"."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,28}[a-z0-9]$", var.name))
    error_message = "name must be 3-30 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "cidr_block" {
  type        = string
  description = "IPv4 CIDR of the VPC, /16 to /20. Private subnets take the first three /(n+4) blocks, public subnets three small blocks at the top."
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrhost(var.cidr_block, 0)) && tonumber(split("/", var.cidr_block)[1]) >= 16 && tonumber(split("/", var.cidr_block)[1]) <= 20
    error_message = "cidr_block must be a valid IPv4 CIDR between /16 and /20."
  }
}

variable "azs" {
  type        = list(string)
  description = "Exactly three availability zones of the region, e.g. [\"us-east-1a\", \"us-east-1b\", \"us-east-1c\"]."

  validation {
    condition     = length(var.azs) == 3 && length(distinct(var.azs)) == 3
    error_message = "azs must list three distinct availability zones."
  }

  validation {
    condition     = alltrue([for az in var.azs : can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9][a-z]$", az))])
    error_message = "Each AZ must look like us-east-1a."
  }
}

variable "nat_gateway_mode" {
  type        = string
  description = "Outbound internet for private subnets: \"per_az\" (one NAT gateway per AZ, production), \"single\" (one shared NAT gateway, cheaper) or \"none\" (VPC endpoints only)."
  default     = "per_az"

  validation {
    condition     = contains(["per_az", "single", "none"], var.nat_gateway_mode)
    error_message = "nat_gateway_mode must be per_az, single or none."
  }
}

variable "interface_endpoint_services" {
  type        = list(string)
  description = "AWS services reached through interface VPC endpoints from the private subnets (DynamoDB and S3 always get gateway endpoints). Kinesis is the bidders' event path; logs/monitoring carry the CloudWatch agent."
  default     = ["kinesis-streams", "logs", "monitoring", "secretsmanager", "sts"]

  validation {
    condition = alltrue([for s in var.interface_endpoint_services : contains([
      "kinesis-streams", "kinesis-firehose", "logs", "monitoring", "secretsmanager", "sts",
      "ssm", "ssmmessages", "ec2messages", "kms", "elasticache",
    ], s)])
    error_message = "interface_endpoint_services may only contain kinesis-streams, kinesis-firehose, logs, monitoring, secretsmanager, sts, ssm, ssmmessages, ec2messages, kms, elasticache."
  }

  validation {
    condition     = contains(var.interface_endpoint_services, "kinesis-streams")
    error_message = "kinesis-streams must stay in interface_endpoint_services: it is the bidders' event path."
  }
}

variable "flow_log_retention_days" {
  type        = number
  description = "Retention of the VPC flow log group, in days."
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.flow_log_retention_days)
    error_message = "flow_log_retention_days must be a CloudWatch Logs retention value (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ...)."
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
