//! What the AWS side services (campaign sync, event shipping, seeding, budgets)
//! share: the SDK configuration and failed calls as the bidder's [`AwsError`].

use std::time::Duration;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

use crate::error::AwsError;

/// The standard AWS configuration with `timeout` per call and at most
/// `max_attempts` tries (see [`tern_tables::sdk::load_config`]). Fails when no
/// region is configured.
pub async fn load_config(
    timeout: Duration,
    max_attempts: u32,
) -> Result<aws_config::SdkConfig, AwsError> {
    tern_tables::sdk::load_config(timeout, max_attempts)
        .await
        .map_err(|_| AwsError::NoRegion)
}

/// A failed call as an [`AwsError`]: `operation` (what was asked) and
/// [`error_text`].
pub fn call_error<E, R>(operation: impl Into<String>, error: &SdkError<E, R>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    AwsError::Call {
        operation: operation.into(),
        text: error_text(error),
    }
}

pub use tern_tables::sdk::error_text;

/// An S3 client from the standard AWS configuration (`timeout` per call, at most
/// `max_attempts` tries), addressing buckets by path when an endpoint is
/// configured (a local emulator such as moto) and by virtual host otherwise.
pub async fn s3_client(
    timeout: Duration,
    max_attempts: u32,
) -> Result<aws_sdk_s3::Client, AwsError> {
    let shared = load_config(timeout, max_attempts).await?;
    let config = aws_sdk_s3::config::Builder::from(&shared)
        .force_path_style(shared.endpoint_url().is_some())
        .build();
    Ok(aws_sdk_s3::Client::from_conf(config))
}

/// Every object under `location`'s prefix, as ListObjectsV2 lists them (every
/// page, in S3's key order); `what` names the listing in errors.
pub async fn list_prefix(
    client: &aws_sdk_s3::Client,
    location: &S3Location,
    what: &str,
) -> Result<Vec<aws_sdk_s3::types::Object>, AwsError> {
    let mut objects = Vec::new();
    let mut token = None;
    loop {
        let page = client
            .list_objects_v2()
            .bucket(&location.bucket)
            .prefix(&location.prefix)
            .set_continuation_token(token.take())
            .send()
            .await
            .map_err(|e| call_error(what, &e))?;
        objects.extend_from_slice(page.contents());
        match page.next_continuation_token() {
            Some(next) if page.is_truncated() == Some(true) => token = Some(next.to_owned()),
            _ => return Ok(objects),
        }
    }
}

/// A bucket and key prefix, from `s3://bucket/prefix/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    /// Bucket name.
    pub bucket: String,
    /// Key prefix, empty or ending in `/`.
    pub prefix: String,
}

impl S3Location {
    /// Parses `s3://bucket[/prefix[/]]`; the prefix gets its trailing `/`.
    pub fn parse(uri: &str) -> Result<S3Location, &'static str> {
        let rest = uri
            .strip_prefix("s3://")
            .ok_or("must look like s3://bucket/prefix/")?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err("names no bucket (s3://bucket/prefix/)");
        }
        let prefix = match prefix.trim_end_matches('/') {
            "" => String::new(),
            p => format!("{p}/"),
        };
        Ok(S3Location {
            bucket: bucket.to_owned(),
            prefix,
        })
    }
}
