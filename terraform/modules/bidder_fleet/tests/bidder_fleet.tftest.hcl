# bidder_fleet: IMDSv2 only, encrypted EBS, Graviton only, NLB health check on the
# admin /ready, deregistration delay and systemd stop timeout longer than the drain,
# bid port open to partner CIDRs only, least-privilege instance role; the bidders
# use the deployment's table, stream and Redis, and read their secrets at boot;
# fleet-wide budgets in the spend ledger (GetItem and UpdateItem there only) with
# alerts to their own encrypted SNS topic; screening lists polled from exactly one
# S3 prefix, read-only; segment files loaded into Redis from exactly one S3 prefix,
# read-only, by a timer the user data enables only then.

mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  name                = "tern-test"
  vpc_id              = "vpc-0123456789abcdef0"
  vpc_cidr_block      = "10.40.0.0/16"
  private_subnet_ids  = ["subnet-0a", "subnet-0b", "subnet-0c"]
  nlb_subnet_ids      = ["subnet-1a", "subnet-1b", "subnet-1c"]
  partner_cidrs       = ["198.51.100.0/24", "203.0.113.0/24"]
  ami_id              = "ami-0123456789abcdef0"
  logs_kms_key_arn    = "arn:aws:kms:us-east-1:123456789012:key/logs"
  dynamodb_table_arns = ["arn:aws:dynamodb:us-east-1:123456789012:table/tern-test-campaigns"]
  kinesis_stream_arns = ["arn:aws:kinesis:us-east-1:123456789012:stream/tern-test-events"]
  kms_key_arns        = ["arn:aws:kms:us-east-1:123456789012:key/state"]

  campaigns_table_name  = "tern-test-campaigns"
  events_stream_name    = "tern-test-events"
  notice_secret_arn     = "arn:aws:secretsmanager:us-east-1:123456789012:secret:tern-test/notice-signing-key-NoTiCe"
  redis_auth_secret_arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:tern-test/redis-auth-token-AbCdEf"

  spend_table_name         = "tern-test-spend"
  spend_table_arn          = "arn:aws:dynamodb:us-east-1:123456789012:table/tern-test-spend"
  budget_alert_topic_arn   = "arn:aws:sns:us-east-1:123456789012:tern-test-budget-alerts"
  budget_alert_kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/observability"
  # redis_address: null by default (no Redis); see run "shared_redis".
}

