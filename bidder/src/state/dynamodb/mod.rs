//! The DynamoDB campaign source: a full scan to start, then the table's stream.
//!
//! Runs on its own thread with a tokio current-thread runtime, so nothing here ever
//! touches a bid worker. Bootstrap takes stream positions *before* scanning, so a
//! change made during the scan is read again from the stream; the [`replica`]
//! applies changes by version, which makes that overlap (and any replay) harmless.
//! After each poll round that changed something, a new snapshot is built and
//! swapped in. See `docs/dynamodb.md` for the table design.

pub mod config;
mod replica;
pub mod seed;
mod shards;
mod stream;
mod tail;

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use futures_util::future::try_join_all;

use self::config::DynamoDbConfig;
use self::replica::{Applied, Change, Replica};
use self::shards::ShardTracker;
use self::stream::{AwsStream, ChangeStream, Position};
use self::tail::{RoundOutcome, poll_round};
use super::BidderState;
use crate::backoff::Backoff;
use crate::error::{AwsError, StartError};
use crate::lifecycle::{Background, StopSignal};
use tern_engine::clock::now_ms;
use tern_tables::campaigns;

/// Consecutive failed calls after which the source checks whether the table's
/// stream has changed.
const CHECK_STREAM_AFTER_FAILURES: u32 = 3;

/// The AWS clients the source uses, built from the standard AWS configuration.
#[derive(Debug, Clone)]
pub struct AwsClients {
    /// DynamoDB (describe, scan, and for seeding: create, put).
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// DynamoDB Streams.
    pub streams: aws_sdk_dynamodbstreams::Client,
}

impl AwsClients {
    /// Loads region, endpoint (`AWS_ENDPOINT_URL`) and credentials the standard way
    /// (see [`crate::aws::load_config`]), with the SDK's standard three tries per call.
    pub async fn load(request_timeout: Duration) -> Result<AwsClients, AwsError> {
        let shared = crate::aws::load_config(request_timeout, 3).await?;
        Ok(AwsClients::from_config(&shared))
    }

    /// Clients for an explicit configuration.
    pub fn from_config(shared: &aws_config::SdkConfig) -> AwsClients {
        AwsClients {
            dynamodb: aws_sdk_dynamodb::Client::new(shared),
            streams: aws_sdk_dynamodbstreams::Client::new(shared),
        }
    }
}

/// Starts the `dynamodb-sync` service: it bootstraps, then follows the stream,
/// on its own tokio runtime. The state stays not-ready until the first scan is
/// applied and whenever the source falls behind `max_staleness_ms`. When stopped it
/// ends after its current call.
pub fn start_sync(
    config: DynamoDbConfig,
    state: Arc<BidderState>,
) -> Result<Background, StartError> {
    state.sync().set_staleness_limit(config.max_staleness_ms);
    Background::spawn("dynamodb-sync", move |signal| {
        match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime.block_on(run(config, state, signal)),
            Err(e) => {
                tracing::error!(error = %e, "cannot build the sync runtime; no campaign sync")
            }
        }
    })
}

/// Bootstraps, tails, and starts over whenever the stream is lost.
async fn run(config: DynamoDbConfig, state: Arc<BidderState>, stop: StopSignal) {
    let mut backoff = Backoff::new(
        Duration::from_millis(config.retry_initial_ms),
        Duration::from_millis(config.retry_max_ms),
    );
    let clients = loop {
        match AwsClients::load(Duration::from_millis(config.request_timeout_ms)).await {
            Ok(clients) => break clients,
            Err(e) => {
                tracing::error!(error = %e, "cannot configure AWS clients");
                tokio::time::sleep(backoff.next_delay()).await;
            }
        }
    };
    while !stop.is_stopping() {
        let (stream, mut tracker, mut replica) = match bootstrap(&clients, &config, &state).await {
            Ok(started) => started,
            Err(e) => {
                tracing::warn!(error = %e, table = %config.table, "campaign table bootstrap failed; retrying");
                tokio::time::sleep(backoff.next_delay()).await;
                continue;
            }
        };
        backoff.reset();
        tail(&stream, &mut tracker, &mut replica, &config, &state, &stop).await;
    }
}

