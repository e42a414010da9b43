//! How current a remote campaign source is, for readiness and metrics.
//!
//! A source that tails a change log (DynamoDB Streams) records when it was last
//! known to be caught up; the bidder is not ready while that is older than the
//! configured staleness limit, and keeps bidding on its last good state meanwhile.

use std::sync::atomic::{AtomicU64, Ordering};

use tern_engine::clock::now_ms;

/// Freshness and counters of the campaign source.
#[derive(Debug, Default)]
pub struct SyncHealth {
    /// Staleness limit in milliseconds; 0 means the source cannot go stale (a file).
    limit_ms: AtomicU64,
    /// Every change made before this time is applied (ms since the Unix epoch).
    fresh_at_ms: AtomicU64,
    /// When the source last answered a poll (ms since the Unix epoch).
    last_poll_ms: AtomicU64,
    applied: AtomicU64,
    rejected: AtomicU64,
    bootstraps: AtomicU64,
}

/// A reading of [`SyncHealth`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SyncReport {
    /// Seconds since the source was last known to be caught up (0 for a file).
    pub lag_s: f64,
    /// Seconds since the source last answered (0 for a file).
    pub last_poll_age_s: f64,
    /// Records applied.
    pub applied: u64,
    /// Records rejected (invalid) and skipped.
    pub rejected: u64,
    /// Full scans done (the first, and each restart after the stream was lost).
    pub bootstraps: u64,
}

impl SyncHealth {
    /// Makes readiness depend on the source being caught up within `limit_ms`.
    pub fn set_staleness_limit(&self, limit_ms: u64) {
        self.limit_ms.store(limit_ms, Ordering::Relaxed);
    }

    /// Everything up to `at_ms` is applied.
    pub fn caught_up(&self, at_ms: u64) {
        self.fresh_at_ms.fetch_max(at_ms, Ordering::Relaxed);
    }

    /// The source answered a poll now.
    pub fn polled(&self) {
        self.last_poll_ms.store(now_ms(), Ordering::Relaxed);
    }

    /// Counts records applied and rejected.
    pub fn count(&self, applied: u64, rejected: u64) {
        self.applied.fetch_add(applied, Ordering::Relaxed);
        self.rejected.fetch_add(rejected, Ordering::Relaxed);
    }

    /// Counts a completed full scan.
    pub fn bootstrapped(&self) {
        self.bootstraps.fetch_add(1, Ordering::Relaxed);
    }

    /// Whether the source is within its staleness limit (always, for sources without one).
    pub fn is_fresh(&self) -> bool {
        let limit = self.limit_ms.load(Ordering::Relaxed);
        limit == 0 || now_ms().saturating_sub(self.fresh_at_ms.load(Ordering::Relaxed)) <= limit
    }

    /// The current figures.
    pub fn report(&self) -> SyncReport {
        let now = now_ms();
        let age = |at: u64| {
            if at == 0 {
                0.0
            } else {
                now.saturating_sub(at) as f64 / 1e3
            }
        };
        let tracked = self.limit_ms.load(Ordering::Relaxed) > 0;
        SyncReport {
            lag_s: if tracked {
                age(self.fresh_at_ms.load(Ordering::Relaxed))
            } else {
                0.0
            },
            last_poll_age_s: age(self.last_poll_ms.load(Ordering::Relaxed)),
            applied: self.applied.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
            bootstraps: self.bootstraps.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freshness_follows_the_limit() {
        let health = SyncHealth::default();
        assert!(health.is_fresh(), "no limit: always fresh");
        health.set_staleness_limit(1_000);
        assert!(!health.is_fresh(), "never caught up");
        health.caught_up(now_ms());
        assert!(health.is_fresh());
        health.caught_up(now_ms() - 60_000);
        assert!(health.is_fresh(), "freshness never moves back");
        assert!(health.report().lag_s < 1.0);
    }
}