run "fleet_invariants" {
  command = apply

  # Launch template: IMDSv2 required, encrypted root volume, arm64 types.
  assert {
    condition     = aws_launch_template.this.metadata_options[0].http_tokens == "required" && aws_launch_template.this.metadata_options[0].http_put_response_hop_limit == 1
    error_message = "IMDSv2 must be required, with a hop limit of 1."
  }

  assert {
    condition     = alltrue([for b in aws_launch_template.this.block_device_mappings : b.ebs[0].encrypted == "true"])
    error_message = "Every EBS volume must be encrypted."
  }

  assert {
    condition     = toset([for o in aws_autoscaling_group.this.mixed_instances_policy[0].launch_template[0].override : o.instance_type]) == toset(var.instance_types)
    error_message = "The ASG must offer exactly the configured Graviton instance types."
  }

  # NLB and target group.
  assert {
    condition     = aws_lb.this.load_balancer_type == "network" && aws_lb.this.enable_cross_zone_load_balancing
    error_message = "The bid load balancer is a cross-zone NLB."
  }

  assert {
    condition = (
      aws_lb_target_group.this.health_check[0].path == "/ready" &&
      aws_lb_target_group.this.health_check[0].port == "9090" &&
      aws_lb_target_group.this.health_check[0].protocol == "HTTP" &&
      aws_lb_target_group.this.health_check[0].matcher == "200"
    )
    error_message = "The health check must be HTTP GET /ready on the admin port 9090 expecting 200."
  }

  assert {
    condition     = aws_lb_target_group.this.port == 8080 && aws_lb_target_group.this.protocol == "TCP"
    error_message = "Bids go to TCP 8080."
  }

  assert {
    condition     = tonumber(aws_lb_target_group.this.deregistration_delay) * 1000 > var.drain_timeout_ms
    error_message = "The deregistration delay must exceed the bidder's drain time."
  }

  assert {
    condition     = output.stop_timeout_seconds * 1000 > var.drain_timeout_ms + output.unready_delay_ms
    error_message = "systemd TimeoutStopSec must exceed unready delay + drain."
  }

  assert {
    condition     = output.unready_delay_ms >= var.health_check_interval_seconds * 2 * 1000
    error_message = "The bidder must stay up, not-ready, until the NLB has seen two failed checks."
  }

  assert {
    condition     = length(aws_lb_listener.tls) == 0 && aws_lb_listener.tcp.protocol == "TCP" && aws_lb_listener.tcp.port == 80
    error_message = "Without a certificate: one TCP listener on 80, no TLS listener."
  }

  # Security groups: partners only on the bid listener; instances only from the NLB.
  assert {
    condition     = toset([for r in aws_vpc_security_group_ingress_rule.nlb_partners : r.cidr_ipv4]) == toset(var.partner_cidrs)
    error_message = "The NLB must admit exactly the partner CIDRs."
  }

  assert {
    condition     = alltrue([for r in aws_vpc_security_group_ingress_rule.nlb_partners : r.cidr_ipv4 != "0.0.0.0/0" && r.from_port == 80 && r.to_port == 80])
    error_message = "No 0.0.0.0/0 and no port other than the listener on the NLB."
  }

  assert {
    condition = (
      aws_vpc_security_group_ingress_rule.bid_from_nlb.referenced_security_group_id == aws_security_group.nlb.id &&
      aws_vpc_security_group_ingress_rule.bid_from_nlb.cidr_ipv4 == null &&
      aws_vpc_security_group_ingress_rule.admin_from_nlb.referenced_security_group_id == aws_security_group.nlb.id &&
      aws_vpc_security_group_ingress_rule.admin_from_nlb.from_port == 9090
    )
    error_message = "Instances admit the bid and admin ports from the NLB's security group only."
  }

  # ASG behaviour.
  assert {
    condition     = aws_autoscaling_group.this.health_check_type == "ELB" && aws_autoscaling_group.this.instance_refresh[0].strategy == "Rolling"
    error_message = "ELB health checks and rolling instance refresh."
  }

  assert {
    condition     = aws_autoscaling_policy.cpu.policy_type == "TargetTrackingScaling" && aws_autoscaling_policy.cpu.target_tracking_configuration[0].target_value == var.target_cpu_utilization
    error_message = "Target tracking on CPU."
  }

  # User data: drain time, addresses, stop timeout, agent.
  assert {
    condition     = strcontains(base64decode(aws_launch_template.this.user_data), "TERN_SHUTDOWN__DRAIN_TIMEOUT_MS=\"10000\"")
    error_message = "The drain time must reach the bidder."
  }

  assert {
    condition     = strcontains(base64decode(aws_launch_template.this.user_data), "TERN_SERVER__ADMIN_ADDR=\"0.0.0.0:9090\"") && strcontains(base64decode(aws_launch_template.this.user_data), "TERN_SERVER__ADMIN_PUBLIC=\"true\"") && strcontains(base64decode(aws_launch_template.this.user_data), "TERN_SERVER__BID_ADDR=\"0.0.0.0:8080\"")
    error_message = "Both listeners must bind 0.0.0.0 (the bidder defaults to 127.0.0.1), the admin one with admin_public set."
  }

  assert {
    condition     = strcontains(base64decode(aws_launch_template.this.user_data), "TimeoutStopSec=${output.stop_timeout_seconds}\n")
    error_message = "The unit's stop timeout must be written to the drop-in."
  }

  assert {
    condition     = strcontains(base64decode(aws_launch_template.this.user_data), "tern-configure-cloudwatch-agent 'tern-test' '/tern/tern-test/bidder/metrics' '9090'")
    error_message = "The CloudWatch agent must be configured for this fleet's dimension and log group."
  }

  assert {
    condition     = output.bidder_env["TERN_SERVER__PUBLIC_URL"] == "http://${aws_lb.this.dns_name}"
    error_message = "Billing notices must point at the NLB."
  }

  # The deployment's own sources and sinks, not the AMI's defaults.
  assert {
    condition = (
      output.bidder_env["TERN_CAMPAIGNS__SOURCE"] == "dynamodb" &&
      output.bidder_env["TERN_CAMPAIGNS__DYNAMODB__TABLE"] == var.campaigns_table_name &&
      strcontains(base64decode(aws_launch_template.this.user_data), "TERN_CAMPAIGNS__DYNAMODB__TABLE=\"tern-test-campaigns\"\n")
    )
    error_message = "Bidders must sync campaigns from the deployment's DynamoDB table, not the bundled examples."
  }

  assert {
    condition = (
      output.bidder_env["TERN_EVENTS__SINK"] == "kinesis" &&
      output.bidder_env["TERN_EVENTS__KINESIS__STREAM"] == var.events_stream_name &&
      strcontains(base64decode(aws_launch_template.this.user_data), "TERN_EVENTS__KINESIS__STREAM=\"tern-test-events\"\n")
    )
    error_message = "Bidders must ship events to the deployment's Kinesis stream, not local files."
  }

  assert {
    condition     = output.bidder_env["AWS_REGION"] == data.aws_region.current.name && strcontains(base64decode(aws_launch_template.this.user_data), "AWS_REGION=\"us-east-1\"\n")
    error_message = "The bidder's AWS SDK gets the fleet's region."
  }

  assert {
    condition     = length([for k in keys(output.bidder_env) : k if startswith(k, "TERN_FREQUENCY_CAP__")]) == 0
    error_message = "Without redis_address the bidders keep the in-process frequency-cap store (no Redis keys)."
  }

  # Secrets: read at boot with the role, never rendered into user data.
  assert {
    condition     = strcontains(base64decode(aws_launch_template.this.user_data), "secret=\"$(read_secret '${var.notice_secret_arn}')\"\nenv_line TERN_NOTICE__SECRET \"$${secret}\" >>/etc/tern/bidder.env\n")
    error_message = "The user data must read the notice key from its secret and append it to bidder.env as notice.secret."
  }

  assert {
    condition = (
      !strcontains(base64decode(aws_launch_template.this.user_data), "TERN_NOTICE__SECRET=") &&
      !strcontains(base64decode(aws_launch_template.this.user_data), "TERN_FREQUENCY_CAP__REDIS__PASSWORD") &&
      !strcontains(base64decode(aws_launch_template.this.user_data), var.redis_auth_secret_arn)
    )
    error_message = "No secret value in the user data, and no Redis AUTH token without Redis."
  }

  assert {
    condition = (
      tolist(one([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : st.Resource if contains(st.Action, "secretsmanager:GetSecretValue")])) == tolist([var.notice_secret_arn]) &&
      output.boot_secrets == tomap({ TERN_NOTICE__SECRET = var.notice_secret_arn })
    )
    error_message = "Without Redis the role reads exactly the notice key's secret."
  }

  assert {
    condition = alltrue([
      for k in var.kms_key_arns : contains(one([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : st.Resource if st.Sid == "UseDataKeys"]), k)
    ])
    error_message = "The role may decrypt with the keys of its secrets and tables."
  }

  # IAM: no wildcard actions, nothing that writes campaigns.
  assert {
    condition = alltrue(flatten([
      for st in jsondecode(aws_iam_role_policy.this.policy).Statement :
      [for a in st.Action : a != "*" && !endswith(a, ":*")]
    ]))
    error_message = "The bidder role must not use wildcard actions."
  }

  assert {
    condition = alltrue(flatten([
      for st in jsondecode(aws_iam_role_policy.this.policy).Statement : [
        for a in st.Action :
        !contains(["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:PartiQLUpdate", "dynamodb:PartiQLInsert", "dynamodb:PartiQLDelete"], a) ||
        (a == "dynamodb:UpdateItem" && st.Resource == [var.spend_table_arn])
      ]
    ]))
    error_message = "Bidders read campaigns, they never write them: the one DynamoDB write is UpdateItem on the spend ledger."
  }

  # Spend ledger and budget alerts: exactly the calls the bidder makes, on exactly
  # its table, topic and key.
  assert {
    condition = (
      length([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : st if contains(st.Resource, var.spend_table_arn)]) == 1 &&
      one([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : st if contains(st.Resource, var.spend_table_arn)]).Resource == [var.spend_table_arn] &&
      one([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : st if contains(st.Resource, var.spend_table_arn)]).Action == ["dynamodb:GetItem", "dynamodb:UpdateItem"] &&
      one([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : st if contains(st.Resource, var.spend_table_arn)]).Effect == "Allow"
    )
    error_message = "The role may GetItem and UpdateItem on the spend table, nothing else, in one statement of its own."
  }

  assert {
    condition = alltrue([
      for st in jsondecode(aws_iam_role_policy.this.policy).Statement :
      !contains(st.Resource, var.spend_table_arn) && !anytrue([for r in st.Resource : startswith(r, "${var.spend_table_arn}/")]) if st.Sid != "SpendLedger"
    ])
    error_message = "No other statement reaches the spend table (no scan, no stream, no index)."
  }

  assert {
    condition = (
      flatten([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : [for a in st.Action : a if startswith(a, "sns:")]]) == ["sns:Publish"] &&
      one([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : st.Resource if contains(st.Action, "sns:Publish")]) == [var.budget_alert_topic_arn]
    )
    error_message = "The only SNS permission is sns:Publish, on the budget alert topic only."
  }

  assert {
    condition = (
      one([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : st if contains(st.Resource, var.budget_alert_kms_key_arn)]).Action == ["kms:GenerateDataKey", "kms:Decrypt"] &&
      one([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : st if contains(st.Resource, var.budget_alert_kms_key_arn)]).Resource == [var.budget_alert_kms_key_arn] &&
      one([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : st if contains(st.Resource, var.budget_alert_kms_key_arn)]).Condition == { StringEquals = { "kms:ViaService" = "sns.us-east-1.amazonaws.com" } }
    )
    error_message = "Publishing to the encrypted topic: GenerateDataKey and Decrypt on its key, through SNS in the fleet's region only."
  }

  # The bidder's budget settings: the ledger, its table, the alert topic, the
  # journal in the unit's StateDirectory.
  assert {
    condition = (
      output.bidder_env["TERN_BUDGET__LEDGER"] == "dynamodb" &&
      output.bidder_env["TERN_BUDGET__DYNAMODB__TABLE"] == var.spend_table_name &&
      output.bidder_env["TERN_BUDGET__ALERTS__SNS_TOPIC_ARN"] == var.budget_alert_topic_arn &&
      output.bidder_env["TERN_BUDGET__STATE_DIR"] == "/var/lib/tern"
    )
    error_message = "Bidders keep budgets fleet-wide in the spend ledger, alert to the budget topic and journal to /var/lib/tern."
  }

  assert {
    condition = (
      strcontains(base64decode(aws_launch_template.this.user_data), "TERN_BUDGET__LEDGER=\"dynamodb\"\n") &&
      strcontains(base64decode(aws_launch_template.this.user_data), "TERN_BUDGET__DYNAMODB__TABLE=\"tern-test-spend\"\n") &&
      strcontains(base64decode(aws_launch_template.this.user_data), "TERN_BUDGET__ALERTS__SNS_TOPIC_ARN=\"arn:aws:sns:us-east-1:123456789012:tern-test-budget-alerts\"\n") &&
      strcontains(base64decode(aws_launch_template.this.user_data), "TERN_BUDGET__STATE_DIR=\"/var/lib/tern\"\n")
    )
    error_message = "The budget settings reach /etc/tern/bidder.env."
  }

  assert {
    condition = alltrue([
      for st in jsondecode(aws_iam_role_policy.this.policy).Statement :
      st.Resource != ["*"] || contains(["ListStreams", "HostMetrics", "AgentDimensions"], st.Sid)
    ])
    error_message = "Only list/metrics/describe-tags statements may use Resource *."
  }

  # Screening lists: without a bucket, the bundled lists and no S3 access at all.
  assert {
    condition = (
      length([for k in keys(output.bidder_env) : k if startswith(k, "TERN_SCREENING__")]) == 0 &&
      length(flatten([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : [for a in st.Action : a if startswith(a, "s3:")]])) == 0
    )
    error_message = "Without screening_lists_bucket the bidders use their bundled lists and the role has no S3 permission."
  }

  # Segments: without a bucket, no prefix, no grant, no timer.
  assert {
    condition = (
      length([for k in keys(output.bidder_env) : k if startswith(k, "TERN_SEGMENTS__")]) == 0 &&
      length([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : st if contains(["ListSegmentFiles", "ReadSegmentFiles", "SegmentFilesKey"], st.Sid)]) == 0 &&
      !strcontains(base64decode(aws_launch_template.this.user_data), "tern-segments-load") &&
      output.segments_s3_uri == null
    )
    error_message = "Without segments_bucket: no TERN_SEGMENTS__S3_URI, no segments statements, the loader's timer not enabled."
  }
}

