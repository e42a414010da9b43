//! The event log: every bid, sampled no-bids, wins, impressions, clicks and losses.
//!
//! Workers write each event as one JSON line (see [`schema`]) into their own
//! bounded lock-free queue and never wait: a full queue drops the event and counts
//! it. One shipper thread drains every queue in batches into the configured sink —
//! rotating NDJSON files (the embedded default) or Kinesis — retrying what failed,
//! holding a bounded backlog while the sink is away, and flushing at shutdown.

pub mod config;
mod file_sink;
mod kinesis_sink;
pub mod schema;
mod shipper;
mod sink;

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crossbeam_queue::ArrayQueue;

use crate::latency::LatencyHistogram;

pub use schema::{Event, EventKind};
pub use shipper::{ShipperReport, check_sink, start_shipper};

/// One worker's queue of event lines (or of spare line buffers).
pub(crate) type EventQueue = ArrayQueue<Vec<u8>>;

/// Room reserved for a new event line; lines are a few hundred bytes.
const LINE_CAPACITY: usize = 512;
/// Line buffers that grew past this are freed rather than reused.
const MAX_SPARE_CAPACITY: usize = 4096;

/// What one worker's log counted, on cache lines no other core writes.
#[derive(Debug, Default)]
#[repr(align(128))]
pub struct WorkerEventCounts {
    accepted: AtomicU64,
    dropped_queue_full: AtomicU64,
}

/// Counters of the event pipeline: the workers' own, and the shipper's.
#[derive(Debug, Default)]
pub struct EventStats {
    /// Per worker: events put into its queue, and dropped at its full queue.
    workers: Vec<WorkerEventCounts>,
    /// Events the sink acknowledged.
    pub sent: AtomicU64,
    /// Event sends retried (records a sink refused once).
    pub retried: AtomicU64,
    /// Accepted events the sink never took (shutdown deadline passed with a backlog).
    pub dropped_sink: AtomicU64,
    /// Events taken from the queues but not yet acknowledged.
    pub pending: AtomicU64,
    /// Time per sink batch, microseconds (written by the shipper alone).
    pub batch_latency: LatencyHistogram,
}

impl EventStats {
    fn new(workers: usize) -> EventStats {
        EventStats {
            workers: (0..workers).map(|_| WorkerEventCounts::default()).collect(),
            ..EventStats::default()
        }
    }

    /// Events put into the workers' queues.
    pub fn accepted(&self) -> u64 {
        self.workers
            .iter()
            .map(|w| w.accepted.load(Ordering::Relaxed))
            .sum()
    }

    /// Events dropped because a worker's queue was full.
    pub fn dropped_queue_full(&self) -> u64 {
        self.workers
            .iter()
            .map(|w| w.dropped_queue_full.load(Ordering::Relaxed))
            .sum()
    }
}

/// The per-worker queues, created before the workers start.
///
/// Line buffers circulate: the shipper hands each one it is done with back to the
/// worker that wrote it, through that worker's spare queue, so in steady state a
/// worker writes events without allocating (and no buffer is freed on another
/// thread than the one that allocated it).
#[derive(Debug, Clone)]
pub struct EventQueues {
    pub(crate) queues: Vec<Arc<EventQueue>>,
    spares: Vec<Arc<EventQueue>>,
    pub(crate) stats: Arc<EventStats>,
}

impl EventQueues {
    /// One queue of `capacity` events per worker.
    pub fn new(workers: usize, capacity: usize) -> EventQueues {
        let queues = || {
            (0..workers)
                .map(|_| Arc::new(ArrayQueue::new(capacity.max(1))))
                .collect()
        };
        EventQueues {
            queues: queues(),
            spares: queues(),
            stats: Arc::new(EventStats::new(workers)),
        }
    }

    /// Gives a line buffer the shipper is done with back to worker `core`.
    pub(crate) fn recycle(&self, core: usize, line: Vec<u8>) {
        if let Some(spare) = self.spares.get(core) {
            keep_spare(spare, line);
        }
    }

    /// The pipeline's counters.
    pub fn stats(&self) -> &Arc<EventStats> {
        &self.stats
    }

    /// Events waiting in queues now.
    pub fn depth(&self) -> usize {
        self.queues.iter().map(|q| q.len()).sum()
    }
}

/// A worker's handle on its queue.
pub(crate) struct EventLog {
    queue: Option<Arc<EventQueue>>,
    spare: Option<Arc<EventQueue>>,
    stats: Arc<EventStats>,
    instance: Arc<str>,
    core: u16,
    /// No-bids kept per 2^32 (the sample rate, scaled).
    nobid_threshold: u64,
    rng: Cell<u64>,
}

