//! A steady-rate load generator for the fault tests: a few client threads on
//! keep-alive connections to the bid listener, together sending a fixed number of
//! requests per second (paced by the clock, not as fast as they can) while a test
//! breaks something, and a record of what every request got back.
//!
//! Unlike [`super::read_response`], nothing here panics on a broken connection: a
//! refused connect, a reset, a close without an answer or no answer in time is
//! what a fault test wants to count, so each becomes a [`Failure`] and the client
//! reconnects for its next request. Every wait has a timeout, so a stopped load
//! always returns.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::Reply;

/// The body of request number `n` (numbered from 0 across all clients).
pub type BodyFn = dyn Fn(u64) -> Vec<u8> + Send + Sync;
/// A label for an answer (e.g. the winning campaign), tallied in the report.
pub type ClassifyFn = dyn Fn(&Reply) -> String + Send + Sync;

/// What to send, how fast and from how many connections.
#[derive(Clone)]
pub struct LoadSpec {
    /// The bid listener.
    pub addr: SocketAddr,
    /// Client threads, each on its own keep-alive connection.
    pub clients: usize,
    /// Requests per second, all clients together.
    pub rate_per_s: u32,
    /// Path of every request.
    pub path: String,
    /// Longest wait for a connection or an answer before the request counts as
    /// [`Failure::NoAnswer`]; well past any deadline the tests assert.
    pub give_up_after: Duration,
    /// Body of each request.
    pub body: Arc<BodyFn>,
    /// Labels each answer; `None` leaves [`Record::label`] empty.
    pub classify: Option<Arc<ClassifyFn>>,
}

impl LoadSpec {
    /// `rate_per_s` requests a second of the same `body` from `clients`
    /// connections to the bid endpoint of `addr`.
    pub fn new(addr: SocketAddr, clients: usize, rate_per_s: u32, body: Vec<u8>) -> LoadSpec {
        LoadSpec::varying(addr, clients, rate_per_s, move |_| body.clone())
    }

    /// Like [`LoadSpec::new`], with the body of request `n` made by `body(n)`
    /// (e.g. another user for each request, or a unique request id).
    pub fn varying(
        addr: SocketAddr,
        clients: usize,
        rate_per_s: u32,
        body: impl Fn(u64) -> Vec<u8> + Send + Sync + 'static,
    ) -> LoadSpec {
        LoadSpec {
            addr,
            clients,
            rate_per_s,
            path: "/openrtb2/bid".to_owned(),
            give_up_after: Duration::from_secs(3),
            body: Arc::new(body),
            classify: None,
        }
    }

    /// Labels every answer with `classify`.
    pub fn classify(mut self, classify: impl Fn(&Reply) -> String + Send + Sync + 'static) -> Self {
        self.classify = Some(Arc::new(classify));
        self
    }
}

/// Why a request got no HTTP answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Failure {
    /// The connection could not be made.
    Refused,
    /// The connection was reset or broke while sending or reading.
    Reset,
    /// The server closed the connection without (all of) an answer.
    Closed,
    /// Nothing came back within [`LoadSpec::give_up_after`].
    NoAnswer,
    /// Something came back that is not an HTTP/1.1 response.
    Garbled,
}

/// What one request got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// An HTTP answer with this status.
    Status(u16),
    /// No answer.
    Failed(Failure),
}

/// One request as the client saw it.
#[derive(Debug, Clone)]
pub struct Record {
    /// Its number (its body is `body(n)`).
    pub n: u64,
    /// When its first byte was written (or the connect began, for a new connection).
    pub at: Instant,
    /// From `at` to the last byte of the answer (or to the failure).
    pub latency: Duration,
    /// Status or failure.
    pub outcome: Outcome,
    /// The label [`LoadSpec::classify`] gave the answer.
    pub label: Option<String>,
}

