output "alb_arn" {
  description = "Control-plane ALB ARN."
  value       = try(aws_lb.this.arn, null)
}

output "alb_dns_name" {
  description = "Control-plane ALB DNS name."
  value       = try(aws_lb.this.dns_name, null)
}

output "target_group_arn" {
  description = "Control-plane target group."
  value       = try(aws_lb_target_group.this.arn, null)
}

output "web_acl_arn" {
  description = "WAFv2 web ACL protecting the ALB."
  value       = try(aws_wafv2_web_acl.this.arn, null)
}

output "security_group_id" {
  description = "Security group of the control-plane instances (Redis may admit it)."
  value       = try(aws_security_group.this.id, null)
}

output "autoscaling_group_name" {
  description = "Control-plane auto scaling group."
  value       = try(aws_autoscaling_group.this.name, null)
}

output "iam_role_name" {
  description = "Instance role of the control plane."
  value       = try(aws_iam_role.this.name, null)
}

output "iam_policy_json" {
  description = "The instance role's inline policy (JSON): what the control plane may do, for review and the roots' tests."
  value       = try(aws_iam_role_policy.this.policy, null)
}

output "control_plane_env" {
  description = "Environment overrides written to /etc/tern/control-plane.env (without the secrets, which the user data reads at boot)."
  value       = local.control_plane_env
}

output "boot_secrets" {
  description = "Secrets the user data reads at boot into /etc/tern/control-plane.env, by the setting they fill (TERN_CP_AUTH__BOOTSTRAP_OPERATOR_KEY, TERN_CP_AUTH__PEPPER): the only secrets the instance role may read."
  value       = local.boot_secrets
}

output "stop_timeout_seconds" {
  description = "systemd TimeoutStopSec written to the instances (drain + grace)."
  value       = local.stop_timeout_seconds
}
