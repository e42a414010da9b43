//! Prometheus text exposition (format 0.0.4) of the merged metrics.

use std::fmt::Write;

use super::names::*;
use super::{MergedMetrics, NoticeKind};

/// Histogram bucket bounds, seconds.
const BUCKETS_S: [f64; 14] = [
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0,
];

/// Process-wide values shown beside the per-worker sums.
#[derive(Debug, Clone, Default)]
pub(crate) struct StateGauges {
    pub(crate) ready: bool,
    pub(crate) campaigns_active: usize,
    pub(crate) campaigns_paused: usize,
    pub(crate) budget_exhausted: usize,
    pub(crate) state_updates: u64,
    pub(crate) state_rejects: u64,
    pub(crate) state_age_s: f64,
    pub(crate) workers: usize,
    pub(crate) sync: Option<crate::state::SyncReport>,
    pub(crate) events: Option<crate::events::EventQueues>,
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn single(out: &mut String, name: &str, kind: &str, help: &str, value: impl std::fmt::Display) {
    header(out, name, kind, help);
    let _ = writeln!(out, "{name} {value}");
}

/// Writes a histogram of microseconds as cumulative Prometheus buckets in seconds.
fn write_buckets(out: &mut String, name: &str, histogram: &hdrhistogram::Histogram<u64>) {
    for bound in BUCKETS_S {
        let bound_us = (bound * 1e6) as u64;
        let count = histogram.count_between(0, bound_us);
        let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {count}");
    }
    let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}", histogram.len());
    // HDR histograms keep no exact sum; the mean of the recorded values stands in.
    let sum_s = histogram.mean() * histogram.len() as f64 / 1e6;
    let _ = writeln!(out, "{name}_sum {sum_s}");
    let _ = writeln!(out, "{name}_count {}", histogram.len());
}

