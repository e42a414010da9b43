# observability: the alarms the issue asks for (bid p99, error rate, sync lag,
# budgets, failed spend-ledger calls, late billing notices) read the bidder's
# metric names in Tern/Bidder and notify a KMS-encrypted SNS topic; the bidders'
# budget alerts have a topic of their own, encrypted with the same key.

mock_provider "aws" {
  source = "../../tests/mocks"
}

# A distinct ARN for the budget alert topic (the shared mock gives every topic the
# same one), so alarms and budget alerts can be told apart.
override_resource {
  target = aws_sns_topic.budget_alerts
  values = { arn = "arn:aws:sns:us-east-1:123456789012:tern-test-budget-alerts" }
}

variables {
  name                    = "tern-test"
  fleet_name              = "tern-test"
  autoscaling_group_name  = "tern-test-bidders"
  nlb_arn_suffix          = "net/tern-test-bid/0123456789abcdef"
  target_group_arn_suffix = "targetgroup/tern-test-bid/0123456789abcdef"
  alarm_emails            = ["oncall@example.com"]
  budget_alert_emails     = ["media@example.com", "finance@example.com"]
}

run "alarms_and_topic" {
  command = apply

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["bid-p99"].metric_name == "tern_request_duration_p99_seconds" && aws_cloudwatch_metric_alarm.this["bid-p99"].namespace == "Tern/Bidder"
    error_message = "The p99 alarm reads the bidder's p99 gauge."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["sync-lag"].metric_name == "tern_sync_lag_seconds" && aws_cloudwatch_metric_alarm.this["sync-lag"].treat_missing_data == "breaching"
    error_message = "Sync lag alarms, and a silent fleet counts as lagging."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["budget-exhausted"].metric_name == "tern_campaigns_budget_exhausted" && aws_cloudwatch_metric_alarm.this["budget-exhausted"].threshold == 0
    error_message = "Budget alert on any exhausted campaign."
  }

  assert {
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.this : length(a.dimensions) == 1 && a.dimensions["Fleet"] == "tern-test"])
    error_message = "Bidder alarms use the Fleet dimension the CloudWatch agent writes."
  }

  assert {
    condition = (
      strcontains(one([for q in aws_cloudwatch_metric_alarm.error_rate.metric_query : q.expression if q.return_data == true]), "/ requests") &&
      toset([for q in aws_cloudwatch_metric_alarm.error_rate.metric_query : one(q.metric[*].metric_name) if length(q.metric) > 0]) == toset(["tern_responses_total", "tern_requests_total"])
    )
    error_message = "Error rate = (4xx + 5xx responses) / requests."
  }

  assert {
    condition = alltrue([
      for a in concat(values(aws_cloudwatch_metric_alarm.this), [aws_cloudwatch_metric_alarm.error_rate, aws_cloudwatch_metric_alarm.unhealthy_targets]) :
      contains(a.alarm_actions, aws_sns_topic.alarms.arn)
    ])
    error_message = "Every alarm notifies the SNS topic."
  }

  assert {
    condition     = aws_sns_topic.alarms.kms_master_key_id == aws_kms_key.this.arn && aws_kms_key.this.enable_key_rotation
    error_message = "The topic is encrypted with a rotating CMK."
  }

  assert {
    condition     = aws_sns_topic_subscription.email["oncall@example.com"].protocol == "email"
    error_message = "On-call gets e-mail."
  }

  assert {
    condition     = length(jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets) >= 7
    error_message = "The dashboard has its widgets."
  }
}

