//! The shipper: one thread that drains every worker's queue into the sink.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::config::{EventSinkKind, EventsConfig};
use super::file_sink::FileSink;
use super::kinesis_sink::KinesisSink;
use super::sink::Sink;
use super::{EventQueues, EventStats};
use crate::backoff::Backoff;
use crate::error::StartError;
use crate::lifecycle::{Background, StopSignal};

/// Largest batch a sink is handed, in bytes (Kinesis `PutRecords` takes 5 MiB).
const MAX_BATCH_BYTES: usize = 5 * 1024 * 1024;
/// Pause when there is nothing to do.
const IDLE: Duration = Duration::from_millis(2);

/// The counts when the shipper stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShipperReport {
    /// Events put into queues.
    pub accepted: u64,
    /// Events the sink acknowledged.
    pub sent: u64,
    /// Events dropped at a full queue (never accepted).
    pub dropped_queue_full: u64,
    /// Accepted events the sink never took before the shutdown deadline.
    pub dropped_sink: u64,
}

/// Builds the configured sink (failing at start on bad settings) and starts the
/// shipper thread. `None` when events are off. Stop it with [`Background::stop`]
/// once no worker produces events any more: it sends what is queued until the
/// deadline, and counts what is left then as dropped.
pub fn start_shipper(
    queues: &EventQueues,
    config: &EventsConfig,
) -> Result<Option<Background>, StartError> {
    let Some(sink) = build_sink(config)? else {
        return Ok(None);
    };
    let pacing = Pacing {
        batch_records: config.batch_records,
        linger: Duration::from_millis(config.batch_linger_ms),
        max_buffered: config.max_buffered_records,
        retry_initial: Duration::from_millis(config.retry_initial_ms),
        retry_max: Duration::from_millis(config.retry_max_ms),
    };
    spawn(queues, sink, pacing).map(Some)
}

/// The configured sink (`None` for `sink = "none"`): creating the file sink's
/// directory, or loading the AWS configuration the Kinesis sink needs.
fn build_sink(config: &EventsConfig) -> Result<Option<Box<dyn Sink + Send>>, StartError> {
    Ok(match config.sink {
        EventSinkKind::None => None,
        EventSinkKind::File => Some(Box::new(FileSink::new(
            &config.file,
            &config.instance_or_host(),
        )?)),
        EventSinkKind::Kinesis => Some(Box::new(KinesisSink::new(&config.kinesis)?)),
    })
}

/// Checks that the configured sink can be set up, as a start would, without
/// starting the shipper (for `bidder --check`).
pub fn check_sink(config: &EventsConfig) -> Result<(), StartError> {
    build_sink(config).map(drop)
}

/// How the shipper batches and retries.
#[derive(Debug, Clone, Copy)]
struct Pacing {
    batch_records: usize,
    linger: Duration,
    max_buffered: usize,
    retry_initial: Duration,
    retry_max: Duration,
}

/// Starts the shipper thread over `queues` into `sink`.
fn spawn(
    queues: &EventQueues,
    sink: Box<dyn Sink + Send>,
    pacing: Pacing,
) -> Result<Background, StartError> {
    let queues = queues.clone();
    Background::spawn("event-shipper", move |signal| {
        Worker {
            queues,
            sink,
            pacing,
            signal,
        }
        .run();
    })
}

impl ShipperReport {
    /// The pipeline's counts now (final once the shipper has stopped).
    pub fn of(stats: &EventStats) -> ShipperReport {
        ShipperReport {
            accepted: stats.accepted(),
            sent: stats.sent.load(Ordering::Relaxed),
            dropped_queue_full: stats.dropped_queue_full(),
            dropped_sink: stats.dropped_sink.load(Ordering::Relaxed),
        }
    }
}

struct Worker {
    queues: EventQueues,
    sink: Box<dyn Sink + Send>,
    pacing: Pacing,
    signal: StopSignal,
}

