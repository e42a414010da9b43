//! What the AWS side services (campaign sync, event shipping, seeding) share: one
//! way to load the SDK configuration, and one way to describe a failed call.

use std::time::Duration;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

use crate::error::AwsError;

/// The standard AWS configuration (region, `AWS_ENDPOINT_URL`, the credentials
/// chain) with `timeout` for each call (and at most 2 s of it to connect) and at
/// most `max_attempts` tries of a call. Fails when no region is configured.
pub async fn load_config(
    timeout: Duration,
    max_attempts: u32,
) -> Result<aws_config::SdkConfig, AwsError> {
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .operation_timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(2)))
        .build();
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .timeout_config(timeouts)
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(max_attempts))
        .load()
        .await;
    if config.region().is_none() {
        return Err(AwsError::NoRegion);
    }
    Ok(config)
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

/// An AWS SDK error as one line: the service's error code and message, or the
/// transport error with its causes (the SDK's own `Display` stops at "dispatch
/// failure").
pub fn error_text<E, R>(error: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match (error.code(), error.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_owned(),
        _ => {
            use std::error::Error as _;
            let mut text = error.to_string();
            let mut source = error.source();
            while let Some(cause) = source {
                text.push_str(": ");
                text.push_str(&cause.to_string());
                source = cause.source();
            }
            text
        }
    }
}
