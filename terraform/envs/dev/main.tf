# Dev: the whole stack at small size, no deletion protection, one NAT gateway,
# buckets that can be destroyed. Composes modules only.

locals {
  tags = {
    Application = "tern"
    Environment = "dev"
    ManagedBy   = "terraform"
  }
}

module "network" {
  source = "../../modules/network"

  name             = var.name
  cidr_block       = "10.40.0.0/16"
  azs              = [for s in ["a", "b", "c"] : "${var.region}${s}"]
  nat_gateway_mode = "single"
  tags             = local.tags
}

module "observability" {
  source = "../../modules/observability"

  name                    = var.name
  fleet_name              = module.bidder_fleet.fleet_name
  autoscaling_group_name  = module.bidder_fleet.autoscaling_group_name
  nlb_arn_suffix          = module.bidder_fleet.nlb_arn_suffix
  target_group_arn_suffix = module.bidder_fleet.target_group_arn_suffix
  alarm_emails            = var.alarm_emails
  budget_alert_emails     = var.budget_alert_emails
  tags                    = local.tags
}

module "state" {
  source = "../../modules/state"

  name                            = var.name
  vpc_id                          = module.network.vpc_id
  private_subnet_ids              = module.network.private_subnet_ids
  redis_client_security_group_ids = [module.bidder_fleet.security_group_id]
  enable_redis                    = var.enable_redis
  redis_node_type                 = "cache.t4g.medium"
  redis_replicas                  = 1
  table_deletion_protection       = false
  recovery_window_days            = 0
  tags                            = local.tags
}

module "analytics" {
  source = "../../modules/analytics"

  name                    = var.name
  stream_mode             = "PROVISIONED"
  stream_shard_count      = 1
  firehose_buffer_seconds = 60
  force_destroy           = true
  tags                    = local.tags
}

module "screening_lists" {
  source = "../../modules/screening_lists"

  name                 = var.name
  prefix               = var.screening_lists_prefix
  existing_bucket_name = var.screening_lists_bucket
  existing_kms_key_arn = var.screening_lists_kms_key_arn
  force_destroy        = true
  tags                 = local.tags
}

# First-party segment files: dropped under this prefix, loaded into Redis by every
# bidder's tern-segments-load.timer (each file once across the fleet). The
# screening lists' bucket module, for another purpose: files expire before the
# loader forgets them (30 days). Needs Redis.
module "segments" {
  source = "../../modules/screening_lists"
  count  = var.segments_enabled ? 1 : 0

  name                    = var.name
  purpose                 = "segments"
  prefix                  = var.segments_prefix
  existing_bucket_name    = var.segments_bucket
  existing_kms_key_arn    = var.segments_kms_key_arn
  current_version_days    = var.segments_bucket == null ? var.segments_expiration_days : null
  noncurrent_version_days = 7
  force_destroy           = true
  tags                    = local.tags
}

module "bidder_fleet" {
  source = "../../modules/bidder_fleet"

  name                         = var.name
  vpc_id                       = module.network.vpc_id
  vpc_cidr_block               = module.network.vpc_cidr_block
  private_subnet_ids           = module.network.private_subnet_ids
  nlb_subnet_ids               = module.network.public_subnet_ids
  partner_cidrs                = var.partner_cidrs
  ami_id                       = var.ami_id
  instance_types               = ["c7g.large", "c7g.xlarge"]
  min_size                     = 1
  max_size                     = 3
  desired_capacity             = 1
  drain_timeout_ms             = var.drain_timeout_ms
  deregistration_delay_seconds = ceil(var.drain_timeout_ms / 1000) + 5
  bidder_env                   = var.bidder_env
  dynamodb_table_arns          = [module.state.campaigns_table_arn]
  kinesis_stream_arns          = [module.analytics.kinesis_stream_arn]
  campaigns_table_name         = module.state.campaigns_table_name
  events_stream_name           = module.analytics.kinesis_stream_name
  spend_table_name             = module.state.spend_table_name
  spend_table_arn              = module.state.spend_table_arn
  budget_alert_topic_arn       = module.observability.budget_alert_topic_arn
  budget_alert_kms_key_arn     = module.observability.kms_key_arn
  redis_address                = module.state.redis_address
  redis_auth_secret_arn        = var.enable_redis ? module.state.redis_auth_secret_arn : null
  notice_secret_arn            = module.state.notice_secret_arn
  kms_key_arns                 = [module.state.kms_key_arn, module.analytics.kms_key_arn]
  screening_lists_bucket       = module.screening_lists.bucket_name
  screening_lists_prefix       = module.screening_lists.prefix
  screening_lists_kms_key_arn  = module.screening_lists.kms_key_arn
  segments_bucket              = one(module.segments[*].bucket_name)
  segments_prefix              = var.segments_prefix
  segments_kms_key_arn         = one(module.segments[*].kms_key_arn)
  logs_kms_key_arn             = module.observability.kms_key_arn
  deletion_protection          = false
  wait_for_capacity_timeout    = "5m"
  tags                         = local.tags
}

module "control_plane" {
  source = "../../modules/control_plane"

  name                      = var.name
  vpc_id                    = module.network.vpc_id
  alb_subnet_ids            = module.network.public_subnet_ids
  private_subnet_ids        = module.network.private_subnet_ids
  allowed_cidrs             = var.operator_cidrs
  ami_id                    = coalesce(var.control_plane_ami_id, var.ami_id)
  min_size                  = 1
  max_size                  = 2
  campaigns_table_name      = module.state.campaigns_table_name
  campaigns_table_arn       = module.state.campaigns_table_arn
  control_table_name        = module.state.control_table_name
  control_table_arn         = module.state.control_table_arn
  spend_table_name          = module.state.spend_table_name
  spend_table_arn           = module.state.spend_table_arn
  bootstrap_key_secret_arn  = module.state.control_plane_bootstrap_key_secret_arn
  pepper_secret_arn         = module.state.control_plane_pepper_secret_arn
  kms_key_arns              = [module.state.kms_key_arn]
  logs_kms_key_arn          = module.observability.kms_key_arn
  deletion_protection       = false
  wait_for_capacity_timeout = "5m"
  tags                      = local.tags
}
