//! Counters and latency histograms, kept per worker and merged when scraped.
//!
//! Every metric is defined once in [`catalog`] (name, type, help, labels). Each
//! worker records into its own [`WorkerMetrics`] through typed calls — a status
//! code, a no-bid reason, a notice kind and outcome — never by indexing an array,
//! and without taking a lock: counters and histogram buckets are relaxed atomics
//! on the worker's own cache lines. The admin listener merges every worker's
//! figures and [`render`]s them as Prometheus text.
//!
//! A leaf: it knows the engine's label types and nothing of the bidder's other
//! services; the admin listener hands in what the state and the event pipeline
//! report.

pub mod catalog;
pub(crate) mod render;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tern_engine::decision::NoBidReason;
use tern_engine::notice::{NoticeKind, NoticeOutcome};

pub(crate) use self::render::Exposition;
use crate::latency::{LatencyHistogram, Snapshot};

/// Status codes counted one by one; others are counted as `other`.
pub(crate) const STATUSES: [u16; 13] = [
    200, 204, 400, 403, 404, 405, 408, 410, 413, 415, 431, 500, 503,
];

/// A bounded set of label values, each with its text.
pub(crate) trait Label: Copy + PartialEq + 'static {
    /// Every value, in the order they are rendered.
    const ALL: &'static [Self];

    /// The label value's text.
    fn as_str(self) -> &'static str;

    /// Position in [`Label::ALL`].
    fn index(self) -> usize {
        Self::ALL.iter().position(|v| *v == self).unwrap_or(0)
    }
}

impl Label for NoBidReason {
    const ALL: &'static [Self] = &NoBidReason::ALL;
    fn as_str(self) -> &'static str {
        NoBidReason::as_str(self)
    }
}

impl Label for NoticeOutcome {
    const ALL: &'static [Self] = &NoticeOutcome::ALL;
    fn as_str(self) -> &'static str {
        NoticeOutcome::as_str(self)
    }
}

/// The result of one bid request's user-store lookup (frequency caps, first-party
/// segments).
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

impl Label for CapCheck {
    const ALL: &'static [Self] = &[
        CapCheck::Ok,
        CapCheck::Timeout,
        CapCheck::Unavailable,
        CapCheck::Busy,
        CapCheck::NoUser,
    ];
    fn as_str(self) -> &'static str {
        match self {
            CapCheck::Ok => "ok",
            CapCheck::Timeout => "timeout",
            CapCheck::Unavailable => "unavailable",
            CapCheck::Busy => "busy",
            CapCheck::NoUser => "no_user",
        }
    }
}

/// The policy applied when a cap check could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CapFallback {
    /// Capped campaigns sat out.
    SkipCapped,
    /// Every campaign bid as if under its cap.
    IgnoreCaps,
}

impl Label for CapFallback {
    const ALL: &'static [Self] = &[CapFallback::SkipCapped, CapFallback::IgnoreCaps];
    fn as_str(self) -> &'static str {
        match self {
            CapFallback::SkipCapped => "skip_capped",
            CapFallback::IgnoreCaps => "ignore_caps",
        }
    }
}

/// Whether an impression was counted against its cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CapRecord {
    /// Counted.
    Ok,
    /// The store could not count it in time.
    Failed,
}

impl Label for CapRecord {
    const ALL: &'static [Self] = &[CapRecord::Ok, CapRecord::Failed];
    fn as_str(self) -> &'static str {
        match self {
            CapRecord::Ok => "ok",
            CapRecord::Failed => "failed",
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

    pub(crate) fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// One counter per value of a label.
#[derive(Debug)]
pub(crate) struct LabeledCounter<L: Label> {
    counters: Box<[Counter]>,
    label: std::marker::PhantomData<L>,
}

impl<L: Label> Default for LabeledCounter<L> {
    fn default() -> Self {
        LabeledCounter {
            counters: L::ALL.iter().map(|_| Counter::default()).collect(),
            label: std::marker::PhantomData,
        }
    }
}

impl<L: Label> LabeledCounter<L> {
    fn inc(&self, label: L) {
        self.counters[label.index()].add(1);
    }

    fn get(&self, label: L) -> u64 {
        self.counters[label.index()].get()
    }
}

/// One worker's metrics. Aligned so workers never share a cache line.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct WorkerMetrics {
    requests: Counter,
    /// By position in [`STATUSES`], then `other`.
    responses: [Counter; STATUSES.len() + 1],
    bids: Counter,
    nobids: LabeledCounter<NoBidReason>,
    /// By notice kind, then outcome.
    notices: [LabeledCounter<NoticeOutcome>; NoticeKind::ALL.len()],
    spend_micros: Counter,
    loss_released_micros: Counter,
    connections_open: AtomicU64,
    connections_accepted: Counter,
    connections_rejected: Counter,
    panics: Counter,
    cap_checks: LabeledCounter<CapCheck>,
    cap_fallbacks: LabeledCounter<CapFallback>,
    capped: Counter,
    segment_lookups: LabeledCounter<CapCheck>,
    segments_withheld: Counter,
    cap_records: LabeledCounter<CapRecord>,
    latency: LatencyHistogram,
    redis_latency: LatencyHistogram,
}

impl WorkerMetrics {
    /// One response on the bid listener, with its status and latency.
    pub(crate) fn response(&self, status: u16, latency_us: u64, now_unix_s: u64) {
        self.requests.add(1);
        let slot = STATUSES
            .iter()
            .position(|s| *s == status)
            .unwrap_or(STATUSES.len());
        self.responses[slot].add(1);
        self.latency.record(latency_us, now_unix_s);
    }

