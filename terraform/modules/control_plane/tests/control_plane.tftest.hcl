# control_plane: ALB behind WAFv2 (managed rules incl. known bad inputs, per-IP rate
# rule, logging), operator CIDRs only, HTTPS with redirect when a certificate is
# given, IMDSv2 and encrypted EBS on its instances.

mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  name                = "tern-test"
  vpc_id              = "vpc-0123456789abcdef0"
  alb_subnet_ids      = ["subnet-1a", "subnet-1b", "subnet-1c"]
  private_subnet_ids  = ["subnet-0a", "subnet-0b", "subnet-0c"]
  allowed_cidrs       = ["192.0.2.0/24"]
  ami_id              = "ami-0123456789abcdef0"
  dynamodb_table_arns = ["arn:aws:dynamodb:us-east-1:123456789012:table/tern-test-campaigns"]
  logs_kms_key_arn    = "arn:aws:kms:us-east-1:123456789012:key/logs"
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
