//! Kinesis Data Streams: the production event sink (Firehose lands it in S3).

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;

use super::config::EventKinesisConfig;
use super::sink::{Sink, SinkError};
use crate::error::StartError;

/// Sends batches with `PutRecords`, from the shipper thread's own runtime.
pub(crate) struct KinesisSink {
    runtime: tokio::runtime::Runtime,
    client: aws_sdk_kinesis::Client,
    stream: String,
}

impl KinesisSink {
    /// Loads the standard AWS configuration (`AWS_ENDPOINT_URL`, `AWS_REGION`,
    /// credentials chain); fails without a region.
    pub(crate) fn new(config: &EventKinesisConfig) -> Result<KinesisSink, StartError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|source| StartError::Thread {
                thread: "event-shipper",
                source,
            })?;
        let timeout = std::time::Duration::from_millis(config.request_timeout_ms);
        // Two tries: the shipper retries refused records itself, with its own backoff.
        let shared = runtime
            .block_on(crate::aws::load_config(timeout, 2))
            .map_err(StartError::Events)?;
        Ok(KinesisSink {
            runtime,
            client: aws_sdk_kinesis::Client::new(&shared),
            stream: config.stream.clone(),
        })
    }
}

/// A partition key that spreads events evenly over shards.
fn partition_key(line: &[u8]) -> String {
    format!("{:032x}", xxhash_rust::xxh3::xxh3_128(line))
}

impl Sink for KinesisSink {
    fn send(&mut self, batch: &[Vec<u8>], failed: &mut Vec<usize>) -> Result<(), SinkError> {
        let entries = batch
            .iter()
            .map(|line| {
                PutRecordsRequestEntry::builder()
                    .data(Blob::new(line.clone()))
                    .partition_key(partition_key(line))
                    .build()
                    .map_err(|e| SinkError(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let request = self
            .client
            .put_records()
            .stream_name(&self.stream)
            .set_records(Some(entries));
        let answer = self
            .runtime
            .block_on(request.send())
            .map_err(|e| SinkError(crate::aws::error_text(&e)))?;
        if answer.failed_record_count.unwrap_or(0) > 0 {
            failed.extend(
                answer
                    .records
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| r.error_code.is_some())
                    .map(|(i, _)| i),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_keys_are_fixed_length_and_differ_per_event() {
        let a = partition_key(b"{\"request_id\":\"a\"}\n");
        let b = partition_key(b"{\"request_id\":\"b\"}\n");
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }
}
