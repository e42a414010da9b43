# envs/prod: production-only requirements (alarm recipients, HTTPS control plane, a
# bidder per AZ, NAT per AZ, sharded Redis reached through its configuration
# endpoint) hold and the modules compose.

mock_provider "aws" {
  source = "../../tests/mocks"
}

# Distinct ARNs for the two secrets (the shared mock gives every secret the same one),
# so the wiring can be told apart.
override_resource {
  target = module.state.aws_secretsmanager_secret.redis_auth
  values = { arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:tern-prod/redis-auth-token-AbCdEf" }
}

override_resource {
  target = module.state.aws_secretsmanager_secret.notice_signing
  values = { arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:tern-prod/notice-signing-key-NoTiCe" }
}

# Distinct endpoints of the Redis group, so the address the bidders get can be
# traced to one of them.
override_resource {
  target = module.state.aws_elasticache_replication_group.this
  values = {
    primary_endpoint_address       = "prod-primary.example.internal"
    configuration_endpoint_address = "prod-clustercfg.example.internal"
  }
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
    condition     = output.redis_address != null && output.control_plane_endpoint != null
    error_message = "Production always has Redis and the control plane."
  }

  # The fleet uses this environment's table, stream and Redis, and reads its secrets.
  assert {
    condition = (
      module.bidder_fleet.bidder_env["TERN_CAMPAIGNS__SOURCE"] == "dynamodb" &&
      module.bidder_fleet.bidder_env["TERN_CAMPAIGNS__DYNAMODB__TABLE"] == output.campaigns_table_name &&
      module.bidder_fleet.bidder_env["TERN_EVENTS__SINK"] == "kinesis" &&
      module.bidder_fleet.bidder_env["TERN_EVENTS__KINESIS__STREAM"] == output.events_stream_name
    )
    error_message = "The bidders sync from this environment's table and ship events to its stream."
  }

  assert {
    condition = (
      module.bidder_fleet.bidder_env["TERN_FREQUENCY_CAP__STORE"] == "redis" &&
      module.bidder_fleet.bidder_env["TERN_FREQUENCY_CAP__REDIS__ADDR"] == output.redis_address &&
      endswith(output.redis_address, ":6379") &&
      module.bidder_fleet.bidder_env["TERN_FREQUENCY_CAP__REDIS__TLS"] == "true"
    )
    error_message = "The bidders share frequency caps in this environment's Redis, over TLS, on 6379."
  }

  # Production shards Redis: cluster mode, and the bidders start from the
  # configuration endpoint (any node; they follow MOVED/ASK), never one shard's
  # primary.
  assert {
    condition = (
      module.state.redis_cluster_mode == "enabled" &&
      output.redis_address == "prod-clustercfg.example.internal:6379"
    )
    error_message = "Production Redis runs in cluster mode and the bidders are given its configuration endpoint, not a primary endpoint."
  }

  assert {
    condition     = module.bidder_fleet.boot_secrets == tomap({ TERN_NOTICE__SECRET = output.notice_secret_arn, TERN_FREQUENCY_CAP__REDIS__PASSWORD = output.redis_auth_secret_arn })
    error_message = "The bidders read this environment's notice key and Redis AUTH token at boot (and no other secret)."
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