/// A running load; stop it with [`Load::stop`] (dropping it stops it too).
pub struct Load {
    stop: Arc<AtomicBool>,
    done: Arc<AtomicU64>,
    records: Arc<Mutex<Vec<Record>>>,
    threads: Vec<JoinHandle<()>>,
    started: Instant,
    stalls: Arc<Mutex<Vec<Stall>>>,
}

/// A time the test process itself could not run (a thread woke this much later
/// than it asked to): a late answer then may be the machine's, not the bidder's.
#[derive(Debug, Clone, Copy)]
pub struct Stall {
    /// When the watchdog went to sleep.
    pub at: Instant,
    /// How much later than asked it woke.
    pub late_by: Duration,
}

/// How often the watchdog looks, and how late a wake-up counts as a stall.
const WATCHDOG_TICK: Duration = Duration::from_millis(5);
const STALL: Duration = Duration::from_millis(20);

/// Records every [`Stall`] of this process until `stop`.
fn watchdog(stop: Arc<AtomicBool>, stalls: Arc<Mutex<Vec<Stall>>>) {
    while !stop.load(Ordering::Relaxed) {
        let at = Instant::now();
        std::thread::sleep(WATCHDOG_TICK);
        let late_by = at.elapsed().saturating_sub(WATCHDOG_TICK);
        if late_by > STALL {
            stalls.lock().unwrap().push(Stall { at, late_by });
        }
    }
}

impl Load {
    /// Starts the clients; each connects when it sends its first request.
    pub fn start(spec: LoadSpec) -> Load {
        assert!(spec.clients > 0 && spec.rate_per_s > 0, "an empty load");
        let stop = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicU64::new(0));
        let records = Arc::new(Mutex::new(Vec::new()));
        let next_n = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        // Client `i` sends at start + (k * clients + i) / rate: the clients' slots
        // interleave, so together they keep the rate.
        let slot = Duration::from_secs_f64(1.0 / f64::from(spec.rate_per_s));
        let stalls = Arc::new(Mutex::new(Vec::new()));
        let mut threads: Vec<JoinHandle<()>> = (0..spec.clients)
            .map(|i| {
                let client = Client {
                    spec: spec.clone(),
                    stop: Arc::clone(&stop),
                    done: Arc::clone(&done),
                    records: Arc::clone(&records),
                    next_n: Arc::clone(&next_n),
                    first: started + slot * i as u32,
                    interval: slot * spec.clients as u32,
                };
                std::thread::Builder::new()
                    .name(format!("load-{i}"))
                    .spawn(move || client.run())
                    .expect("spawn a load client")
            })
            .collect();
        let (watch_stop, watch_stalls) = (Arc::clone(&stop), Arc::clone(&stalls));
        threads.push(
            std::thread::Builder::new()
                .name("load-watchdog".into())
                .spawn(move || watchdog(watch_stop, watch_stalls))
                .expect("spawn the load watchdog"),
        );
        Load {
            stop,
            done,
            records,
            threads,
            started,
            stalls,
        }
    }

    /// Requests finished so far (answered or failed).
    pub fn finished(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }

    /// Waits until `more` further requests have finished (at most `timeout`);
    /// false if they did not.
    pub fn wait_for_more(&self, more: u64, timeout: Duration) -> bool {
        let target = self.finished() + more;
        super::eventually(timeout, || self.finished() >= target)
    }

    /// What has finished so far, without stopping.
    pub fn so_far(&self) -> Report {
        let mut records = self.records.lock().unwrap().clone();
        records.sort_by_key(|r| r.n);
        Report {
            records,
            started: self.started,
            stalls: self.stalls.lock().unwrap().clone(),
        }
    }

    /// Stops the clients (each finishes the request it is on) and reports.
    pub fn stop(mut self) -> Report {
        self.halt();
        self.so_far()
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            thread.join().expect("a load client panicked");
        }
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// One client thread.
struct Client {
    spec: LoadSpec,
    stop: Arc<AtomicBool>,
    done: Arc<AtomicU64>,
    records: Arc<Mutex<Vec<Record>>>,
    next_n: Arc<AtomicU64>,
    first: Instant,
    interval: Duration,
}