run "tls_listener_when_certificate_given" {
  command = apply

  variables {
    tls_certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
  }

  assert {
    condition     = length(aws_lb_listener.tls) == 1 && aws_lb_listener.tls[0].protocol == "TLS" && startswith(aws_lb_listener.tls[0].ssl_policy, "ELBSecurityPolicy-TLS13-")
    error_message = "A certificate adds a TLS listener with a TLS 1.3 policy."
  }

  assert {
    condition     = toset([for r in aws_vpc_security_group_ingress_rule.nlb_partners : r.from_port]) == toset([80, 443])
    error_message = "Partners are admitted on both listener ports."
  }

  assert {
    condition     = startswith(output.bidder_env["TERN_SERVER__PUBLIC_URL"], "https://")
    error_message = "With TLS, notices use https."
  }
}

run "rejects_the_internet_on_the_bid_port" {
  command = plan

  variables {
    partner_cidrs = ["0.0.0.0/0"]
  }

  expect_failures = [var.partner_cidrs]
}

run "rejects_deregistration_shorter_than_drain" {
  command = plan

  variables {
    drain_timeout_ms             = 30000
    deregistration_delay_seconds = 30
  }

  expect_failures = [var.deregistration_delay_seconds]
}

run "rejects_x86_instance_types" {
  command = plan

  variables {
    instance_types = ["c7g.large", "c7i.large"]
  }

  expect_failures = [var.instance_types]
}

