# The bid fleet: an internet-facing (or internal) NLB admitting only partner CIDRs,
# a target group whose health check is the bidder's readiness (/ready on the admin
# port) and whose deregistration delay outlasts the bidder's drain, and an auto
# scaling group of Graviton instances from the Packer AMI (IMDSv2 only, encrypted
# root volume) with target tracking and rolling instance refresh. The bidders share
# campaign budgets through the spend ledger table and publish budget alerts to SNS.

data "aws_region" "current" {}
data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}

locals {
  partition            = data.aws_partition.current.partition
  account_id           = data.aws_caller_identity.current.account_id
  unready_delay_ms     = coalesce(var.unready_delay_ms, (var.health_check_interval_seconds * 2 + 2) * 1000)
  stop_timeout_seconds = ceil((local.unready_delay_ms + var.drain_timeout_ms) / 1000) + var.stop_grace_seconds
  public_url = coalesce(var.public_url, var.tls_certificate_arn == null ?
    "http://${aws_lb.this.dns_name}${var.listener_port == 80 ? "" : ":${var.listener_port}"}" :
  "https://${aws_lb.this.dns_name}${var.tls_listener_port == 443 ? "" : ":${var.tls_listener_port}"}")
  metrics_log_group = "/tern/${var.name}/bidder/metrics"
  # The bidder's spend journal: StateDirectory=tern in packer/files/bidder.service
  # (owned by the service user, kept across restarts on the instance).
  budget_state_dir = "/var/lib/tern"

  # Secrets the user data reads at boot with the instance role, by the bidder
  # setting each one fills: their values never appear in Terraform-rendered user
  # data, and the role may read exactly these. The AUTH token only matters with Redis.
  boot_secrets = tomap(merge(
    { TERN_NOTICE__SECRET = var.notice_secret_arn },
    var.redis_address == null || var.redis_auth_secret_arn == null ? {} : { TERN_FREQUENCY_CAP__REDIS__PASSWORD = var.redis_auth_secret_arn },
  ))

  # The module's own keys win: ports and shutdown timing must match the NLB and
  # systemd (the bidder's defaults bind 127.0.0.1; the NLB needs 0.0.0.0), and the
  # fleet uses its own table, stream and Redis, never the bundled example
  # campaigns, local event files or per-process caps; budgets are kept fleet-wide
  # in the spend ledger (the bidder's default ledger is per process), with alerts
  # to the budget topic. AWS_REGION is for the bidder's AWS SDK (the env file is a
  # systemd EnvironmentFile).
  bidder_env = merge(var.bidder_env, {
    TERN_SERVER__BID_ADDR           = "0.0.0.0:${var.bid_port}"
    TERN_SERVER__ADMIN_ADDR         = "0.0.0.0:${var.admin_port}"
    TERN_SERVER__ADMIN_PUBLIC       = "true"
    TERN_SERVER__PUBLIC_URL         = local.public_url
    TERN_SHUTDOWN__DRAIN_TIMEOUT_MS = tostring(var.drain_timeout_ms)
    TERN_SHUTDOWN__UNREADY_DELAY_MS = tostring(local.unready_delay_ms)
    TERN_CAMPAIGNS__SOURCE          = "dynamodb"
    TERN_CAMPAIGNS__DYNAMODB__TABLE = var.campaigns_table_name
    TERN_EVENTS__SINK               = "kinesis"
    TERN_EVENTS__KINESIS__STREAM    = var.events_stream_name
    AWS_REGION                      = data.aws_region.current.name
  }, local.budget_env, local.redis_env, local.screening_env, local.segments_env)

  budget_env = {
    TERN_BUDGET__LEDGER                = "dynamodb"
    TERN_BUDGET__DYNAMODB__TABLE       = var.spend_table_name
    TERN_BUDGET__ALERTS__SNS_TOPIC_ARN = var.budget_alert_topic_arn
    TERN_BUDGET__STATE_DIR             = local.budget_state_dir
  }

  # Shared frequency caps when there is a Redis; without one each bidder counts in
  # its own process (the bidder's default). ElastiCache encrypts in transit and its
  # certificate chains to public roots: the system trust store verifies it.
  redis_env = var.redis_address == null ? {} : {
    TERN_FREQUENCY_CAP__STORE       = "redis"
    TERN_FREQUENCY_CAP__REDIS__ADDR = var.redis_address
    TERN_FREQUENCY_CAP__REDIS__TLS  = "true"
  }

  # Screening lists polled from S3 (the role may read exactly this prefix); without
  # a bucket the bidders screen with their bundled lists.
  screening_bucket_arn = var.screening_lists_bucket == null ? null : "arn:${local.partition}:s3:::${var.screening_lists_bucket}"
  screening_env = var.screening_lists_bucket == null ? {} : {
    TERN_SCREENING__S3_URI = "s3://${var.screening_lists_bucket}/${var.screening_lists_prefix}"
  }

  # First-party segment files dropped under this prefix, loaded into Redis by
  # `bidder segments load` from tern-segments-load.timer on every bidder (the user
  # data enables the timer only with a bucket; the role may read exactly this
  # prefix). The variable's validation requires Redis.
  segments_bucket_arn = var.segments_bucket == null ? null : "arn:${local.partition}:s3:::${var.segments_bucket}"
  segments_env = var.segments_bucket == null ? {} : {
    TERN_SEGMENTS__S3_URI = "s3://${var.segments_bucket}/${var.segments_prefix}"
  }

  user_data = templatefile("${path.module}/user_data.sh.tftpl", {
    bidder_env           = local.bidder_env
    boot_secrets         = local.boot_secrets
    region               = data.aws_region.current.name
    housekeeping_cpus    = var.housekeeping_cpus
    drain_timeout_ms     = var.drain_timeout_ms
    unready_delay_ms     = local.unready_delay_ms
    stop_timeout_seconds = local.stop_timeout_seconds
    fleet                = var.name
    metrics_log_group    = local.metrics_log_group
    admin_port           = var.admin_port
    segments_load        = var.segments_bucket != null
  })

  listener_ports = concat([var.listener_port], var.tls_certificate_arn == null ? [] : [var.tls_listener_port])
}