impl Worker {
    fn run(mut self) {
        let stats = Arc::clone(&self.queues.stats);
        let mut pending: VecDeque<Pulled> = VecDeque::new();
        let mut batch: Vec<Vec<u8>> = Vec::with_capacity(self.pacing.batch_records);
        // The worker each line of `batch` came from, to give its buffer back.
        let mut origins: Vec<u16> = Vec::with_capacity(self.pacing.batch_records);
        let mut failed = Vec::new();
        let mut last_send = Instant::now();
        let mut retry_at = Instant::now();
        let mut backoff = Backoff::new(self.pacing.retry_initial, self.pacing.retry_max);
        loop {
            let stopping = self.signal.is_stopping();
            self.pull(&mut pending);
            stats.pending.store(pending.len() as u64, Ordering::Relaxed);
            let now = Instant::now();
            let due = pending.len() >= self.pacing.batch_records
                || now.duration_since(last_send) >= self.pacing.linger
                || stopping;
            let mut worked = false;
            if !pending.is_empty() && due && now >= retry_at {
                worked = true;
                take_batch(
                    &mut pending,
                    &mut batch,
                    &mut origins,
                    self.pacing.batch_records,
                );
                let started = Instant::now();
                failed.clear();
                let result = self.sink.send(&batch, &mut failed);
                record_latency(&stats, started.elapsed());
                last_send = Instant::now();
                match result {
                    Ok(()) => {
                        stats
                            .sent
                            .fetch_add((batch.len() - failed.len()) as u64, Ordering::Relaxed);
                        if failed.is_empty() {
                            backoff.reset();
                        } else {
                            stats
                                .retried
                                .fetch_add(failed.len() as u64, Ordering::Relaxed);
                            // Only the refused records go back, in order, at the front.
                            for &i in failed.iter().rev() {
                                pending.push_front(Pulled {
                                    core: origins[i],
                                    line: std::mem::take(&mut batch[i]),
                                });
                            }
                            retry_at = Instant::now() + backoff.next_delay();
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, records = batch.len(), "event batch not delivered; retrying");
                        stats
                            .retried
                            .fetch_add(batch.len() as u64, Ordering::Relaxed);
                        for (line, core) in batch.drain(..).zip(origins.drain(..)).rev() {
                            pending.push_front(Pulled { core, line });
                        }
                        retry_at = Instant::now() + backoff.next_delay();
                    }
                }
                // What is left was delivered (refused lines were taken, leaving
                // empty buffers): the buffers go back to their workers.
                for (line, core) in batch.drain(..).zip(origins.drain(..)) {
                    if line.capacity() > 0 {
                        self.queues.recycle(usize::from(core), line);
                    }
                }
            }
            if stopping {
                let queued: usize = self.queues.queues.iter().map(|q| q.len()).sum();
                if pending.is_empty() && queued == 0 {
                    break;
                }
                if self.signal.deadline().is_none_or(|d| Instant::now() >= d) {
                    let mut left = pending.len() as u64;
                    for queue in &self.queues.queues {
                        while queue.pop().is_some() {
                            left += 1;
                        }
                    }
                    stats.dropped_sink.fetch_add(left, Ordering::Relaxed);
                    tracing::warn!(
                        dropped = left,
                        "event sink did not take every event before the deadline"
                    );
                    break;
                }
            }
            if !worked {
                std::thread::sleep(IDLE);
            }
        }
        stats.pending.store(0, Ordering::Relaxed);
    }

    /// Moves queued events into `pending`, round robin, up to the backlog limit.
    fn pull(&self, pending: &mut VecDeque<Pulled>) {
        pull(&self.queues, self.pacing.max_buffered, pending);
    }
}

/// Moves queued events into `pending`, one from each worker's queue in turn,
/// until the queues are empty or `pending` holds `max_buffered` (never more: the
/// limit is checked before each event, not once per round over the workers).
fn pull(queues: &EventQueues, max_buffered: usize, pending: &mut VecDeque<Pulled>) {
    loop {
        let mut any = false;
        for (core, queue) in queues.queues.iter().enumerate() {
            if pending.len() >= max_buffered {
                return;
            }
            if let Some(line) = queue.pop() {
                pending.push_back(Pulled {
                    core: core as u16,
                    line,
                });
                any = true;
            }
        }
        if !any {
            return;
        }
    }
}

/// An event line taken from worker `core`'s queue.
struct Pulled {
    core: u16,
    line: Vec<u8>,
}

/// Moves up to `max_records` lines (and at most [`MAX_BATCH_BYTES`]) into `batch`,
/// and where each came from into `origins`.
fn take_batch(
    pending: &mut VecDeque<Pulled>,
    batch: &mut Vec<Vec<u8>>,
    origins: &mut Vec<u16>,
    max_records: usize,
) {
    let mut bytes = 0;
    while batch.len() < max_records {
        let Some(next) = pending.front() else { break };
        if !batch.is_empty() && bytes + next.line.len() > MAX_BATCH_BYTES {
            break;
        }
        bytes += next.line.len();
        if let Some(Pulled { core, line }) = pending.pop_front() {
            batch.push(line);
            origins.push(core);
        }
    }
}

