//! `[events]`: which sink, how events are sampled, queued, batched and retried,
//! and the file and Kinesis sinks' own settings.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::{ConfigError, at_least_one, retry_waits_in_order};

/// The event log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EventsConfig {
    /// `file` (rotating NDJSON; the embedded default), `kinesis`, or `none`.
    pub sink: EventSinkKind,
    /// Bidder instance written into every event; empty: the host name.
    pub instance: String,
    /// Share of no-bids recorded, 0 to 1.
    pub nobid_sample_rate: f64,
    /// Events each worker's queue holds; when full, new events are dropped and counted.
    pub queue_capacity: usize,
    /// Events per sink batch (Kinesis `PutRecords` takes at most 500).
    pub batch_records: usize,
    /// Longest an event waits for its batch to fill, milliseconds.
    pub batch_linger_ms: u64,
    /// Events held while the sink is failing; beyond it, queues fill and drop.
    pub max_buffered_records: usize,
    /// First retry delay after a failed batch, milliseconds; doubles up to `retry_max_ms`.
    pub retry_initial_ms: u64,
    /// Longest retry delay, milliseconds.
    pub retry_max_ms: u64,
    /// The file sink.
    pub file: EventFileConfig,
    /// The Kinesis sink.
    pub kinesis: EventKinesisConfig,
}

impl Default for EventsConfig {
    fn default() -> Self {
        EventsConfig {
            sink: EventSinkKind::File,
            instance: String::new(),
            nobid_sample_rate: 0.01,
            queue_capacity: 65_536,
            batch_records: 500,
            batch_linger_ms: 200,
            max_buffered_records: 100_000,
            retry_initial_ms: 100,
            retry_max_ms: 5_000,
            file: EventFileConfig::default(),
            kinesis: EventKinesisConfig::default(),
        }
    }
}

impl EventsConfig {
    /// `instance`, or the host name when it is empty.
    pub fn instance_or_host(&self) -> String {
        if self.instance.is_empty() {
            super::host_name()
        } else {
            self.instance.clone()
        }
    }
}

/// Where events go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventSinkKind {
    /// Rotating NDJSON files.
    #[default]
    File,
    /// A Kinesis data stream.
    Kinesis,
    /// Nowhere: events are not recorded.
    None,
}

/// The file sink.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EventFileConfig {
    /// Directory of the NDJSON files (created if missing).
    pub dir: PathBuf,
    /// A file is closed and a new one started past this size, bytes.
    pub max_file_bytes: u64,
    /// ... or past this age, seconds.
    pub max_file_age_s: u64,
}

impl Default for EventFileConfig {
    fn default() -> Self {
        EventFileConfig {
            dir: PathBuf::from("events"),
            max_file_bytes: 64 * 1024 * 1024,
            max_file_age_s: 3_600,
        }
    }
}

/// The Kinesis sink. Endpoint, region and credentials come from the standard AWS
/// configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EventKinesisConfig {
    /// Stream name.
    pub stream: String,
    /// Time allowed for one `PutRecords` call, milliseconds.
    pub request_timeout_ms: u64,
}

impl Default for EventKinesisConfig {
    fn default() -> Self {
        EventKinesisConfig {
            stream: "tern-events".to_owned(),
            request_timeout_ms: 5_000,
        }
    }
}

impl EventsConfig {
    /// Checks what the types alone do not constrain.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(0.0..=1.0).contains(&self.nobid_sample_rate) {
            return Err(ConfigError::new(
                "events.nobid_sample_rate",
                "must be between 0 and 1",
            ));
        }
        if !(1..=16_777_216).contains(&self.queue_capacity) {
            return Err(ConfigError::new(
                "events.queue_capacity",
                "must be between 1 and 16777216",
            ));
        }
        if !(1..=500).contains(&self.batch_records) {
            return Err(ConfigError::new(
                "events.batch_records",
                "must be between 1 and 500",
            ));
        }
        if self.max_buffered_records < self.batch_records {
            return Err(ConfigError::new(
                "events.max_buffered_records",
                "must be at least events.batch_records",
            ));
        }
        at_least_one(&[
            ("events.retry_initial_ms", self.retry_initial_ms),
            ("events.file.max_file_bytes", self.file.max_file_bytes),
            ("events.file.max_file_age_s", self.file.max_file_age_s),
            (
                "events.kinesis.request_timeout_ms",
                self.kinesis.request_timeout_ms,
            ),
        ])?;
        retry_waits_in_order("events", self.retry_initial_ms, self.retry_max_ms)?;
        if self.sink == EventSinkKind::Kinesis && self.kinesis.stream.is_empty() {
            return Err(ConfigError::new(
                "events.kinesis.stream",
                "must not be empty",
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
            ("[events]\nsink = \"kafka\"", "events.sink"),
            (
                "[events]\nnobid_sample_rate = 1.5",
                "events.nobid_sample_rate",
            ),
            ("[events]\nqueue_capacity = 0", "events.queue_capacity"),
            ("[events]\nbatch_records = 501", "events.batch_records"),
            (
                "[events]\nmax_buffered_records = 10",
                "events.max_buffered_records",
            ),
            ("[events]\nretry_initial_ms = 0", "events.retry_initial_ms"),
            ("[events]\nretry_max_ms = 1", "events.retry_max_ms"),
            (
                "[events.file]\nmax_file_bytes = 0",
                "events.file.max_file_bytes",
            ),
            (
                "[events.file]\nmax_file_age_s = 0",
                "events.file.max_file_age_s",
            ),
            (
                "[events.kinesis]\nrequest_timeout_ms = 0",
                "events.kinesis.request_timeout_ms",
            ),
            (
                "[events]\nsink = \"kinesis\"\n[events.kinesis]\nstream = \"\"",
                "events.kinesis.stream",
            ),
        ]);
    }
}