# --- Security groups ---------------------------------------------------------

resource "aws_security_group" "nlb" {
  name        = "${var.name}-bid-nlb"
  description = "Bid NLB: partner CIDRs on the bid listeners only"
  vpc_id      = var.vpc_id

  tags = merge(var.tags, { Name = "${var.name}-bid-nlb" })
}

resource "aws_vpc_security_group_ingress_rule" "nlb_partners" {
  for_each = { for pair in setproduct(var.partner_cidrs, local.listener_ports) : "${pair[0]}-${pair[1]}" => pair }

  security_group_id = aws_security_group.nlb.id
  description       = "Bid traffic from partner ${each.value[0]}"
  ip_protocol       = "tcp"
  from_port         = each.value[1]
  to_port           = each.value[1]
  cidr_ipv4         = each.value[0]
}

resource "aws_vpc_security_group_egress_rule" "nlb_bid" {
  security_group_id            = aws_security_group.nlb.id
  description                  = "Forward bids to the bidders"
  ip_protocol                  = "tcp"
  from_port                    = var.bid_port
  to_port                      = var.bid_port
  referenced_security_group_id = aws_security_group.this.id
}

resource "aws_vpc_security_group_egress_rule" "nlb_health" {
  security_group_id            = aws_security_group.nlb.id
  description                  = "Health checks to the bidders' admin port"
  ip_protocol                  = "tcp"
  from_port                    = var.admin_port
  to_port                      = var.admin_port
  referenced_security_group_id = aws_security_group.this.id
}

resource "aws_security_group" "this" {
  name        = "${var.name}-bidders"
  description = "Bidder instances: bid and admin ports from the NLB only"
  vpc_id      = var.vpc_id

  tags = merge(var.tags, { Name = "${var.name}-bidders" })
}

resource "aws_vpc_security_group_ingress_rule" "bid_from_nlb" {
  security_group_id            = aws_security_group.this.id
  description                  = "Bids from the NLB (client IPs preserved, filtered at the NLB)"
  ip_protocol                  = "tcp"
  from_port                    = var.bid_port
  to_port                      = var.bid_port
  referenced_security_group_id = aws_security_group.nlb.id
}

