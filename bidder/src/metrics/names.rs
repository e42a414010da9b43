//! Every metric name the bidder exports, defined once. Dashboards, alarms and the
//! CloudWatch agent config in `packer/` refer to these names.

/// Counter: HTTP requests answered on the bid listener.
pub const REQUESTS_TOTAL: &str = "tern_requests_total";
/// Counter by `status`: responses written on the bid listener.
pub const RESPONSES_TOTAL: &str = "tern_responses_total";
/// Counter: bids placed (one per won impression).
pub const BIDS_TOTAL: &str = "tern_bids_total";
/// Counter by `reason`: bid requests answered with no bid.
pub const NOBIDS_TOTAL: &str = "tern_nobids_total";
/// Counter by `kind` (`win`, `imp`, `click`) and `outcome`: notices received.
pub const NOTICES_TOTAL: &str = "tern_notices_total";
/// Counter: spend debited by billing notices, micros of campaign currency.
pub const SPEND_MICROS_TOTAL: &str = "tern_spend_micros_total";
/// Histogram: time from a request's first byte to its response, seconds.
pub const REQUEST_DURATION_SECONDS: &str = "tern_request_duration_seconds";
/// Gauge: median request duration over the last one to two minutes, seconds.
pub const REQUEST_DURATION_P50: &str = "tern_request_duration_p50_seconds";
/// Gauge: 99th percentile request duration over the last one to two minutes, seconds.
pub const REQUEST_DURATION_P99: &str = "tern_request_duration_p99_seconds";
/// Gauge: 99.9th percentile request duration over the last one to two minutes, seconds.
pub const REQUEST_DURATION_P999: &str = "tern_request_duration_p999_seconds";
/// Gauge: open connections on the bid listener.
pub const CONNECTIONS_OPEN: &str = "tern_connections_open";
/// Counter: connections accepted on the bid listener.
pub const CONNECTIONS_ACCEPTED_TOTAL: &str = "tern_connections_accepted_total";
/// Counter: connections closed at once because a worker was full.
pub const CONNECTIONS_REJECTED_TOTAL: &str = "tern_connections_rejected_total";
/// Counter: requests whose handling panicked (answered 500).
pub const PANICS_TOTAL: &str = "tern_panics_total";
/// Gauge: 1 when the bidder wants traffic (state loaded, not draining).
pub const READY: &str = "tern_ready";
/// Gauge: campaigns able to bid in the current snapshot.
pub const CAMPAIGNS_ACTIVE: &str = "tern_campaigns_active";
/// Gauge: paused campaigns in the current snapshot.
pub const CAMPAIGNS_PAUSED: &str = "tern_campaigns_paused";
/// Gauge: active campaigns whose daily or total budget is spent.
pub const CAMPAIGNS_BUDGET_EXHAUSTED: &str = "tern_campaigns_budget_exhausted";
/// Counter: campaign state updates applied.
pub const STATE_UPDATES_TOTAL: &str = "tern_state_updates_total";
/// Counter: campaign state updates rejected (the last good state kept serving).
pub const STATE_REJECTS_TOTAL: &str = "tern_state_rejects_total";
/// Gauge: seconds since the campaign state was last loaded successfully.
pub const STATE_AGE_SECONDS: &str = "tern_state_age_seconds";
/// Gauge: seconds since the remote campaign source was last known to be caught up.
pub const SYNC_LAG_SECONDS: &str = "tern_sync_lag_seconds";
/// Gauge: seconds since the remote campaign source last answered a poll.
pub const SYNC_LAST_POLL_AGE_SECONDS: &str = "tern_sync_last_poll_age_seconds";
/// Counter: source records (scan items and stream records) applied.
pub const SYNC_RECORDS_APPLIED_TOTAL: &str = "tern_sync_records_applied_total";
/// Counter: source records rejected as invalid and skipped.
pub const SYNC_RECORDS_REJECTED_TOTAL: &str = "tern_sync_records_rejected_total";
/// Counter: full scans of the campaign table.
pub const SYNC_BOOTSTRAPS_TOTAL: &str = "tern_sync_bootstraps_total";
/// Counter by `result`: frequency-cap checks of bid requests (`ok`, `timeout`,
/// `unavailable`, `busy`, `no_user`).
pub const FREQ_CAP_CHECKS_TOTAL: &str = "tern_freq_cap_checks_total";
/// Counter by `policy`: requests whose caps could not be checked and fell back.
pub const FREQ_CAP_FALLBACKS_TOTAL: &str = "tern_freq_cap_fallbacks_total";
/// Counter: candidate campaigns left out because the user reached their cap.
pub const FREQ_CAPPED_TOTAL: &str = "tern_freq_capped_total";
/// Counter by `result`: impressions counted against caps from billing notices.
pub const FREQ_CAP_RECORDS_TOTAL: &str = "tern_freq_cap_records_total";
/// Histogram: Redis round trips of the frequency-cap store, seconds.
pub const REDIS_DURATION_SECONDS: &str = "tern_redis_duration_seconds";
/// Gauge: 99th percentile Redis round trip since start, seconds.
pub const REDIS_DURATION_P99: &str = "tern_redis_duration_p99_seconds";
/// Counter: events put into the workers' queues.
pub const EVENTS_ACCEPTED_TOTAL: &str = "tern_events_accepted_total";
/// Counter by `stage`: events dropped (`queue_full` on the bid path, `sink` when the
/// sink never took them before shutdown).
pub const EVENTS_DROPPED_TOTAL: &str = "tern_events_dropped_total";
/// Counter: events the sink acknowledged.
pub const EVENTS_SENT_TOTAL: &str = "tern_events_sent_total";
/// Counter: event sends retried.
pub const EVENTS_RETRIED_TOTAL: &str = "tern_events_retried_total";
/// Gauge: events waiting in the workers' queues.
pub const EVENTS_QUEUE_DEPTH: &str = "tern_events_queue_depth";
/// Gauge: events taken from the queues and not yet acknowledged by the sink.
pub const EVENTS_PENDING: &str = "tern_events_pending";
/// Histogram: time per sink batch, seconds.
pub const EVENTS_BATCH_DURATION_SECONDS: &str = "tern_events_batch_duration_seconds";
/// Gauge: worker threads.
pub const WORKERS: &str = "tern_workers";