impl Client {
    fn run(self) {
        let mut conn: Option<TcpStream> = None;
        let mut next = self.first;
        while !self.stop.load(Ordering::Relaxed) {
            let now = Instant::now();
            if now < next {
                // Sleep in slices so a stop is noticed at once.
                std::thread::sleep((next - now).min(Duration::from_millis(20)));
                continue;
            }
            // A client that fell behind (a slow answer) skips the slots it missed
            // rather than bursting to catch up: the rate stays steady.
            next = (next + self.interval).max(now);
            let n = self.next_n.fetch_add(1, Ordering::Relaxed);
            let request = post(&self.spec.path, &(self.spec.body)(n));
            let at = Instant::now();
            let result = self.exchange(&mut conn, &request);
            let latency = at.elapsed();
            let (outcome, label) = match result {
                Ok(reply) => {
                    if reply.header("connection") == Some("close") {
                        conn = None;
                    }
                    let label = self.spec.classify.as_ref().map(|c| c(&reply));
                    (Outcome::Status(reply.status), label)
                }
                Err(failure) => {
                    conn = None;
                    (Outcome::Failed(failure), None)
                }
            };
            self.records.lock().unwrap().push(Record {
                n,
                at,
                latency,
                outcome,
                label,
            });
            self.done.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Sends one request on `conn` (connecting first if there is none) and reads
    /// its answer.
    fn exchange(&self, conn: &mut Option<TcpStream>, request: &[u8]) -> Result<Reply, Failure> {
        if conn.is_none() {
            let stream = TcpStream::connect_timeout(&self.spec.addr, self.spec.give_up_after)
                .map_err(|e| match e.kind() {
                    ErrorKind::TimedOut | ErrorKind::WouldBlock => Failure::NoAnswer,
                    _ => Failure::Refused,
                })?;
            stream.set_nodelay(true).map_err(|_| Failure::Reset)?;
            stream
                .set_read_timeout(Some(self.spec.give_up_after))
                .map_err(|_| Failure::Reset)?;
            stream
                .set_write_timeout(Some(self.spec.give_up_after))
                .map_err(|_| Failure::Reset)?;
            *conn = Some(stream);
        }
        let stream = conn.as_mut().expect("connected above");
        stream.write_all(request).map_err(io_failure)?;
        read_reply(stream)
    }
}

/// A POST of `body` to `path` as raw bytes.
fn post(path: &str, body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: load\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

fn io_failure(e: std::io::Error) -> Failure {
    match e.kind() {
        ErrorKind::TimedOut | ErrorKind::WouldBlock => Failure::NoAnswer,
        ErrorKind::UnexpectedEof => Failure::Closed,
        _ => Failure::Reset,
    }
}

/// Reads one response (a `Content-Length` body, or none for 1xx/204/304).
fn read_reply(stream: &mut TcpStream) -> Result<Reply, Failure> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        match stream.read(&mut chunk) {
            Ok(0) => return Err(Failure::Closed),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) => return Err(io_failure(e)),
        }
        if buf.len() > 64 * 1024 {
            return Err(Failure::Garbled);
        }
    };
    let super::ResponseHead {
        status,
        headers,
        length,
    } = super::response_head(&buf[..head_end]).ok_or(Failure::Garbled)?;
    let mut body = buf.split_off(head_end);
    if body.len() > length {
        // This client never pipelines, so nothing may follow the answer.
        return Err(Failure::Garbled);
    }
    let have = body.len();
    body.resize(length, 0);
    stream.read_exact(&mut body[have..]).map_err(io_failure)?;
    Ok(Reply {
        status,
        headers,
        body,
    })
}

/// Every request of a load, in the order they were numbered.
#[derive(Debug, Clone)]
pub struct Report {
    /// One per request.
    pub records: Vec<Record>,
    /// When the load started (the messages give times from it).
    pub started: Instant,
    /// Times the test process could not run while the load ran.
    pub stalls: Vec<Stall>,
}

