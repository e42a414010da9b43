//! Helpers shared by the AWS side services (campaign sync, event shipping).

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

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
