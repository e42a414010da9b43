# Test-only (moto run): copied to modules/analytics/moto_override.tf in the temporary
# copy. moto 5.2.1's Kinesis CreateStream drops the Tags parameter, so tags would show
# as drift on the re-plan; on AWS they are set at creation.
resource "aws_kinesis_stream" "this" {
  lifecycle {
    ignore_changes = [tags]
  }
}

# moto 5.2.1 creates and reads Athena named queries (checked: apply, then a plan
# with no drift) but does not implement DeleteNamedQuery, so the destroy after the
# apply would fail: the moto run leaves them out. The terraform test covers them.
resource "aws_athena_named_query" "this" {
  for_each = {}
}
