# Production: NAT per AZ, deletion protection on, Redis in cluster mode (three
# shards of a primary and a replica each, spreading the fleet's frequency-cap
# traffic; the bidders follow MOVED/ASK redirects), a bidder fleet of at least one
# instance per AZ, HTTPS on the control plane. Composes modules only.

locals {
  tags = {
    Application = "tern"
    Environment = "prod"
    ManagedBy   = "terraform"
  }
}

module "network" {
  source = "../../modules/network"

  name             = var.name
  cidr_block       = "10.50.0.0/16"
  azs              = [for s in ["a", "b", "c"] : "${var.region}${s}"]
  nat_gateway_mode = "per_az"
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
  redis_node_type                 = "cache.r7g.large"
  redis_shards                    = 3
  redis_replicas                  = 1
  redis_snapshot_retention_days   = 7
  table_deletion_protection       = true
  tags                            = local.tags
}

module "analytics" {
  source = "../../modules/analytics"

  name        = var.name
  stream_mode = "ON_DEMAND"
  tags        = local.tags
}

module "screening_lists" {
  source = "../../modules/screening_lists"

  name                 = var.name
  prefix               = var.screening_lists_prefix
  existing_bucket_name = var.screening_lists_bucket
  existing_kms_key_arn = var.screening_lists_kms_key_arn
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
  instance_types               = ["c7gn.2xlarge", "c7g.2xlarge", "c8g.2xlarge"]
  min_size                     = var.bidder_min_size
  max_size                     = var.bidder_max_size
  desired_capacity             = var.bidder_min_size
  drain_timeout_ms             = var.drain_timeout_ms
  deregistration_delay_seconds = ceil(var.drain_timeout_ms / 1000) + 20
  tls_certificate_arn          = var.bid_tls_certificate_arn
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
  redis_auth_secret_arn        = module.state.redis_auth_secret_arn
  notice_secret_arn            = module.state.notice_secret_arn
  kms_key_arns                 = [module.state.kms_key_arn, module.analytics.kms_key_arn]
  screening_lists_bucket       = module.screening_lists.bucket_name
  screening_lists_prefix       = module.screening_lists.prefix
  screening_lists_kms_key_arn  = module.screening_lists.kms_key_arn
  segments_bucket              = one(module.segments[*].bucket_name)
  segments_prefix              = var.segments_prefix
  segments_kms_key_arn         = one(module.segments[*].kms_key_arn)
  logs_kms_key_arn             = module.observability.kms_key_arn
  deletion_protection          = true
  tags                         = local.tags
}

module "control_plane" {
  source = "../../modules/control_plane"

  name                     = var.name
  vpc_id                   = module.network.vpc_id
  alb_subnet_ids           = module.network.public_subnet_ids
  private_subnet_ids       = module.network.private_subnet_ids
  allowed_cidrs            = var.operator_cidrs
  certificate_arn          = var.control_plane_certificate_arn
  ami_id                   = coalesce(var.control_plane_ami_id, var.ami_id)
  campaigns_table_name     = module.state.campaigns_table_name
  campaigns_table_arn      = module.state.campaigns_table_arn
  control_table_name       = module.state.control_table_name
  control_table_arn        = module.state.control_table_arn
  spend_table_name         = module.state.spend_table_name
  spend_table_arn          = module.state.spend_table_arn
  bootstrap_key_secret_arn = module.state.control_plane_bootstrap_key_secret_arn
  pepper_secret_arn        = module.state.control_plane_pepper_secret_arn
  kms_key_arns             = [module.state.kms_key_arn]
  logs_kms_key_arn         = module.observability.kms_key_arn
  deletion_protection      = true
  tags                     = local.tags
}