run "rejects_liveness_as_health_check" {
  command = plan

  variables {
    health_check_path = "/health"
  }

  expect_failures = [var.health_check_path]
}

run "rejects_env_that_is_not_bidder_config" {
  command = plan

  variables {
    bidder_env = { RUST_LOG = "debug" }
  }

  expect_failures = [var.bidder_env]
}

run "custom_public_url" {
  command = plan

  variables {
    public_url = "https://bid.example.com"
  }

  assert {
    condition     = output.bidder_env["TERN_SERVER__PUBLIC_URL"] == "https://bid.example.com"
    error_message = "An explicit public_url wins over the NLB name."
  }
}

run "rejects_public_url_with_trailing_slash" {
  command = plan

  variables {
    public_url = "https://bid.example.com/"
  }

  expect_failures = [var.public_url]
}

run "shared_redis" {
  command = apply

  variables {
    redis_address = "master.tern-test-freqcap.abc123.use1.cache.amazonaws.com:6379"
  }

  assert {
    condition = (
      output.bidder_env["TERN_FREQUENCY_CAP__STORE"] == "redis" &&
      output.bidder_env["TERN_FREQUENCY_CAP__REDIS__ADDR"] == var.redis_address &&
      output.bidder_env["TERN_FREQUENCY_CAP__REDIS__TLS"] == "true"
    )
    error_message = "With Redis the fleet shares frequency caps over TLS at redis_address."
  }

  assert {
    condition = (
      strcontains(base64decode(aws_launch_template.this.user_data), "secret=\"$(read_secret '${var.redis_auth_secret_arn}')\"\nenv_line TERN_FREQUENCY_CAP__REDIS__PASSWORD \"$${secret}\" >>/etc/tern/bidder.env\n") &&
      strcontains(base64decode(aws_launch_template.this.user_data), "secret=\"$(read_secret '${var.notice_secret_arn}')\"\nenv_line TERN_NOTICE__SECRET \"$${secret}\" >>/etc/tern/bidder.env\n") &&
      !strcontains(base64decode(aws_launch_template.this.user_data), "TERN_FREQUENCY_CAP__REDIS__PASSWORD=")
    )
    error_message = "The AUTH token (and the notice key) are read from their secrets at boot into their settings, never rendered."
  }

  assert {
    condition = (
      toset(one([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : st.Resource if contains(st.Action, "secretsmanager:GetSecretValue")])) == toset([var.notice_secret_arn, var.redis_auth_secret_arn]) &&
      output.boot_secrets == tomap({ TERN_NOTICE__SECRET = var.notice_secret_arn, TERN_FREQUENCY_CAP__REDIS__PASSWORD = var.redis_auth_secret_arn })
    )
    error_message = "With Redis the role reads exactly the notice key's and the AUTH token's secrets."
  }

  assert {
    condition = (
      length([for k in keys(output.bidder_env) : k if startswith(k, "TERN_SEGMENTS__")]) == 0 &&
      !strcontains(base64decode(aws_launch_template.this.user_data), "tern-segments-load") &&
      length(flatten([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : [for a in st.Action : a if startswith(a, "s3:")]])) == 0
    )
    error_message = "Redis alone does not load segments: no prefix, no timer, no S3 grant without segments_bucket."
  }
}

