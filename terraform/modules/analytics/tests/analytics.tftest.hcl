# analytics: the Glue table matches event schema v1 field for field (from
# event_columns.json), Firehose writes where partition projection reads, and every
# store (stream, buckets, Athena results) is KMS-encrypted.

mock_provider "aws" {
  source = "../../tests/mocks"
}

variables {
  name = "tern-test"
}

run "pipeline_and_schema" {
  command = apply

  assert {
    condition = [for c in aws_glue_catalog_table.events.storage_descriptor[0].columns : "${c.name}:${c.type}"] == [
      "v:int", "type:string", "ts_ms:bigint", "request_id:string", "imp_id:string", "campaign_id:string",
      "creative_id:string", "bid_price_micros:bigint", "win_price_micros:bigint", "win_price_source:string",
      "currency:string",
      "exchange:string", "publisher_id:string", "country:string", "device_type:int", "nobid_reason:string",
      "instance:string", "core:int", "latency_us:bigint", "auction_type:int", "loss_reason:int",
      "min_to_win_micros:bigint", "ivt_score:int", "ivt_features:array<double>",
      "segments:array<string>",
    ]
    error_message = "The Glue columns must be event schema v1, in order."
  }

  assert {
    condition = [for c in aws_glue_catalog_table.events.storage_descriptor[0].columns : c.name] == [
      for c in jsondecode(file("${path.module}/event_columns.json")) : c.name
    ]
    error_message = "The Glue columns come from event_columns.json."
  }

  assert {
    condition = sort(keys(aws_athena_named_query.this)) == tolist([
      "bid-latency", "loss-reasons", "min-to-win", "nobid-reasons", "spend-by-hour", "win-rate",
    ])
    error_message = "One named query per queries/*.sql file."
  }

  assert {
    condition = alltrue([
      for k, q in aws_athena_named_query.this :
      q.workgroup == aws_athena_workgroup.this.id &&
      q.database == aws_glue_catalog_database.this.name &&
      q.name == "tern-test-${k}" &&
      q.query == file("${path.module}/queries/${replace(k, "-", "_")}.sql") &&
      length(q.description) > 0 && !startswith(q.description, "--") && length(q.description) <= 1024 &&
      strcontains(q.query, "FROM events")
    ])
    error_message = "Each named query is its file, run in the workgroup on the Glue database's events table, with its first line as the description."
  }

  assert {
    condition     = strcontains(aws_athena_named_query.this["loss-reasons"].query, "WHEN loss_reason = 102 THEN 'lost to higher bid'")
    error_message = "The loss reasons query names the list 5.25 codes."
  }

  assert {
    condition     = aws_glue_catalog_table.events.storage_descriptor[0].ser_de_info[0].serialization_library == "org.openx.data.jsonserde.JsonSerDe"
    error_message = "Events are JSON."
  }

  assert {
    condition = (
      aws_glue_catalog_table.events.parameters["projection.enabled"] == "true" &&
      aws_glue_catalog_table.events.parameters["projection.dt.type"] == "date" &&
      aws_glue_catalog_table.events.partition_keys[0].name == "dt"
    )
    error_message = "Date partitions through partition projection (no crawler)."
  }

  assert {
    condition = (
      aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].prefix == "events/dt=!{timestamp:yyyy-MM-dd}/" &&
      aws_glue_catalog_table.events.parameters["projection.dt.format"] == "yyyy-MM-dd" &&
      endswith(aws_glue_catalog_table.events.parameters["storage.location.template"], "/events/dt=$${dt}/")
    )
    error_message = "Firehose's prefix and the projection template must describe the same paths."
  }

  assert {
    condition     = aws_kinesis_firehose_delivery_stream.this.kinesis_source_configuration[0].kinesis_stream_arn == aws_kinesis_stream.this.arn
    error_message = "Firehose reads the bidders' stream."
  }

  assert {
    condition     = aws_kinesis_stream.this.encryption_type == "KMS" && aws_kinesis_stream.this.kms_key_id == aws_kms_key.this.arn
    error_message = "The stream is encrypted with the CMK."
  }

  assert {
    condition     = aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].kms_key_arn == aws_kms_key.this.arn
    error_message = "Firehose writes objects with the CMK."
  }

  assert {
    condition = alltrue([
      for k, v in aws_s3_bucket_server_side_encryption_configuration.this :
      one(v.rule).apply_server_side_encryption_by_default[0].sse_algorithm == "aws:kms"
    ])
    error_message = "Both buckets default to SSE-KMS."
  }

  assert {
    condition = alltrue([
      for k, v in aws_s3_bucket_public_access_block.this :
      v.block_public_acls && v.block_public_policy && v.ignore_public_acls && v.restrict_public_buckets
    ])
    error_message = "Both buckets block public access."
  }

  assert {
    condition = alltrue([
      for k, v in aws_s3_bucket_lifecycle_configuration.this :
      v.rule[0].abort_incomplete_multipart_upload[0].days_after_initiation >= 1 && v.rule[0].expiration[0].days > 0
    ])
    error_message = "Lifecycle rules expire objects and abort stale uploads."
  }

  assert {
    condition = (
      aws_athena_workgroup.this.configuration[0].enforce_workgroup_configuration &&
      aws_athena_workgroup.this.configuration[0].result_configuration[0].encryption_configuration[0].encryption_option == "SSE_KMS"
    )
    error_message = "Athena enforces KMS-encrypted results."
  }

  assert {
    condition     = length(aws_athena_workgroup.this.tags) > 0
    error_message = "The workgroup carries tags (moto needs them too)."
  }

  assert {
    condition = alltrue([
      for st in jsondecode(aws_iam_role_policy.firehose.policy).Statement :
      alltrue([for r in st.Resource : r != "*"])
    ])
    error_message = "The Firehose role names every resource."
  }
}

run "rejects_lifecycle_out_of_order" {
  command = plan

  variables {
    events_ia_days      = 60
    events_glacier_days = 45
  }

  expect_failures = [var.events_glacier_days]
}
