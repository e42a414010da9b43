# Test-only (moto run): copied to modules/bidder_fleet/moto_override.tf in the
# temporary copy. Each entry is an attribute moto 5.2.1 does not store or return,
# which would otherwise show as drift on the re-plan:
#   - ASG DefaultInstanceWarmup is not modelled;
#   - scaling policy Enabled is never returned (reads as false), and an empty
#     PredictiveScalingConfiguration comes back for a target tracking policy;
#   - rules that reference a security group lose their Description.
resource "aws_autoscaling_group" "this" {
  lifecycle {
    ignore_changes = [desired_capacity, default_instance_warmup]
  }
}

resource "aws_autoscaling_policy" "cpu" {
  lifecycle {
    ignore_changes = [enabled, predictive_scaling_configuration]
  }
}

resource "aws_vpc_security_group_egress_rule" "nlb_bid" {
  lifecycle {
    ignore_changes = [description]
  }
}

resource "aws_vpc_security_group_egress_rule" "nlb_health" {
  lifecycle {
    ignore_changes = [description]
  }
}

resource "aws_vpc_security_group_ingress_rule" "bid_from_nlb" {
  lifecycle {
    ignore_changes = [description]
  }
}

resource "aws_vpc_security_group_ingress_rule" "admin_from_nlb" {
  lifecycle {
    ignore_changes = [description]
  }
}