resource "aws_vpc_security_group_ingress_rule" "admin_from_nlb" {
  security_group_id            = aws_security_group.this.id
  description                  = "Readiness checks from the NLB"
  ip_protocol                  = "tcp"
  from_port                    = var.admin_port
  to_port                      = var.admin_port
  referenced_security_group_id = aws_security_group.nlb.id
}

resource "aws_vpc_security_group_egress_rule" "https" {
  security_group_id = aws_security_group.this.id
  description       = "AWS APIs (VPC endpoints, NAT)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "redis" {
  security_group_id = aws_security_group.this.id
  description       = "Frequency caps in ElastiCache Redis"
  ip_protocol       = "tcp"
  from_port         = 6379
  to_port           = 6379
  cidr_ipv4         = var.vpc_cidr_block
}

# --- IAM: what a bidder may do, nothing more ---------------------------------

resource "aws_iam_role" "this" {
  name = "${var.name}-bidder"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ec2.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })

  tags = var.tags
}

locals {
  bidder_policy_statements = concat(
    length(var.dynamodb_table_arns) == 0 ? [] : [
      {
        Sid      = "ReadCampaigns"
        Effect   = "Allow"
        Action   = ["dynamodb:Scan", "dynamodb:Query", "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:DescribeTable"]
        Resource = var.dynamodb_table_arns
      },
      {
        Sid      = "TailCampaignStreams"
        Effect   = "Allow"
        Action   = ["dynamodb:DescribeStream", "dynamodb:GetShardIterator", "dynamodb:GetRecords"]
        Resource = [for a in var.dynamodb_table_arns : "${a}/stream/*"]
      },
      {
        Sid      = "ListStreams"
        Effect   = "Allow"
        Action   = ["dynamodb:ListStreams"]
        Resource = ["*"]
      },
    ],
    # The spend ledger: consistent reads and conditional updates of one campaign's
    # item, nothing else (no scan, no delete, no stream). Its key is the state
    # module's, already in kms_key_arns with the campaigns table's.
    [{
      Sid      = "SpendLedger"
      Effect   = "Allow"
      Action   = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
      Resource = [var.spend_table_arn]
    }],
    # Budget alerts: publish to their topic only, and use its key only through SNS
    # (the key also encrypts log groups).
    [
      {
        Sid      = "PublishBudgetAlerts"
        Effect   = "Allow"
        Action   = ["sns:Publish"]
        Resource = [var.budget_alert_topic_arn]
      },
      {
        Sid       = "BudgetAlertKey"
        Effect    = "Allow"
        Action    = ["kms:GenerateDataKey", "kms:Decrypt"]
        Resource  = [var.budget_alert_kms_key_arn]
        Condition = { StringEquals = { "kms:ViaService" = "sns.${data.aws_region.current.name}.amazonaws.com" } }
      },
    ],
    length(var.kinesis_stream_arns) == 0 ? [] : [{
      Sid      = "ShipEvents"
      Effect   = "Allow"
      Action   = ["kinesis:PutRecords", "kinesis:PutRecord", "kinesis:DescribeStreamSummary", "kinesis:ListShards"]
      Resource = var.kinesis_stream_arns
    }],
    # Screening lists: list the prefix (the fingerprint the poller compares) and
    # get its objects, nothing else in the bucket; their key through S3 only.
    var.screening_lists_bucket == null ? [] : [{
      Sid       = "ListScreeningLists"
      Effect    = "Allow"
      Action    = ["s3:ListBucket"]
      Resource  = [local.screening_bucket_arn]
      Condition = { StringLike = { "s3:prefix" = ["${var.screening_lists_prefix}*"] } }
    }],
    var.screening_lists_bucket == null ? [] : [{
      Sid      = "ReadScreeningLists"
      Effect   = "Allow"
      Action   = ["s3:GetObject"]
      Resource = ["${local.screening_bucket_arn}/${var.screening_lists_prefix}*"]
    }],
    var.screening_lists_bucket == null || var.screening_lists_kms_key_arn == null ? [] : [{
      Sid       = "ScreeningListsKey"
      Effect    = "Allow"
      Action    = ["kms:Decrypt"]
      Resource  = [var.screening_lists_kms_key_arn]
      Condition = { StringEquals = { "kms:ViaService" = "s3.${data.aws_region.current.name}.amazonaws.com" } }
    }],
    # Segment files: list the prefix (the loader's listing of dropped objects) and
    # get its objects, nothing else in the bucket; their key through S3 only.
    var.segments_bucket == null ? [] : [{
      Sid       = "ListSegmentFiles"
      Effect    = "Allow"
      Action    = ["s3:ListBucket"]
      Resource  = [local.segments_bucket_arn]
      Condition = { StringLike = { "s3:prefix" = ["${var.segments_prefix}*"] } }
    }],
    var.segments_bucket == null ? [] : [{
      Sid      = "ReadSegmentFiles"
      Effect   = "Allow"
      Action   = ["s3:GetObject"]
      Resource = ["${local.segments_bucket_arn}/${var.segments_prefix}*"]
    }],
    var.segments_bucket == null || var.segments_kms_key_arn == null ? [] : [{
      Sid       = "SegmentFilesKey"
      Effect    = "Allow"
      Action    = ["kms:Decrypt"]
      Resource  = [var.segments_kms_key_arn]
      Condition = { StringEquals = { "kms:ViaService" = "s3.${data.aws_region.current.name}.amazonaws.com" } }
    }],
    # The user data reads the notice key (and the Redis AUTH token) at boot.
    [{
      Sid      = "ReadBootSecrets"
      Effect   = "Allow"
      Action   = ["secretsmanager:GetSecretValue"]
      Resource = values(local.boot_secrets)
    }],
    length(var.kms_key_arns) == 0 ? [] : [{
      Sid      = "UseDataKeys"
      Effect   = "Allow"
      Action   = ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
      Resource = var.kms_key_arns
    }],
    [
      {
        Sid      = "EmbeddedMetricLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
        Resource = ["${aws_cloudwatch_log_group.metrics.arn}:*"]
      },
      {
        Sid       = "HostMetrics"
        Effect    = "Allow"
        Action    = ["cloudwatch:PutMetricData"]
        Resource  = ["*"]
        Condition = { StringEquals = { "cloudwatch:namespace" = ["Tern/Host", "Tern/Bidder"] } }
      },
      {
        Sid      = "AgentDimensions"
        Effect   = "Allow"
        Action   = ["ec2:DescribeTags"]
        Resource = ["*"]
      },
    ],
  )
}