/// Follows the stream until it is lost (then the caller bootstraps again) or stop.
async fn tail<S: ChangeStream>(
    stream: &S,
    tracker: &mut ShardTracker,
    replica: &mut Replica,
    config: &DynamoDbConfig,
    state: &BidderState,
    stop: &StopSignal,
) {
    let mut backoff = Backoff::new(
        Duration::from_millis(config.retry_initial_ms),
        Duration::from_millis(config.retry_max_ms),
    );
    let refresh = Duration::from_millis(config.shard_refresh_ms);
    let poll_interval = Duration::from_millis(config.poll_interval_ms);
    let mut last_refresh = tokio::time::Instant::now();
    let mut refresh_now = false;
    let mut failures = 0u32;
    while !stop.is_stopping() {
        if failures >= CHECK_STREAM_AFTER_FAILURES {
            // Calls keep failing: if the table now has another stream (restored or
            // re-created), this one will never recover.
            if let Ok(false) = stream.is_current().await {
                tracing::warn!("the campaign table has a new stream; scanning again");
                return;
            }
        }
        if refresh_now || last_refresh.elapsed() >= refresh || tracker.readable().is_empty() {
            match stream.shards().await {
                Ok(shards) => {
                    let added = tracker.discover(&shards);
                    if added > 0 {
                        tracing::info!(added, "new stream shards");
                    }
                    last_refresh = tokio::time::Instant::now();
                    refresh_now = false;
                }
                Err(stream::StreamError::Gone(e)) => {
                    tracing::warn!(error = %e, "campaign stream lost; scanning again");
                    return;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "listing stream shards failed; retrying");
                    failures += 1;
                    tokio::time::sleep(backoff.next_delay()).await;
                    continue;
                }
            }
        }
        match poll_round(stream, tracker, replica, state.sync(), now_ms()).await {
            Ok(RoundOutcome {
                changed,
                records,
                fresh_at_ms,
                shard_finished,
            }) => {
                backoff.reset();
                state.sync().polled();
                if changed {
                    publish(replica, state);
                }
                if let Some(at) = fresh_at_ms {
                    state.sync().caught_up(at);
                }
                refresh_now |= shard_finished;
                if records == 0 {
                    tokio::time::sleep(poll_interval).await;
                }
            }
            Err(stream::StreamError::Gone(e)) => {
                tracing::warn!(error = %e, "campaign stream data lost; scanning again");
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, "reading the campaign stream failed; retrying");
                failures += 1;
                tokio::time::sleep(backoff.next_delay()).await;
            }
        }
    }
}

/// Swaps in a snapshot of the replica.
fn publish(replica: &Replica, state: &BidderState) {
    if let Err(e) = state.replace_campaigns(replica.campaigns()) {
        // Each campaign was checked on its way in; this is a bug, not bad data.
        tracing::error!(error = %e, "snapshot build failed; keeping the last good state");
    }
}

/// Takes stream positions, scans the table, and publishes the result.
async fn bootstrap(
    clients: &AwsClients,
    config: &DynamoDbConfig,
    state: &BidderState,
) -> Result<(AwsStream, ShardTracker, Replica), String> {
    let table = clients
        .dynamodb
        .describe_table()
        .table_name(&config.table)
        .send()
        .await
        .map_err(|e| {
            format!(
                "describe table {}: {}",
                config.table,
                crate::aws::error_text(&e)
            )
        })?;
    let arn = table
        .table
        .and_then(|t| t.latest_stream_arn)
        .ok_or_else(|| {
            format!(
                "table {} has no stream: enable NEW_AND_OLD_IMAGES",
                config.table
            )
        })?;
    let stream = AwsStream {
        client: clients.streams.clone(),
        tables: clients.dynamodb.clone(),
        table: config.table.clone(),
        arn,
    };
    let shards = stream.shards().await.map_err(|e| e.to_string())?;
    let mut open = Vec::new();
    for shard in shards.iter().filter(|s| !s.closed) {
        let iterator = stream
            .iterator(&shard.id, &Position::Latest)
            .await
            .map_err(|e| e.to_string())?;
        open.push((shard.id.clone(), iterator));
    }
    let tracker = ShardTracker::before_scan(&shards, open);

    let scan_started_ms = now_ms();
    let segments = config.scan_segments;
    let pages = try_join_all(
        (0..segments).map(|segment| scan_segment(clients, &config.table, segment, segments)),
    )
    .await?;
    let mut replica = Replica::new(Arc::clone(state.fx()));
    let (mut applied, mut rejected) = (0, 0);
    for item in pages.iter().flatten() {
        let outcome = match campaigns::from_table_item(item) {
            Ok(document) => replica.apply(Change::Upsert(document)),
            Err(e) => Applied::Rejected(e.to_string()),
        };
        match outcome {
            Applied::Changed => applied += 1,
            Applied::Stale => {}
            Applied::Rejected(reason) => {
                rejected += 1;
                tracing::warn!(%reason, "campaign item rejected");
                state.record_reject(reason);
            }
        }
    }
    state.sync().count(applied, rejected);
    publish(&replica, state);
    state.sync().bootstrapped();
    state.sync().polled();
    state.sync().caught_up(scan_started_ms);
    tracing::info!(campaigns = replica.len(), rejected, table = %config.table, "campaign table scanned");
    Ok((stream, tracker, replica))
}

/// Reads one segment of a parallel scan, page by page.
async fn scan_segment(
    clients: &AwsClients,
    table: &str,
    segment: u32,
    total: u32,
) -> Result<Vec<std::collections::HashMap<String, AttributeValue>>, String> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = clients
            .dynamodb
            .scan()
            .table_name(table)
            .consistent_read(true)
            .segment(segment as i32)
            .total_segments(total as i32)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .map_err(|e| {
                format!(
                    "scan {table} segment {segment}: {}",
                    crate::aws::error_text(&e)
                )
            })?;
        items.extend(page.items.unwrap_or_default());
        match page.last_evaluated_key {
            Some(key) if !key.is_empty() => start = Some(key),
            _ => return Ok(items),
        }
    }
}
