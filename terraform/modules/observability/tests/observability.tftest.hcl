# observability: the alarms the issue asks for (bid p99, error rate, sync lag,
# budget alerts) read the bidder's metric names in Tern/Bidder and notify a
# KMS-encrypted SNS topic.

mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  name                    = "tern-test"
  fleet_name              = "tern-test"
  autoscaling_group_name  = "tern-test-bidders"
  nlb_arn_suffix          = "net/tern-test-bid/0123456789abcdef"
  target_group_arn_suffix = "targetgroup/tern-test-bid/0123456789abcdef"
  alarm_emails            = ["oncall@example.com"]
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
    condition     = length(jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets) >= 6
    error_message = "The dashboard has its widgets."
  }
}

run "rejects_bad_email" {
  command = plan

  variables {
    alarm_emails = ["not-an-address"]
  }

  expect_failures = [var.alarm_emails]
}