run "module_keys_win_over_bidder_env" {
  command = plan

  variables {
    bidder_env = {
      TERN_CAMPAIGNS__SOURCE = "file"
      TERN_EVENTS__SINK      = "file"
      TERN_BUDGET__LEDGER    = "local"
      TERN_BUDGET__STATE_DIR = "/tmp/tern"
      TERN_LOG__LEVEL        = "debug"
    }
  }

  assert {
    condition     = output.bidder_env["TERN_CAMPAIGNS__SOURCE"] == "dynamodb" && output.bidder_env["TERN_EVENTS__SINK"] == "kinesis"
    error_message = "The deployment's table and stream win over bidder_env."
  }

  assert {
    condition     = output.bidder_env["TERN_BUDGET__LEDGER"] == "dynamodb" && output.bidder_env["TERN_BUDGET__STATE_DIR"] == "/var/lib/tern"
    error_message = "The fleet-wide ledger and the persistent journal win over bidder_env."
  }

  assert {
    condition     = output.bidder_env["TERN_LOG__LEVEL"] == "debug"
    error_message = "Other bidder_env keys pass through."
  }
}

run "rejects_secrets_in_bidder_env" {
  command = plan

  variables {
    bidder_env = { TERN_NOTICE__SECRET = "0123456789abcdef0123456789abcdef" }
  }

  expect_failures = [var.bidder_env]
}

run "rejects_a_notice_secret_that_is_not_a_secret_arn" {
  command = plan

  variables {
    notice_secret_arn = "tern-test/notice-signing-key"
  }

  expect_failures = [var.notice_secret_arn]
}

run "rejects_redis_address_without_port" {
  command = plan

  variables {
    redis_address = "master.tern-test-freqcap.abc123.use1.cache.amazonaws.com"
  }

  expect_failures = [var.redis_address]
}

run "rejects_the_spend_table_among_the_campaigns_tables" {
  command = plan

  variables {
    dynamodb_table_arns = [
      "arn:aws:dynamodb:us-east-1:123456789012:table/tern-test-campaigns",
      "arn:aws:dynamodb:us-east-1:123456789012:table/tern-test-spend",
    ]
  }

  expect_failures = [var.spend_table_arn]
}

