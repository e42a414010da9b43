# Alarms on the bidders' own metrics (namespace Tern/Bidder, dimension Fleet,
# shipped by the CloudWatch agent from /metrics), on the NLB's target health, and
# on budgets (exhausted campaigns, failed spend-ledger calls, late billing
# notices), all to one KMS-encrypted SNS topic; a second topic, encrypted with the
# same key, that the bidders publish their budget alerts (50/80/100% spent) to; a
# dashboard for the fleet. The KMS key also encrypts the fleet's and WAF's log
# groups.

data "aws_region" "current" {}
data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  namespace  = "Tern/Bidder"
  fleet_dim  = { Fleet = var.fleet_name }
  actions    = [aws_sns_topic.alarms.arn]

  # Single-metric alarms: name => settings.
  metric_alarms = {
    bid-p99 = {
      description = "Bid latency p99 of the slowest bidder above ${var.bid_p99_threshold_seconds * 1000} ms"
      metric      = "tern_request_duration_p99_seconds"
      statistic   = "Maximum"
      threshold   = var.bid_p99_threshold_seconds
      missing     = "notBreaching"
    }
    sync-lag = {
      description = "Campaign state of some bidder lags DynamoDB by more than ${var.sync_lag_threshold_seconds} s"
      metric      = "tern_sync_lag_seconds"
      statistic   = "Maximum"
      threshold   = var.sync_lag_threshold_seconds
      missing     = "breaching"
    }
    budget-exhausted = {
      description = "Budget alert: at least one campaign has exhausted its budget"
      metric      = "tern_campaigns_budget_exhausted"
      statistic   = "Maximum"
      threshold   = 0
      missing     = "notBreaching"
    }
    # Failed spend-ledger calls (DynamoDB flush/lease/release/reclaim, SNS alert):
    # the fleet's budget view drifts while they fail.
    budget-sync-errors = {
      description = "Bidders failed more than ${var.budget_sync_errors_threshold} spend-ledger calls per minute (flush, lease, release, reclaim, alert)"
      metric      = "tern_budget_sync_errors_total"
      statistic   = "Sum"
      threshold   = var.budget_sync_errors_threshold
      missing     = "notBreaching"
    }
    # Billed impressions whose billing notice came later than budget.hold_timeout_s
    # less two flush intervals after the bid: the spend that can take the fleet
    # past a budget (term L of the bound in docs/budgets.md).
    budget-late-notices = {
      description = "More than ${var.budget_late_notices_threshold} billed impressions per minute had their billing notice later than budget.hold_timeout_s less two flush intervals after the bid (spend that can take the fleet past a budget)"
      metric      = "tern_budget_late_notices_total"
      statistic   = "Sum"
      threshold   = var.budget_late_notices_threshold
      missing     = "notBreaching"
    }
    events-dropped = {
      description = "Bidders dropped more than ${var.events_dropped_threshold} events per minute (Kinesis backpressure)"
      metric      = "tern_events_dropped_total"
      statistic   = "Sum"
      threshold   = var.events_dropped_threshold
      missing     = "notBreaching"
    }
  }
}

resource "aws_kms_key" "this" {
  description         = "${var.name}: alarm and budget alert topics, log groups"
  enable_key_rotation = true
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdmin"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "CloudWatchAlarmsToSns"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
        Resource  = "*"
        Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
      },
      {
        Sid       = "CloudWatchLogs"
        Effect    = "Allow"
        Principal = { Service = "logs.${local.region}.amazonaws.com" }
        Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        Resource  = "*"
        Condition = {
          ArnLike = {
            "kms:EncryptionContext:aws:logs:arn" = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"
          }
        }
      },
    ]
  })

  tags = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}-observability"
  target_key_id = aws_kms_key.this.key_id
}

resource "aws_sns_topic" "alarms" {
  name              = "${var.name}-alarms"
  kms_master_key_id = aws_kms_key.this.arn

  tags = var.tags
}

resource "aws_sns_topic_policy" "alarms" {
  arn = aws_sns_topic.alarms.arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "CloudWatchAlarms"
      Effect    = "Allow"
      Principal = { Service = "cloudwatch.amazonaws.com" }
      Action    = "sns:Publish"
      Resource  = aws_sns_topic.alarms.arn
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  })
}

resource "aws_sns_topic_subscription" "email" {
  for_each = toset(var.alarm_emails)

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = each.value
}

# Budget alerts the bidders publish themselves (a campaign crossing 50, 80 or 100%
# of its budget; bidder_fleet grants them sns:Publish here and the key's use through
# SNS), apart from the operators' alarms.
resource "aws_sns_topic" "budget_alerts" {
  name              = "${var.name}-budget-alerts"
  kms_master_key_id = aws_kms_key.this.arn

  tags = var.tags
}

resource "aws_sns_topic_subscription" "budget_alert_email" {
  for_each = toset(var.budget_alert_emails)

  topic_arn = aws_sns_topic.budget_alerts.arn
  protocol  = "email"
  endpoint  = each.value
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.metric_alarms

  alarm_name          = "${var.name}-${each.key}"
  alarm_description   = each.value.description
  namespace           = local.namespace
  metric_name         = each.value.metric
  dimensions          = local.fleet_dim
  statistic           = each.value.statistic
  period              = 60
  evaluation_periods  = var.evaluation_periods
  datapoints_to_alarm = var.evaluation_periods
  comparison_operator = "GreaterThanThreshold"
  threshold           = each.value.threshold
  treat_missing_data  = each.value.missing
  alarm_actions       = local.actions
  ok_actions          = local.actions

  tags = var.tags
}