fn record_latency(stats: &EventStats, took: Duration) {
    stats
        .batch_latency
        .record(took.as_micros() as u64, tern_engine::clock::now_unix_s());
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::events::sink::SinkError;
    use crate::events::{Event, EventKind, EventLog};

    /// A sink that refuses what the script says, and remembers what it took.
    struct ScriptedSink {
        taken: Arc<Mutex<Vec<Vec<u8>>>>,
        /// Per call: `None` accepts all, `Some(true)` fails the call, `Some(false)`
        /// refuses every other record.
        script: VecDeque<Option<bool>>,
    }

    impl Sink for ScriptedSink {
        fn send(&mut self, batch: &[Vec<u8>], failed: &mut Vec<usize>) -> Result<(), SinkError> {
            match self.script.pop_front().flatten() {
                Some(true) => Err(SinkError("down".into())),
                Some(false) => {
                    for (i, line) in batch.iter().enumerate() {
                        if i % 2 == 0 {
                            failed.push(i);
                        } else {
                            self.taken.lock().unwrap().push(line.clone());
                        }
                    }
                    Ok(())
                }
                None => {
                    self.taken.lock().unwrap().extend(batch.iter().cloned());
                    Ok(())
                }
            }
        }
    }

    /// Ships `events` events (half from each of two workers) through a sink that
    /// follows `script`; returns the report, how many the sink took, and how many
    /// line buffers came back to each worker.
    fn run_with(
        script: Vec<Option<bool>>,
        events: usize,
        max_buffered: usize,
    ) -> (ShipperReport, usize, Vec<usize>) {
        let queues = EventQueues::new(2, 1000);
        let taken = Arc::new(Mutex::new(Vec::new()));
        let sink = ScriptedSink {
            taken: Arc::clone(&taken),
            script: script.into(),
        };
        for core in 0..2 {
            let log = EventLog::new(Some(&queues), core, "i".into(), 0.0);
            for _ in 0..events / 2 {
                log.emit(&Event {
                    kind: Some(EventKind::Bid),
                    instance: "i",
                    ..Event::default()
                });
            }
        }
        let pacing = Pacing {
            batch_records: 7,
            linger: Duration::ZERO,
            max_buffered,
            retry_initial: Duration::from_millis(1),
            retry_max: Duration::from_millis(4),
        };
        let shipper = spawn(&queues, Box::new(sink), pacing).unwrap();
        shipper.stop(Instant::now() + Duration::from_secs(5));
        let report = ShipperReport::of(&queues.stats);
        let taken = taken.lock().unwrap().len();
        let spares = queues.spares.iter().map(|s| s.len()).collect();
        (report, taken, spares)
    }

    #[test]
    fn refused_records_are_retried_and_nothing_is_lost_or_doubled() {
        let (report, taken, spares) = run_with(
            vec![Some(true), Some(false), Some(true), Some(false)],
            100,
            1000,
        );
        assert_eq!(report.accepted, 100);
        assert_eq!(report.sent, 100);
        assert_eq!(taken, 100);
        assert_eq!(report.dropped_sink, 0);
        assert_eq!(
            spares,
            [50, 50],
            "every delivered line's buffer went back to the worker that wrote it"
        );
    }

    #[test]
    fn a_sink_that_never_recovers_counts_the_backlog_as_dropped_at_the_deadline() {
        let queues = EventQueues::new(1, 100);
        let log = EventLog::new(Some(&queues), 0, "i".into(), 0.0);
        for _ in 0..50 {
            log.emit(&Event {
                kind: Some(EventKind::Win),
                instance: "i",
                ..Event::default()
            });
        }
        let down = ScriptedSink {
            taken: Arc::default(),
            script: std::iter::repeat_n(Some(true), 10_000).collect(),
        };
        let pacing = Pacing {
            batch_records: 10,
            linger: Duration::ZERO,
            max_buffered: 20,
            retry_initial: Duration::from_millis(1),
            retry_max: Duration::from_millis(2),
        };
        let shipper = spawn(&queues, Box::new(down), pacing).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        assert!(
            queues.stats.pending.load(Ordering::Relaxed) <= 20,
            "backlog stays bounded"
        );
        shipper.stop(Instant::now() + Duration::from_millis(100));
        let report = ShipperReport::of(&queues.stats);
        assert_eq!(report.sent, 0);
        assert_eq!(
            report.accepted,
            report.sent + report.dropped_sink,
            "every accepted event accounted for"
        );
    }

    #[test]
    fn the_backlog_never_holds_more_than_max_buffered_whatever_the_workers() {
        let queues = EventQueues::new(3, 100);
        for core in 0..3 {
            let log = EventLog::new(Some(&queues), core, "i".into(), 0.0);
            for _ in 0..10 {
                log.emit(&Event {
                    kind: Some(EventKind::Bid),
                    instance: "i",
                    ..Event::default()
                });
            }
        }
        let mut pending = VecDeque::new();
        pull(&queues, 7, &mut pending);
        assert_eq!(pending.len(), 7, "not one more than the limit");
        let from: Vec<u16> = pending.iter().map(|p| p.core).collect();
        assert_eq!(from, [0, 1, 2, 0, 1, 2, 0], "round robin over the workers");
        assert_eq!(queues.depth(), 23, "the rest waits in the queues");
        pending.clear();
        pull(&queues, 100, &mut pending);
        assert_eq!((pending.len(), queues.depth()), (23, 0));
    }

    #[test]
    fn batches_respect_the_record_and_byte_limits() {
        let pulled = |len| Pulled {
            core: 0,
            line: vec![b'x'; len],
        };
        let mut pending: VecDeque<Pulled> = (0..10).map(|_| pulled(MAX_BATCH_BYTES / 3)).collect();
        let (mut batch, mut origins) = (Vec::new(), Vec::new());
        take_batch(&mut pending, &mut batch, &mut origins, 500);
        assert_eq!((batch.len(), origins.len()), (3, 3));
        batch.clear();
        origins.clear();
        let mut small: VecDeque<Pulled> = (0..1000).map(|_| pulled(10)).collect();
        take_batch(&mut small, &mut batch, &mut origins, 500);
        assert_eq!(batch.len(), 500);
    }
}
