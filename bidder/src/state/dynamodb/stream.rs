//! The change stream as the sync logic sees it: a trait with the three calls it
//! makes, implemented over DynamoDB Streams. Tests drive the same logic with a
//! scripted stream to cover what a local emulator cannot (shard splits, closed
//! shards, expired iterators, throttling).

use aws_sdk_dynamodbstreams::error::ProvideErrorMetadata;
use aws_sdk_dynamodbstreams::types::{OperationType, ShardIteratorType};

use super::replica::Change;
use tern_tables::campaigns::{ItemError, KEY_ATTRIBUTE, VERSION_ATTRIBUTE, from_stream_image};

/// One shard of the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ShardInfo {
    /// Shard id.
    pub(crate) id: String,
    /// The shard this one was split from, if any.
    pub(crate) parent: Option<String>,
    /// Whether the shard has an ending sequence number (no new records will come).
    pub(crate) closed: bool,
}

/// Where a new iterator starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Position {
    /// The oldest record still kept.
    TrimHorizon,
    /// After the newest record now in the shard.
    Latest,
    /// After this sequence number.
    After(String),
}

/// One stream record, converted.
#[derive(Debug, Clone)]
pub(crate) struct StreamRecord {
    /// Its sequence number in the shard.
    pub(crate) sequence: String,
    /// The change, or why it cannot be read.
    pub(crate) change: Result<Change, ItemError>,
    /// When DynamoDB made the record, seconds since the Unix epoch.
    pub(crate) created_at_s: Option<f64>,
}

/// One `GetRecords` answer.
#[derive(Debug, Clone, Default)]
pub(crate) struct Page {
    /// Records in order.
    pub(crate) records: Vec<StreamRecord>,
    /// Iterator for the next call; `None` when the shard is closed and read to its end.
    pub(crate) next: Option<String>,
}

/// Why a stream call failed, by what the caller should do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum StreamError {
    /// The iterator is older than 15 minutes: get a new one from the last position.
    #[error("shard iterator expired")]
    ExpiredIterator,
    /// Slow down and retry.
    #[error("throttled: {0}")]
    Throttled(String),
    /// The stream, or the data asked for, is gone: start over with a new scan.
    #[error("stream data gone: {0}")]
    Gone(String),
    /// Anything else (network, server error): retry with backoff.
    #[error("{0}")]
    Other(String),
}

/// The calls the sync makes on a stream.
pub(crate) trait ChangeStream {
    /// Every shard the stream has now.
    async fn shards(&self) -> Result<Vec<ShardInfo>, StreamError>;
    /// A new iterator for `shard` at `at`.
    async fn iterator(&self, shard: &str, at: &Position) -> Result<String, StreamError>;
    /// The next page of records.
    async fn records(&self, iterator: &str) -> Result<Page, StreamError>;
    /// Whether this is still the table's stream (a restored or re-created table has
    /// a new one). Asked when calls keep failing.
    async fn is_current(&self) -> Result<bool, StreamError>;
}

/// DynamoDB Streams, for one stream ARN of one table.
pub(crate) struct AwsStream {
    pub(crate) client: aws_sdk_dynamodbstreams::Client,
    pub(crate) tables: aws_sdk_dynamodb::Client,
    pub(crate) table: String,
    pub(crate) arn: String,
}

/// Classifies an SDK error by its service error code.
pub(crate) fn classify<E: ProvideErrorMetadata + std::error::Error + 'static>(
    error: &aws_sdk_dynamodbstreams::error::SdkError<E>,
) -> StreamError {
    let text = crate::aws::error_text(error);
    match error.code() {
        Some("ExpiredIteratorException") => StreamError::ExpiredIterator,
        Some(
            "LimitExceededException"
            | "ThrottlingException"
            | "ProvisionedThroughputExceededException",
        ) => StreamError::Throttled(text),
        Some("ResourceNotFoundException" | "TrimmedDataAccessException") => StreamError::Gone(text),
        _ => StreamError::Other(text),
    }
}