run "rejects_a_spend_arn_of_another_table" {
  command = plan

  variables {
    spend_table_arn = "arn:aws:dynamodb:us-east-1:123456789012:table/tern-other-spend"
  }

  expect_failures = [var.spend_table_arn]
}

run "rejects_the_campaigns_table_as_ledger" {
  command = plan

  variables {
    spend_table_name = "tern-test-campaigns"
    spend_table_arn  = "arn:aws:dynamodb:us-east-1:123456789012:table/tern-test-campaigns"
  }

  expect_failures = [var.spend_table_name]
}

run "rejects_a_budget_topic_that_is_not_an_sns_arn" {
  command = plan

  variables {
    budget_alert_topic_arn = "tern-test-budget-alerts"
  }

  expect_failures = [var.budget_alert_topic_arn]
}

run "rejects_a_budget_alert_key_alias" {
  command = plan

  variables {
    budget_alert_kms_key_arn = "arn:aws:kms:us-east-1:123456789012:alias/tern-test-observability"
  }

  expect_failures = [var.budget_alert_kms_key_arn]
}

run "screening_lists_from_s3" {
  command = apply

  variables {
    screening_lists_bucket      = "tern-test-screening-123456789012"
    screening_lists_prefix      = "lists/"
    screening_lists_kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/screening"
    bidder_env                  = { TERN_SCREENING__POLL_INTERVAL_MS = "30000" }
  }

  assert {
    condition = (
      output.bidder_env["TERN_SCREENING__S3_URI"] == "s3://tern-test-screening-123456789012/lists/" &&
      strcontains(base64decode(aws_launch_template.this.user_data), "TERN_SCREENING__S3_URI=\"s3://tern-test-screening-123456789012/lists/\"\n") &&
      output.bidder_env["TERN_SCREENING__POLL_INTERVAL_MS"] == "30000"
    )
    error_message = "The bidders poll s3://<bucket>/<prefix> (screening.s3_uri in bidder.env); other screening keys pass through."
  }

  # Read on exactly the prefix: ListBucket on the bucket only for keys under it,
  # GetObject on its objects only, nothing that writes or deletes.
  assert {
    condition = one([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : st if st.Sid == "ListScreeningLists"]) == {
      Sid       = "ListScreeningLists"
      Effect    = "Allow"
      Action    = ["s3:ListBucket"]
      Resource  = ["arn:aws:s3:::tern-test-screening-123456789012"]
      Condition = { StringLike = { "s3:prefix" = ["lists/*"] } }
    }
    error_message = "s3:ListBucket on the lists bucket, only with s3:prefix under lists/."
  }

  assert {
    condition = one([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : st if st.Sid == "ReadScreeningLists"]) == {
      Sid      = "ReadScreeningLists"
      Effect   = "Allow"
      Action   = ["s3:GetObject"]
      Resource = ["arn:aws:s3:::tern-test-screening-123456789012/lists/*"]
    }
    error_message = "s3:GetObject on the objects under lists/ only."
  }

  assert {
    condition = (
      sort(flatten([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : [for a in st.Action : a if startswith(a, "s3:")]])) == tolist(["s3:GetObject", "s3:ListBucket"]) &&
      alltrue(flatten([
        for st in jsondecode(aws_iam_role_policy.this.policy).Statement : [
          for r in st.Resource : !startswith(r, "arn:aws:s3:::") || contains(["ListScreeningLists", "ReadScreeningLists"], st.Sid)
        ]
      ]))
    )
    error_message = "The role's only S3 permissions are those two statements: no put, delete or other bucket."
  }

  assert {
    condition = one([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : st if st.Sid == "ScreeningListsKey"]) == {
      Sid       = "ScreeningListsKey"
      Effect    = "Allow"
      Action    = ["kms:Decrypt"]
      Resource  = [var.screening_lists_kms_key_arn]
      Condition = { StringEquals = { "kms:ViaService" = "s3.us-east-1.amazonaws.com" } }
    }
    error_message = "The lists' key decrypts through S3 in the fleet's region only."
  }
}

run "screening_lists_sse_s3_and_a_deeper_prefix" {
  command = plan

  variables {
    screening_lists_bucket = "acme-shared-config"
    screening_lists_prefix = "tern/prod/lists/"
  }

  assert {
    condition = (
      output.bidder_env["TERN_SCREENING__S3_URI"] == "s3://acme-shared-config/tern/prod/lists/" &&
      one([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : st.Resource if st.Sid == "ReadScreeningLists"]) == ["arn:aws:s3:::acme-shared-config/tern/prod/lists/*"] &&
      one([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : st.Condition if st.Sid == "ListScreeningLists"]) == { StringLike = { "s3:prefix" = ["tern/prod/lists/*"] } } &&
      length([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : st if st.Sid == "ScreeningListsKey"]) == 0
    )
    error_message = "An existing bucket's prefix is the grant; without a key, no KMS statement."
  }
}

