output "fleet_name" {
  description = "Fleet name: the `Fleet` dimension of Tern/Bidder metrics."
  value       = var.name
}

output "autoscaling_group_name" {
  description = "Auto scaling group of the bidders."
  value       = try(aws_autoscaling_group.this.name, null)
}

output "launch_template_id" {
  description = "Launch template id."
  value       = try(aws_launch_template.this.id, null)
}

output "nlb_arn" {
  description = "Bid NLB ARN."
  value       = try(aws_lb.this.arn, null)
}

output "nlb_arn_suffix" {
  description = "Bid NLB ARN suffix (CloudWatch LoadBalancer dimension)."
  value       = try(aws_lb.this.arn_suffix, null)
}

output "nlb_dns_name" {
  description = "DNS name partners send bids to."
  value       = try(aws_lb.this.dns_name, null)
}

output "target_group_arn" {
  description = "Bid target group ARN."
  value       = try(aws_lb_target_group.this.arn, null)
}

output "target_group_arn_suffix" {
  description = "Bid target group ARN suffix (CloudWatch TargetGroup dimension)."
  value       = try(aws_lb_target_group.this.arn_suffix, null)
}

output "security_group_id" {
  description = "Security group of the bidder instances (Redis admits it)."
  value       = try(aws_security_group.this.id, null)
}

output "nlb_security_group_id" {
  description = "Security group of the bid NLB."
  value       = try(aws_security_group.nlb.id, null)
}

output "iam_role_name" {
  description = "Instance role of the bidders."
  value       = try(aws_iam_role.this.name, null)
}

output "iam_policy_json" {
  description = "The instance role's inline policy (JSON): what a bidder may do, for review and the roots' tests."
  value       = try(aws_iam_role_policy.this.policy, null)
}

output "metrics_log_group_name" {
  description = "Log group receiving the CloudWatch agent's embedded metrics."
  value       = try(aws_cloudwatch_log_group.metrics.name, null)
}

output "stop_timeout_seconds" {
  description = "systemd TimeoutStopSec written to the instances (unready delay + drain + grace)."
  value       = local.stop_timeout_seconds
}

output "unready_delay_ms" {
  description = "shutdown.unready_delay_ms given to the bidders."
  value       = local.unready_delay_ms
}

output "bidder_env" {
  description = "Environment overrides written to /etc/tern/bidder.env."
  value       = local.bidder_env
}

output "boot_secrets" {
  description = "Secrets the user data reads at boot into /etc/tern/bidder.env, by the bidder setting they fill (TERN_NOTICE__SECRET, and with Redis TERN_FREQUENCY_CAP__REDIS__PASSWORD): the only secrets the instance role may read."
  value       = local.boot_secrets
}

output "segments_s3_uri" {
  description = "Where segment files are dropped and every bidder's tern-segments-load.timer loads them from (segments.s3_uri): s3://<segments_bucket>/<segments_prefix>; null without segments_bucket (no loading, timer not enabled)."
  value       = try(local.segments_env["TERN_SEGMENTS__S3_URI"], null)
}