impl ChangeStream for AwsStream {
    async fn shards(&self) -> Result<Vec<ShardInfo>, StreamError> {
        let mut shards = Vec::new();
        let mut start: Option<String> = None;
        loop {
            let answer = self
                .client
                .describe_stream()
                .stream_arn(&self.arn)
                .set_exclusive_start_shard_id(start.take())
                .send()
                .await
                .map_err(|e| classify(&e))?;
            let Some(description) = answer.stream_description else {
                break;
            };
            for shard in description.shards.unwrap_or_default() {
                let Some(id) = shard.shard_id else { continue };
                let closed = shard
                    .sequence_number_range
                    .as_ref()
                    .is_some_and(|r| r.ending_sequence_number.is_some());
                shards.push(ShardInfo {
                    id,
                    parent: shard.parent_shard_id,
                    closed,
                });
            }
            match description.last_evaluated_shard_id {
                Some(last) => start = Some(last),
                None => break,
            }
        }
        Ok(shards)
    }

    async fn iterator(&self, shard: &str, at: &Position) -> Result<String, StreamError> {
        let request = self
            .client
            .get_shard_iterator()
            .stream_arn(&self.arn)
            .shard_id(shard);
        let request = match at {
            Position::TrimHorizon => request.shard_iterator_type(ShardIteratorType::TrimHorizon),
            Position::Latest => request.shard_iterator_type(ShardIteratorType::Latest),
            Position::After(sequence) => request
                .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                .sequence_number(sequence),
        };
        let answer = request.send().await.map_err(|e| classify(&e))?;
        answer
            .shard_iterator
            .ok_or_else(|| StreamError::Gone(format!("no iterator for shard {shard}")))
    }

    async fn records(&self, iterator: &str) -> Result<Page, StreamError> {
        let answer = self
            .client
            .get_records()
            .shard_iterator(iterator)
            .send()
            .await
            .map_err(|e| classify(&e))?;
        let records = answer
            .records
            .unwrap_or_default()
            .into_iter()
            .filter_map(|record| {
                let kind = record.event_name?;
                let data = record.dynamodb?;
                Some(StreamRecord {
                    sequence: data.sequence_number.clone().unwrap_or_default(),
                    created_at_s: data.approximate_creation_date_time.map(|t| t.as_secs_f64()),
                    change: to_change(&kind, &data),
                })
            })
            .collect();
        Ok(Page {
            records,
            next: answer.next_shard_iterator,
        })
    }

    async fn is_current(&self) -> Result<bool, StreamError> {
        match self
            .tables
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
        {
            Ok(answer) => {
                let latest = answer.table.and_then(|t| t.latest_stream_arn);
                Ok(latest.as_deref() == Some(self.arn.as_str()))
            }
            Err(e) if e.code() == Some("ResourceNotFoundException") => Ok(false),
            Err(e) => Err(StreamError::Other(crate::aws::error_text(&e))),
        }
    }
}

fn to_change(
    kind: &OperationType,
    data: &aws_sdk_dynamodbstreams::types::StreamRecord,
) -> Result<Change, ItemError> {
    let key = || {
        data.keys
            .as_ref()
            .and_then(|k| k.get(KEY_ATTRIBUTE))
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_else(|| "(no key)".to_owned())
    };
    match kind {
        OperationType::Remove => {
            let version = data
                .old_image
                .as_ref()
                .and_then(|image| image.get(VERSION_ATTRIBUTE))
                .and_then(|v| v.as_n().ok())
                .and_then(|n| n.parse().ok());
            Ok(Change::Delete { id: key(), version })
        }
        _ => {
            let image = data.new_image.as_ref().ok_or_else(|| ItemError {
                id: key(),
                reason: "stream record without a new image (is the view NEW_AND_OLD_IMAGES?)"
                    .to_owned(),
            })?;
            from_stream_image(image).map(Change::Upsert)
        }
    }
}
