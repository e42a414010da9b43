//! `[campaigns.dynamodb]`: the table, the scan and the stream polling.

use serde::{Deserialize, Serialize};

use crate::error::{ConfigError, at_least_one, retry_waits_in_order};

/// The DynamoDB campaign source. The endpoint, region and credentials come from the
/// standard AWS configuration (`AWS_ENDPOINT_URL`, `AWS_REGION`, the credentials chain).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DynamoDbConfig {
    /// Campaigns table (key `campaign_id`, stream with NEW_AND_OLD_IMAGES).
    pub table: String,
    /// Parallel segments of the bootstrap scan.
    pub scan_segments: u32,
    /// Pause between stream polls when no records came, milliseconds.
    pub poll_interval_ms: u64,
    /// How often the shard list is refreshed to find new shards, milliseconds.
    pub shard_refresh_ms: u64,
    /// Not ready while the source has not been caught up for this long, milliseconds.
    pub max_staleness_ms: u64,
    /// First retry delay after an error, milliseconds; doubles up to `retry_max_ms`.
    pub retry_initial_ms: u64,
    /// Longest retry delay, milliseconds.
    pub retry_max_ms: u64,
    /// Time allowed for one AWS call, milliseconds.
    pub request_timeout_ms: u64,
}

impl Default for DynamoDbConfig {
    fn default() -> Self {
        DynamoDbConfig {
            table: "tern-campaigns".to_owned(),
            scan_segments: 4,
            poll_interval_ms: 250,
            shard_refresh_ms: 10_000,
            max_staleness_ms: 10_000,
            retry_initial_ms: 100,
            retry_max_ms: 5_000,
            request_timeout_ms: 3_000,
        }
    }
}

impl DynamoDbConfig {
    /// Checks what the types alone do not constrain.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.table.is_empty() {
            return Err(ConfigError::new(
                "campaigns.dynamodb.table",
                "must not be empty",
            ));
        }
        if !(1..=64).contains(&self.scan_segments) {
            return Err(ConfigError::new(
                "campaigns.dynamodb.scan_segments",
                "must be between 1 and 64",
            ));
        }
        at_least_one(&[
            ("campaigns.dynamodb.poll_interval_ms", self.poll_interval_ms),
            ("campaigns.dynamodb.shard_refresh_ms", self.shard_refresh_ms),
            ("campaigns.dynamodb.retry_initial_ms", self.retry_initial_ms),
            (
                "campaigns.dynamodb.request_timeout_ms",
                self.request_timeout_ms,
            ),
        ])?;
        retry_waits_in_order(
            "campaigns.dynamodb",
            self.retry_initial_ms,
            self.retry_max_ms,
        )?;
        if self.max_staleness_ms <= self.poll_interval_ms {
            return Err(ConfigError::new(
                "campaigns.dynamodb.max_staleness_ms",
                "must be longer than campaigns.dynamodb.poll_interval_ms",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::config::tests::assert_refused;

    #[test]
    fn each_rejected_value_names_its_key() {
        assert_refused(&[
            (
                "[campaigns.dynamodb]\ntable = \"\"",
                "campaigns.dynamodb.table",
            ),
            (
                "[campaigns.dynamodb]\nscan_segments = 0",
                "campaigns.dynamodb.scan_segments",
            ),
            (
                "[campaigns.dynamodb]\npoll_interval_ms = 0",
                "campaigns.dynamodb.poll_interval_ms",
            ),
            (
                "[campaigns.dynamodb]\nshard_refresh_ms = 0",
                "campaigns.dynamodb.shard_refresh_ms",
            ),
            (
                "[campaigns.dynamodb]\nretry_initial_ms = 0",
                "campaigns.dynamodb.retry_initial_ms",
            ),
            (
                "[campaigns.dynamodb]\nrequest_timeout_ms = 0",
                "campaigns.dynamodb.request_timeout_ms",
            ),
            (
                "[campaigns.dynamodb]\nretry_max_ms = 10",
                "campaigns.dynamodb.retry_max_ms",
            ),
            (
                "[campaigns.dynamodb]\nmax_staleness_ms = 100",
                "campaigns.dynamodb.max_staleness_ms",
            ),
        ]);
    }
}
