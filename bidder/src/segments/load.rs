//! `bidder segments load [SOURCE]`: writes user→segments files into the fleet's
//! user store in Redis (`docs/segments.md`).
//!
//! SOURCE is a file (`.gz` read through gzip) or `s3://bucket/prefix/`: every
//! object under the prefix not loaded before, in key order. Each object is
//! claimed in Redis before it is read (`sgload:{<bucket>/<key>}:<etag>`, held
//! an hour while loading, then `done` for thirty days), so every bidder of a
//! fleet can run the command from a timer and each dropped file is loaded once;
//! a changed object (new ETag) is loaded again, a crashed load after an hour.
//! An object whose bytes are bad (not gzip, cut short) is kept as `failed: ...`
//! for thirty days too: it fails one run, not every run; one that could not be
//! read for a passing reason (S3, Redis) is given back to be tried again.
//!
//! Lines are parsed on one thread while [`BATCHES_IN_FLIGHT`] batches of
//! [`BATCH_USERS`] users are written concurrently on a monoio executor. A
//! user's lines always go to the same batch stream, written in order, so a
//! later line for a user (say, an empty list) is applied after an earlier one.
//! A refused line or a user the server refuses is reported and the load goes
//! on; an unreachable Redis stops it.

mod s3;

use std::future::Future;
use std::io::{self, BufRead, Write};
use std::path::Path;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tern_engine::clock;

use super::file::{self, MAX_TTL_S, UserSegments};
use crate::aws::S3Location;
use crate::error::{AwsError, ConfigError};
use crate::freq_cap::CapError;
use crate::freq_cap::config::{CapStoreKind, FrequencyCapConfig};
use crate::freq_cap::redis::load::{Claim, SegmentWriter, Written};
use crate::segments::config::SegmentsConfig;
use crate::server::config::IoDriver;

/// Users written per pipeline.
pub const BATCH_USERS: usize = 500;
/// Batches being written at once (each its own stream of users).
pub const BATCHES_IN_FLIGHT: usize = 8;
/// Refused lines (and refused users) listed per source.
const SHOWN_PER_SOURCE: usize = 10;
/// How long a claim holds an object while it loads, seconds; kept alive every
/// [`CLAIM_EXTEND_EVERY`], so only a crashed load lets it lapse.
const CLAIM_TTL_S: u64 = 3600;
/// How often a long load extends its claim.
const CLAIM_EXTEND_EVERY: Duration = Duration::from_secs(300);
/// How long a loaded object is remembered, seconds (thirty days): objects
/// older than that should be gone from the prefix.
const DONE_TTL_S: u64 = 30 * 24 * 3600;
/// How a claim marks an object whose bytes could not be read (followed by why).
const FAILED: &str = "failed: ";
/// Longest reason kept in a failed object's marker, bytes.
const FAILED_REASON_BYTES: usize = 200;
/// Oldest Redis major version with `EXPIREAT ... NX|GT` and `SET NX GET`.
const MIN_REDIS_MAJOR: u32 = 7;

/// Why a load could not start (or had to stop before its sources).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The user store is the in-process one.
    #[error(
        "frequency_cap.store is \"local\": its in-process store is loaded from segments.file at \
         start; `bidder segments load` writes to Redis (frequency_cap.store = \"redis\")"
    )]
    NotRedis,
    /// Neither a SOURCE nor `segments.s3_uri`.
    #[error("no source: name a file or s3://bucket/prefix/, or set segments.s3_uri")]
    NoSource,
    /// The default lifetime (`--ttl-s` or `segments.default_ttl_s`) is out of range.
    #[error("the default TTL must be 1 to {MAX_TTL_S} seconds, not {0}")]
    Ttl(u64),
    /// A setting is wrong.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Redis answered with a version older than 7.0.
    #[error("Redis {0} is too old: segments need 7.0 or later (EXPIREAT NX/GT, SET NX GET)")]
    OldRedis(String),
    /// Redis could not be reached or refused a command.
    #[error("Redis: {0}")]
    Redis(String),
    /// The source file cannot be opened.
    #[error("cannot open {path}: {source}")]
    Open {
        /// The file.
        path: String,
        /// Why.
        source: io::Error,
    },
    /// S3 refused or failed a call.
    #[error("S3: {0}")]
    S3(#[from] AwsError),
    /// The executor (or the S3 client's runtime) could not start.
    #[error("cannot start the loader: {0}")]
    Runtime(io::Error),
    /// The summary could not be written.
    #[error("cannot write the summary: {0}")]
    Output(#[from] io::Error),
}

impl From<CapError> for LoadError {
    fn from(error: CapError) -> Self {
        LoadError::Redis(redis_reason(&error))
    }
}

/// A Redis failure in the loader's words (a [`CapError`] speaks of the bid path).
fn redis_reason(error: &CapError) -> String {
    match error {
        CapError::Timeout => "timed out".to_owned(),
        CapError::Unavailable(why) => why.clone(),
        CapError::Busy => "no free connection".to_owned(),
    }
}

/// What a load did, over every source.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadCounts {
    /// Sources read (all of them, or until they failed).
    pub sources_loaded: u64,
    /// S3 objects skipped: loaded before, found corrupt before, or being loaded
    /// by another run.
    pub sources_skipped: u64,
    /// Sources that stopped before their end (unreadable, corrupt, or Redis gone).
    pub sources_failed: u64,
    /// Users written.
    pub users: u64,
    /// Memberships written (a user's segments, summed).
    pub segments: u64,
    /// Lines refused (bad JSON, identifiers, segment ids, ...).
    pub refused_lines: u64,
    /// Users Redis refused, or whose batch could not be sent.
    pub failed_users: u64,
}