impl Report {
    /// Requests sent.
    pub fn sent(&self) -> usize {
        self.records.len()
    }

    /// Requests by outcome.
    pub fn outcomes(&self) -> BTreeMap<Outcome, usize> {
        tally(self.records.iter().map(|r| r.outcome))
    }

    /// Answered requests with `status`.
    pub fn with_status(&self, status: u16) -> usize {
        self.outcomes()
            .get(&Outcome::Status(status))
            .copied()
            .unwrap_or(0)
    }

    /// Requests that got no answer.
    pub fn failures(&self) -> usize {
        self.records
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Failed(_)))
            .count()
    }

    /// Answers by label.
    pub fn labels(&self) -> BTreeMap<String, usize> {
        tally(self.records.iter().filter_map(|r| r.label.clone()))
    }

    /// Answers labelled `label`.
    pub fn labelled(&self, label: &str) -> usize {
        self.labels().get(label).copied().unwrap_or(0)
    }

    /// The slowest request.
    pub fn max_latency(&self) -> Duration {
        self.records
            .iter()
            .map(|r| r.latency)
            .max()
            .unwrap_or_default()
    }

    /// Requests that took longer than `deadline`.
    pub fn over(&self, deadline: Duration) -> usize {
        self.records.iter().filter(|r| r.latency > deadline).count()
    }

    /// The requests sent inside `[from, to)`.
    pub fn sent_between(&self, from: Instant, to: Instant) -> Report {
        Report {
            records: self
                .records
                .iter()
                .filter(|r| r.at >= from && r.at < to)
                .cloned()
                .collect(),
            started: self.started,
            stalls: self.stalls.clone(),
        }
    }

    /// Asserts that every request got an answer with one of `statuses`, none of
    /// them later than `deadline` as the client measured it; `context` (e.g. what
    /// the server measured itself) goes into the failure message.
    #[track_caller]
    pub fn assert_all_answered_within(&self, deadline: Duration, statuses: &[u16], context: &str) {
        let bad: Vec<String> = self
            .records
            .iter()
            .filter(|r| match r.outcome {
                Outcome::Status(s) => !statuses.contains(&s) || r.latency > deadline,
                Outcome::Failed(_) => true,
            })
            .map(|r| self.describe(r))
            .collect();
        assert!(
            bad.is_empty(),
            "{} requests not answered {statuses:?} within {deadline:?}, the first ones:\n  \
             {}\n{self}\n{context}",
            bad.len(),
            bad[..bad.len().min(8)].join("\n  ")
        );
    }

    /// One record, its time given from the start of the load.
    pub fn describe(&self, r: &Record) -> String {
        format!(
            "#{} sent at +{:?}: {:?} after {:?} ({})",
            r.n,
            r.at.duration_since(self.started),
            r.outcome,
            r.latency,
            r.label.as_deref().unwrap_or("-")
        )
    }
}

impl fmt::Display for Report {
    /// A one-paragraph summary for assertion messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} requests, outcomes {:?}, labels {:?}, slowest {:?}",
            self.sent(),
            self.outcomes(),
            self.labels(),
            self.max_latency()
        )?;
        if !self.stalls.is_empty() {
            let stalls: Vec<String> = self
                .stalls
                .iter()
                .map(|s| {
                    format!(
                        "+{:?} for {:?}",
                        s.at.duration_since(self.started),
                        s.late_by
                    )
                })
                .collect();
            write!(
                f,
                "; the test process itself stalled at {}",
                stalls.join(", ")
            )?;
        }
        Ok(())
    }
}

fn tally<T: Ord>(items: impl Iterator<Item = T>) -> BTreeMap<T, usize> {
    let mut counts = BTreeMap::new();
    for item in items {
        *counts.entry(item).or_insert(0) += 1;
    }
    counts
}
