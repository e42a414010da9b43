# screening_lists: the created bucket is private, versioned, KMS-encrypted with its
# own rotating key and TLS-only, and keeps old list versions for a while; an
# existing bucket and prefix pass through without creating anything; the prefix
# cannot carry wildcards (it becomes the bidders' grant). The same module, with
# purpose = "segments" and current_version_days, makes the segment files' bucket,
# whose files expire; the default keeps the screening lists' names.

mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  name = "tern-test"
}

run "created_bucket" {
  command = apply

  assert {
    condition     = output.created && output.bucket_name == "tern-test-screening-123456789012" && aws_s3_bucket.this[0].force_destroy == false
    error_message = "The module creates <name>-screening-<account> (not force-destroyable by default)."
  }

  assert {
    condition     = output.prefix == "lists/" && output.s3_uri == "s3://tern-test-screening-123456789012/lists/"
    error_message = "The lists live under lists/ and s3_uri names bucket and prefix."
  }

  assert {
    condition = (
      aws_s3_bucket_public_access_block.this[0].block_public_acls &&
      aws_s3_bucket_public_access_block.this[0].block_public_policy &&
      aws_s3_bucket_public_access_block.this[0].ignore_public_acls &&
      aws_s3_bucket_public_access_block.this[0].restrict_public_buckets &&
      aws_s3_bucket_ownership_controls.this[0].rule[0].object_ownership == "BucketOwnerEnforced"
    )
    error_message = "Public access is blocked and ACLs are disabled."
  }

  assert {
    condition     = aws_s3_bucket_versioning.this[0].versioning_configuration[0].status == "Enabled"
    error_message = "The bucket is versioned (a bad upload can be rolled back)."
  }

  assert {
    condition = (
      one(aws_s3_bucket_server_side_encryption_configuration.this[0].rule).apply_server_side_encryption_by_default[0].sse_algorithm == "aws:kms" &&
      one(aws_s3_bucket_server_side_encryption_configuration.this[0].rule).apply_server_side_encryption_by_default[0].kms_master_key_id == aws_kms_key.this[0].arn &&
      aws_kms_key.this[0].enable_key_rotation &&
      output.kms_key_arn == aws_kms_key.this[0].arn
    )
    error_message = "SSE-KMS with the module's own rotating key, which the output names."
  }

  assert {
    condition = (
      jsondecode(aws_s3_bucket_policy.this[0].policy).Statement[0].Effect == "Deny" &&
      jsondecode(aws_s3_bucket_policy.this[0].policy).Statement[0].Condition == { Bool = { "aws:SecureTransport" = "false" } } &&
      contains(jsondecode(aws_s3_bucket_policy.this[0].policy).Statement[0].Resource, "${aws_s3_bucket.this[0].arn}/*")
    )
    error_message = "The bucket policy refuses every request without TLS."
  }

  assert {
    condition = (
      aws_s3_bucket_lifecycle_configuration.this[0].rule[0].noncurrent_version_expiration[0].noncurrent_days == 30 &&
      length(aws_s3_bucket_lifecycle_configuration.this[0].rule[0].expiration) == 0
    )
    error_message = "Current lists never expire; replaced versions are kept 30 days."
  }

  # The names the screening lists were created with (no change for existing stacks).
  assert {
    condition = (
      aws_kms_alias.this[0].name == "alias/tern-test-screening" &&
      aws_kms_key.this[0].description == "tern-test: screening lists bucket" &&
      aws_s3_bucket.this[0].tags["Purpose"] == "screening-lists" &&
      aws_s3_bucket_lifecycle_configuration.this[0].rule[0].id == "previous-lists"
    )
    error_message = "The default purpose keeps the screening lists' alias, key description, tag and lifecycle rule id."
  }
}

