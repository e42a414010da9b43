# The control plane (campaign/budget REST service) behind an ALB protected by a
# WAFv2 web ACL: AWS managed rule groups plus a per-IP rate-based rule, with WAF
# logs in CloudWatch. WAF attaches to ALBs, API Gateway, CloudFront and AppSync,
# not to NLBs: the bid port is protected by the NLB security group (partner CIDRs
# only), see terraform/README.md. The instances run the bidder's AMI (which holds
# control-plane.service, disabled); their user data writes the deployment's config,
# reads the bootstrap operator key and the pepper from Secrets Manager at boot and
# enables the service. The role may make exactly the DynamoDB calls the service
# makes, on exactly its three tables.

data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  https                = var.certificate_arn != null
  stop_timeout_seconds = ceil(var.drain_timeout_ms / 1000) + var.stop_grace_seconds

  # Secrets the user data reads at boot with the instance role, by the setting each
  # one fills: their values never appear in Terraform-rendered user data, and the
  # role may read exactly these.
  boot_secrets = tomap({
    TERN_CP_AUTH__BOOTSTRAP_OPERATOR_KEY = var.bootstrap_key_secret_arn
    TERN_CP_AUTH__PEPPER                 = var.pepper_secret_arn
  })

  # The module's own keys win: the API must listen on 0.0.0.0 at the target group's
  # port (the service's default binds 127.0.0.1; the admin listener stays on
  # loopback, as the AMI's control-plane.toml sets it), the tables are this
  # deployment's, and the drain matches systemd's stop timeout. AWS_REGION is for
  # the service's AWS SDK (the env file is a systemd EnvironmentFile).
  control_plane_env = merge(var.control_plane_env, {
    TERN_CP_SERVER__LISTEN             = "0.0.0.0:${var.service_port}"
    TERN_CP_TABLES__CAMPAIGNS          = var.campaigns_table_name
    TERN_CP_TABLES__CONTROL            = var.control_table_name
    TERN_CP_TABLES__SPEND              = var.spend_table_name
    TERN_CP_SHUTDOWN__DRAIN_TIMEOUT_MS = tostring(var.drain_timeout_ms)
    AWS_REGION                         = data.aws_region.current.name
  })

  user_data = templatefile("${path.module}/user_data.sh.tftpl", {
    control_plane_env    = local.control_plane_env
    boot_secrets         = local.boot_secrets
    region               = data.aws_region.current.name
    drain_timeout_ms     = var.drain_timeout_ms
    stop_timeout_seconds = local.stop_timeout_seconds
  })
}

# --- Security groups ---------------------------------------------------------

resource "aws_security_group" "alb" {
  name        = "${var.name}-cp-alb"
  description = "Control-plane ALB: operator CIDRs on 80/443"
  vpc_id      = var.vpc_id

  tags = merge(var.tags, { Name = "${var.name}-cp-alb" })
}

resource "aws_vpc_security_group_ingress_rule" "alb" {
  for_each = { for pair in setproduct(var.allowed_cidrs, local.https ? [80, 443] : [80]) : "${pair[0]}-${pair[1]}" => pair }

  security_group_id = aws_security_group.alb.id
  description       = "Operators ${each.value[0]} on ${each.value[1]}"
  ip_protocol       = "tcp"
  from_port         = each.value[1]
  to_port           = each.value[1]
  cidr_ipv4         = each.value[0]
}

resource "aws_vpc_security_group_egress_rule" "alb_to_service" {
  security_group_id            = aws_security_group.alb.id
  description                  = "To the control-plane instances"
  ip_protocol                  = "tcp"
  from_port                    = var.service_port
  to_port                      = var.service_port
  referenced_security_group_id = aws_security_group.this.id
}

resource "aws_security_group" "this" {
  name        = "${var.name}-control-plane"
  description = "Control-plane instances: service port from the ALB only"
  vpc_id      = var.vpc_id

  tags = merge(var.tags, { Name = "${var.name}-control-plane" })
}

resource "aws_vpc_security_group_ingress_rule" "service_from_alb" {
  security_group_id            = aws_security_group.this.id
  description                  = "From the ALB"
  ip_protocol                  = "tcp"
  from_port                    = var.service_port
  to_port                      = var.service_port
  referenced_security_group_id = aws_security_group.alb.id
}

