//! Counters and latency histograms, kept per worker and merged when scraped.
//!
//! Each worker writes only its own [`WorkerMetrics`] (atomics on their own cache
//! lines, and histograms behind a mutex that only a scrape ever contends for). The
//! admin listener renders the sum in Prometheus text format.

pub mod names;
pub(crate) mod render;

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use hdrhistogram::Histogram;

pub(crate) use crate::bid_api::NoticeKind;
use tern_engine::decision::NoBidReason;

pub(crate) use render::render;

/// Status codes counted one by one; others are counted as `other`.
pub(crate) const STATUSES: [u16; 13] = [
    200, 204, 400, 403, 404, 405, 408, 410, 413, 415, 431, 500, 503,
];

/// What became of a billing notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NoticeOutcome {
    /// Counted (and, for an impression, debited) at the exchange's price.
    Accepted,
    /// Counted at our bid: the exchange's price was above it.
    PriceCapped,
    /// Counted at our bid: the price could not be read (absent, empty, the macro
    /// unsubstituted, encrypted, not a number).
    PriceUnreadable,
    /// Seen before; not counted again.
    Duplicate,
    /// Signature does not match.
    Forged,
    /// Too old (or from the future).
    Expired,
    /// Not a token.
    Malformed,
}

impl NoticeOutcome {
    pub(crate) const ALL: [NoticeOutcome; 7] = [
        NoticeOutcome::Accepted,
        NoticeOutcome::PriceCapped,
        NoticeOutcome::PriceUnreadable,
        NoticeOutcome::Duplicate,
        NoticeOutcome::Forged,
        NoticeOutcome::Expired,
        NoticeOutcome::Malformed,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            NoticeOutcome::Accepted => "accepted",
            NoticeOutcome::PriceCapped => "price_capped",
            NoticeOutcome::PriceUnreadable => "price_unreadable",
            NoticeOutcome::Duplicate => "duplicate",
            NoticeOutcome::Forged => "forged",
            NoticeOutcome::Expired => "expired",
            NoticeOutcome::Malformed => "malformed",
        }
    }
}

/// The result of one bid request's frequency-cap check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CapCheck {
    /// Counters read.
    Ok,
    /// The store did not answer within the deadline.
    Timeout,
    /// The store is down or refused.
    Unavailable,
    /// No free connection on this worker.
    Busy,
    /// The request names no user, so capped campaigns cannot bid.
    NoUser,
}

impl CapCheck {
    pub(crate) const ALL: [CapCheck; 5] = [
        CapCheck::Ok,
        CapCheck::Timeout,
        CapCheck::Unavailable,
        CapCheck::Busy,
        CapCheck::NoUser,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            CapCheck::Ok => "ok",
            CapCheck::Timeout => "timeout",
            CapCheck::Unavailable => "unavailable",
            CapCheck::Busy => "busy",
            CapCheck::NoUser => "no_user",
        }
    }
}

/// A monotonically increasing count.
#[derive(Debug, Default)]
pub(crate) struct Counter(AtomicU64);

impl Counter {
    pub(crate) fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn inc(&self) {
        self.add(1);
    }

    pub(crate) fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Latency in microseconds: since start, and over a rolling window for percentiles.
#[derive(Debug)]
struct Latency {
    total: Histogram<u64>,
    window: [Histogram<u64>; 2],
    window_epoch: u64,
}

/// Seconds in one latency window; percentiles cover the current and the last one.
const WINDOW_S: u64 = 60;
/// Largest latency recorded, microseconds; longer ones are clamped.
const MAX_LATENCY_US: u64 = 60_000_000;

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("valid histogram bounds")
}

/// One worker's metrics. Aligned so workers never share a cache line.
#[derive(Debug)]
#[repr(align(128))]
pub(crate) struct WorkerMetrics {
    pub(crate) requests: Counter,
    responses: [Counter; STATUSES.len() + 1],
    pub(crate) bids: Counter,
    nobids: [Counter; NoBidReason::ALL.len()],
    /// By notice kind (win, impression, click), then outcome.
    notices: [[Counter; NoticeOutcome::ALL.len()]; 3],
    pub(crate) spend_micros: Counter,
    pub(crate) connections_open: AtomicU64,
    pub(crate) connections_accepted: Counter,
    pub(crate) connections_rejected: Counter,
    pub(crate) panics: Counter,
    cap_checks: [Counter; CapCheck::ALL.len()],
    /// Fallbacks by policy: `[skip_capped, ignore_caps]`.
    pub(crate) cap_fallbacks: [Counter; 2],
    pub(crate) capped: Counter,
    /// Impressions counted: `[ok, failed]`.
    pub(crate) cap_records: [Counter; 2],
    latency: Mutex<Latency>,
    redis_latency: Mutex<Histogram<u64>>,
}