run "segments_bucket" {
  command = apply

  variables {
    purpose                 = "segments"
    prefix                  = "segments/"
    current_version_days    = 14
    noncurrent_version_days = 7
  }

  assert {
    condition = (
      output.created &&
      output.bucket_name == "tern-test-segments-123456789012" &&
      output.s3_uri == "s3://tern-test-segments-123456789012/segments/" &&
      aws_kms_alias.this[0].name == "alias/tern-test-segments" &&
      aws_kms_key.this[0].description == "tern-test: segments bucket" &&
      aws_s3_bucket.this[0].tags["Purpose"] == "segments"
    )
    error_message = "purpose names the bucket <name>-segments-<account>, its key alias and its Purpose tag."
  }

  assert {
    condition = (
      one(aws_s3_bucket_lifecycle_configuration.this[0].rule).id == "expire-files" &&
      one(aws_s3_bucket_lifecycle_configuration.this[0].rule).expiration[0].days == 14 &&
      one(aws_s3_bucket_lifecycle_configuration.this[0].rule).noncurrent_version_expiration[0].noncurrent_days == 7 &&
      one(aws_s3_bucket_lifecycle_configuration.this[0].rule).abort_incomplete_multipart_upload[0].days_after_initiation == 1 &&
      output.current_version_days == 14
    )
    error_message = "Dropped files expire current_version_days after upload; their old versions noncurrent_version_days later."
  }

  assert {
    condition = (
      aws_s3_bucket_versioning.this[0].versioning_configuration[0].status == "Enabled" &&
      one(aws_s3_bucket_server_side_encryption_configuration.this[0].rule).apply_server_side_encryption_by_default[0].kms_master_key_id == aws_kms_key.this[0].arn &&
      aws_kms_key.this[0].enable_key_rotation &&
      aws_s3_bucket_public_access_block.this[0].restrict_public_buckets &&
      jsondecode(aws_s3_bucket_policy.this[0].policy).Statement[0].Condition == { Bool = { "aws:SecureTransport" = "false" } }
    )
    error_message = "A segments bucket is as private, versioned, encrypted and TLS-only as the lists' bucket."
  }
}

run "rejects_expiry_for_an_existing_bucket" {
  command = plan

  variables {
    existing_bucket_name = "acme-data-drops"
    current_version_days = 14
  }

  expect_failures = [var.current_version_days]
}

run "rejects_a_zero_expiry" {
  command = plan

  variables {
    current_version_days = 0
  }

  expect_failures = [var.current_version_days]
}

run "rejects_a_fractional_expiry" {
  command = plan

  variables {
    current_version_days = 1.5
  }

  expect_failures = [var.current_version_days]
}

run "rejects_a_purpose_that_cannot_be_in_a_bucket_name" {
  command = plan

  variables {
    purpose = "Segments_2"
  }

  expect_failures = [var.purpose]
}

run "existing_bucket_and_prefix" {
  command = apply

  variables {
    existing_bucket_name = "acme-shared-config"
    existing_kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/acme"
    prefix               = "tern/prod/lists/"
  }

  assert {
    condition = (
      !output.created &&
      length(aws_s3_bucket.this) == 0 && length(aws_kms_key.this) == 0 && length(aws_s3_bucket_policy.this) == 0
    )
    error_message = "With an existing bucket nothing is created."
  }

  assert {
    condition = (
      output.bucket_name == "acme-shared-config" &&
      output.bucket_arn == "arn:aws:s3:::acme-shared-config" &&
      output.s3_uri == "s3://acme-shared-config/tern/prod/lists/" &&
      output.kms_key_arn == var.existing_kms_key_arn
    )
    error_message = "The existing bucket, prefix and key pass through."
  }
}

run "rejects_a_wildcard_prefix" {
  command = plan

  variables {
    prefix = "lists*/"
  }

  expect_failures = [var.prefix]
}

run "rejects_a_prefix_without_trailing_slash" {
  command = plan

  variables {
    prefix = "lists"
  }

  expect_failures = [var.prefix]
}

run "rejects_the_whole_bucket_as_prefix" {
  command = plan

  variables {
    prefix = "/"
  }

  expect_failures = [var.prefix]
}

run "rejects_a_key_for_a_created_bucket" {
  command = plan

  variables {
    existing_kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/acme"
  }

  expect_failures = [var.existing_kms_key_arn]
}
