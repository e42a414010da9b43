# control_plane: ALB behind WAFv2 (managed rules incl. known bad inputs, per-IP rate
# rule, logging), operator CIDRs only, HTTPS with redirect when a certificate is
# given, IMDSv2 and encrypted EBS on its instances; a role allowed exactly the
# DynamoDB calls the service makes on exactly its three tables, and exactly the two
# secrets its user data reads at boot; user data that writes the deployment's
# tables and listener and enables control-plane.service.

mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  name               = "tern-test"
  vpc_id             = "vpc-0123456789abcdef0"
  alb_subnet_ids     = ["subnet-1a", "subnet-1b", "subnet-1c"]
  private_subnet_ids = ["subnet-0a", "subnet-0b", "subnet-0c"]
  allowed_cidrs      = ["192.0.2.0/24"]
  ami_id             = "ami-0123456789abcdef0"
  logs_kms_key_arn   = "arn:aws:kms:us-east-1:123456789012:key/logs"

  campaigns_table_name     = "tern-test-campaigns"
  campaigns_table_arn      = "arn:aws:dynamodb:us-east-1:123456789012:table/tern-test-campaigns"
  control_table_name       = "tern-test-control"
  control_table_arn        = "arn:aws:dynamodb:us-east-1:123456789012:table/tern-test-control"
  spend_table_name         = "tern-test-spend"
  spend_table_arn          = "arn:aws:dynamodb:us-east-1:123456789012:table/tern-test-spend"
  bootstrap_key_secret_arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:tern-test/control-plane-bootstrap-key-BoOtSt"
  pepper_secret_arn        = "arn:aws:secretsmanager:us-east-1:123456789012:secret:tern-test/control-plane-pepper-PePpEr"
  kms_key_arns             = ["arn:aws:kms:us-east-1:123456789012:key/state"]
}

run "https_alb_behind_waf" {
  command = apply

  variables {
    certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
  }

  assert {
    condition     = aws_wafv2_web_acl_association.this.resource_arn == aws_lb.this.arn && aws_wafv2_web_acl_association.this.web_acl_arn == aws_wafv2_web_acl.this.arn
    error_message = "The web ACL is attached to the control-plane ALB."
  }

  assert {
    condition     = aws_wafv2_web_acl.this.scope == "REGIONAL"
    error_message = "ALBs take REGIONAL web ACLs."
  }

  assert {
    condition     = contains([for r in aws_wafv2_web_acl.this.rule : one(r.statement[0].managed_rule_group_statement[*].name) if length(r.statement[0].managed_rule_group_statement) > 0], "AWSManagedRulesKnownBadInputsRuleSet")
    error_message = "Known bad inputs (Log4j) rule group is always on."
  }

  assert {
    condition     = length([for r in aws_wafv2_web_acl.this.rule : r if length(r.statement[0].rate_based_statement) > 0 && length(flatten(r.action[*].block)) > 0]) == 1
    error_message = "One rate-based rule that blocks."
  }

  assert {
    condition     = aws_wafv2_web_acl_logging_configuration.this.log_destination_configs == toset([aws_cloudwatch_log_group.waf.arn]) && startswith(aws_cloudwatch_log_group.waf.name, "aws-waf-logs-")
    error_message = "WAF logs go to an aws-waf-logs-* log group."
  }

  assert {
    condition     = aws_lb.this.load_balancer_type == "application" && aws_lb.this.drop_invalid_header_fields
    error_message = "An ALB dropping invalid headers."
  }

  assert {
    condition     = length(aws_lb_listener.https) == 1 && startswith(aws_lb_listener.https[0].ssl_policy, "ELBSecurityPolicy-TLS13-")
    error_message = "HTTPS listener with a TLS 1.3 policy."
  }

  assert {
    condition     = aws_lb_listener.http.default_action[0].type == "redirect" && aws_lb_listener.http.default_action[0].redirect[0].protocol == "HTTPS"
    error_message = "With a certificate, port 80 only redirects to HTTPS."
  }

  assert {
    condition     = toset([for r in aws_vpc_security_group_ingress_rule.alb : r.cidr_ipv4]) == toset(var.allowed_cidrs)
    error_message = "The ALB admits the operator CIDRs only."
  }

  assert {
    condition     = aws_launch_template.this.metadata_options[0].http_tokens == "required" && aws_launch_template.this.block_device_mappings[0].ebs[0].encrypted == "true"
    error_message = "IMDSv2 required, EBS encrypted."
  }

  assert {
    condition = alltrue(flatten([
      for st in jsondecode(aws_iam_role_policy.this.policy).Statement :
      [for a in st.Action : a != "*" && !endswith(a, ":*")]
    ]))
    error_message = "No wildcard actions in the control-plane role."
  }
}