# Error rate: (4xx + 5xx responses) / requests, in percent. The agent relabels the
# HTTP status into status_class (packer/files/prometheus.yaml.tmpl).
resource "aws_cloudwatch_metric_alarm" "error_rate" {
  alarm_name          = "${var.name}-error-rate"
  alarm_description   = "More than ${var.error_rate_threshold_percent}% of bid requests answered 4xx/5xx"
  evaluation_periods  = var.evaluation_periods
  datapoints_to_alarm = var.evaluation_periods
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.error_rate_threshold_percent
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions

  metric_query {
    id          = "error_rate"
    expression  = "100 * (FILL(r4xx, 0) + FILL(r5xx, 0)) / requests"
    label       = "error rate (%)"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = { r4xx = "4xx", r5xx = "5xx" }
    content {
      id = metric_query.key
      metric {
        namespace   = local.namespace
        metric_name = "tern_responses_total"
        dimensions  = merge(local.fleet_dim, { status_class = metric_query.value })
        period      = 60
        stat        = "Sum"
      }
    }
  }

  metric_query {
    id = "requests"
    metric {
      namespace   = local.namespace
      metric_name = "tern_requests_total"
      dimensions  = local.fleet_dim
      period      = 60
      stat        = "Sum"
    }
  }

  tags = var.tags
}

# Any bid target failing /ready for the evaluation window (stuck drain, stale state).
resource "aws_cloudwatch_metric_alarm" "unhealthy_targets" {
  alarm_name          = "${var.name}-unhealthy-bidders"
  alarm_description   = "Bid target group has unhealthy (not ready) bidders"
  namespace           = "AWS/NetworkELB"
  metric_name         = "UnHealthyHostCount"
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = var.evaluation_periods
  datapoints_to_alarm = var.evaluation_periods
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions

  dimensions = {
    LoadBalancer = var.nlb_arn_suffix
    TargetGroup  = var.target_group_arn_suffix
  }

  tags = var.tags
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = "${var.name}-bidders"
  dashboard_body = jsonencode({
    widgets = [
      {
        type = "metric", x = 0, y = 0, width = 12, height = 6
        properties = {
          title = "Bid latency (slowest instance)", region = local.region, stat = "Maximum", period = 60
          metrics = [
            [local.namespace, "tern_request_duration_p50_seconds", "Fleet", var.fleet_name],
            [local.namespace, "tern_request_duration_p99_seconds", "Fleet", var.fleet_name],
            [local.namespace, "tern_request_duration_p999_seconds", "Fleet", var.fleet_name],
          ]
          annotations = { horizontal = [{ label = "p99 alarm", value = var.bid_p99_threshold_seconds }] }
        }
      },
      {
        type = "metric", x = 12, y = 0, width = 12, height = 6
        properties = {
          title = "Requests and bids per minute", region = local.region, stat = "Sum", period = 60
          metrics = [
            [local.namespace, "tern_requests_total", "Fleet", var.fleet_name],
            [local.namespace, "tern_bids_total", "Fleet", var.fleet_name],
          ]
        }
      },
      {
        type = "metric", x = 0, y = 6, width = 12, height = 6
        properties = {
          title   = "Responses by status class", region = local.region, stat = "Sum", period = 60
          metrics = [for c in ["2xx", "4xx", "5xx"] : [local.namespace, "tern_responses_total", "Fleet", var.fleet_name, "status_class", c]]
        }
      },
      {
        type = "metric", x = 12, y = 6, width = 12, height = 6
        properties = {
          title = "Sync lag (s) and ready bidders", region = local.region, period = 60
          metrics = [
            [local.namespace, "tern_sync_lag_seconds", "Fleet", var.fleet_name, { stat = "Maximum" }],
            [local.namespace, "tern_ready", "Fleet", var.fleet_name, { stat = "Sum", yAxis = "right" }],
          ]
        }
      },
      {
        type = "metric", x = 0, y = 12, width = 12, height = 6
        properties = {
          title = "Budgets exhausted and events dropped", region = local.region, period = 60
          metrics = [
            [local.namespace, "tern_campaigns_budget_exhausted", "Fleet", var.fleet_name, { stat = "Maximum" }],
            [local.namespace, "tern_events_dropped_total", "Fleet", var.fleet_name, { stat = "Sum", yAxis = "right" }],
          ]
        }
      },
      {
        type = "metric", x = 0, y = 18, width = 12, height = 6
        properties = {
          title = "Budget ledger: failed calls, late notices and alerts per minute", region = local.region, stat = "Sum", period = 60
          metrics = [
            [local.namespace, "tern_budget_sync_errors_total", "Fleet", var.fleet_name],
            [local.namespace, "tern_budget_late_notices_total", "Fleet", var.fleet_name],
            [local.namespace, "tern_budget_alerts_total", "Fleet", var.fleet_name, { yAxis = "right" }],
          ]
          annotations = { horizontal = [
            { label = "sync errors alarm", value = var.budget_sync_errors_threshold },
            { label = "late notices alarm", value = var.budget_late_notices_threshold },
          ] }
        }
      },
      {
        type = "metric", x = 12, y = 12, width = 12, height = 6
        properties = {
          title = "NLB targets and fleet size", region = local.region, period = 60, stat = "Maximum"
          metrics = [
            ["AWS/NetworkELB", "HealthyHostCount", "LoadBalancer", var.nlb_arn_suffix, "TargetGroup", var.target_group_arn_suffix],
            ["AWS/NetworkELB", "UnHealthyHostCount", "LoadBalancer", var.nlb_arn_suffix, "TargetGroup", var.target_group_arn_suffix],
            ["AWS/AutoScaling", "GroupInServiceInstances", "AutoScalingGroupName", var.autoscaling_group_name],
          ]
        }
      },
    ]
  })
}
