//! Latency histograms a thread records into without a lock (the bid workers'
//! request and Redis latencies, the event shipper's batch times).
//!
//! Microseconds land in log-linear buckets (values below 16 exactly, above that 16
//! buckets per power of two, so a bucket is at most 1/16 = 6% wide), each an
//! atomic counter. One worker writes its own histogram with relaxed increments; a
//! scrape reads every worker's buckets and adds them up. Besides the totals since
//! start, two one-minute windows (the current and the last) give recent
//! percentiles: the writer clears a window when its minute comes round again.
//!
//! The log-linear buckets do not end on the round bounds Prometheus histograms
//! use (50 µs falls inside a bucket), so each histogram also counts exactly how
//! many observations fall at or below each of [`BOUNDS_US`].

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Largest value recorded, microseconds; longer ones are clamped to it.
pub const MAX_US: u64 = 60_000_000;
/// Seconds one percentile window covers.
const WINDOW_S: u64 = 60;
/// Sub-buckets per power of two.
const SUB_BITS: u32 = 4;
const SUB: u64 = 1 << SUB_BITS;
/// Buckets up to `MAX_US` (below 2^26).
const BUCKETS: usize = (26 - SUB_BITS as usize + 1) * SUB as usize;

/// The exported histogram bounds (Prometheus `le`), microseconds: 50 µs to 1 s.
pub const BOUNDS_US: [u64; 14] = [
    50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
    1_000_000,
];

/// The first of [`BOUNDS_US`] at or above `value`, or `BOUNDS_US.len()` when
/// `value` is above them all.
fn bound_of(value: u64) -> usize {
    BOUNDS_US.partition_point(|&bound| bound < value)
}

/// The bucket of `value` (at least 1, at most `MAX_US`).
fn bucket_of(value: u64) -> usize {
    if value < SUB {
        return value as usize;
    }
    let power = 63 - value.leading_zeros();
    let sub = (value >> (power - SUB_BITS)) & (SUB - 1);
    ((power - SUB_BITS + 1) as u64 * SUB + sub) as usize
}

/// The largest value bucket `index` holds.
fn bucket_top(index: usize) -> u64 {
    let index = index as u64;
    if index < SUB {
        return index;
    }
    let power = index / SUB + u64::from(SUB_BITS) - 1;
    let sub = index % SUB;
    ((SUB + sub) << (power - u64::from(SUB_BITS))) + (1 << (power - u64::from(SUB_BITS))) - 1
}

/// Counts per bucket and per exported bound (each observation once, in the first
/// bound at or above it; the last slot holds those above every bound), plus
/// their count and sum.
#[derive(Debug)]
struct Buckets {
    counts: Box<[AtomicU64]>,
    by_bound: [AtomicU64; BOUNDS_US.len() + 1],
    total: AtomicU64,
    sum_us: AtomicU64,
}

impl Default for Buckets {
    fn default() -> Self {
        Buckets {
            counts: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            by_bound: Default::default(),
            total: AtomicU64::new(0),
            sum_us: AtomicU64::new(0),
        }
    }
}

impl Buckets {
    fn record(&self, bucket: usize, bound: usize, value: u64) {
        self.counts[bucket].fetch_add(1, Relaxed);
        self.by_bound[bound].fetch_add(1, Relaxed);
        self.total.fetch_add(1, Relaxed);
        self.sum_us.fetch_add(value, Relaxed);
    }

    fn clear(&self) {
        for count in self.counts.iter().chain(&self.by_bound) {
            count.store(0, Relaxed);
        }
        self.total.store(0, Relaxed);
        self.sum_us.store(0, Relaxed);
    }

    fn add_to(&self, into: &mut Snapshot) {
        for (sum, count) in into.counts.iter_mut().zip(self.counts.iter()) {
            *sum += count.load(Relaxed);
        }
        for (sum, count) in into.by_bound.iter_mut().zip(&self.by_bound) {
            *sum += count.load(Relaxed);
        }
        into.total += self.total.load(Relaxed);
        into.sum_us += self.sum_us.load(Relaxed);
    }
}

/// One writer's latency histogram: since start, and per minute for percentiles.
/// `Default` is empty.
#[derive(Debug, Default)]
pub struct LatencyHistogram {
    since_start: Buckets,
    windows: [Buckets; 2],
    /// The minute (since the epoch) each window holds.
    window_minute: [AtomicU64; 2],
}

impl LatencyHistogram {
    /// Records `value_us` observed at `now_unix_s`. Only one thread may record.
    pub fn record(&self, value_us: u64, now_unix_s: u64) {
        let value = value_us.clamp(1, MAX_US);
        let (bucket, bound) = (bucket_of(value), bound_of(value));
        self.since_start.record(bucket, bound, value);
        let minute = now_unix_s / WINDOW_S;
        let slot = (minute % 2) as usize;
        if self.window_minute[slot].load(Relaxed) != minute {
            // This window held the minute before last: start it afresh.
            self.windows[slot].clear();
            self.window_minute[slot].store(minute, Relaxed);
        }
        self.windows[slot].record(bucket, bound, value);
    }