# The role: exactly the calls the service makes, table by table, on exactly the
# three tables (no index, no stream, no other table), exactly the two boot secrets,
# and the tables' key through DynamoDB and Secrets Manager only.
run "role_allows_exactly_the_service_calls" {
  command = apply

  assert {
    condition = (
      one([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : st if st.Sid == "ManageCampaigns"]).Effect == "Allow" &&
      one([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : st if st.Sid == "ManageCampaigns"]).Action == ["dynamodb:GetItem", "dynamodb:Scan", "dynamodb:DescribeTable", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"] &&
      one([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : st if st.Sid == "ManageCampaigns"]).Resource == [var.campaigns_table_arn]
    )
    error_message = "Campaigns: GetItem, Scan, DescribeTable, and PutItem, DeleteItem, ConditionCheckItem (transactions), on the campaigns table only."
  }

  assert {
    condition = (
      one([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : st if st.Sid == "ControlRecords"]).Effect == "Allow" &&
      one([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : st if st.Sid == "ControlRecords"]).Action == ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:DescribeTable", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"] &&
      one([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : st if st.Sid == "ControlRecords"]).Resource == [var.control_table_arn]
    )
    error_message = "Control records: GetItem, Query, DescribeTable, and PutItem, UpdateItem, ConditionCheckItem (transactions), on the control table only."
  }

  assert {
    condition = (
      one([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : st if st.Sid == "ReadSpend"]).Effect == "Allow" &&
      one([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : st if st.Sid == "ReadSpend"]).Action == ["dynamodb:GetItem"] &&
      one([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : st if st.Sid == "ReadSpend"]).Resource == [var.spend_table_arn]
    )
    error_message = "The spend ledger: GetItem only; the bidders alone write it."
  }

  assert {
    condition = (
      toset(flatten([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : st.Resource if anytrue([for a in st.Action : startswith(a, "dynamodb:")])])) ==
      toset([var.campaigns_table_arn, var.control_table_arn, var.spend_table_arn]) &&
      length([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : st if anytrue([for a in st.Action : startswith(a, "dynamodb:")])]) == 3
    )
    error_message = "DynamoDB actions reach the three tables and nothing else (no index, no stream, no other table), one statement per table."
  }

  assert {
    condition = (
      flatten([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : [for a in st.Action : a if startswith(a, "secretsmanager:")]]) == ["secretsmanager:GetSecretValue"] &&
      toset(one([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : st.Resource if st.Sid == "ReadBootSecrets"])) == toset([var.bootstrap_key_secret_arn, var.pepper_secret_arn]) &&
      length(one([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : st.Resource if st.Sid == "ReadBootSecrets"])) == 2 &&
      output.boot_secrets == tomap({ TERN_CP_AUTH__BOOTSTRAP_OPERATOR_KEY = var.bootstrap_key_secret_arn, TERN_CP_AUTH__PEPPER = var.pepper_secret_arn })
    )
    error_message = "The only Secrets Manager permission is GetSecretValue, on exactly the bootstrap key's and the pepper's secrets."
  }

  assert {
    condition = (
      one([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : st if st.Sid == "UseTableKeys"]).Action == ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"] &&
      tolist(one([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : st if st.Sid == "UseTableKeys"]).Resource) == var.kms_key_arns &&
      one([for st in jsondecode(aws_iam_role_policy.this.policy).Statement : st if st.Sid == "UseTableKeys"]).Condition == { StringEquals = { "kms:ViaService" = ["dynamodb.us-east-1.amazonaws.com", "secretsmanager.us-east-1.amazonaws.com"] } }
    )
    error_message = "The tables' and secrets' key: Decrypt, GenerateDataKey, DescribeKey, through DynamoDB and Secrets Manager in the region only."
  }

  assert {
    condition     = [for st in jsondecode(aws_iam_role_policy.this.policy).Statement : st.Sid] == ["ManageCampaigns", "ControlRecords", "ReadSpend", "ReadBootSecrets", "UseTableKeys"]
    error_message = "No other statement: the role may do nothing else."
  }

  assert {
    condition = alltrue(flatten([
      for st in jsondecode(aws_iam_role_policy.this.policy).Statement : [for r in st.Resource : r != "*" && !strcontains(r, "/index/") && !strcontains(r, "/stream/")]
    ]))
    error_message = "No Resource *, no index and no stream in the control-plane role."
  }

  assert {
    condition     = output.iam_policy_json == aws_iam_role_policy.this.policy && aws_iam_role_policy.this.role == aws_iam_role.this.id
    error_message = "The policy is the role's and is output for review."
  }
}

