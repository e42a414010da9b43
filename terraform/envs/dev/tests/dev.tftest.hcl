# envs/dev: the modules compose (every output wired, drain timing consistent across
# modules), and the Redis toggle the moto apply uses leaves everything else alone.

mock_provider "aws" {
  source = "../../tests/mocks"
}

# Distinct ARNs for the two secrets (the shared mock gives every secret the same one),
# so the wiring can be told apart.
override_resource {
  target = module.state.aws_secretsmanager_secret.redis_auth
  values = { arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:tern-dev/redis-auth-token-AbCdEf" }
}

override_resource {
  target = module.state.aws_secretsmanager_secret.notice_signing
  values = { arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:tern-dev/notice-signing-key-NoTiCe" }
}

# Distinct ARNs for the two tables, the keys and the budget alert topic (the shared
# mock gives every table, key and topic the same one), so the budget wiring can be
# told apart from the campaigns and the alarms.
override_resource {
  target = module.state.aws_dynamodb_table.campaigns
  values = {
    arn        = "arn:aws:dynamodb:us-east-1:123456789012:table/tern-dev-campaigns"
    stream_arn = "arn:aws:dynamodb:us-east-1:123456789012:table/tern-dev-campaigns/stream/2025-01-01T00:00:00.000"
  }
}

override_resource {
  target = module.state.aws_dynamodb_table.spend
  values = { arn = "arn:aws:dynamodb:us-east-1:123456789012:table/tern-dev-spend" }
}

override_resource {
  target = module.state.aws_dynamodb_table.control
  values = { arn = "arn:aws:dynamodb:us-east-1:123456789012:table/tern-dev-control" }
}

# Distinct ARNs for the control plane's two secrets, told apart from the fleet's.
override_resource {
  target = module.state.aws_secretsmanager_secret.control_plane_bootstrap_key
  values = { arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:tern-dev/control-plane-bootstrap-key-BoOtSt" }
}

override_resource {
  target = module.state.aws_secretsmanager_secret.control_plane_pepper
  values = { arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:tern-dev/control-plane-pepper-PePpEr" }
}

override_resource {
  target = module.state.aws_kms_key.this
  values = { arn = "arn:aws:kms:us-east-1:123456789012:key/55555555-0000-0000-0000-000000000001", key_id = "55555555-0000-0000-0000-000000000001" }
}

override_resource {
  target = module.observability.aws_kms_key.this
  values = { arn = "arn:aws:kms:us-east-1:123456789012:key/55555555-0000-0000-0000-000000000002", key_id = "55555555-0000-0000-0000-000000000002" }
}

override_resource {
  target = module.observability.aws_sns_topic.budget_alerts
  values = { arn = "arn:aws:sns:us-east-1:123456789012:tern-dev-budget-alerts" }
}

# The screening lists' bucket and key, told apart from the other buckets and keys
# (the bidders' grant is built from the bucket name: it must name this ARN).
override_resource {
  target = module.screening_lists.aws_s3_bucket.this
  values = { arn = "arn:aws:s3:::tern-dev-screening-123456789012" }
}

override_resource {
  target = module.screening_lists.aws_kms_key.this
  values = { arn = "arn:aws:kms:us-east-1:123456789012:key/55555555-0000-0000-0000-000000000003", key_id = "55555555-0000-0000-0000-000000000003" }
}

# The segment files' bucket and key, told apart from the screening lists' (same
# module, another instance).
override_resource {
  target = module.segments[0].aws_s3_bucket.this
  values = { arn = "arn:aws:s3:::tern-dev-segments-123456789012" }
}

override_resource {
  target = module.segments[0].aws_kms_key.this
  values = { arn = "arn:aws:kms:us-east-1:123456789012:key/55555555-0000-0000-0000-000000000004", key_id = "55555555-0000-0000-0000-000000000004" }
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
    condition     = output.redis_address != null
    error_message = "Dev has Redis unless disabled."
  }

  assert {
    condition     = module.state.redis_cluster_mode == "disabled"
    error_message = "Dev keeps one shard: a primary and its replica, cluster mode disabled (the primary endpoint)."
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
    error_message = "The bidders share frequency caps in this environment's Redis, over TLS, at its primary endpoint."
  }

  assert {
    condition     = module.bidder_fleet.boot_secrets == tomap({ TERN_NOTICE__SECRET = output.notice_secret_arn, TERN_FREQUENCY_CAP__REDIS__PASSWORD = output.redis_auth_secret_arn })
    error_message = "The bidders read this environment's notice key and Redis AUTH token at boot (and no other secret)."
  }

  # Fleet-wide budgets: this environment's spend ledger and budget alert topic,
  # with exactly the grants the bidders' calls need on them.
  assert {
    condition = (
      module.bidder_fleet.bidder_env["TERN_BUDGET__LEDGER"] == "dynamodb" &&
      output.spend_table_name == "tern-dev-spend" &&
      module.bidder_fleet.bidder_env["TERN_BUDGET__DYNAMODB__TABLE"] == output.spend_table_name &&
      module.bidder_fleet.bidder_env["TERN_BUDGET__ALERTS__SNS_TOPIC_ARN"] == output.budget_alert_topic_arn &&
      output.budget_alert_topic_arn != output.alarm_topic_arn &&
      module.bidder_fleet.bidder_env["TERN_BUDGET__STATE_DIR"] == "/var/lib/tern"
    )
    error_message = "The bidders keep budgets in this environment's spend ledger, alert to its budget topic (not the alarm topic) and journal to /var/lib/tern."
  }

  assert {
    condition = (
      one([for st in jsondecode(module.bidder_fleet.iam_policy_json).Statement : st.Resource if st.Sid == "SpendLedger"]) == [module.state.spend_table_arn] &&
      !contains(one([for st in jsondecode(module.bidder_fleet.iam_policy_json).Statement : st.Resource if st.Sid == "ReadCampaigns"]), module.state.spend_table_arn) &&
      contains(one([for st in jsondecode(module.bidder_fleet.iam_policy_json).Statement : st.Resource if st.Sid == "UseDataKeys"]), module.state.kms_key_arn)
    )
    error_message = "GetItem/UpdateItem reach this environment's spend table (and no scan or stream read does); the tables' key is usable."
  }

  assert {
    condition = (
      one([for st in jsondecode(module.bidder_fleet.iam_policy_json).Statement : st.Resource if st.Sid == "PublishBudgetAlerts"]) == [output.budget_alert_topic_arn] &&
      one([for st in jsondecode(module.bidder_fleet.iam_policy_json).Statement : st.Resource if st.Sid == "BudgetAlertKey"]) == [module.observability.kms_key_arn] &&
      module.observability.kms_key_arn != module.state.kms_key_arn
    )
    error_message = "sns:Publish reaches this environment's budget topic only, and its key (observability's) is usable for it."
  }

  # The control plane: this environment's three tables and its two secrets, with
  # exactly the grants the service's calls need on them.
  assert {
    condition = (
      output.control_table_name == "tern-dev-control" &&
      module.control_plane.control_plane_env["TERN_CP_TABLES__CAMPAIGNS"] == output.campaigns_table_name &&
      module.control_plane.control_plane_env["TERN_CP_TABLES__CONTROL"] == output.control_table_name &&
      module.control_plane.control_plane_env["TERN_CP_TABLES__SPEND"] == output.spend_table_name &&
      module.control_plane.control_plane_env["TERN_CP_SERVER__LISTEN"] == "0.0.0.0:7070"
    )
    error_message = "The control plane uses this environment's campaigns, control and spend tables and listens on 0.0.0.0 behind its ALB."
  }

  assert {
    condition = (
      module.control_plane.boot_secrets == tomap({ TERN_CP_AUTH__BOOTSTRAP_OPERATOR_KEY = output.control_plane_bootstrap_key_secret_arn, TERN_CP_AUTH__PEPPER = module.state.control_plane_pepper_secret_arn }) &&
      length(toset([output.control_plane_bootstrap_key_secret_arn, module.state.control_plane_pepper_secret_arn, output.notice_secret_arn, output.redis_auth_secret_arn])) == 4
    )
    error_message = "The control plane reads this environment's bootstrap key and pepper at boot (and none of the fleet's secrets)."
  }

  assert {
    condition = (
      one([for st in jsondecode(module.control_plane.iam_policy_json).Statement : st.Resource if st.Sid == "ManageCampaigns"]) == [module.state.campaigns_table_arn] &&
      one([for st in jsondecode(module.control_plane.iam_policy_json).Statement : st.Resource if st.Sid == "ControlRecords"]) == [module.state.control_table_arn] &&
      one([for st in jsondecode(module.control_plane.iam_policy_json).Statement : st.Resource if st.Sid == "ReadSpend"]) == [module.state.spend_table_arn] &&
      one([for st in jsondecode(module.control_plane.iam_policy_json).Statement : st.Action if st.Sid == "ReadSpend"]) == ["dynamodb:GetItem"] &&
      one([for st in jsondecode(module.control_plane.iam_policy_json).Statement : st.Resource if st.Sid == "UseTableKeys"]) == [module.state.kms_key_arn]
    )
    error_message = "The control plane's grants reach this environment's tables (the spend ledger read-only) and the state key."
  }

  # Screening lists: this environment's bucket and prefix, read-only on exactly
  # that prefix, its key through S3 only.
  assert {
    condition = (
      output.screening_lists_s3_uri == "s3://tern-dev-screening-123456789012/lists/" &&
      output.screening_lists_bucket == "tern-dev-screening-123456789012" &&
      module.bidder_fleet.bidder_env["TERN_SCREENING__S3_URI"] == output.screening_lists_s3_uri
    )
    error_message = "The bidders poll this environment's screening lists prefix (the one operators upload to)."
  }

  assert {
    condition = (
      one([for st in jsondecode(module.bidder_fleet.iam_policy_json).Statement : st.Resource if st.Sid == "ListScreeningLists"]) == [module.screening_lists.bucket_arn] &&
      one([for st in jsondecode(module.bidder_fleet.iam_policy_json).Statement : st.Condition if st.Sid == "ListScreeningLists"]) == { StringLike = { "s3:prefix" = ["lists/*"] } } &&
      one([for st in jsondecode(module.bidder_fleet.iam_policy_json).Statement : st.Resource if st.Sid == "ReadScreeningLists"]) == ["${module.screening_lists.bucket_arn}/lists/*"] &&
      one([for st in jsondecode(module.bidder_fleet.iam_policy_json).Statement : st.Action if st.Sid == "ReadScreeningLists"]) == ["s3:GetObject"] &&
      one([for st in jsondecode(module.bidder_fleet.iam_policy_json).Statement : st.Resource if st.Sid == "ScreeningListsKey"]) == [output.screening_lists_kms_key_arn] &&
      output.screening_lists_kms_key_arn != module.analytics.kms_key_arn
    )
    error_message = "The bidders may list and get this environment's screening prefix only, and decrypt with its key."
  }

  # Segment files: this environment's own bucket (the screening lists' module,
  # purpose "segments"), files expiring before the loader forgets them, loaded
  # into its Redis; read-only on exactly that prefix, its key through S3 only.
  assert {
    condition = (
      output.segments_s3_uri == "s3://tern-dev-segments-123456789012/segments/" &&
      output.segments_bucket == "tern-dev-segments-123456789012" &&
      module.bidder_fleet.bidder_env["TERN_SEGMENTS__S3_URI"] == output.segments_s3_uri &&
      module.bidder_fleet.segments_s3_uri == output.segments_s3_uri &&
      module.bidder_fleet.bidder_env["TERN_FREQUENCY_CAP__STORE"] == "redis" &&
      module.segments[0].created &&
      module.segments[0].current_version_days == 14 &&
      output.segments_bucket != output.screening_lists_bucket
    )
    error_message = "The bidders load this environment's segments prefix (the one data teams drop files into) into its Redis; files expire after 14 days."
  }

  assert {
    condition = (
      one([for st in jsondecode(module.bidder_fleet.iam_policy_json).Statement : st if st.Sid == "ListSegmentFiles"]) == {
        Sid       = "ListSegmentFiles"
        Effect    = "Allow"
        Action    = ["s3:ListBucket"]
        Resource  = [module.segments[0].bucket_arn]
        Condition = { StringLike = { "s3:prefix" = ["segments/*"] } }
      } &&
      one([for st in jsondecode(module.bidder_fleet.iam_policy_json).Statement : st if st.Sid == "ReadSegmentFiles"]) == {
        Sid      = "ReadSegmentFiles"
        Effect   = "Allow"
        Action   = ["s3:GetObject"]
        Resource = ["${module.segments[0].bucket_arn}/segments/*"]
      } &&
      one([for st in jsondecode(module.bidder_fleet.iam_policy_json).Statement : st.Resource if st.Sid == "SegmentFilesKey"]) == [output.segments_kms_key_arn] &&
      output.segments_kms_key_arn != output.screening_lists_kms_key_arn
    )
    error_message = "The bidders may list and get this environment's segments prefix only, and decrypt with its own key."
  }

  # The only S3 grants: the screening lists' two and the segment files' two.
  assert {
    condition = toset([
      for st in jsondecode(module.bidder_fleet.iam_policy_json).Statement : st.Sid
      if length([for a in st.Action : a if startswith(a, "s3:")]) > 0
    ]) == toset(["ListScreeningLists", "ReadScreeningLists", "ListSegmentFiles", "ReadSegmentFiles"])
    error_message = "The bidders' S3 permissions are the two prefixes' list and get statements, nothing else."
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
    enable_redis     = false
    segments_enabled = false
  }

  assert {
    condition = (
      output.segments_s3_uri == null && length(module.segments) == 0 &&
      length([for k in keys(module.bidder_fleet.bidder_env) : k if startswith(k, "TERN_SEGMENTS__")]) == 0 &&
      length([for st in jsondecode(module.bidder_fleet.iam_policy_json).Statement : st if contains(["ListSegmentFiles", "ReadSegmentFiles", "SegmentFilesKey"], st.Sid)]) == 0
    )
    error_message = "segments_enabled = false: no segments bucket, prefix or grant (and no timer: the fleet module enables it only with a prefix)."
  }

  assert {
    condition     = output.redis_address == null
    error_message = "enable_redis = false drops ElastiCache only."
  }

  assert {
    condition     = length([for k in keys(module.bidder_fleet.bidder_env) : k if startswith(k, "TERN_FREQUENCY_CAP__")]) == 0
    error_message = "Without Redis the bidders keep their in-process frequency caps."
  }

  assert {
    condition     = module.bidder_fleet.boot_secrets == tomap({ TERN_NOTICE__SECRET = output.notice_secret_arn })
    error_message = "Without Redis the bidders read only the notice key (the unused AUTH token secret is not granted)."
  }

  assert {
    condition     = module.bidder_fleet.bidder_env["TERN_CAMPAIGNS__DYNAMODB__TABLE"] == output.campaigns_table_name && module.bidder_fleet.bidder_env["TERN_EVENTS__KINESIS__STREAM"] == output.events_stream_name
    error_message = "The table and stream wiring does not depend on Redis."
  }

  assert {
    condition     = module.bidder_fleet.bidder_env["TERN_BUDGET__LEDGER"] == "dynamodb" && module.bidder_fleet.bidder_env["TERN_BUDGET__DYNAMODB__TABLE"] == output.spend_table_name
    error_message = "The spend ledger (the moto apply's profile) does not depend on Redis."
  }
}

run "rejects_bad_budget_alert_email" {
  command = plan

  variables {
    budget_alert_emails = ["finance.example.com"]
  }

  expect_failures = [var.budget_alert_emails]
}

run "rejects_an_overlong_drain" {
  command = plan

  variables {
    drain_timeout_ms = 600000
  }

  expect_failures = [var.drain_timeout_ms]
}

run "rejects_segments_without_redis" {
  command = plan

  variables {
    enable_redis = false
  }

  expect_failures = [var.segments_enabled]
}

run "segments_disabled" {
  command = plan

  variables {
    segments_enabled = false
  }

  assert {
    condition = (
      length(module.segments) == 0 &&
      output.segments_s3_uri == null && output.segments_bucket == null &&
      module.bidder_fleet.segments_s3_uri == null &&
      length([for k in keys(module.bidder_fleet.bidder_env) : k if startswith(k, "TERN_SEGMENTS__")]) == 0 &&
      length([for st in jsondecode(module.bidder_fleet.iam_policy_json).Statement : st if contains(["ListSegmentFiles", "ReadSegmentFiles", "SegmentFilesKey"], st.Sid)]) == 0 &&
      module.bidder_fleet.bidder_env["TERN_SCREENING__S3_URI"] == output.screening_lists_s3_uri
    )
    error_message = "segments_enabled = false: no bucket, no prefix, no grant, no timer; the screening lists are unaffected."
  }
}

run "rejects_files_kept_past_the_loaders_memory" {
  command = plan

  variables {
    segments_expiration_days = 30
  }

  expect_failures = [var.segments_expiration_days]
}