    /// Adds everything since start to `into`.
    pub fn add_since_start(&self, into: &mut Snapshot) {
        self.since_start.add_to(into);
    }

    /// Adds the current and the last minute as of `now_unix_s` to `into`.
    pub fn add_recent(&self, into: &mut Snapshot, now_unix_s: u64) {
        let minute = now_unix_s / WINDOW_S;
        for (window, held) in self.windows.iter().zip(&self.window_minute) {
            if held.load(Relaxed) + 1 >= minute {
                window.add_to(into);
            }
        }
    }
}

/// Bucket counts added up at one moment, for rendering; `Default` is empty, to add
/// histograms into.
#[derive(Debug, Clone)]
pub struct Snapshot {
    counts: Vec<u64>,
    by_bound: [u64; BOUNDS_US.len() + 1],
    total: u64,
    sum_us: u64,
}

impl Default for Snapshot {
    fn default() -> Self {
        Snapshot {
            counts: vec![0; BUCKETS],
            by_bound: [0; BOUNDS_US.len() + 1],
            total: 0,
            sum_us: 0,
        }
    }
}

impl Snapshot {
    /// Observations.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// Sum of every observation, microseconds.
    pub fn sum_us(&self) -> u64 {
        self.sum_us
    }

    /// Each of [`BOUNDS_US`] with the observations at or below it, exactly
    /// (cumulative, as a Prometheus histogram's buckets).
    pub fn at_or_below_bounds(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        BOUNDS_US
            .iter()
            .zip(&self.by_bound)
            .scan(0, |seen, (&bound, count)| {
                *seen += count;
                Some((bound, *seen))
            })
    }

    /// The value at quantile `q` (0 to 1): the top of the bucket it falls in; 0 when
    /// nothing was recorded.
    pub fn value_at_quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return bucket_top(i);
            }
        }
        MAX_US
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_every_value_in_order_and_are_at_most_a_sixteenth_wide() {
        let mut last_top = 0;
        for i in 0..BUCKETS {
            let top = bucket_top(i);
            assert!(i == 0 || top > last_top, "bucket {i}");
            assert_eq!(bucket_of(top), i, "the top of bucket {i} is in it");
            if i > 0 {
                assert_eq!(bucket_of(last_top + 1), i, "no gap before bucket {i}");
            }
            let bottom = if i == 0 { 0 } else { last_top + 1 };
            assert!((top - bottom) * 16 <= bottom.max(16), "bucket {i} too wide");
            last_top = top;
        }
        assert!(bucket_top(BUCKETS - 1) >= MAX_US);
    }

    #[test]
    fn quantiles_and_bounds_come_from_the_buckets() {
        let h = LatencyHistogram::default();
        for us in [10, 20, 30, 40, 1_000] {
            h.record(us, 600);
        }
        let mut s = Snapshot::default();
        h.add_since_start(&mut s);
        assert_eq!((s.count(), s.sum_us()), (5, 1_100));
        assert_eq!(s.value_at_quantile(0.5), 30, "exact below 16, then 6%");
        assert!((1_000..=1_063).contains(&s.value_at_quantile(1.0)));
    }

    #[test]
    fn bound_counts_are_exact_where_buckets_straddle_a_bound() {
        let h = LatencyHistogram::default();
        // 50 and 51 share a log-linear bucket; 1_000 and 1_001 too.
        for us in [50, 51, 1_000, 1_001, 2_000_000] {
            h.record(us, 600);
        }
        assert_eq!(bucket_of(50), bucket_of(51));
        assert_eq!(bucket_of(1_000), bucket_of(1_001));
        let mut s = Snapshot::default();
        h.add_since_start(&mut s);
        let bounds: Vec<_> = s.at_or_below_bounds().collect();
        assert_eq!(bounds.len(), BOUNDS_US.len());
        assert_eq!(bounds[0], (50, 1), "50 is at the bound, 51 above it");
        assert_eq!(bounds[1], (100, 2));
        assert_eq!(bounds[4], (1_000, 3), "1_000 at the bound, 1_001 above");
        assert_eq!(bounds[5], (2_500, 4));
        assert_eq!(
            bounds[13],
            (1_000_000, 4),
            "two seconds is above every bound"
        );
        assert_eq!(s.count(), 5);
    }

    #[test]
    fn recent_windows_forget_minutes_before_the_last() {
        let h = LatencyHistogram::default();
        h.record(50_000, 0);
        h.record(10, 60);
        let recent = |now| {
            let mut s = Snapshot::default();
            h.add_recent(&mut s, now);
            s.count()
        };
        assert_eq!(recent(60), 2, "this and the last minute");
        assert_eq!(recent(180), 0, "both minutes are old");
        h.record(10, 120);
        assert_eq!(recent(120), 2, "minute 0's window was reused for minute 2");
        let mut all = Snapshot::default();
        h.add_since_start(&mut all);
        assert_eq!(all.count(), 3);
    }
}