# The user data: the deployment's tables, the listener behind the ALB, the region
# and the drain in control-plane.env; both secrets read at boot, never rendered;
# the stop timeout above the drain; control-plane.service enabled (and nothing of
# the bidder's).
run "user_data_configures_and_enables_the_service" {
  command = apply

  assert {
    condition = (
      strcontains(base64decode(aws_launch_template.this.user_data), "TERN_CP_TABLES__CAMPAIGNS=\"tern-test-campaigns\"\n") &&
      strcontains(base64decode(aws_launch_template.this.user_data), "TERN_CP_TABLES__CONTROL=\"tern-test-control\"\n") &&
      strcontains(base64decode(aws_launch_template.this.user_data), "TERN_CP_TABLES__SPEND=\"tern-test-spend\"\n")
    )
    error_message = "The user data names the deployment's three tables."
  }

  assert {
    condition = (
      strcontains(base64decode(aws_launch_template.this.user_data), "TERN_CP_SERVER__LISTEN=\"0.0.0.0:7070\"\n") &&
      output.control_plane_env["TERN_CP_SERVER__LISTEN"] == "0.0.0.0:${var.service_port}" &&
      aws_lb_target_group.this.port == var.service_port &&
      aws_vpc_security_group_ingress_rule.service_from_alb.from_port == var.service_port &&
      aws_vpc_security_group_egress_rule.alb_to_service.to_port == var.service_port
    )
    error_message = "The API listens on 0.0.0.0 at the port the target group and the security groups use (the service binds 127.0.0.1 by default)."
  }

  assert {
    condition     = !strcontains(base64decode(aws_launch_template.this.user_data), "ADMIN_LISTEN")
    error_message = "The admin listener (/metrics) stays on loopback as the AMI's config sets it."
  }

  assert {
    condition = (
      aws_lb_target_group.this.health_check[0].path == "/health" &&
      aws_lb_target_group.this.health_check[0].protocol == "HTTP" &&
      aws_lb_target_group.this.health_check[0].matcher == "200"
    )
    error_message = "The ALB checks GET /health on the API listener (open without a key), expecting 200."
  }

  assert {
    condition = (
      strcontains(base64decode(aws_launch_template.this.user_data), "AWS_REGION=\"us-east-1\"\n") &&
      strcontains(base64decode(aws_launch_template.this.user_data), "TERN_CP_SHUTDOWN__DRAIN_TIMEOUT_MS=\"10000\"\n")
    )
    error_message = "The service's AWS SDK gets the region, and the drain time reaches it."
  }

  assert {
    condition = (
      strcontains(base64decode(aws_launch_template.this.user_data), "secret=\"$(read_secret '${var.bootstrap_key_secret_arn}')\"\nenv_line TERN_CP_AUTH__BOOTSTRAP_OPERATOR_KEY \"$${secret}\" >>/etc/tern/control-plane.env\n") &&
      strcontains(base64decode(aws_launch_template.this.user_data), "secret=\"$(read_secret '${var.pepper_secret_arn}')\"\nenv_line TERN_CP_AUTH__PEPPER \"$${secret}\" >>/etc/tern/control-plane.env\n")
    )
    error_message = "The bootstrap operator key and the pepper are read from their secrets at boot into their settings."
  }

  assert {
    condition = (
      !strcontains(base64decode(aws_launch_template.this.user_data), "TERN_CP_AUTH__BOOTSTRAP_OPERATOR_KEY=") &&
      !strcontains(base64decode(aws_launch_template.this.user_data), "TERN_CP_AUTH__PEPPER=") &&
      !contains(keys(output.control_plane_env), "TERN_CP_AUTH__PEPPER") &&
      !contains(keys(output.control_plane_env), "TERN_CP_AUTH__BOOTSTRAP_OPERATOR_KEY")
    )
    error_message = "No secret value in the user data."
  }

  assert {
    condition = (
      strcontains(base64decode(aws_launch_template.this.user_data), "chown root:tern-cp /etc/tern/control-plane.env\nchmod 0640 /etc/tern/control-plane.env\n") &&
      strcontains(base64decode(aws_launch_template.this.user_data), "read_secret() {")
    )
    error_message = "The env file holding the secrets is 0640 root:tern-cp."
  }

  assert {
    condition = (
      strcontains(base64decode(aws_launch_template.this.user_data), "TimeoutStopSec=${output.stop_timeout_seconds}\n") &&
      strcontains(base64decode(aws_launch_template.this.user_data), "/etc/systemd/system/control-plane.service.d/60-drain.conf") &&
      output.stop_timeout_seconds * 1000 > var.drain_timeout_ms
    )
    error_message = "systemd's stop timeout for control-plane.service is written and exceeds the drain."
  }

  assert {
    condition = (
      endswith(base64decode(aws_launch_template.this.user_data), "systemctl daemon-reload\nsystemctl enable --now control-plane.service\n") &&
      length(regexall("systemctl[^\n]*bidder", base64decode(aws_launch_template.this.user_data))) == 0 &&
      !strcontains(base64decode(aws_launch_template.this.user_data), "/etc/tern/bidder.")
    )
    error_message = "The user data ends by enabling and starting control-plane.service, and never touches the bidder's unit or config."
  }
}