resource "aws_vpc_security_group_egress_rule" "https" {
  security_group_id = aws_security_group.this.id
  description       = "AWS APIs (VPC endpoints, NAT)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

# --- IAM ----------------------------------------------------------------------

resource "aws_iam_role" "this" {
  name = "${var.name}-control-plane"
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

# Exactly the calls the service makes (control-plane/src/store), table by table.
# TransactWriteItems has no IAM action of its own: each item in a transaction is
# authorised as its PutItem, UpdateItem, DeleteItem or ConditionCheckItem on its
# table. No statement reaches an index or a stream (the tables have no index; the
# bidders, not the control plane, tail the campaigns stream).
locals {
  policy_statements = concat(
    [
      # Campaigns: read one (GetItem), list (Scan), readiness (DescribeTable), and
      # conditional Put/Delete inside the transactions that change a campaign.
      {
        Sid      = "ManageCampaigns"
        Effect   = "Allow"
        Action   = ["dynamodb:GetItem", "dynamodb:Scan", "dynamodb:DescribeTable", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"]
        Resource = [var.campaigns_table_arn]
      },
      # Its own records (keys, audit log, idempotency, tombstones): GetItem, Query,
      # readiness, and Put/Update in the same transactions.
      {
        Sid      = "ControlRecords"
        Effect   = "Allow"
        Action   = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:DescribeTable", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"]
        Resource = [var.control_table_arn]
      },
      # The fleet's spend ledger, read for a campaign's status; never written here.
      {
        Sid      = "ReadSpend"
        Effect   = "Allow"
        Action   = ["dynamodb:GetItem"]
        Resource = [var.spend_table_arn]
      },
      # The user data reads the bootstrap operator key and the pepper at boot.
      {
        Sid      = "ReadBootSecrets"
        Effect   = "Allow"
        Action   = ["secretsmanager:GetSecretValue"]
        Resource = values(local.boot_secrets)
      },
    ],
    # The tables' and secrets' customer-managed key (the state module's), as the
    # bidders use it, through DynamoDB and Secrets Manager only.
    length(var.kms_key_arns) == 0 ? [] : [{
      Sid      = "UseTableKeys"
      Effect   = "Allow"
      Action   = ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
      Resource = var.kms_key_arns
      Condition = {
        StringEquals = {
          "kms:ViaService" = [
            "dynamodb.${data.aws_region.current.name}.amazonaws.com",
            "secretsmanager.${data.aws_region.current.name}.amazonaws.com",
          ]
        }
      }
    }],
  )
}

resource "aws_iam_role_policy" "this" {
  name   = "control-plane"
  role   = aws_iam_role.this.id
  policy = jsonencode({ Version = "2012-10-17", Statement = local.policy_statements })
}

resource "aws_iam_instance_profile" "this" {
  name = "${var.name}-control-plane"
  role = aws_iam_role.this.name

  tags = var.tags
}

# --- Instances ------------------------------------------------------------------

resource "aws_launch_template" "this" {
  name_prefix            = "${var.name}-control-plane-"
  description            = "Tern control plane (${var.name})"
  image_id               = var.ami_id
  instance_type          = var.instance_type
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
  }

  block_device_mappings {
    device_name = "/dev/xvda"

    ebs {
      volume_type           = "gp3"
      volume_size           = 16
      encrypted             = true
      delete_on_termination = true
    }
  }

  monitoring {
    enabled = true
  }

  tag_specifications {
    resource_type = "instance"
    tags          = merge(var.tags, { Name = "${var.name}-control-plane" })
  }

  # The template itself carries no tags: instances and volumes do (above).
}

resource "aws_autoscaling_group" "this" {
  name                      = "${var.name}-control-plane"
  vpc_zone_identifier       = var.private_subnet_ids
  min_size                  = var.min_size
  max_size                  = var.max_size
  target_group_arns         = [aws_lb_target_group.this.arn]
  health_check_type         = "ELB"
  health_check_grace_period = 120
  wait_for_capacity_timeout = var.wait_for_capacity_timeout

  launch_template {
    id      = aws_launch_template.this.id
    version = aws_launch_template.this.latest_version
  }

  instance_refresh {
    strategy = "Rolling"
    preferences {
      min_healthy_percentage = 50
    }
  }

  dynamic "tag" {
    for_each = merge(var.tags, { Name = "${var.name}-control-plane" })
    content {
      key                 = tag.key
      value               = tag.value
      propagate_at_launch = true
    }
  }
}

# --- ALB ----------------------------------------------------------------------

resource "aws_lb" "this" {
  #checkov:skip=CKV_AWS_91:Access logs are opt-in through var.access_logs_bucket (an SSE-S3 bucket with the ELB log-delivery policy, usually the account's log archive).
  #checkov:skip=CKV2_AWS_20:Conditional redirect (see aws_lb_listener.http).
  #checkov:skip=CKV2_AWS_76:The Log4j AMR (KnownBadInputs) is always on; the check also demands AnonymousIpList, which would block operators' VPN/hosted-CI egress (opt in via waf_managed_rule_groups).
  name                       = "${var.name}-cp"
  load_balancer_type         = "application"
  internal                   = var.internal
  subnets                    = var.alb_subnet_ids
  security_groups            = [aws_security_group.alb.id]
  drop_invalid_header_fields = true
  enable_deletion_protection = var.deletion_protection


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
  #checkov:skip=CKV_AWS_378:TLS ends at the ALB; the target is a private instance reached only from the ALB's security group.
  name                 = "${var.name}-cp"
  port                 = var.service_port
  protocol             = "HTTP"
  target_type          = "instance"
  vpc_id               = var.vpc_id
  deregistration_delay = 30

  health_check {
    enabled             = true
    protocol            = "HTTP"
    path                = var.health_check_path
    matcher             = "200"
    interval            = 15
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }

  tags = var.tags
}

resource "aws_lb_listener" "https" {
  count = local.https ? 1 : 0

  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  certificate_arn   = var.certificate_arn
  ssl_policy        = var.tls_policy

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this.arn
  }

  tags = var.tags
}