# Failed spend-ledger calls alarm to the operators; budget alerts go to their own
# encrypted topic, which only the budget recipients subscribe to.
run "budget_alerts_and_ledger_errors" {
  command = apply

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["budget-sync-errors"].namespace == "Tern/Bidder" &&
      aws_cloudwatch_metric_alarm.this["budget-sync-errors"].metric_name == "tern_budget_sync_errors_total" &&
      aws_cloudwatch_metric_alarm.this["budget-sync-errors"].dimensions == tomap({ Fleet = "tern-test" }) &&
      aws_cloudwatch_metric_alarm.this["budget-sync-errors"].statistic == "Sum" &&
      aws_cloudwatch_metric_alarm.this["budget-sync-errors"].period == 60
    )
    error_message = "The ledger alarm sums tern_budget_sync_errors_total (every op) per minute over the fleet's Fleet dimension."
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["budget-sync-errors"].comparison_operator == "GreaterThanThreshold" &&
      aws_cloudwatch_metric_alarm.this["budget-sync-errors"].threshold == 0 &&
      aws_cloudwatch_metric_alarm.this["budget-sync-errors"].evaluation_periods == var.evaluation_periods &&
      aws_cloudwatch_metric_alarm.this["budget-sync-errors"].datapoints_to_alarm == var.evaluation_periods &&
      var.evaluation_periods > 1 &&
      aws_cloudwatch_metric_alarm.this["budget-sync-errors"].treat_missing_data == "notBreaching"
    )
    error_message = "Any failed ledger call, sustained for the evaluation periods, alarms by default; no data (no failures) is not breaching."
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["budget-sync-errors"].alarm_actions == toset([aws_sns_topic.alarms.arn]) &&
      aws_cloudwatch_metric_alarm.this["budget-sync-errors"].ok_actions == toset([aws_sns_topic.alarms.arn])
    )
    error_message = "The ledger alarm (and its recovery) goes to the alarm topic, not the budget alert topic."
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["budget-late-notices"].alarm_name == "tern-test-budget-late-notices" &&
      aws_cloudwatch_metric_alarm.this["budget-late-notices"].namespace == "Tern/Bidder" &&
      aws_cloudwatch_metric_alarm.this["budget-late-notices"].metric_name == "tern_budget_late_notices_total" &&
      aws_cloudwatch_metric_alarm.this["budget-late-notices"].dimensions == tomap({ Fleet = "tern-test" }) &&
      aws_cloudwatch_metric_alarm.this["budget-late-notices"].statistic == "Sum" &&
      aws_cloudwatch_metric_alarm.this["budget-late-notices"].period == 60
    )
    error_message = "The late-notice alarm sums tern_budget_late_notices_total per minute over the fleet's Fleet dimension."
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["budget-late-notices"].comparison_operator == "GreaterThanThreshold" &&
      aws_cloudwatch_metric_alarm.this["budget-late-notices"].threshold == 0 &&
      aws_cloudwatch_metric_alarm.this["budget-late-notices"].evaluation_periods == var.evaluation_periods &&
      aws_cloudwatch_metric_alarm.this["budget-late-notices"].datapoints_to_alarm == var.evaluation_periods &&
      aws_cloudwatch_metric_alarm.this["budget-late-notices"].treat_missing_data == "notBreaching"
    )
    error_message = "Any late billing notice (spend the budget bound does not cover), sustained for the evaluation periods, alarms by default; no data (no late notices) is not breaching."
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["budget-late-notices"].alarm_actions == toset([aws_sns_topic.alarms.arn]) &&
      aws_cloudwatch_metric_alarm.this["budget-late-notices"].ok_actions == toset([aws_sns_topic.alarms.arn])
    )
    error_message = "The late-notice alarm (and its recovery) goes to the alarm topic, not the budget alert topic."
  }

  assert {
    condition = (
      aws_sns_topic.budget_alerts.name == "tern-test-budget-alerts" &&
      aws_sns_topic.budget_alerts.kms_master_key_id == aws_kms_key.this.arn &&
      output.budget_alert_topic_arn == aws_sns_topic.budget_alerts.arn &&
      output.budget_alert_topic_arn != output.alarm_topic_arn &&
      output.kms_key_arn == aws_kms_key.this.arn
    )
    error_message = "Budget alerts have their own topic, encrypted with the module's rotating key (both output)."
  }

  assert {
    condition = (
      length(aws_sns_topic_subscription.budget_alert_email) == 2 &&
      alltrue([for s in aws_sns_topic_subscription.budget_alert_email : s.protocol == "email" && s.topic_arn == aws_sns_topic.budget_alerts.arn]) &&
      toset([for s in aws_sns_topic_subscription.budget_alert_email : s.endpoint]) == toset(var.budget_alert_emails)
    )
    error_message = "Each budget_alert_emails address gets an e-mail subscription to the budget alert topic."
  }

  assert {
    condition = (
      length(aws_sns_topic_subscription.email) == 1 &&
      aws_sns_topic_subscription.email["oncall@example.com"].topic_arn == aws_sns_topic.alarms.arn
    )
    error_message = "Alarm recipients stay on the alarm topic only."
  }

  assert {
    condition = length([
      for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : w
      if contains([for m in w.properties.metrics : m[1]], "tern_budget_sync_errors_total") && contains([for m in w.properties.metrics : m[1]], "tern_budget_alerts_total")
    ]) == 1
    error_message = "The dashboard has a budget ledger widget with failed calls and alerts."
  }

  assert {
    condition = length([
      for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : w
      if contains([for m in w.properties.metrics : m[1]], "tern_budget_late_notices_total")
    ]) == 1
    error_message = "The dashboard shows late billing notices."
  }
}

run "budget_alert_topic_without_recipients" {
  command = plan

  variables {
    budget_alert_emails           = []
    budget_sync_errors_threshold  = 5
    budget_late_notices_threshold = 10
  }

  assert {
    condition     = length(aws_sns_topic_subscription.budget_alert_email) == 0 && aws_sns_topic.budget_alerts.kms_master_key_id == aws_kms_key.this.arn
    error_message = "Without recipients the encrypted topic still exists (the bidders publish to it), with no subscription."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["budget-sync-errors"].threshold == 5
    error_message = "budget_sync_errors_threshold sets the ledger alarm's threshold."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["budget-late-notices"].threshold == 10
    error_message = "budget_late_notices_threshold sets the late-notice alarm's threshold."
  }
}

run "rejects_bad_email" {
  command = plan

  variables {
    alarm_emails = ["not-an-address"]
  }

  expect_failures = [var.alarm_emails]
}

run "rejects_bad_budget_alert_email" {
  command = plan

  variables {
    budget_alert_emails = ["finance@"]
  }

  expect_failures = [var.budget_alert_emails]
}

run "rejects_negative_budget_sync_errors_threshold" {
  command = plan

  variables {
    budget_sync_errors_threshold = -1
  }

  expect_failures = [var.budget_sync_errors_threshold]
}

run "rejects_negative_budget_late_notices_threshold" {
  command = plan

  variables {
    budget_late_notices_threshold = -1
  }

  expect_failures = [var.budget_late_notices_threshold]
}