run "custom_port_and_drain" {
  command = plan

  variables {
    service_port     = 8443
    drain_timeout_ms = 25000
  }

  assert {
    condition = (
      output.control_plane_env["TERN_CP_SERVER__LISTEN"] == "0.0.0.0:8443" &&
      aws_lb_target_group.this.port == 8443 &&
      aws_vpc_security_group_ingress_rule.service_from_alb.from_port == 8443
    )
    error_message = "service_port moves the listener, the target group and the security group rule together."
  }

  assert {
    condition     = output.control_plane_env["TERN_CP_SHUTDOWN__DRAIN_TIMEOUT_MS"] == "25000" && output.stop_timeout_seconds == 35
    error_message = "The drain reaches the service, and TimeoutStopSec = drain + stop_grace_seconds."
  }
}

run "module_keys_win_over_control_plane_env" {
  command = plan

  variables {
    control_plane_env = {
      TERN_CP_SERVER__LISTEN    = "127.0.0.1:7070"
      TERN_CP_TABLES__CAMPAIGNS = "someone-elses-campaigns"
      TERN_CP_LOG__LEVEL        = "debug"
    }
  }

  assert {
    condition     = output.control_plane_env["TERN_CP_SERVER__LISTEN"] == "0.0.0.0:7070" && output.control_plane_env["TERN_CP_TABLES__CAMPAIGNS"] == var.campaigns_table_name
    error_message = "The listener and the tables the role grants win over control_plane_env."
  }

  assert {
    condition     = output.control_plane_env["TERN_CP_LOG__LEVEL"] == "debug"
    error_message = "Other control_plane_env keys pass through."
  }
}

run "rejects_secrets_in_control_plane_env" {
  command = plan

  variables {
    control_plane_env = { TERN_CP_AUTH__PEPPER = "0123456789abcdef0123456789abcdef" }
  }

  expect_failures = [var.control_plane_env]
}

run "rejects_env_that_is_not_control_plane_config" {
  command = plan

  variables {
    control_plane_env = { TERN_SERVER__BID_ADDR = "0.0.0.0:8080" }
  }

  expect_failures = [var.control_plane_env]
}

run "rejects_a_bootstrap_key_that_is_not_a_secret_arn" {
  command = plan

  variables {
    bootstrap_key_secret_arn = "tern-test/control-plane-bootstrap-key"
  }

  expect_failures = [var.bootstrap_key_secret_arn]
}

run "rejects_a_pepper_that_is_not_a_secret_arn" {
  command = plan

  variables {
    pepper_secret_arn = "arn:aws:ssm:us-east-1:123456789012:parameter/tern-test/pepper"
  }

  expect_failures = [var.pepper_secret_arn]
}

run "rejects_one_secret_for_both" {
  command = plan

  variables {
    pepper_secret_arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:tern-test/control-plane-bootstrap-key-BoOtSt"
  }

  expect_failures = [var.pepper_secret_arn]
}

run "rejects_a_table_arn_of_another_table" {
  command = plan

  variables {
    control_table_arn = "arn:aws:dynamodb:us-east-1:123456789012:table/tern-other-control"
  }

  expect_failures = [var.control_table_arn]
}

run "rejects_the_campaigns_table_as_control_table" {
  command = plan

  variables {
    control_table_name = "tern-test-campaigns"
    control_table_arn  = "arn:aws:dynamodb:us-east-1:123456789012:table/tern-test-campaigns"
  }

  expect_failures = [var.control_table_name]
}

run "rejects_a_health_check_behind_the_key" {
  command = plan

  variables {
    health_check_path = "/ready"
  }

  expect_failures = [var.health_check_path]
}

run "rejects_the_admin_port_as_service_port" {
  command = plan

  variables {
    service_port = 7071
  }

  expect_failures = [var.service_port]
}

run "dev_without_certificate_serves_http" {
  command = plan

  assert {
    condition     = length(aws_lb_listener.https) == 0 && aws_lb_listener.http.default_action[0].type == "forward"
    error_message = "Without a certificate, port 80 forwards."
  }
}

run "rejects_open_admin_cidr" {
  command = plan

  variables {
    allowed_cidrs = ["0.0.0.0/0"]
  }

  expect_failures = [var.allowed_cidrs]
}