run "rejects_a_screening_prefix_with_wildcards" {
  command = plan

  variables {
    screening_lists_bucket = "tern-test-screening-123456789012"
    screening_lists_prefix = "*/"
  }

  expect_failures = [var.screening_lists_prefix]
}

run "rejects_an_empty_screening_prefix" {
  command = plan

  variables {
    screening_lists_bucket = "tern-test-screening-123456789012"
    screening_lists_prefix = ""
  }

  expect_failures = [var.screening_lists_prefix]
}

run "rejects_the_s3_uri_in_bidder_env" {
  command = plan

  variables {
    bidder_env = { TERN_SCREENING__S3_URI = "s3://elsewhere/lists/" }
  }

  expect_failures = [var.bidder_env]
}

run "rejects_a_lists_dir_with_s3_lists" {
  command = plan

  variables {
    screening_lists_bucket = "tern-test-screening-123456789012"
    bidder_env             = { TERN_SCREENING__LISTS_DIR = "/etc/tern/lists" }
  }

  expect_failures = [var.screening_lists_bucket]
}

run "segments_from_s3" {
  command = apply

  variables {
    redis_address        = "master.tern-test-freqcap.abc123.use1.cache.amazonaws.com:6379"
    segments_bucket      = "tern-test-segments-123456789012"
    segments_prefix      = "segments/"
    segments_kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/segments"
    bidder_env           = { TERN_SEGMENTS__DEFAULT_TTL_S = "86400" }
  }

  assert {
    condition = (
      output.bidder_env["TERN_SEGMENTS__S3_URI"] == "s3://tern-test-segments-123456789012/segments/" &&
      output.segments_s3_uri == "s3://tern-test-segments-123456789012/segments/" &&
      strcontains(base64decode(aws_launch_template.this.user_data), "TERN_SEGMENTS__S3_URI=\"s3://tern-test-segments-123456789012/segments/\"\n") &&
      output.bidder_env["TERN_SEGMENTS__DEFAULT_TTL_S"] == "86400" &&
      output.bidder_env["TERN_FREQUENCY_CAP__STORE"] == "redis"
    )
    error_message = "The loader reads s3://<bucket>/<prefix> (segments.s3_uri in bidder.env) into the Redis store; other segments keys pass through."
  }

  # The user data enables the loader's timer, after the bidder (an AMI without the
  # timer fails the script only once the bidder is up).
  assert {
    condition = (
      endswith(base64decode(aws_launch_template.this.user_data), "\nsystemctl enable --now tern-segments-load.timer\n") &&
      strcontains(base64decode(aws_launch_template.this.user_data), "\nsystemctl enable --now bidder.service\n")
    )
    error_message = "With segments_bucket the user data enables tern-segments-load.timer, as its last step."
  }

  # Read on exactly the prefix: ListBucket on the bucket only for keys under it,
  # GetObject on its objects only, nothing that writes or deletes.
  assert {
    condition = one([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : st if st.Sid == "ListSegmentFiles"]) == {
      Sid       = "ListSegmentFiles"
      Effect    = "Allow"
      Action    = ["s3:ListBucket"]
      Resource  = ["arn:aws:s3:::tern-test-segments-123456789012"]
      Condition = { StringLike = { "s3:prefix" = ["segments/*"] } }
    }
    error_message = "s3:ListBucket on the segments bucket, only with s3:prefix under segments/."
  }

  assert {
    condition = one([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : st if st.Sid == "ReadSegmentFiles"]) == {
      Sid      = "ReadSegmentFiles"
      Effect   = "Allow"
      Action   = ["s3:GetObject"]
      Resource = ["arn:aws:s3:::tern-test-segments-123456789012/segments/*"]
    }
    error_message = "s3:GetObject on the objects under segments/ only."
  }

  assert {
    condition = (
      sort(flatten([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : [for a in st.Action : a if startswith(a, "s3:")]])) == tolist(["s3:GetObject", "s3:ListBucket"]) &&
      alltrue(flatten([
        for st in jsondecode(aws_iam_role_policy.this.policy).Statement : [
          for r in st.Resource : !startswith(r, "arn:aws:s3:::") || contains(["ListSegmentFiles", "ReadSegmentFiles"], st.Sid)
        ]
      ]))
    )
    error_message = "The role's only S3 permissions are those two statements: no put, delete or other bucket."
  }

  assert {
    condition = one([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : st if st.Sid == "SegmentFilesKey"]) == {
      Sid       = "SegmentFilesKey"
      Effect    = "Allow"
      Action    = ["kms:Decrypt"]
      Resource  = [var.segments_kms_key_arn]
      Condition = { StringEquals = { "kms:ViaService" = "s3.us-east-1.amazonaws.com" } }
    }
    error_message = "The segment files' key decrypts through S3 in the fleet's region only."
  }
}