impl LoadCounts {
    /// Whether every line of every source was written (the exit status is 0).
    pub fn clean(&self) -> bool {
        self.sources_failed == 0 && self.refused_lines == 0 && self.failed_users == 0
    }
}

/// The sections of the config the loader reads.
#[derive(Debug, Clone, Copy)]
pub struct LoadSettings<'c> {
    /// `[frequency_cap]`: the store (must be Redis) and its connection.
    pub frequency_cap: &'c FrequencyCapConfig,
    /// `[segments]`: the default TTL and the S3 prefix.
    pub segments: &'c SegmentsConfig,
    /// `server.io_driver`: the loader's runtime, as the bid workers'.
    pub io_driver: IoDriver,
}

/// Loads `source` (else `segments.s3_uri`) into the Redis of `config`, segments
/// without a `ttl_s` living `ttl_s` (else `segments.default_ttl_s`) seconds;
/// writes a summary line per source and a total to `out`. `Err` when nothing
/// could be loaded (bad settings, Redis or the S3 listing unreachable).
pub fn run(
    config: LoadSettings<'_>,
    source: Option<&str>,
    ttl_s: Option<u64>,
    out: &mut dyn Write,
) -> Result<LoadCounts, LoadError> {
    if config.frequency_cap.store != CapStoreKind::Redis {
        return Err(LoadError::NotRedis);
    }
    let ttl_s = ttl_s.unwrap_or(config.segments.default_ttl_s);
    if !(1..=MAX_TTL_S).contains(&ttl_s) {
        return Err(LoadError::Ttl(ttl_s));
    }
    let source = match source.map(str::trim).filter(|s| !s.is_empty()) {
        Some(source) => source.to_owned(),
        None => config.segments.s3().ok_or(LoadError::NoSource)?.to_owned(),
    };
    let writer = SegmentWriter::new(&config.frequency_cap.redis)?;
    let objects = match source.starts_with("s3://") {
        true => {
            let location = S3Location::parse(&source)
                .map_err(|why| ConfigError::new("SOURCE", format!("{source}: {why}")))?;
            Some(s3::S3Objects::new(location)?)
        }
        false => None,
    };
    let started = Instant::now();
    let load = async move {
        let writer = Rc::new(writer);
        let version = writer.server_version().await?;
        let major = version
            .split('.')
            .next()
            .and_then(|m| m.parse::<u32>().ok());
        if major.is_none_or(|major| major < MIN_REDIS_MAJOR) {
            return Err(LoadError::OldRedis(version));
        }
        let mut totals = LoadCounts::default();
        match objects {
            None => {
                let reader = file::open(Path::new(&source)).map_err(|e| LoadError::Open {
                    path: source.clone(),
                    source: e,
                })?;
                let load = load_source(&writer, reader, ttl_s, None).await;
                load.report(out, &source, &mut totals)?;
            }
            Some(objects) => load_prefix(&writer, &objects, ttl_s, out, &mut totals).await?,
        }
        let elapsed = started.elapsed();
        writeln!(
            out,
            "total: {} sources loaded, {} skipped, {} failed: {} users written, {} segments \
             written, {} lines refused, {} users failed, {:.1} s, {:.0} users/s",
            totals.sources_loaded,
            totals.sources_skipped,
            totals.sources_failed,
            totals.users,
            totals.segments,
            totals.refused_lines,
            totals.failed_users,
            elapsed.as_secs_f64(),
            per_second(totals.users, elapsed),
        )?;
        Ok(totals)
    };
    config
        .io_driver
        .block_on(load)
        .map_err(LoadError::Runtime)?
}