resource "aws_iam_role_policy" "this" {
  name   = "bidder"
  role   = aws_iam_role.this.id
  policy = jsonencode({ Version = "2012-10-17", Statement = local.bidder_policy_statements })
}

resource "aws_iam_role_policy_attachment" "ssm" {
  count = var.enable_ssm_session_manager ? 1 : 0

  role       = aws_iam_role.this.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

resource "aws_iam_instance_profile" "this" {
  name = "${var.name}-bidder"
  role = aws_iam_role.this.name

  tags = var.tags
}

resource "aws_cloudwatch_log_group" "metrics" {
  name              = local.metrics_log_group
  retention_in_days = var.metrics_log_retention_days
  kms_key_id        = var.logs_kms_key_arn

  tags = var.tags
}

# --- Launch template and auto scaling group -----------------------------------

resource "aws_launch_template" "this" {
  name_prefix            = "${var.name}-bidder-"
  description            = "Tern bidder (${var.name})"
  image_id               = var.ami_id
  instance_type          = var.instance_types[0]
  ebs_optimized          = true
  update_default_version = true
  user_data              = base64encode(local.user_data)
  vpc_security_group_ids = [aws_security_group.this.id]

  iam_instance_profile {
    arn = aws_iam_instance_profile.this.arn
  }

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "enabled"
  }

  block_device_mappings {
    device_name = "/dev/xvda"

    ebs {
      volume_type           = "gp3"
      volume_size           = var.root_volume_size_gb
      encrypted             = true
      kms_key_id            = var.ebs_kms_key_arn
      delete_on_termination = true
    }
  }

  monitoring {
    enabled = true
  }

  tag_specifications {
    resource_type = "instance"
    tags          = merge(var.tags, { Name = "${var.name}-bidder", Fleet = var.name })
  }

  tag_specifications {
    resource_type = "volume"
    tags          = merge(var.tags, { Name = "${var.name}-bidder", Fleet = var.name })
  }

  # The template itself carries no tags: instances and volumes do (above).
}