run "segments_sse_s3_and_a_deeper_prefix" {
  command = plan

  variables {
    redis_address   = "master.tern-test-freqcap.abc123.use1.cache.amazonaws.com:6379"
    segments_bucket = "acme-data-drops"
    segments_prefix = "tern/prod/segments/"
  }

  assert {
    condition = (
      output.bidder_env["TERN_SEGMENTS__S3_URI"] == "s3://acme-data-drops/tern/prod/segments/" &&
      one([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : st.Resource if st.Sid == "ReadSegmentFiles"]) == ["arn:aws:s3:::acme-data-drops/tern/prod/segments/*"] &&
      one([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : st.Condition if st.Sid == "ListSegmentFiles"]) == { StringLike = { "s3:prefix" = ["tern/prod/segments/*"] } } &&
      length([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : st if st.Sid == "SegmentFilesKey"]) == 0
    )
    error_message = "An existing bucket's prefix is the grant; without a key, no KMS statement."
  }
}

run "segments_and_screening_lists_in_one_bucket" {
  command = plan

  variables {
    redis_address          = "master.tern-test-freqcap.abc123.use1.cache.amazonaws.com:6379"
    screening_lists_bucket = "acme-shared-config"
    screening_lists_prefix = "tern/lists/"
    segments_bucket        = "acme-shared-config"
    segments_prefix        = "tern/segments/"
  }

  # Each prefix is granted to its own statements: neither widens the other.
  assert {
    condition = (
      output.bidder_env["TERN_SCREENING__S3_URI"] == "s3://acme-shared-config/tern/lists/" &&
      output.bidder_env["TERN_SEGMENTS__S3_URI"] == "s3://acme-shared-config/tern/segments/" &&
      { for st in jsondecode(aws_iam_role_policy.this.policy).Statement : st.Sid => st.Condition if contains(st.Action, "s3:ListBucket") } == {
        ListScreeningLists = { StringLike = { "s3:prefix" = ["tern/lists/*"] } }
        ListSegmentFiles   = { StringLike = { "s3:prefix" = ["tern/segments/*"] } }
      } &&
      { for st in jsondecode(aws_iam_role_policy.this.policy).Statement : st.Sid => st.Resource if contains(st.Action, "s3:GetObject") } == {
        ReadScreeningLists = ["arn:aws:s3:::acme-shared-config/tern/lists/*"]
        ReadSegmentFiles   = ["arn:aws:s3:::acme-shared-config/tern/segments/*"]
      }
    )
    error_message = "Screening lists and segment files in one bucket: two ListBucket and two GetObject statements, each on its own prefix."
  }
}

run "rejects_segments_without_redis" {
  command = plan

  variables {
    segments_bucket = "tern-test-segments-123456789012"
  }

  expect_failures = [var.segments_bucket]
}

run "rejects_a_segments_prefix_with_wildcards" {
  command = plan

  variables {
    redis_address   = "master.tern-test-freqcap.abc123.use1.cache.amazonaws.com:6379"
    segments_bucket = "tern-test-segments-123456789012"
    segments_prefix = "segments/*/"
  }

  expect_failures = [var.segments_prefix]
}

run "rejects_an_empty_segments_prefix" {
  command = plan

  variables {
    redis_address   = "master.tern-test-freqcap.abc123.use1.cache.amazonaws.com:6379"
    segments_bucket = "tern-test-segments-123456789012"
    segments_prefix = ""
  }

  expect_failures = [var.segments_prefix]
}

run "rejects_a_segments_key_alias" {
  command = plan

  variables {
    redis_address        = "master.tern-test-freqcap.abc123.use1.cache.amazonaws.com:6379"
    segments_bucket      = "tern-test-segments-123456789012"
    segments_kms_key_arn = "arn:aws:kms:us-east-1:123456789012:alias/tern-test-segments"
  }

  expect_failures = [var.segments_kms_key_arn]
}

run "rejects_the_segments_s3_uri_in_bidder_env" {
  command = plan

  variables {
    redis_address = "master.tern-test-freqcap.abc123.use1.cache.amazonaws.com:6379"
    bidder_env    = { TERN_SEGMENTS__S3_URI = "s3://elsewhere/segments/" }
  }

  expect_failures = [var.bidder_env]
}

run "rejects_a_segments_file_with_redis" {
  command = plan

  variables {
    redis_address = "master.tern-test-freqcap.abc123.use1.cache.amazonaws.com:6379"
    bidder_env    = { TERN_SEGMENTS__FILE = "/etc/tern/segments.jsonl" }
  }

  expect_failures = [var.bidder_env]
}

run "a_segments_file_without_redis" {
  command = plan

  variables {
    bidder_env = { TERN_SEGMENTS__FILE = "/etc/tern/segments.jsonl" }
  }

  assert {
    condition     = output.bidder_env["TERN_SEGMENTS__FILE"] == "/etc/tern/segments.jsonl" && output.segments_s3_uri == null
    error_message = "With the in-process store a segments file passes through (loaded at start); nothing is loaded from S3."
  }
}
