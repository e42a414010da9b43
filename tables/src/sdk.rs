//! How a Tern service talks to AWS: one way to load the SDK configuration and
//! one way to describe a failed call, shared by the bidder and the control plane.

use std::time::Duration;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

/// No region in the environment or profile: nothing can be called.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no AWS region configured: set AWS_REGION (or a profile's region)")]
pub struct NoRegion;

/// The standard AWS configuration (region, `AWS_ENDPOINT_URL`, the credentials
/// chain) with `timeout` for each call (and at most 2 s of it to connect) and at
/// most `max_attempts` tries of a call.
pub async fn load_config(
    timeout: Duration,
    max_attempts: u32,
) -> Result<aws_config::SdkConfig, NoRegion> {
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
        return Err(NoRegion);
    }
    Ok(config)
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