    /// Bids sent in one response.
    pub(crate) fn bids(&self, count: usize) {
        self.bids.add(count as u64);
    }

    /// A request answered with no bid.
    pub(crate) fn nobid(&self, reason: NoBidReason) {
        self.nobids.inc(reason);
    }

    /// A notice and what became of it.
    pub(crate) fn notice(&self, kind: NoticeKind, outcome: NoticeOutcome) {
        let kind = NoticeKind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
        self.notices[kind].inc(outcome);
    }

    /// Spend debited by a billing notice, micros of the campaign's currency.
    pub(crate) fn spend(&self, micros: u64) {
        self.spend_micros.add(micros);
    }

    /// Budget a loss notice released early, micros of the campaign's currency.
    pub(crate) fn released_by_loss(&self, micros: u64) {
        self.loss_released_micros.add(micros);
    }

    /// A connection accepted (`true`) or closed at once because the worker was
    /// full (`false`).
    pub(crate) fn connection_accepted(&self, accepted: bool) {
        if accepted {
            self.connections_accepted.add(1);
            self.connections_open.fetch_add(1, Ordering::Relaxed);
        } else {
            self.connections_rejected.add(1);
        }
    }

    /// An accepted connection closed.
    pub(crate) fn connection_closed(&self) {
        self.connections_open.fetch_sub(1, Ordering::Relaxed);
    }

    /// Connections this worker accepted since start.
    pub(crate) fn connections_accepted(&self) -> u64 {
        self.connections_accepted.get()
    }

    /// Requests whose handling panicked on this worker.
    pub(crate) fn panics(&self) -> u64 {
        self.panics.get()
    }

    /// A request whose handling panicked.
    pub(crate) fn panic(&self) {
        self.panics.add(1);
    }

    /// A bid request's frequency-cap check.
    pub(crate) fn cap_check(&self, check: CapCheck) {
        self.cap_checks.inc(check);
    }

    /// A check that could not be made, and the policy applied.
    pub(crate) fn cap_fallback(&self, fallback: CapFallback) {
        self.cap_fallbacks.inc(fallback);
    }

    /// Candidate campaigns left out because the user reached their cap.
    pub(crate) fn capped(&self, campaigns: usize) {
        self.capped.add(campaigns as u64);
    }

    /// A bid request's lookup of the user's first-party segments.
    pub(crate) fn segment_lookup(&self, check: CapCheck) {
        self.segment_lookups.inc(check);
    }

    /// A request whose user's segments were not used (privacy).
    pub(crate) fn segments_withheld(&self) {
        self.segments_withheld.add(1);
    }

    /// An impression counted against its cap, or not.
    pub(crate) fn cap_record(&self, record: CapRecord) {
        self.cap_records.inc(record);
    }

