//! Every metric the bidder exports, defined once: name, type, help text and label
//! names. Recording goes through typed calls (`WorkerMetrics`), rendering reads
//! this table, and dashboards, alarms and the CloudWatch agent config in `packer/`
//! refer to these names.

/// What kind of Prometheus metric it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// Only goes up.
    Counter,
    /// Goes up and down.
    Gauge,
    /// Observations in cumulative buckets, in seconds.
    Histogram,
}

impl MetricKind {
    /// The `# TYPE` word.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricKind::Counter => "counter",
            MetricKind::Gauge => "gauge",
            MetricKind::Histogram => "histogram",
        }
    }
}

/// One metric family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metric {
    /// Exported name.
    pub name: &'static str,
    /// Counter, gauge or histogram.
    pub kind: MetricKind,
    /// The `# HELP` text.
    pub help: &'static str,
    /// Label names, in the order values are given.
    pub labels: &'static [&'static str],
}

const fn metric(
    name: &'static str,
    kind: MetricKind,
    help: &'static str,
    labels: &'static [&'static str],
) -> Metric {
    Metric {
        name,
        kind,
        help,
        labels,
    }
}

use MetricKind::{Counter, Gauge, Histogram};

/// HTTP requests answered on the bid listener.
pub const REQUESTS_TOTAL: Metric = metric(
    "tern_requests_total",
    Counter,
    "HTTP requests answered on the bid listener.",
    &[],
);
/// Responses on the bid listener by `status` (`other` for unlisted codes).
pub const RESPONSES_TOTAL: Metric = metric(
    "tern_responses_total",
    Counter,
    "Responses on the bid listener by status.",
    &["status"],
);
/// Bids placed, one per won impression.
pub const BIDS_TOTAL: Metric = metric(
    "tern_bids_total",
    Counter,
    "Bids placed, one per won impression.",
    &[],
);
/// Bid requests answered with no bid, by `reason`.
pub const NOBIDS_TOTAL: Metric = metric(
    "tern_nobids_total",
    Counter,
    "Bid requests answered with no bid, by reason.",
    &["reason"],
);
/// Notices received, by `kind` (`win`, `imp`, `click`, `loss`) and `outcome`.
pub const NOTICES_TOTAL: Metric = metric(
    "tern_notices_total",
    Counter,
    "Notices received, by kind and outcome.",
    &["kind", "outcome"],
);
/// Spend debited by billing notices, micros of campaign currency.
pub const SPEND_MICROS_TOTAL: Metric = metric(
    "tern_spend_micros_total",
    Counter,
    "Spend debited by billing notices, micros of campaign currency.",
    &[],
);
/// Budget holds released early by loss notices, micros of campaign currency.
pub const LOSS_RELEASED_MICROS_TOTAL: Metric = metric(
    "tern_loss_released_micros_total",
    Counter,
    "Budget held by bids that loss notices released before the hold timeout, micros of campaign currency.",
    &[],
);
/// Time from a request's first byte to its response, seconds.
pub const REQUEST_DURATION_SECONDS: Metric = metric(
    "tern_request_duration_seconds",
    Histogram,
    "Time from a request's first byte to its response.",
    &[],
);
/// Median request duration over the last one to two minutes, seconds.
pub const REQUEST_DURATION_P50: Metric = metric(
    "tern_request_duration_p50_seconds",
    Gauge,
    "Median request duration over the last one to two minutes.",
    &[],
);
/// 99th percentile request duration over the last one to two minutes, seconds.
pub const REQUEST_DURATION_P99: Metric = metric(
    "tern_request_duration_p99_seconds",
    Gauge,
    "99th percentile request duration over the last one to two minutes.",
    &[],
);
/// 99.9th percentile request duration over the last one to two minutes, seconds.
pub const REQUEST_DURATION_P999: Metric = metric(
    "tern_request_duration_p999_seconds",
    Gauge,
    "99.9th percentile request duration over the last one to two minutes.",
    &[],
);
/// Frequency-cap checks of bid requests, by `result` (`ok`, `timeout`,
/// `unavailable`, `busy`, `no_user`).
pub const FREQ_CAP_CHECKS_TOTAL: Metric = metric(
    "tern_freq_cap_checks_total",
    Counter,
    "Frequency-cap checks of bid requests, by result.",
    &["result"],
);
/// Requests whose caps could not be checked, by the `policy` applied.
pub const FREQ_CAP_FALLBACKS_TOTAL: Metric = metric(
    "tern_freq_cap_fallbacks_total",
    Counter,
    "Requests whose caps could not be checked, by the policy applied.",
    &["policy"],
);
/// Candidate campaigns left out because the user reached their cap.
pub const FREQ_CAPPED_TOTAL: Metric = metric(
    "tern_freq_capped_total",
    Counter,
    "Candidate campaigns left out because the user reached their cap.",
    &[],
);
/// Lookups of users' first-party segments on the bid path, by `result` (`ok`,
/// `timeout`, `unavailable`, `busy`, `no_user`).
pub const SEGMENT_LOOKUPS_TOTAL: Metric = metric(
    "tern_segment_lookups_total",
    Counter,
    "Lookups of users' first-party segments, by result.",
    &["result"],
);
/// Requests whose user's segments were not used because the request says the
/// user may not be tracked (COPPA, limit ad tracking, GDPR without consent).
pub const SEGMENTS_WITHHELD_TOTAL: Metric = metric(
    "tern_segments_withheld_total",
    Counter,
    "Requests whose user's segments were not used for privacy.",
    &[],
);
/// Impressions counted against caps from billing notices, by `result`.
pub const FREQ_CAP_RECORDS_TOTAL: Metric = metric(
    "tern_freq_cap_records_total",
    Counter,
    "Impressions counted against caps.",
    &["result"],
);
/// Redis round trips of the frequency-cap store, seconds.
pub const REDIS_DURATION_SECONDS: Metric = metric(
    "tern_redis_duration_seconds",
    Histogram,
    "Redis round trips of the cap store.",
    &[],
);
/// 99th percentile Redis round trip since start, seconds.
pub const REDIS_DURATION_P99: Metric = metric(
    "tern_redis_duration_p99_seconds",
    Gauge,
    "99th percentile Redis round trip since start.",
    &[],
);
/// Open connections on the bid listener.
pub const CONNECTIONS_OPEN: Metric =
    metric("tern_connections_open", Gauge, "Open bid connections.", &[]);
