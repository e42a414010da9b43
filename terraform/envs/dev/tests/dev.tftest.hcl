# envs/dev: the modules compose (every output wired, drain timing consistent across
# modules), and the Redis toggle the moto apply uses leaves everything else alone.

mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  ami_id         = "ami-0123456789abcdef0"
  partner_cidrs  = ["198.51.100.0/24"]
  operator_cidrs = ["192.0.2.0/24"]
}

run "whole_stack" {
  command = apply

  assert {
    condition     = output.bid_endpoint != null && output.control_plane_endpoint != null && output.alarm_topic_arn != null
    error_message = "Bid endpoint, control plane and alarm topic exist."
  }

  assert {
    condition     = output.campaigns_table_name == "tern-dev-campaigns" && output.events_stream_name == "tern-dev-events"
    error_message = "Table and stream names follow the environment name."
  }

  assert {
    condition     = output.redis_configuration_endpoint != null
    error_message = "Dev has Redis unless disabled."
  }

  assert {
    condition     = module.bidder_fleet.bidder_env["TERN_SHUTDOWN__DRAIN_TIMEOUT_MS"] == tostring(var.drain_timeout_ms)
    error_message = "The root's drain time reaches the bidders."
  }

  assert {
    condition     = module.bidder_fleet.stop_timeout_seconds * 1000 > var.drain_timeout_ms + module.bidder_fleet.unready_delay_ms
    error_message = "systemd outwaits the drain."
  }

  assert {
    condition     = length(module.network.nat_gateway_ids) == 1 && length(module.network.private_subnet_ids) == 3
    error_message = "Dev: one NAT gateway, three private subnets."
  }

  assert {
    condition     = module.bidder_fleet.fleet_name == "tern-dev"
    error_message = "Alarms and agent agree on the Fleet dimension."
  }
}

run "moto_profile_without_redis" {
  command = plan

  variables {
    enable_redis = false
  }

  assert {
    condition     = output.redis_configuration_endpoint == null
    error_message = "enable_redis = false drops ElastiCache only."
  }
}

run "rejects_an_overlong_drain" {
  command = plan

  variables {
    drain_timeout_ms = 600000
  }

  expect_failures = [var.drain_timeout_ms]
}
