output "alarm_topic_arn" {
  description = "SNS topic receiving every alarm (the budget alarms included)."
  value       = try(aws_sns_topic.alarms.arn, null)
}

output "budget_alert_topic_arn" {
  description = "SNS topic the bidders publish budget alerts to (budget.alerts.sns_topic_arn); encrypted with kms_key_arn."
  value       = try(aws_sns_topic.budget_alerts.arn, null)
}

output "kms_key_arn" {
  description = "KMS key of the alarm and budget alert topics (publishers use it through SNS); also used for the fleet's and WAF's log groups."
  value       = try(aws_kms_key.this.arn, null)
}

output "alarm_names" {
  description = "Names of all alarms."
  value = try(concat(
    [for a in aws_cloudwatch_metric_alarm.this : a.alarm_name],
    [aws_cloudwatch_metric_alarm.error_rate.alarm_name, aws_cloudwatch_metric_alarm.unhealthy_targets.alarm_name],
  ), [])
}

output "dashboard_name" {
  description = "CloudWatch dashboard of the fleet."
  value       = try(aws_cloudwatch_dashboard.this.dashboard_name, null)
}