/// Connections accepted on the bid listener.
pub const CONNECTIONS_ACCEPTED_TOTAL: Metric = metric(
    "tern_connections_accepted_total",
    Counter,
    "Bid connections accepted.",
    &[],
);
/// Connections closed at once because a worker was full.
pub const CONNECTIONS_REJECTED_TOTAL: Metric = metric(
    "tern_connections_rejected_total",
    Counter,
    "Bid connections closed at once because a worker was full.",
    &[],
);
/// Requests whose handling panicked (answered 500).
pub const PANICS_TOTAL: Metric = metric(
    "tern_panics_total",
    Counter,
    "Requests whose handling panicked.",
    &[],
);
/// 1 when the bidder wants traffic (state loaded, not draining).
pub const READY: Metric = metric(
    "tern_ready",
    Gauge,
    "1 when the bidder wants traffic (state loaded, not draining).",
    &[],
);
/// Campaigns able to bid in the current snapshot.
pub const CAMPAIGNS_ACTIVE: Metric = metric(
    "tern_campaigns_active",
    Gauge,
    "Campaigns able to bid.",
    &[],
);
/// Paused campaigns in the current snapshot.
pub const CAMPAIGNS_PAUSED: Metric =
    metric("tern_campaigns_paused", Gauge, "Paused campaigns.", &[]);
