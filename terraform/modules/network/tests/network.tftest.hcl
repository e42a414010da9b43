# network: three AZs, private subnets for bidders, no public IPs, gateway endpoints
# for DynamoDB/S3 and an interface endpoint for Kinesis, flow logs encrypted.

mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  name = "tern-test"
  azs  = ["us-east-1a", "us-east-1b", "us-east-1c"]
}

run "layout_over_three_azs" {
  command = apply

  assert {
    condition     = length(aws_subnet.private) == 3 && toset(aws_subnet.private[*].availability_zone) == toset(var.azs)
    error_message = "One private subnet per AZ."
  }

  assert {
    condition     = length(distinct(concat(aws_subnet.private[*].cidr_block, aws_subnet.public[*].cidr_block))) == 6
    error_message = "Subnet CIDRs must not repeat."
  }

  assert {
    condition     = alltrue([for s in concat(aws_subnet.private, aws_subnet.public) : s.map_public_ip_on_launch == false])
    error_message = "No subnet may hand out public IPs."
  }

  assert {
    condition     = alltrue([for c in aws_subnet.public[*].cidr_block : tonumber(split("/", c)[1]) <= 27])
    error_message = "Public subnets must be at least /27 (ALB minimum)."
  }

  assert {
    condition     = length(aws_nat_gateway.this) == 3 && length(aws_route.private_nat) == 3
    error_message = "per_az mode: one NAT gateway per AZ, a default route in each private table."
  }

  assert {
    condition     = aws_vpc_endpoint.gateway["dynamodb"].vpc_endpoint_type == "Gateway" && aws_vpc_endpoint.gateway["dynamodb"].service_name == "com.amazonaws.us-east-1.dynamodb"
    error_message = "DynamoDB must be reached through a gateway endpoint."
  }

  assert {
    condition     = toset(aws_vpc_endpoint.gateway["dynamodb"].route_table_ids) == toset(aws_route_table.private[*].id)
    error_message = "The DynamoDB endpoint must serve every private route table."
  }

  assert {
    condition     = aws_vpc_endpoint.interface["kinesis-streams"].private_dns_enabled && aws_vpc_endpoint.interface["kinesis-streams"].service_name == "com.amazonaws.us-east-1.kinesis-streams"
    error_message = "Kinesis must be reached through an interface endpoint with private DNS."
  }

  assert {
    condition     = aws_vpc_security_group_ingress_rule.endpoints_https.cidr_ipv4 == var.cidr_block && aws_vpc_security_group_ingress_rule.endpoints_https.from_port == 443
    error_message = "Interface endpoints admit HTTPS from the VPC only."
  }

  assert {
    condition     = aws_flow_log.this.traffic_type == "ALL" && aws_cloudwatch_log_group.flow_logs.kms_key_id == aws_kms_key.this.arn
    error_message = "Flow logs must record all traffic into a KMS-encrypted log group."
  }

  assert {
    condition     = aws_kms_key.this.enable_key_rotation
    error_message = "KMS key rotation must be on."
  }
}

run "single_nat_gateway" {
  command = plan

  variables {
    nat_gateway_mode = "single"
  }

  assert {
    condition     = length(aws_nat_gateway.this) == 1 && length(aws_route.private_nat) == 3
    error_message = "single mode: one NAT gateway shared by the three private route tables."
  }
}

run "no_nat_gateway" {
  command = plan

  variables {
    nat_gateway_mode = "none"
  }

  assert {
    condition     = length(aws_nat_gateway.this) == 0 && length(aws_route.private_nat) == 0 && length(aws_eip.nat) == 0
    error_message = "none mode: no NAT gateway, no default route."
  }
}

run "rejects_two_azs" {
  command = plan

  variables {
    azs = ["us-east-1a", "us-east-1b"]
  }

  expect_failures = [var.azs]
}

run "rejects_dropping_the_kinesis_endpoint" {
  command = plan

  variables {
    interface_endpoint_services = ["logs"]
  }

  expect_failures = [var.interface_endpoint_services]
}

run "rejects_a_tiny_vpc" {
  command = plan

  variables {
    cidr_block = "10.0.0.0/24"
  }

  expect_failures = [var.cidr_block]
}
