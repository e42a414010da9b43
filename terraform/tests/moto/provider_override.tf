# Test-only override for the offline apply against moto server: copied next to
# envs/dev/providers.tf in a temporary copy of terraform/ by scripts/check-infra.sh,
# with MOTO_ENDPOINT replaced by the server's address. Never used against AWS.
provider "aws" {
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  # ARNs need the account id (Athena and others fail without it).
  skip_requesting_account_id = false
  # moto answers unimplemented calls with HTTP 500: do not retry them for minutes.
  max_retries       = 2
  s3_use_path_style = true

  endpoints {
    athena         = "MOTO_ENDPOINT"
    autoscaling    = "MOTO_ENDPOINT"
    cloudwatch     = "MOTO_ENDPOINT"
    dynamodb       = "MOTO_ENDPOINT"
    ec2            = "MOTO_ENDPOINT"
    elasticache    = "MOTO_ENDPOINT"
    elbv2          = "MOTO_ENDPOINT"
    firehose       = "MOTO_ENDPOINT"
    glue           = "MOTO_ENDPOINT"
    iam            = "MOTO_ENDPOINT"
    kinesis        = "MOTO_ENDPOINT"
    kms            = "MOTO_ENDPOINT"
    logs           = "MOTO_ENDPOINT"
    s3             = "MOTO_ENDPOINT"
    secretsmanager = "MOTO_ENDPOINT"
    sns            = "MOTO_ENDPOINT"
    ssm            = "MOTO_ENDPOINT"
    sts            = "MOTO_ENDPOINT"
    wafv2          = "MOTO_ENDPOINT"
  }
}