/// Loads every object under the prefix that no run has loaded or is loading.
async fn load_prefix(
    writer: &Rc<SegmentWriter>,
    objects: &s3::S3Objects,
    ttl_s: u64,
    out: &mut dyn Write,
    totals: &mut LoadCounts,
) -> Result<(), LoadError> {
    let bucket = &objects.location.bucket;
    for object in objects.list()? {
        let name = format!("s3://{bucket}/{}", object.key);
        let marker = format!("sgload:{{{bucket}/{}}}:{}", object.key, object.etag);
        match writer.claim(&marker, CLAIM_TTL_S).await? {
            Claim::Claimed => {}
            Claim::Done => {
                writeln!(out, "{name}: skipped, loaded before")?;
                totals.sources_skipped += 1;
                continue;
            }
            Claim::Held(by) if by.starts_with(FAILED) => {
                writeln!(
                    out,
                    "{name}: skipped, failed before ({by}); a new upload is loaded again"
                )?;
                totals.sources_skipped += 1;
                continue;
            }
            Claim::Held(by) => {
                writeln!(out, "{name}: skipped, being loaded by another run ({by})")?;
                totals.sources_skipped += 1;
                continue;
            }
        }
        let reader = match objects.open(&object.key) {
            Ok(body) => file::reader(&object.key, body),
            Err(e) => {
                let _ = writer.release(&marker).await;
                return Err(LoadError::Runtime(e));
            }
        };
        let load = load_source(writer, reader, ttl_s, Some(&marker)).await;
        let finished = match (&load.stopped, load.corrupt) {
            (None, _) => writer.mark(&marker, "done", DONE_TTL_S).await,
            // The same bytes fail the same way: kept until the object changes.
            (Some(why), true) => {
                let failed = failed_marker(why);
                writer.mark(&marker, &failed, DONE_TTL_S).await
            }
            // Given back at once, to be tried again by the next run.
            (Some(_), false) => writer.release(&marker).await,
        };
        load.report(out, &name, totals)?;
        if load.corrupt && finished.is_ok() {
            writeln!(
                out,
                "  not tried again until the object changes (new ETag): {marker} is failed"
            )?;
        }
        if let Err(e) = finished {
            writeln!(out, "  cannot update {marker}: {}", redis_reason(&e))?;
        }
        if load.redis_failed {
            break;
        }
    }
    Ok(())
}

/// The value of a failed object's claim: [`FAILED`] and why, cut short.
fn failed_marker(why: &str) -> String {
    let mut cut = why.len().min(FAILED_REASON_BYTES);
    while !why.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{FAILED}{}", &why[..cut])
}

/// What one source did.
#[derive(Debug, Default)]
struct SourceLoad {
    users: u64,
    segments: u64,
    refused_lines: u64,
    failed_users: u64,
    /// The first refused lines: (line number, reason).
    refused: Vec<(u64, String)>,
    /// The first users the server refused: (line number, reason).
    failed: Vec<(u64, String)>,
    /// Why the source stopped before its end.
    stopped: Option<String>,
    /// Whether it stopped because Redis could not be reached.
    redis_failed: bool,
    /// Whether it stopped because its bytes are bad (not on a passing failure).
    corrupt: bool,
    elapsed: Duration,
}

/// Users waiting to be sent, with their line numbers.
#[derive(Default)]
struct Batch {
    lines: Vec<u64>,
    users: Vec<UserSegments>,
}

/// A batch being written.
struct Flight {
    lines: Vec<u64>,
    users: u64,
    handle: monoio::task::JoinHandle<Result<Written, CapError>>,
}

impl Flight {
    fn launch(writer: &Rc<SegmentWriter>, batch: Batch) -> Flight {
        let writer = Rc::clone(writer);
        let Batch { lines, users } = batch;
        let now_s = clock::now_unix_s();
        let count = users.len() as u64;
        let handle = monoio::spawn(async move { writer.write(&users, now_s).await });
        Flight {
            lines,
            users: count,
            handle,
        }
    }
}

