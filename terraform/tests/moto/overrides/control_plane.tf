# Test-only (moto run): copied to modules/control_plane/moto_override.tf in the
# temporary copy. moto 5.2.1 drops the Description of rules that reference a
# security group, which would show as drift on the re-plan.
resource "aws_vpc_security_group_egress_rule" "alb_to_service" {
  lifecycle {
    ignore_changes = [description]
  }
}

resource "aws_vpc_security_group_ingress_rule" "service_from_alb" {
  lifecycle {
    ignore_changes = [description]
  }
}
