# Events and analytics: bidders PutRecords compact JSON events (one JSON object per
# record, newline-terminated) into Kinesis; Firehose lands them gzip-compressed in
# S3 under events/dt=YYYY-MM-DD/; a Glue table describes them (columns from
# event_columns.json, the one place the schema lives on this side) with partition
# projection, so no crawler runs; Athena queries them in a workgroup that enforces
# KMS-encrypted results, where the queries of docs/analytics.md are saved (from
# queries/*.sql, the one place they live).

data "aws_region" "current" {}
data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}

locals {
  partition     = data.aws_partition.current.partition
  account_id    = data.aws_caller_identity.current.account_id
  region        = data.aws_region.current.name
  glue_name     = replace(var.name, "-", "_")
  event_columns = jsondecode(file("${path.module}/event_columns.json"))
  # queries/<name>.sql, each opening with a one-line "-- " description.
  named_queries = {
    for f in fileset("${path.module}/queries", "*.sql") :
    replace(trimsuffix(f, ".sql"), "_", "-") => file("${path.module}/queries/${f}")
  }
  events_prefix = "events/"

  buckets = {
    events = {
      bucket = "${var.name}-events-${local.account_id}"
      rule = {
        id              = "events-tiering"
        ia_days         = var.events_ia_days
        glacier_days    = var.events_glacier_days
        expiration_days = var.events_expiration_days
      }
    }
    athena_results = {
      bucket = "${var.name}-athena-results-${local.account_id}"
      rule = {
        id              = "results-expiry"
        ia_days         = null
        glacier_days    = null
        expiration_days = var.athena_results_expiration_days
      }
    }
  }
}

resource "aws_kms_key" "this" {
  description         = "${var.name}: event stream, event bucket, Athena results"
  enable_key_rotation = true
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdmin"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "CloudWatchLogs"
        Effect    = "Allow"
        Principal = { Service = "logs.${local.region}.amazonaws.com" }
        Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        Resource  = "*"
        Condition = {
          ArnLike = {
            "kms:EncryptionContext:aws:logs:arn" = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"
          }
        }
      },
    ]
  })

  tags = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}-analytics"
  target_key_id = aws_kms_key.this.key_id
}

# --- Kinesis ------------------------------------------------------------------

resource "aws_kinesis_stream" "this" {
  name             = "${var.name}-events"
  shard_count      = var.stream_mode == "PROVISIONED" ? var.stream_shard_count : null
  retention_period = var.stream_retention_hours
  encryption_type  = "KMS"
  kms_key_id       = aws_kms_key.this.arn

  stream_mode_details {
    stream_mode = var.stream_mode
  }

  tags = var.tags
}

# --- S3: events and Athena results ---------------------------------------------

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_18:Server access logs belong in the account's central log-archive bucket, outside this stack; CloudTrail data events cover audit.
  #checkov:skip=CKV_AWS_144:Events and query results are analytics data (re-derivable, versioned); cross-region replication is not worth its cost here.
  #checkov:skip=CKV2_AWS_62:Nothing consumes object events: Athena finds new data through partition projection.
  for_each = local.buckets

  bucket        = each.value.bucket
  force_destroy = var.force_destroy

  tags = merge(var.tags, { Purpose = each.key })
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = local.buckets

  bucket = aws_s3_bucket.this[each.key].id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each = local.buckets

  bucket                  = aws_s3_bucket.this[each.key].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = local.buckets

  bucket = aws_s3_bucket.this[each.key].id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = local.buckets

  bucket = aws_s3_bucket.this[each.key].id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.this.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  for_each = local.buckets

  bucket = aws_s3_bucket.this[each.key].id

  rule {
    id     = each.value.rule.id
    status = "Enabled"

    filter {
      prefix = ""
    }

    dynamic "transition" {
      for_each = each.value.rule.ia_days == null ? [] : [each.value.rule.ia_days]
      content {
        days          = transition.value
        storage_class = "STANDARD_IA"
      }
    }

    dynamic "transition" {
      for_each = each.value.rule.glacier_days == null ? [] : [each.value.rule.glacier_days]
      content {
        days          = transition.value
        storage_class = "GLACIER_IR"
      }
    }

    expiration {
      days = each.value.rule.expiration_days
    }

    noncurrent_version_expiration {
      noncurrent_days = 7
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_s3_bucket_policy" "this" {
  for_each = local.buckets

  bucket = aws_s3_bucket.this[each.key].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [aws_s3_bucket.this[each.key].arn, "${aws_s3_bucket.this[each.key].arn}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })

  depends_on = [aws_s3_bucket_public_access_block.this]
}

# --- Firehose -----------------------------------------------------------------

resource "aws_cloudwatch_log_group" "firehose" {
  name              = "/tern/${var.name}/firehose/events"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn

  tags = var.tags
}

resource "aws_cloudwatch_log_stream" "firehose" {
  name           = "S3Delivery"
  log_group_name = aws_cloudwatch_log_group.firehose.name
}

resource "aws_iam_role" "firehose" {
  name = "${var.name}-firehose-events"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "firehose.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "sts:ExternalId" = local.account_id } }
    }]
  })

  tags = var.tags
}

