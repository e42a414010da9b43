# Screening lists: the S3 prefix every bidder polls for its invalid-traffic and
# supply-chain lists (bots, IP ranges, ads.txt, app-ads.txt, sellers.json and the
# scoring model, in the layout of docs/ivt.md). Operators upload with
# `aws s3 sync`; each bidder lists the prefix every screening.poll_interval_ms and
# reloads when a key, ETag or size changed. Either this module creates the bucket
# (versioned, so an upload can be rolled back; SSE-KMS with its own key; public
# access blocked; TLS only), or it passes through an existing bucket and prefix.
#
# Nothing in it is specific to the lists but their names: with `purpose` (default
# "screening") and `current_version_days` (objects expire) the same bucket serves
# other files the bidders read from one prefix, e.g. the segment files `bidder
# segments load` reads (purpose = "segments"; the envs instantiate it twice).

data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id
  create     = var.existing_bucket_name == null
  # Bucket names are global: the account id keeps them unique.
  bucket_name = local.create ? "${var.name}-${var.purpose}-${local.account_id}" : var.existing_bucket_name
  # The screening lists keep the names they were created with (tag, key
  # description); another purpose is named after itself.
  purpose_tag = var.purpose == "screening" ? "screening-lists" : var.purpose
}

resource "aws_kms_key" "this" {
  count = local.create ? 1 : 0

  description         = "${var.name}: ${replace(local.purpose_tag, "-", " ")} bucket"
  enable_key_rotation = true
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      # Use is granted by IAM: the bidders' role (kms:Decrypt through S3 only) and
      # the operators who upload.
      Sid       = "AccountAdmin"
      Effect    = "Allow"
      Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
      Action    = "kms:*"
      Resource  = "*"
    }]
  })

  tags = var.tags
}

resource "aws_kms_alias" "this" {
  count = local.create ? 1 : 0

  name          = "alias/${var.name}-${var.purpose}"
  target_key_id = aws_kms_key.this[0].key_id
}

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_18:Server access logs belong in the account's central log-archive bucket, outside this stack; CloudTrail data events cover audit.
  #checkov:skip=CKV_AWS_144:The objects are copies (screening lists: of public lists and of files in the operators' repository; segment files: of the data team's exports), versioned here; cross-region replication is not worth its cost.
  #checkov:skip=CKV2_AWS_62:Nothing consumes object events: the bidders poll the prefix (screening.poll_interval_ms; segment files: tern-segments-load.timer).
  count = local.create ? 1 : 0

  bucket        = local.bucket_name
  force_destroy = var.force_destroy

  tags = merge(var.tags, { Purpose = local.purpose_tag })
}

resource "aws_s3_bucket_ownership_controls" "this" {
  count = local.create ? 1 : 0

  bucket = aws_s3_bucket.this[0].id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  count = local.create ? 1 : 0

  bucket                  = aws_s3_bucket.this[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  count = local.create ? 1 : 0

  bucket = aws_s3_bucket.this[0].id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  count = local.create ? 1 : 0

  bucket = aws_s3_bucket.this[0].id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.this[0].arn
    }
    bucket_key_enabled = true
  }
}

# Current objects stay until replaced (the screening lists), or expire
# current_version_days after their upload (dropped files, e.g. segments: a delete
# marker takes their place, and S3 removes it once it is the only version left);
# replaced, deleted and expired versions are kept for noncurrent_version_days so a
# bad upload can be rolled back.
resource "aws_s3_bucket_lifecycle_configuration" "this" {
  count = local.create ? 1 : 0

  bucket = aws_s3_bucket.this[0].id

  rule {
    id     = var.current_version_days == null ? "previous-lists" : "expire-files"
    status = "Enabled"

    filter {
      prefix = ""
    }

    dynamic "expiration" {
      for_each = var.current_version_days == null ? [] : [var.current_version_days]
      content {
        days = expiration.value
      }
    }

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_s3_bucket_policy" "this" {
  count = local.create ? 1 : 0

  bucket = aws_s3_bucket.this[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [aws_s3_bucket.this[0].arn, "${aws_s3_bucket.this[0].arn}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })

  depends_on = [aws_s3_bucket_public_access_block.this]
}