impl Default for WorkerMetrics {
    fn default() -> Self {
        WorkerMetrics {
            requests: Counter::default(),
            responses: Default::default(),
            bids: Counter::default(),
            nobids: Default::default(),
            notices: Default::default(),
            spend_micros: Counter::default(),
            connections_open: AtomicU64::new(0),
            connections_accepted: Counter::default(),
            connections_rejected: Counter::default(),
            panics: Counter::default(),
            cap_checks: Default::default(),
            cap_fallbacks: Default::default(),
            capped: Counter::default(),
            cap_records: Default::default(),
            redis_latency: Mutex::new(histogram()),
            latency: Mutex::new(Latency {
                total: histogram(),
                window: [histogram(), histogram()],
                window_epoch: 0,
            }),
        }
    }
}

impl WorkerMetrics {
    /// Counts one response and its latency.
    pub(crate) fn record_response(&self, status: u16, latency_us: u64, now_unix_s: u64) {
        self.requests.inc();
        let slot = STATUSES
            .iter()
            .position(|s| *s == status)
            .unwrap_or(STATUSES.len());
        self.responses[slot].inc();
        let value = latency_us.clamp(1, MAX_LATENCY_US);
        let mut latency = self.latency.lock().unwrap_or_else(|e| e.into_inner());
        latency.total.saturating_record(value);
        let epoch = now_unix_s / WINDOW_S;
        if epoch != latency.window_epoch {
            let stale = epoch > latency.window_epoch + 1;
            latency.window.swap(0, 1);
            latency.window[0].reset();
            if stale {
                latency.window[1].reset();
            }
            latency.window_epoch = epoch;
        }
        latency.window[0].saturating_record(value);
    }

    /// Counts a request that got no bid.
    pub(crate) fn record_nobid(&self, reason: NoBidReason) {
        let slot = NoBidReason::ALL
            .iter()
            .position(|r| *r == reason)
            .unwrap_or(0);
        self.nobids[slot].inc();
    }

    /// Counts a frequency-cap check.
    pub(crate) fn record_cap_check(&self, check: CapCheck) {
        let slot = CapCheck::ALL.iter().position(|c| *c == check).unwrap_or(0);
        self.cap_checks[slot].inc();
    }

    /// Records one Redis round trip.
    pub(crate) fn record_redis_latency(&self, micros: u64) {
        let mut histogram = self.redis_latency.lock().unwrap_or_else(|e| e.into_inner());
        histogram.saturating_record(micros.clamp(1, MAX_LATENCY_US));
    }

    /// Counts a notice.
    pub(crate) fn record_notice(&self, kind: NoticeKind, outcome: NoticeOutcome) {
        let slot = NoticeOutcome::ALL
            .iter()
            .position(|o| *o == outcome)
            .unwrap_or(0);
        self.notices[kind as usize][slot].inc();
    }
}

/// Every worker's metrics, for the admin listener to merge.
#[derive(Debug, Default)]
pub(crate) struct MetricsRegistry {
    pub(crate) workers: Vec<std::sync::Arc<WorkerMetrics>>,
}

/// Sums and merged histograms over all workers.
#[derive(Debug)]
pub(crate) struct MergedMetrics {
    pub(crate) requests: u64,
    pub(crate) responses: Vec<(Option<u16>, u64)>,
    pub(crate) bids: u64,
    pub(crate) nobids: Vec<(NoBidReason, u64)>,
    pub(crate) notices: Vec<(NoticeKind, NoticeOutcome, u64)>,
    pub(crate) spend_micros: u64,
    pub(crate) connections_open: u64,
    pub(crate) connections_accepted: u64,
    pub(crate) connections_rejected: u64,
    pub(crate) panics: u64,
    pub(crate) latency_total: Histogram<u64>,
    pub(crate) latency_window: Histogram<u64>,
    pub(crate) cap_checks: Vec<(CapCheck, u64)>,
    pub(crate) cap_fallbacks: [u64; 2],
    pub(crate) capped: u64,
    pub(crate) cap_records: [u64; 2],
    pub(crate) redis_latency: Histogram<u64>,
}