/// Appends every metric to `out`.
pub(crate) fn render(out: &mut String, m: &MergedMetrics, g: &StateGauges) {
    single(
        out,
        REQUESTS_TOTAL,
        "counter",
        "HTTP requests answered on the bid listener.",
        m.requests,
    );
    header(
        out,
        RESPONSES_TOTAL,
        "counter",
        "Responses on the bid listener by status.",
    );
    for (status, count) in &m.responses {
        match status {
            Some(code) => writeln!(out, "{RESPONSES_TOTAL}{{status=\"{code}\"}} {count}"),
            None => writeln!(out, "{RESPONSES_TOTAL}{{status=\"other\"}} {count}"),
        }
        .ok();
    }
    single(
        out,
        BIDS_TOTAL,
        "counter",
        "Bids placed, one per won impression.",
        m.bids,
    );
    header(
        out,
        NOBIDS_TOTAL,
        "counter",
        "Bid requests answered with no bid, by reason.",
    );
    for (reason, count) in &m.nobids {
        let _ = writeln!(
            out,
            "{NOBIDS_TOTAL}{{reason=\"{}\"}} {count}",
            reason.as_str()
        );
    }
    header(
        out,
        NOTICES_TOTAL,
        "counter",
        "Notices received, by kind and outcome.",
    );
    for (kind, outcome, count) in &m.notices {
        let kind = match kind {
            NoticeKind::Win => "win",
            NoticeKind::Impression => "imp",
            NoticeKind::Click => "click",
        };
        let outcome = outcome.as_str();
        let _ = writeln!(
            out,
            "{NOTICES_TOTAL}{{kind=\"{kind}\",outcome=\"{outcome}\"}} {count}"
        );
    }
    single(
        out,
        SPEND_MICROS_TOTAL,
        "counter",
        "Spend debited by billing notices, micros of campaign currency.",
        m.spend_micros,
    );

    header(
        out,
        REQUEST_DURATION_SECONDS,
        "histogram",
        "Time from a request's first byte to its response.",
    );
    write_buckets(out, REQUEST_DURATION_SECONDS, &m.latency_total);
    let window = &m.latency_window;
    for (name, q, label) in [
        (REQUEST_DURATION_P50, 0.5, "Median"),
        (REQUEST_DURATION_P99, 0.99, "99th percentile"),
        (REQUEST_DURATION_P999, 0.999, "99.9th percentile"),
    ] {
        let help = format!("{label} request duration over the last one to two minutes.");
        single(
            out,
            name,
            "gauge",
            &help,
            window.value_at_quantile(q) as f64 / 1e6,
        );
    }

    header(
        out,
        FREQ_CAP_CHECKS_TOTAL,
        "counter",
        "Frequency-cap checks of bid requests, by result.",
    );
    for (check, count) in &m.cap_checks {
        let _ = writeln!(
            out,
            "{FREQ_CAP_CHECKS_TOTAL}{{result=\"{}\"}} {count}",
            check.as_str()
        );
    }
    header(
        out,
        FREQ_CAP_FALLBACKS_TOTAL,
        "counter",
        "Requests whose caps could not be checked, by the policy applied.",
    );
    for (policy, count) in ["skip_capped", "ignore_caps"].iter().zip(m.cap_fallbacks) {
        let _ = writeln!(
            out,
            "{FREQ_CAP_FALLBACKS_TOTAL}{{policy=\"{policy}\"}} {count}"
        );
    }
    single(
        out,
        FREQ_CAPPED_TOTAL,
        "counter",
        "Candidate campaigns left out because the user reached their cap.",
        m.capped,
    );
    header(
        out,
        FREQ_CAP_RECORDS_TOTAL,
        "counter",
        "Impressions counted against caps.",
    );
    for (result, count) in ["ok", "failed"].iter().zip(m.cap_records) {
        let _ = writeln!(
            out,
            "{FREQ_CAP_RECORDS_TOTAL}{{result=\"{result}\"}} {count}"
        );
    }
    header(
        out,
        REDIS_DURATION_SECONDS,
        "histogram",
        "Redis round trips of the cap store.",
    );
    write_buckets(out, REDIS_DURATION_SECONDS, &m.redis_latency);
    single(
        out,
        REDIS_DURATION_P99,
        "gauge",
        "99th percentile Redis round trip since start.",
        m.redis_latency.value_at_quantile(0.99) as f64 / 1e6,
    );
    single(
        out,
        CONNECTIONS_OPEN,
        "gauge",
        "Open bid connections.",
        m.connections_open,
    );
    single(
        out,
        CONNECTIONS_ACCEPTED_TOTAL,
        "counter",
        "Bid connections accepted.",
        m.connections_accepted,
    );
    single(
        out,
        CONNECTIONS_REJECTED_TOTAL,
        "counter",
        "Bid connections closed at once because a worker was full.",
        m.connections_rejected,
    );
    single(
        out,
        PANICS_TOTAL,
        "counter",
        "Requests whose handling panicked.",
        m.panics,
    );
    single(
        out,
        READY,
        "gauge",
        "1 when the bidder wants traffic.",
        u8::from(g.ready),
    );
    single(
        out,
        CAMPAIGNS_ACTIVE,
        "gauge",
        "Campaigns able to bid.",
        g.campaigns_active,
    );
    single(
        out,
        CAMPAIGNS_PAUSED,
        "gauge",
        "Paused campaigns.",
        g.campaigns_paused,
    );
    single(
        out,
        CAMPAIGNS_BUDGET_EXHAUSTED,
        "gauge",
        "Active campaigns whose daily or total budget is spent.",
        g.budget_exhausted,
    );
    single(
        out,
        STATE_UPDATES_TOTAL,
        "counter",
        "Campaign state updates applied.",
        g.state_updates,
    );
    single(
        out,
        STATE_REJECTS_TOTAL,
        "counter",
        "Campaign state updates rejected; the last good state kept serving.",
        g.state_rejects,
    );
    single(
        out,
        STATE_AGE_SECONDS,
        "gauge",
        "Seconds since campaign state was last loaded.",
        g.state_age_s,
    );
    single(out, WORKERS, "gauge", "Worker threads.", g.workers);
    if let Some(events) = &g.events {
        render_events(out, events);
    }
    if let Some(sync) = &g.sync {
        single(
            out,
            SYNC_LAG_SECONDS,
            "gauge",
            "Seconds since the campaign source was last known to be caught up.",
            sync.lag_s,
        );
        single(
            out,
            SYNC_LAST_POLL_AGE_SECONDS,
            "gauge",
            "Seconds since the campaign source last answered.",
            sync.last_poll_age_s,
        );
        single(
            out,
            SYNC_RECORDS_APPLIED_TOTAL,
            "counter",
            "Campaign source records applied.",
            sync.applied,
        );
        single(
            out,
            SYNC_RECORDS_REJECTED_TOTAL,
            "counter",
            "Campaign source records rejected as invalid.",
            sync.rejected,
        );
        single(
            out,
            SYNC_BOOTSTRAPS_TOTAL,
            "counter",
            "Full scans of the campaign table.",
            sync.bootstraps,
        );
    }
}

