# envs/prod: production-only requirements (alarm recipients, HTTPS control plane, a
# bidder per AZ, NAT per AZ) hold and the modules compose.

mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  ami_id                        = "ami-0123456789abcdef0"
  partner_cidrs                 = ["198.51.100.0/24"]
  operator_cidrs                = ["192.0.2.0/24"]
  control_plane_certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
  alarm_emails                  = ["oncall@example.com"]
}

run "whole_stack" {
  command = apply

  assert {
    condition     = output.redis_configuration_endpoint != null && output.control_plane_endpoint != null
    error_message = "Production always has Redis and the control plane."
  }

  assert {
    condition     = length(module.network.nat_gateway_ids) == 3
    error_message = "Production has a NAT gateway per AZ."
  }

  assert {
    condition     = module.bidder_fleet.bidder_env["TERN_SHUTDOWN__DRAIN_TIMEOUT_MS"] == tostring(var.drain_timeout_ms)
    error_message = "The root's drain time reaches the bidders."
  }

  assert {
    condition     = module.bidder_fleet.stop_timeout_seconds * 1000 > var.drain_timeout_ms + module.bidder_fleet.unready_delay_ms
    error_message = "systemd outwaits the drain."
  }
}

run "requires_alarm_recipients" {
  command = plan

  variables {
    alarm_emails = []
  }

  expect_failures = [var.alarm_emails]
}

run "requires_a_bidder_per_az" {
  command = plan

  variables {
    bidder_min_size = 2
  }

  expect_failures = [var.bidder_min_size]
}