impl MetricsRegistry {
    /// Sums counters and merges histograms of all workers. `now_unix_s` drops
    /// windows that no request has refreshed lately.
    pub(crate) fn merge(&self, now_unix_s: u64) -> MergedMetrics {
        let sum = |f: &dyn Fn(&WorkerMetrics) -> u64| self.workers.iter().map(|w| f(w)).sum();
        let mut latency_total = histogram();
        let mut latency_window = histogram();
        let mut redis_latency = histogram();
        let epoch = now_unix_s / WINDOW_S;
        for worker in &self.workers {
            let _ = redis_latency.add(
                &*worker
                    .redis_latency
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()),
            );
            let latency = worker.latency.lock().unwrap_or_else(|e| e.into_inner());
            let _ = latency_total.add(&latency.total);
            // Window 0 is the worker's current minute, window 1 the one before it.
            for (age, window) in latency.window.iter().enumerate() {
                if latency.window_epoch + 1 >= epoch + age as u64 {
                    let _ = latency_window.add(window);
                }
            }
        }
        MergedMetrics {
            requests: sum(&|w| w.requests.get()),
            responses: (0..=STATUSES.len())
                .map(|i| (STATUSES.get(i).copied(), sum(&|w| w.responses[i].get())))
                .collect(),
            bids: sum(&|w| w.bids.get()),
            nobids: NoBidReason::ALL
                .iter()
                .enumerate()
                .map(|(i, r)| (*r, sum(&|w| w.nobids[i].get())))
                .collect(),
            notices: [NoticeKind::Win, NoticeKind::Impression, NoticeKind::Click]
                .into_iter()
                .flat_map(|kind| {
                    NoticeOutcome::ALL
                        .iter()
                        .enumerate()
                        .map(move |(i, o)| (kind, *o, i))
                })
                .map(|(kind, o, i)| (kind, o, sum(&|w| w.notices[kind as usize][i].get())))
                .collect(),
            spend_micros: sum(&|w| w.spend_micros.get()),
            connections_open: sum(&|w| w.connections_open.load(Ordering::Relaxed)),
            connections_accepted: sum(&|w| w.connections_accepted.get()),
            connections_rejected: sum(&|w| w.connections_rejected.get()),
            panics: sum(&|w| w.panics.get()),
            latency_total,
            latency_window,
            cap_checks: CapCheck::ALL
                .iter()
                .enumerate()
                .map(|(i, c)| (*c, sum(&|w| w.cap_checks[i].get())))
                .collect(),
            cap_fallbacks: [0, 1].map(|i| sum(&|w| w.cap_fallbacks[i].get())),
            capped: sum(&|w| w.capped.get()),
            cap_records: [0, 1].map(|i| sum(&|w| w.cap_records[i].get())),
            redis_latency,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn merges_counters_and_histograms_across_workers() {
        let a = Arc::new(WorkerMetrics::default());
        let b = Arc::new(WorkerMetrics::default());
        a.record_response(200, 100, 600);
        b.record_response(204, 300, 600);
        b.record_response(999, 300, 600);
        b.record_nobid(NoBidReason::BelowFloor);
        let registry = MetricsRegistry {
            workers: vec![a, b],
        };
        let merged = registry.merge(600);
        assert_eq!(merged.requests, 3);
        assert!(merged.responses.contains(&(Some(200), 1)));
        assert!(
            merged.responses.contains(&(None, 1)),
            "unknown statuses count as other"
        );
        assert!(merged.nobids.contains(&(NoBidReason::BelowFloor, 1)));
        assert_eq!(merged.latency_total.len(), 3);
        assert_eq!(merged.latency_window.len(), 3);
    }

    #[test]
    fn percentile_window_forgets_old_minutes() {
        let w = Arc::new(WorkerMetrics::default());
        w.record_response(200, 50_000, 0);
        w.record_response(200, 10, 60);
        let registry = MetricsRegistry {
            workers: vec![w.clone()],
        };
        assert_eq!(
            registry.merge(60).latency_window.len(),
            2,
            "this and the last minute"
        );
        assert_eq!(
            registry.merge(180).latency_window.len(),
            0,
            "no traffic for two minutes"
        );
        w.record_response(200, 10, 180);
        let merged = registry.merge(180);
        assert_eq!(merged.latency_window.len(), 1);
        assert_eq!(merged.latency_total.len(), 3);
    }
}