fn render_events(out: &mut String, events: &crate::events::EventQueues) {
    use std::sync::atomic::Ordering::Relaxed;
    let stats = events.stats();
    single(
        out,
        EVENTS_ACCEPTED_TOTAL,
        "counter",
        "Events put into the workers' queues.",
        stats.accepted.load(Relaxed),
    );
    header(
        out,
        EVENTS_DROPPED_TOTAL,
        "counter",
        "Events dropped, by stage.",
    );
    let dropped = [
        ("queue_full", stats.dropped_queue_full.load(Relaxed)),
        ("sink", stats.dropped_sink.load(Relaxed)),
    ];
    for (stage, count) in dropped {
        let _ = writeln!(out, "{EVENTS_DROPPED_TOTAL}{{stage=\"{stage}\"}} {count}");
    }
    single(
        out,
        EVENTS_SENT_TOTAL,
        "counter",
        "Events the sink acknowledged.",
        stats.sent.load(Relaxed),
    );
    single(
        out,
        EVENTS_RETRIED_TOTAL,
        "counter",
        "Event sends retried.",
        stats.retried.load(Relaxed),
    );
    single(
        out,
        EVENTS_QUEUE_DEPTH,
        "gauge",
        "Events waiting in queues.",
        events.depth(),
    );
    single(
        out,
        EVENTS_PENDING,
        "gauge",
        "Events taken from the queues, not yet acknowledged.",
        stats.pending.load(Relaxed),
    );
    header(
        out,
        EVENTS_BATCH_DURATION_SECONDS,
        "histogram",
        "Time per sink batch.",
    );
    let latency = stats
        .batch_latency
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    write_buckets(out, EVENTS_BATCH_DURATION_SECONDS, &latency);
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::metrics::{MetricsRegistry, WorkerMetrics};

    #[test]
    fn renders_buckets_cumulatively_and_every_family_once() {
        let w = Arc::new(WorkerMetrics::default());
        for us in [40, 90, 400, 2_000_000] {
            w.record_response(200, us, 0);
        }
        let merged = MetricsRegistry { workers: vec![w] }.merge(0);
        let mut out = String::new();
        render(&mut out, &merged, &StateGauges::default());
        assert!(
            out.contains("tern_request_duration_seconds_bucket{le=\"0.00005\"} 1\n"),
            "{out}"
        );
        assert!(out.contains("tern_request_duration_seconds_bucket{le=\"0.0001\"} 2\n"));
        assert!(out.contains("tern_request_duration_seconds_bucket{le=\"1\"} 3\n"));
        assert!(out.contains("tern_request_duration_seconds_bucket{le=\"+Inf\"} 4\n"));
        assert!(out.contains("tern_responses_total{status=\"200\"} 4\n"));
        let types = out.lines().filter(|l| l.starts_with("# TYPE")).count();
        let helps = out.lines().filter(|l| l.starts_with("# HELP")).count();
        assert_eq!(types, helps);
        for line in out.lines().filter(|l| !l.starts_with('#')) {
            let value = line.rsplit(' ').next().unwrap();
            assert!(value.parse::<f64>().is_ok(), "bad sample line {line}");
        }
    }
}