    /// One Redis round trip of the cap store.
    pub(crate) fn redis_round_trip(&self, micros: u64, now_unix_s: u64) {
        self.redis_latency.record(micros, now_unix_s);
    }
}

/// Every worker's metrics, for the admin listener to merge.
#[derive(Debug, Default)]
pub(crate) struct MetricsRegistry {
    pub(crate) workers: Vec<Arc<WorkerMetrics>>,
}

/// Sums and merged histograms over all workers.
#[derive(Debug, Default)]
pub(crate) struct MergedMetrics {
    pub(crate) requests: u64,
    pub(crate) responses: Vec<(Option<u16>, u64)>,
    pub(crate) bids: u64,
    pub(crate) nobids: Vec<(NoBidReason, u64)>,
    pub(crate) notices: Vec<(NoticeKind, NoticeOutcome, u64)>,
    pub(crate) spend_micros: u64,
    pub(crate) loss_released_micros: u64,
    pub(crate) connections_open: u64,
    pub(crate) connections_accepted: u64,
    pub(crate) connections_rejected: u64,
    pub(crate) panics: u64,
    pub(crate) latency_total: Snapshot,
    pub(crate) latency_recent: Snapshot,
    pub(crate) cap_checks: Vec<(CapCheck, u64)>,
    pub(crate) cap_fallbacks: Vec<(CapFallback, u64)>,
    pub(crate) capped: u64,
    pub(crate) segment_lookups: Vec<(CapCheck, u64)>,
    pub(crate) segments_withheld: u64,
    pub(crate) cap_records: Vec<(CapRecord, u64)>,
    pub(crate) redis_latency: Snapshot,
}

impl MetricsRegistry {
    /// Requests answered on the bid listener by every worker.
    pub(crate) fn requests(&self) -> u64 {
        self.workers.iter().map(|w| w.requests.get()).sum()
    }

    /// Sums counters and merges histograms of all workers; `now_unix_s` picks the
    /// recent windows.
    pub(crate) fn merge(&self, now_unix_s: u64) -> MergedMetrics {
        let sum = |f: &dyn Fn(&WorkerMetrics) -> u64| self.workers.iter().map(|w| f(w)).sum();
        fn each<L: Label>(sum: impl Fn(L) -> u64) -> Vec<(L, u64)> {
            L::ALL.iter().map(|l| (*l, sum(*l))).collect()
        }
        let mut merged = MergedMetrics {
            requests: sum(&|w| w.requests.get()),
            responses: (0..=STATUSES.len())
                .map(|i| (STATUSES.get(i).copied(), sum(&|w| w.responses[i].get())))
                .collect(),
            bids: sum(&|w| w.bids.get()),
            nobids: each(|r| sum(&|w| w.nobids.get(r))),
            notices: NoticeKind::ALL
                .iter()
                .enumerate()
                .flat_map(|(k, kind)| NoticeOutcome::ALL.iter().map(move |o| (k, *kind, *o)))
                .map(|(k, kind, o)| (kind, o, sum(&|w| w.notices[k].get(o))))
                .collect(),
            spend_micros: sum(&|w| w.spend_micros.get()),
            loss_released_micros: sum(&|w| w.loss_released_micros.get()),
            connections_open: sum(&|w| w.connections_open.load(Ordering::Relaxed)),
            connections_accepted: sum(&|w| w.connections_accepted.get()),
            connections_rejected: sum(&|w| w.connections_rejected.get()),
            panics: sum(&|w| w.panics.get()),
            cap_checks: each(|c| sum(&|w| w.cap_checks.get(c))),
            cap_fallbacks: each(|f| sum(&|w| w.cap_fallbacks.get(f))),
            capped: sum(&|w| w.capped.get()),
            segment_lookups: each(|c| sum(&|w| w.segment_lookups.get(c))),
            segments_withheld: sum(&|w| w.segments_withheld.get()),
            cap_records: each(|r| sum(&|w| w.cap_records.get(r))),
            ..MergedMetrics::default()
        };
        for worker in &self.workers {
            worker.latency.add_since_start(&mut merged.latency_total);
            worker
                .latency
                .add_recent(&mut merged.latency_recent, now_unix_s);
            worker
                .redis_latency
                .add_since_start(&mut merged.redis_latency);
        }
        merged
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_counters_and_histograms_across_workers() {
        let a = Arc::new(WorkerMetrics::default());
        let b = Arc::new(WorkerMetrics::default());
        a.response(200, 100, 600);
        b.response(204, 300, 600);
        b.response(999, 300, 600);
        b.nobid(NoBidReason::BelowFloor);
        a.notice(NoticeKind::Click, NoticeOutcome::Forged);
        b.notice(NoticeKind::Click, NoticeOutcome::Forged);
        a.cap_fallback(CapFallback::IgnoreCaps);
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
        assert!(
            merged
                .notices
                .contains(&(NoticeKind::Click, NoticeOutcome::Forged, 2))
        );
        assert!(
            merged
                .notices
                .contains(&(NoticeKind::Win, NoticeOutcome::Forged, 0))
        );
        assert_eq!(
            merged.cap_fallbacks,
            [(CapFallback::SkipCapped, 0), (CapFallback::IgnoreCaps, 1)]
        );
        assert_eq!(merged.latency_total.count(), 3);
        assert_eq!(merged.latency_recent.count(), 3);
    }
}