/// Active campaigns whose fleet may commit no more of their budget today.
pub const CAMPAIGNS_BUDGET_EXHAUSTED: Metric = metric(
    "tern_campaigns_budget_exhausted",
    Gauge,
    "Active campaigns whose daily or total budget the fleet has committed in full.",
    &[],
);
/// Failed spend-ledger calls and journal writes, by operation.
pub const BUDGET_SYNC_ERRORS_TOTAL: Metric = metric(
    "tern_budget_sync_errors_total",
    Counter,
    "Failed spend ledger calls (flush, lease, release, reclaim, alert) and journal writes.",
    &["op"],
);
/// Billing notices later than the overspend bound allows (`docs/budgets.md`).
pub const BUDGET_LATE_NOTICES_TOTAL: Metric = metric(
    "tern_budget_late_notices_total",
    Counter,
    "Billed impressions whose notice came later than budget.hold_timeout_s less two flush intervals after the bid: the spend docs/budgets.md bounds.",
    &[],
);
/// Budget alerts this bidder sent (each goes out from one bidder of the fleet).
pub const BUDGET_ALERTS_TOTAL: Metric = metric(
    "tern_budget_alerts_total",
    Counter,
    "Budget alerts this bidder sent, by threshold percent.",
    &["threshold"],
);
/// A campaign's fleet-wide spend on its current budget day.
pub const CAMPAIGN_SPEND_TODAY: Metric = metric(
    "tern_campaign_spend_today_micros",
    Gauge,
    "Fleet spend on the campaign's budget day, micros of its currency, as the ledger has it.",
    &["campaign"],
);
/// A campaign's fleet-wide spend in all.
pub const CAMPAIGN_SPEND_TOTAL: Metric = metric(
    "tern_campaign_spend_total_micros",
    Gauge,
    "Fleet spend in all, micros of the campaign's currency, as the ledger has it.",
    &["campaign"],
);
/// What this bidder may still commit of its lease of a campaign's budget.
pub const CAMPAIGN_LEASE_BALANCE: Metric = metric(
    "tern_campaign_lease_balance_micros",
    Gauge,
    "This bidder's lease balance, micros of the campaign's currency.",
    &["campaign"],
);
/// What this bidder's bids in flight hold of a campaign's budget.
pub const CAMPAIGN_HELD: Metric = metric(
    "tern_campaign_held_micros",
    Gauge,
    "Held by this bidder's bids in flight, micros of the campaign's currency.",
    &["campaign"],
);
/// The spend rate pacing aims at.
pub const CAMPAIGN_PACING_TARGET_RATE: Metric = metric(
    "tern_campaign_pacing_target_rate",
    Gauge,
    "Fleet spend rate pacing aims at, micros of the campaign's currency per second.",
    &["campaign"],
);
/// The share of bids pacing lets through.
pub const CAMPAIGN_PACING_THROTTLE: Metric = metric(
    "tern_campaign_pacing_throttle",
    Gauge,
    "Share of a campaign's bids pacing lets through, 0 to 1.",
    &["campaign"],
);
/// Campaign state updates applied.
pub const STATE_UPDATES_TOTAL: Metric = metric(
    "tern_state_updates_total",
    Counter,
    "Campaign state updates applied.",
    &[],
);
/// Campaign state updates rejected (the last good state kept serving).
pub const STATE_REJECTS_TOTAL: Metric = metric(
    "tern_state_rejects_total",
    Counter,
    "Campaign state updates rejected; the last good state kept serving.",
    &[],
);
/// Screening list sets applied (the first included).
pub const IVT_LISTS_GENERATION: Metric = metric(
    "tern_ivt_lists_generation",
    Gauge,
    "Screening list sets applied since start, the first included.",
    &[],
);
/// Screening list sets refused (the last good lists kept serving).
pub const IVT_LIST_REJECTS_TOTAL: Metric = metric(
    "tern_ivt_list_rejects_total",
    Counter,
    "Screening list sets refused; the last good lists kept serving.",
    &[],
);
/// Seconds since the campaign state was last loaded successfully.
pub const STATE_AGE_SECONDS: Metric = metric(
    "tern_state_age_seconds",
    Gauge,
    "Seconds since campaign state was last loaded.",
    &[],
);
/// Worker threads.
pub const WORKERS: Metric = metric("tern_workers", Gauge, "Worker threads.", &[]);
/// Seconds since the remote campaign source was last known to be caught up.
pub const SYNC_LAG_SECONDS: Metric = metric(
    "tern_sync_lag_seconds",
    Gauge,
    "Seconds since the campaign source was last known to be caught up.",
    &[],
);
/// Seconds since the remote campaign source last answered a poll.
pub const SYNC_LAST_POLL_AGE_SECONDS: Metric = metric(
    "tern_sync_last_poll_age_seconds",
    Gauge,
    "Seconds since the campaign source last answered.",
    &[],
);
/// Source records (scan items and stream records) applied.
pub const SYNC_RECORDS_APPLIED_TOTAL: Metric = metric(
    "tern_sync_records_applied_total",
    Counter,
    "Campaign source records applied.",
    &[],
);
/// Source records rejected as invalid and skipped.
pub const SYNC_RECORDS_REJECTED_TOTAL: Metric = metric(
    "tern_sync_records_rejected_total",
    Counter,
    "Campaign source records rejected as invalid.",
    &[],
);
/// Full scans of the campaign table.
pub const SYNC_BOOTSTRAPS_TOTAL: Metric = metric(
    "tern_sync_bootstraps_total",
    Counter,
    "Full scans of the campaign table.",
    &[],
);
/// Events put into the workers' queues.
pub const EVENTS_ACCEPTED_TOTAL: Metric = metric(
    "tern_events_accepted_total",
    Counter,
    "Events put into the workers' queues.",
    &[],
);
/// Events dropped, by `stage` (`queue_full` on the bid path, `sink` when the sink
/// never took them before shutdown).
pub const EVENTS_DROPPED_TOTAL: Metric = metric(
    "tern_events_dropped_total",
    Counter,
    "Events dropped, by stage.",
    &["stage"],
);
/// Events the sink acknowledged.
pub const EVENTS_SENT_TOTAL: Metric = metric(
    "tern_events_sent_total",
    Counter,
    "Events the sink acknowledged.",
    &[],
);
/// Event sends retried.
pub const EVENTS_RETRIED_TOTAL: Metric = metric(
    "tern_events_retried_total",
    Counter,
    "Event sends retried.",
    &[],
);
/// Events waiting in the workers' queues.
pub const EVENTS_QUEUE_DEPTH: Metric = metric(
    "tern_events_queue_depth",
    Gauge,
    "Events waiting in queues.",
    &[],
);
/// Events taken from the queues and not yet acknowledged by the sink.
pub const EVENTS_PENDING: Metric = metric(
    "tern_events_pending",
    Gauge,
    "Events taken from the queues, not yet acknowledged.",
    &[],
);
/// Time per sink batch, seconds.
pub const EVENTS_BATCH_DURATION_SECONDS: Metric = metric(
    "tern_events_batch_duration_seconds",
    Histogram,
    "Time per sink batch.",
    &[],
);
