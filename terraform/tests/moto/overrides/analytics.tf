# Test-only (moto run): copied to modules/analytics/moto_override.tf in the temporary
# copy. moto 5.2.1's Kinesis CreateStream drops the Tags parameter, so tags would show
# as drift on the re-plan; on AWS they are set at creation.
resource "aws_kinesis_stream" "this" {
  lifecycle {
    ignore_changes = [tags]
  }
}