resource "aws_autoscaling_group" "this" {
  name                      = "${var.name}-bidders"
  vpc_zone_identifier       = var.private_subnet_ids
  min_size                  = var.min_size
  max_size                  = var.max_size
  desired_capacity          = var.desired_capacity
  target_group_arns         = [aws_lb_target_group.this.arn]
  health_check_type         = "ELB"
  health_check_grace_period = var.instance_warmup_seconds
  default_instance_warmup   = var.instance_warmup_seconds
  wait_for_capacity_timeout = var.wait_for_capacity_timeout
  termination_policies      = ["OldestLaunchTemplate", "OldestInstance"]
  enabled_metrics           = ["GroupInServiceInstances", "GroupDesiredCapacity", "GroupPendingInstances", "GroupTerminatingInstances"]

  mixed_instances_policy {
    instances_distribution {
      on_demand_base_capacity                  = var.min_size
      on_demand_percentage_above_base_capacity = 100
    }

    launch_template {
      launch_template_specification {
        launch_template_id = aws_launch_template.this.id
        version            = aws_launch_template.this.latest_version
      }

      dynamic "override" {
        for_each = var.instance_types
        content {
          instance_type = override.value
        }
      }
    }
  }

  instance_refresh {
    strategy = "Rolling"
    preferences {
      min_healthy_percentage = var.refresh_min_healthy_percentage
      instance_warmup        = var.instance_warmup_seconds
    }
  }

  dynamic "tag" {
    for_each = merge(var.tags, { Name = "${var.name}-bidder", Fleet = var.name })
    content {
      key                 = tag.key
      value               = tag.value
      propagate_at_launch = true
    }
  }

  lifecycle {
    # Target tracking owns the capacity after the first apply.
    ignore_changes = [desired_capacity]
  }
}

resource "aws_autoscaling_policy" "cpu" {
  name                   = "${var.name}-cpu-target"
  autoscaling_group_name = aws_autoscaling_group.this.name
  policy_type            = "TargetTrackingScaling"

  target_tracking_configuration {
    target_value = var.target_cpu_utilization

    predefined_metric_specification {
      predefined_metric_type = "ASGAverageCPUUtilization"
    }
  }
}

# --- NLB ----------------------------------------------------------------------

resource "aws_lb" "this" {
  #checkov:skip=CKV_AWS_91:Access logs are opt-in through var.access_logs_bucket (an SSE-S3 bucket with the ELB log-delivery policy, usually the account's log archive).
  #checkov:skip=CKV2_AWS_20:A network load balancer with TCP/TLS listeners: there is no HTTP to redirect.
  name                             = "${var.name}-bid"
  load_balancer_type               = "network"
  internal                         = var.nlb_internal
  subnets                          = var.nlb_subnet_ids
  security_groups                  = [aws_security_group.nlb.id]
  enable_cross_zone_load_balancing = true
  enable_deletion_protection       = var.deletion_protection


  dynamic "access_logs" {
    for_each = var.access_logs_bucket == null ? [] : [var.access_logs_bucket]
    content {
      bucket  = access_logs.value
      prefix  = var.name
      enabled = true
    }
  }
  tags = var.tags
}

resource "aws_lb_target_group" "this" {
  name                 = "${var.name}-bid"
  port                 = var.bid_port
  protocol             = "TCP"
  target_type          = "instance"
  vpc_id               = var.vpc_id
  deregistration_delay = var.deregistration_delay_seconds
  preserve_client_ip   = true

  health_check {
    enabled             = true
    protocol            = "HTTP"
    port                = tostring(var.admin_port)
    path                = var.health_check_path
    matcher             = "200"
    interval            = var.health_check_interval_seconds
    timeout             = min(5, var.health_check_interval_seconds)
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }

  tags = var.tags
}

resource "aws_lb_listener" "tcp" {
  load_balancer_arn = aws_lb.this.arn
  port              = var.listener_port
  protocol          = "TCP"

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this.arn
  }

  tags = var.tags
}

resource "aws_lb_listener" "tls" {
  count = var.tls_certificate_arn == null ? 0 : 1

  load_balancer_arn = aws_lb.this.arn
  port              = var.tls_listener_port
  protocol          = "TLS"
  certificate_arn   = var.tls_certificate_arn
  ssl_policy        = var.tls_policy

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this.arn
  }

  tags = var.tags
}