resource "aws_iam_role_policy" "firehose" {
  name = "events-to-s3"
  role = aws_iam_role.firehose.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "ReadEventStream"
        Effect   = "Allow"
        Action   = ["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetShardIterator", "kinesis:GetRecords", "kinesis:ListShards"]
        Resource = [aws_kinesis_stream.this.arn]
      },
      {
        Sid      = "WriteEventBucket"
        Effect   = "Allow"
        Action   = ["s3:AbortMultipartUpload", "s3:GetBucketLocation", "s3:GetObject", "s3:ListBucket", "s3:ListBucketMultipartUploads", "s3:PutObject"]
        Resource = [aws_s3_bucket.this["events"].arn, "${aws_s3_bucket.this["events"].arn}/*"]
      },
      {
        Sid      = "UseAnalyticsKey"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource = [aws_kms_key.this.arn]
      },
      {
        Sid      = "DeliveryErrors"
        Effect   = "Allow"
        Action   = ["logs:PutLogEvents"]
        Resource = ["${aws_cloudwatch_log_group.firehose.arn}:*"]
      },
    ]
  })
}

resource "aws_kinesis_firehose_delivery_stream" "this" {
  name        = "${var.name}-events"
  destination = "extended_s3"

  kinesis_source_configuration {
    kinesis_stream_arn = aws_kinesis_stream.this.arn
    role_arn           = aws_iam_role.firehose.arn
  }

  extended_s3_configuration {
    role_arn            = aws_iam_role.firehose.arn
    bucket_arn          = aws_s3_bucket.this["events"].arn
    prefix              = "${local.events_prefix}dt=!{timestamp:yyyy-MM-dd}/"
    error_output_prefix = "errors/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/"
    buffering_interval  = var.firehose_buffer_seconds
    buffering_size      = var.firehose_buffer_mb
    compression_format  = "GZIP"
    kms_key_arn         = aws_kms_key.this.arn

    cloudwatch_logging_options {
      enabled         = true
      log_group_name  = aws_cloudwatch_log_group.firehose.name
      log_stream_name = aws_cloudwatch_log_stream.firehose.name
    }
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.firehose]
}

# --- Glue + Athena ------------------------------------------------------------

resource "aws_glue_catalog_database" "this" {
  name        = "${local.glue_name}_analytics"
  description = "Tern bid events (${var.name})"
}

resource "aws_glue_catalog_table" "events" {
  name          = "events"
  database_name = aws_glue_catalog_database.this.name
  description   = "Tern events, schema v1 (columns from event_columns.json)"
  table_type    = "EXTERNAL_TABLE"

  parameters = {
    EXTERNAL                      = "TRUE"
    classification                = "json"
    compressionType               = "gzip"
    "projection.enabled"          = "true"
    "projection.dt.type"          = "date"
    "projection.dt.format"        = "yyyy-MM-dd"
    "projection.dt.range"         = "${var.partition_projection_start},NOW"
    "projection.dt.interval"      = "1"
    "projection.dt.interval.unit" = "DAYS"
    "storage.location.template"   = "s3://${aws_s3_bucket.this["events"].id}/${local.events_prefix}dt=$${dt}/"
  }

  partition_keys {
    name    = "dt"
    type    = "string"
    comment = "delivery date (UTC), yyyy-MM-dd"
  }

  storage_descriptor {
    location      = "s3://${aws_s3_bucket.this["events"].id}/${local.events_prefix}"
    input_format  = "org.apache.hadoop.mapred.TextInputFormat"
    output_format = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
    compressed    = true

    ser_de_info {
      name                  = "json"
      serialization_library = "org.openx.data.jsonserde.JsonSerDe"
      parameters = {
        "ignore.malformed.json" = "true"
        "case.insensitive"      = "false"
      }
    }

    dynamic "columns" {
      for_each = local.event_columns
      content {
        name    = columns.value.name
        type    = columns.value.type
        comment = columns.value.comment
      }
    }
  }
}

resource "aws_athena_workgroup" "this" {
  name          = "${var.name}-analytics"
  description   = "Queries over Tern events; results encrypted with KMS"
  state         = "ENABLED"
  force_destroy = var.force_destroy

  configuration {
    enforce_workgroup_configuration    = true
    publish_cloudwatch_metrics_enabled = true
    bytes_scanned_cutoff_per_query     = var.athena_bytes_scanned_cutoff

    result_configuration {
      output_location = "s3://${aws_s3_bucket.this["athena_results"].id}/results/"

      encryption_configuration {
        encryption_option = "SSE_KMS"
        kms_key_arn       = aws_kms_key.this.arn
      }
    }
  }

  # moto only answers for workgroups that carry tags; AWS does not care.
  tags = merge(var.tags, { Component = "analytics" })
}

# The saved queries of docs/analytics.md (a test keeps the two equal). They name
# the table `events`: each runs in the Glue database.
resource "aws_athena_named_query" "this" {
  for_each = local.named_queries

  name        = "${var.name}-${each.key}"
  description = trimprefix(split("\n", each.value)[0], "-- ")
  workgroup   = aws_athena_workgroup.this.id
  database    = aws_glue_catalog_database.this.name
  query       = each.value
}