resource "aws_lb_listener" "http" {
  #checkov:skip=CKV_AWS_2:Port 80 redirects to HTTPS whenever certificate_arn is set (prod requires it); only dev without a certificate forwards HTTP, to operator CIDRs.
  #checkov:skip=CKV2_AWS_20:Same: the redirect to HTTPS is conditional on certificate_arn, which checkov cannot evaluate.
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"

  # With a certificate: redirect to HTTPS. Without one (dev only): forward.
  default_action {
    type             = local.https ? "redirect" : "forward"
    target_group_arn = local.https ? null : aws_lb_target_group.this.arn

    dynamic "redirect" {
      for_each = local.https ? [1] : []
      content {
        port        = "443"
        protocol    = "HTTPS"
        status_code = "HTTP_301"
      }
    }
  }

  tags = var.tags
}

# --- WAF ----------------------------------------------------------------------

resource "aws_wafv2_web_acl" "this" {
  name        = "${var.name}-control-plane"
  description = "Control-plane ALB: managed rules and a per-IP rate limit"
  scope       = "REGIONAL"

  default_action {
    allow {}
  }

  # Always on: known bad inputs (Log4j/Log4Shell, Java deserialization, ...).
  rule {
    name     = "AWSManagedRulesKnownBadInputsRuleSet"
    priority = 1

    override_action {
      none {}
    }

    statement {
      managed_rule_group_statement {
        name        = "AWSManagedRulesKnownBadInputsRuleSet"
        vendor_name = "AWS"
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "AWSManagedRulesKnownBadInputsRuleSet"
      sampled_requests_enabled   = true
    }
  }

  dynamic "rule" {
    for_each = var.waf_managed_rule_groups
    content {
      name     = rule.value
      priority = rule.key + 10

      override_action {
        none {}
      }

      statement {
        managed_rule_group_statement {
          name        = rule.value
          vendor_name = "AWS"
        }
      }

      visibility_config {
        cloudwatch_metrics_enabled = true
        metric_name                = rule.value
        sampled_requests_enabled   = true
      }
    }
  }

  rule {
    name     = "rate-limit-per-ip"
    priority = 100

    action {
      block {}
    }

    statement {
      rate_based_statement {
        limit              = var.waf_rate_limit
        aggregate_key_type = "IP"
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "rate-limit-per-ip"
      sampled_requests_enabled   = true
    }
  }

  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = "${var.name}-control-plane"
    sampled_requests_enabled   = true
  }

  tags = var.tags
}

resource "aws_wafv2_web_acl_association" "this" {
  resource_arn = aws_lb.this.arn
  web_acl_arn  = aws_wafv2_web_acl.this.arn
}

# The log group name must start with aws-waf-logs-.
resource "aws_cloudwatch_log_group" "waf" {
  name              = "aws-waf-logs-${var.name}-control-plane"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn

  tags = var.tags
}

resource "aws_wafv2_web_acl_logging_configuration" "this" {
  resource_arn            = aws_wafv2_web_acl.this.arn
  log_destination_configs = [aws_cloudwatch_log_group.waf.arn]

  redacted_fields {
    single_header {
      name = "authorization"
    }
  }
}
