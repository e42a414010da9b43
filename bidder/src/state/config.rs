//! `[campaigns]`: where campaigns come from (a file, the bundled examples, or a
//! DynamoDB table) and how often a file is checked.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::dynamodb::config::DynamoDbConfig;
use crate::error::{ConfigError, at_least_one};

/// Campaign source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CampaignsConfig {
    /// `file` (the embedded default) or `dynamodb`.
    pub source: SourceKind,
    /// Campaigns file (`.toml` or `.json`), re-read when it changes. Unset: the
    /// bundled example campaigns, compiled into the binary.
    pub path: Option<PathBuf>,
    /// How often the file is checked for changes, milliseconds.
    pub reload_interval_ms: u64,
    /// The DynamoDB source.
    pub dynamodb: DynamoDbConfig,
}

impl Default for CampaignsConfig {
    fn default() -> Self {
        CampaignsConfig {
            source: SourceKind::File,
            path: None,
            reload_interval_ms: 1_000,
            dynamodb: DynamoDbConfig::default(),
        }
    }
}

/// Where campaigns come from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// A local file, or the bundled examples.
    #[default]
    File,
    /// A DynamoDB table, scanned at start and then followed through its stream.
    Dynamodb,
}

impl CampaignsConfig {
    /// Checks what the types alone do not constrain, the DynamoDB source included.
    pub fn validate(&self) -> Result<(), ConfigError> {
        at_least_one(&[("campaigns.reload_interval_ms", self.reload_interval_ms)])?;
        if self.source == SourceKind::Dynamodb && self.path.is_some() {
            return Err(ConfigError::new(
                "campaigns.path",
                "is for source = \"file\"; unset it for dynamodb",
            ));
        }
        self.dynamodb.validate()
    }
}

#[cfg(test)]
mod tests {
    use crate::config::tests::assert_refused;

    #[test]
    fn each_rejected_value_names_its_key() {
        assert_refused(&[
            (
                "[campaigns]\nreload_interval_ms = 0",
                "campaigns.reload_interval_ms",
            ),
            ("[campaigns]\nsource = \"s3\"", "campaigns.source"),
            (
                "[campaigns]\nsource = \"dynamodb\"\npath = \"x.toml\"",
                "campaigns.path",
            ),
        ]);
    }
}