/// Reads and writes one source to its end (or until it cannot go on),
/// extending `marker` (the source's claim) while it runs long.
async fn load_source(
    writer: &Rc<SegmentWriter>,
    reader: Box<dyn BufRead + Send>,
    ttl_s: u64,
    marker: Option<&str>,
) -> SourceLoad {
    let started = Instant::now();
    let mut load = SourceLoad::default();
    let mut pending: Vec<Batch> = (0..BATCHES_IN_FLIGHT).map(|_| Batch::default()).collect();
    let mut flights: Vec<Option<Flight>> = (0..BATCHES_IN_FLIGHT).map(|_| None).collect();
    let mut extended = Instant::now();
    for item in file::lines(reader, ttl_s) {
        let (line, user) = match item {
            Ok((line, Ok(user))) => (line, user),
            Ok((line, Err(reason))) => {
                load.refuse(line, reason);
                continue;
            }
            Err(e) => {
                load.corrupt = load.stopped.is_none() && e.is_content();
                load.stop(e.to_string(), false);
                break;
            }
        };
        // The user's own stream: its lines are written in file order.
        let stream = usize::from(user.user.0[0]) % BATCHES_IN_FLIGHT;
        pending[stream].lines.push(line);
        pending[stream].users.push(user);
        if pending[stream].users.len() < BATCH_USERS {
            continue;
        }
        let batch = std::mem::take(&mut pending[stream]);
        if let Some(flight) = flights[stream].take() {
            load.land(flight).await;
        }
        if load.stopped.is_some() {
            break;
        }
        flights[stream] = Some(Flight::launch(writer, batch));
        // Let the new batch go out before parsing on.
        yield_now().await;
        if let Some(marker) = marker
            && extended.elapsed() >= CLAIM_EXTEND_EVERY
        {
            extended = Instant::now();
            if let Err(e) = writer.extend(marker, CLAIM_TTL_S).await {
                load.stop(format!("Redis: {}", redis_reason(&e)), true);
                break;
            }
        }
    }
    for flight in &mut flights {
        if let Some(flight) = flight.take() {
            load.land(flight).await;
        }
    }
    if load.stopped.is_none() {
        for (flight, batch) in flights.iter_mut().zip(pending) {
            if !batch.users.is_empty() {
                *flight = Some(Flight::launch(writer, batch));
            }
        }
        for flight in &mut flights {
            if let Some(flight) = flight.take() {
                load.land(flight).await;
            }
        }
    }
    load.elapsed = started.elapsed();
    load
}

impl SourceLoad {
    fn refuse(&mut self, line: u64, reason: String) {
        self.refused_lines += 1;
        if self.refused.len() < SHOWN_PER_SOURCE {
            self.refused.push((line, reason));
        }
    }

    fn stop(&mut self, why: String, redis: bool) {
        if self.stopped.is_none() {
            self.stopped = Some(why);
            self.redis_failed = redis;
        }
    }

    /// Waits for `flight` and counts what it wrote.
    async fn land(&mut self, flight: Flight) {
        match flight.handle.await {
            Ok(written) => {
                self.users += written.users;
                self.segments += written.segments;
                self.failed_users += written.failed.len() as u64;
                for (at, why) in written.failed {
                    if self.failed.len() < SHOWN_PER_SOURCE {
                        self.failed
                            .push((flight.lines.get(at).copied().unwrap_or(0), why));
                    }
                }
            }
            Err(e) => {
                // Some of the batch may be written; none of it is known to be.
                self.failed_users += flight.users;
                self.stop(format!("Redis: {}", redis_reason(&e)), true);
            }
        }
    }

    /// Writes the source's summary line and its first refusals; adds it to `totals`.
    fn report(&self, out: &mut dyn Write, name: &str, totals: &mut LoadCounts) -> io::Result<()> {
        writeln!(
            out,
            "{name}: {} users written, {} segments written, {} lines refused, {} users failed, \
             {:.1} s, {:.0} users/s{}",
            self.users,
            self.segments,
            self.refused_lines,
            self.failed_users,
            self.elapsed.as_secs_f64(),
            per_second(self.users, self.elapsed),
            match (&self.stopped, self.corrupt) {
                (None, _) => "",
                (Some(_), true) => ", CORRUPT",
                (Some(_), false) => ", STOPPED",
            },
        )?;
        for (line, why) in &self.refused {
            writeln!(out, "  line {line}: refused: {why}")?;
        }
        if self.refused_lines > self.refused.len() as u64 {
            let more = self.refused_lines - self.refused.len() as u64;
            writeln!(out, "  ... and {more} more refused lines")?;
        }
        for (line, why) in &self.failed {
            writeln!(out, "  line {line}: not written: {why}")?;
        }
        if let Some(why) = &self.stopped {
            writeln!(out, "  stopped: {why}")?;
        }
        match self.stopped {
            None => totals.sources_loaded += 1,
            Some(_) => totals.sources_failed += 1,
        }
        totals.users += self.users;
        totals.segments += self.segments;
        totals.refused_lines += self.refused_lines;
        totals.failed_users += self.failed_users;
        Ok(())
    }
}

fn per_second(count: u64, elapsed: Duration) -> f64 {
    match elapsed.as_secs_f64() {
        secs if secs > 0.0 => count as f64 / secs,
        _ => 0.0,
    }
}

/// Lets the executor run the other tasks once.
async fn yield_now() {
    struct YieldNow(bool);
    impl Future for YieldNow {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if self.0 {
                return Poll::Ready(());
            }
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
    YieldNow(false).await;
}