impl EventLog {
    /// The handle of worker `core`; `queues` is `None` when events are off.
    pub(crate) fn new(
        queues: Option<&EventQueues>,
        core: usize,
        instance: Arc<str>,
        nobid_sample_rate: f64,
    ) -> EventLog {
        EventLog {
            queue: queues.map(|q| Arc::clone(&q.queues[core])),
            spare: queues.map(|q| Arc::clone(&q.spares[core])),
            stats: queues.map_or_else(Arc::default, |q| Arc::clone(&q.stats)),
            instance,
            core: core as u16,
            nobid_threshold: (nobid_sample_rate.clamp(0.0, 1.0) * (1u64 << 32) as f64) as u64,
            rng: Cell::new(0x9E37_79B9_7F4A_7C15 ^ (core as u64 + 1)),
        }
    }

    /// This worker's own counters.
    fn counts(&self) -> &WorkerEventCounts {
        &self.stats.workers[usize::from(self.core)]
    }

    /// The bidder instance written into events.
    pub(crate) fn instance(&self) -> &str {
        &self.instance
    }

    /// This worker's number, written into events.
    pub(crate) fn core(&self) -> u16 {
        self.core
    }

    /// Whether events are recorded at all.
    pub(crate) fn enabled(&self) -> bool {
        self.queue.is_some()
    }

    /// Whether this no-bid is in the sample.
    pub(crate) fn sample_nobid(&self) -> bool {
        if self.queue.is_none() || self.nobid_threshold == 0 {
            return false;
        }
        let mut x = self.rng.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng.set(x);
        (x >> 32) < self.nobid_threshold
    }

    /// Queues an event; never waits. A full queue drops it (counted).
    pub(crate) fn emit(&self, event: &Event<'_>) {
        let Some(queue) = &self.queue else { return };
        let spare = self.spare.as_ref().and_then(|s| s.pop());
        let mut line = spare.unwrap_or_else(|| Vec::with_capacity(LINE_CAPACITY));
        event.write_line(&mut line);
        match queue.push(line) {
            Ok(()) => {
                self.counts().accepted.fetch_add(1, Ordering::Relaxed);
            }
            Err(line) => {
                self.counts()
                    .dropped_queue_full
                    .fetch_add(1, Ordering::Relaxed);
                if let Some(spare) = &self.spare {
                    keep_spare(spare, line);
                }
            }
        }
    }
}

/// Empties `line` into `spare` for reuse, unless it grew too large to keep or the
/// worker already has plenty of spares (then it is freed).
fn keep_spare(spare: &EventQueue, mut line: Vec<u8>) {
    if line.capacity() <= MAX_SPARE_CAPACITY {
        line.clear();
        let _ = spare.push(line);
    }
}

/// The host name, for `instance` when the config leaves it empty.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "tern".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> Event<'static> {
        Event {
            kind: Some(EventKind::Bid),
            instance: "i",
            ..Event::default()
        }
    }

    #[test]
    fn a_full_queue_drops_and_counts_instead_of_waiting() {
        let queues = EventQueues::new(1, 2);
        let log = EventLog::new(Some(&queues), 0, "i".into(), 0.0);
        for _ in 0..5 {
            log.emit(&event());
        }
        assert_eq!(queues.stats.accepted(), 2);
        assert_eq!(queues.stats.dropped_queue_full(), 3);
        assert_eq!(queues.depth(), 2);
    }

    #[test]
    fn a_worker_reuses_the_line_buffers_given_back() {
        let queues = EventQueues::new(2, 4);
        let log = EventLog::new(Some(&queues), 1, "i".into(), 0.0);
        log.emit(&event());
        let line = queues.queues[1].pop().unwrap();
        let (first, bytes) = (line.as_ptr(), line.clone());
        queues.recycle(1, line);
        log.emit(&event());
        let again = queues.queues[1].pop().unwrap();
        assert_eq!(again.as_ptr(), first, "the same buffer, not a new one");
        assert_eq!(again, bytes, "holding only the new line");
        // A buffer that grew too large is freed instead of kept.
        queues.recycle(1, Vec::with_capacity(MAX_SPARE_CAPACITY + 1));
        assert!(queues.spares[1].is_empty());
    }

    #[test]
    fn no_bids_are_sampled_at_the_configured_rate() {
        let queues = EventQueues::new(1, 1);
        let log = EventLog::new(Some(&queues), 0, "i".into(), 0.1);
        let kept = (0..100_000).filter(|_| log.sample_nobid()).count();
        assert!((8_000..12_000).contains(&kept), "{kept}");
        let never = EventLog::new(Some(&queues), 0, "i".into(), 0.0);
        assert!(!(0..1000).any(|_| never.sample_nobid()));
        let always = EventLog::new(Some(&queues), 0, "i".into(), 1.0);
        assert!((0..1000).all(|_| always.sample_nobid()));
        let off = EventLog::new(None, 0, "i".into(), 1.0);
        assert!(!off.sample_nobid());
    }
}
