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
