//! The black-box test harness: starts the real `bidder` binary on free ports and
//! talks to it over real sockets, with `ureq` for well-formed HTTP and raw TCP for
//! everything a well-behaved client would never send.

#![allow(dead_code, unreachable_pub)]

pub mod caps;
pub mod event_files;
pub mod load;
pub mod moto;
pub mod openrtb_schema;
pub mod redis_server;
pub mod slow_clients;
pub mod tmpfs;

pub use tern_testkit::{Reply, free_port, to_reply};

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

/// How long the bidder may take to start.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest the test client keeps an idle connection to the bidder for reuse:
/// below any idle timeout a test gives the bidder.
const POOLED_CONNECTION_MAX_IDLE: Duration = Duration::from_millis(250);

/// Options for one bidder process.
#[derive(Debug, Clone)]
pub struct Options {
    /// Worker threads.
    pub workers: usize,
    /// Campaigns file; `None` serves the bundled examples.
    pub campaigns: Option<PathBuf>,
    /// Extra TOML appended to the generated config file.
    pub config: String,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
    /// The bidder's state directory (`budget.state_dir`); `None`: a fresh one in
    /// the bidder's temporary directory.
    pub state_dir: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            workers: 2,
            campaigns: None,
            config: String::new(),
            env: Vec::new(),
            state_dir: None,
        }
    }
}

/// Options that run the bidder on `driver` (`auto`: io_uring where the kernel
/// allows it; `epoll`: the fallback).
pub fn on_driver(driver: &str) -> Options {
    Options {
        env: vec![("TERN_SERVER__IO_DRIVER".into(), driver.into())],
        ..Options::default()
    }
}

/// Defines each `fn name(options: Options) { .. }` as a module of two tests,
/// `name::io_uring` and `name::epoll`, that run the body on a bidder with each I/O
/// driver, as monoio runs its own tests on both.
#[macro_export]
macro_rules! on_both_drivers {
    ($(fn $name:ident($options:ident: Options) $body:block)*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            fn run($options: Options) $body

            #[test]
            fn io_uring() {
                run(support::on_driver("auto"));
            }

            #[test]
            fn epoll() {
                run(support::on_driver("epoll"));
            }
        }
    )*};
}

/// A running bidder process, killed on drop.
pub struct Bidder {
    child: Child,
    /// Bid listener.
    pub bid: SocketAddr,
    /// Admin listener.
    pub admin: SocketAddr,
    stderr: Arc<Mutex<String>>,
    agent: ureq::Agent,
    _dir: tempfile::TempDir,
}

/// Path of a file under the bidder crate.
pub fn crate_file(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// A bundled sample request body.
pub fn sample(name: &str) -> Vec<u8> {
    std::fs::read(crate_file(&format!("samples/{name}.json"))).expect("sample request")
}

impl Bidder {
    /// Starts the bidder with the bundled campaigns and two workers.
    pub fn start() -> Bidder {
        Bidder::start_with(Options::default())
    }

    /// Starts the bidder; panics with its stderr if it does not come up.
    pub fn start_with(options: Options) -> Bidder {
        match Bidder::try_start(options) {
            Ok(bidder) => bidder,
            Err(output) => panic!("bidder did not start:\n{output}"),
        }
    }

    /// Starts the bidder, or returns its stderr when it exits instead.
    pub fn try_start(options: Options) -> Result<Bidder, String> {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("bidder.toml");
        let text = format!(
            "[server]\nbid_addr = \"127.0.0.1:0\"\nadmin_addr = \"127.0.0.1:0\"\nworkers = {}\n{}\n",
            options.workers, options.config
        );
        std::fs::write(&config, text).expect("write config");
        let mut command = Command::new(env!("CARGO_BIN_EXE_bidder"));
        command.arg("--config").arg(&config);
        if let Some(campaigns) = &options.campaigns {
            command.arg("--campaigns").arg(campaigns);
        }
        command
            .env("RUST_LOG", "info")
            .env("TERN_EVENTS__FILE__DIR", dir.path().join("events"))
            .env(
                "TERN_BUDGET__STATE_DIR",
                options
                    .state_dir
                    .clone()
                    .unwrap_or_else(|| dir.path().join("state")),
            )
            .envs(options.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("spawn bidder");
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&stderr);
        let mut err = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let (tx, rx) = mpsc::channel();
        let out = child.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left.min(Duration::from_millis(50))) {
                Ok(line) if line.starts_with("tern bidder ready:") => {
                    let bid = field(&line, "bid=http://")
                        .split('/')
                        .next()
                        .unwrap()
                        .parse();
                    let admin = field(&line, "admin=http://").parse();
                    let agent = ureq::Agent::config_builder()
                        .http_status_as_error(false)
                        .timeout_global(Some(Duration::from_secs(10)))
                        // Never reuse a connection the bidder may be closing as idle
                        // just then: tests set `limits.idle_timeout_ms` as low as 400.
                        .max_idle_age(POOLED_CONNECTION_MAX_IDLE)
                        .build()
                        .into();
                    return Ok(Bidder {
                        child,
                        bid: bid.expect("bid address"),
                        admin: admin.expect("admin address"),
                        stderr,
                        agent,
                        _dir: dir,
                    });
                }
                Ok(_) => {}
                Err(_) => {
                    if let Ok(Some(status)) = child.try_wait() {
                        std::thread::sleep(Duration::from_millis(100));
                        let log = stderr.lock().unwrap().clone();
                        return Err(format!("exited with {status}:\n{log}"));
                    }
                    if Instant::now() >= deadline {
                        let _ = child.kill();
                        return Err(format!("timed out:\n{}", stderr.lock().unwrap()));
                    }
                }
            }
        }
    }

    /// URL of `path` on the bid listener.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.bid)
    }

    /// POSTs a JSON body to the bid listener.
    pub fn post_json(&self, path: &str, body: &[u8]) -> Reply {
        let response = self
            .agent
            .post(&self.url(path))
            .header("Content-Type", "application/json")
            .send(body)
            .expect("POST");
        to_reply(response)
    }

    /// POSTs a bid request.
    pub fn bid(&self, body: &[u8]) -> Reply {
        self.post_json("/openrtb2/bid", body)
    }

    /// GETs any URL.
    pub fn get(&self, url: &str) -> Reply {
        to_reply(self.agent.get(url).call().expect("GET"))
    }

    /// GETs a path on the admin listener.
    pub fn admin(&self, path: &str) -> Reply {
        self.get(&format!("http://{}{path}", self.admin))
    }

    /// The value of one sample line of `/metrics`, e.g. `tern_nobids_total{reason="deadline"}`.
    pub fn metric(&self, sample: &str) -> f64 {
        self.metrics().get(sample)
    }

    /// One reading of `/metrics`, for figures that must come from the same moment.
    pub fn metrics(&self) -> Metrics {
        Metrics(self.admin("/metrics").text())
    }

    /// The `/state` document.
    pub fn state(&self) -> serde_json::Value {
        self.admin("/state").json()
    }

    /// A raw connection to the bid listener.
    pub fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(self.bid).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream.set_nodelay(true).unwrap();
        stream
    }

    /// Sends a signal to the process.
    pub fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on our own child's pid has no memory-safety preconditions.
        let rc = unsafe { libc::kill(self.child.id() as i32, signal) };
        assert_eq!(rc, 0, "kill failed");
    }

    /// Waits for the process to exit.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "bidder did not exit in {timeout:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Where the file event sink writes (a temporary directory).
    pub fn events_dir(&self) -> std::path::PathBuf {
        self._dir.path().join("events")
    }

    /// Every event line the file sink has written so far.
    pub fn event_lines(&self) -> Vec<serde_json::Value> {
        let Ok(entries) = std::fs::read_dir(self.events_dir()) else {
            return Vec::new();
        };
        let mut paths: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
        paths.sort();
        paths
            .iter()
            .flat_map(|p| {
                std::fs::read_to_string(p)
                    .unwrap()
                    .lines()
                    .map(|l| serde_json::from_str(l).expect("event lines are JSON"))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// Everything the process wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for Bidder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One reading of the bidder's `/metrics`.
pub struct Metrics(String);

impl Metrics {
    /// The value of one sample line, e.g. `tern_nobids_total{reason="deadline"}`.
    pub fn get(&self, sample: &str) -> f64 {
        self.0
            .lines()
            .find_map(|line| line.strip_prefix(sample)?.strip_prefix(' '))
            .unwrap_or_else(|| panic!("no metric {sample} in\n{}", self.0))
            .parse()
            .expect("metric value")
    }
}

fn field<'a>(line: &'a str, prefix: &str) -> &'a str {
    let start = line.find(prefix).expect("field in ready line") + prefix.len();
    line[start..].split_whitespace().next().unwrap()
}

/// Reads one HTTP/1.1 response from a raw stream (Content-Length bodies; none for 1xx/204).
/// `None` when the server closed the connection before a byte of it.
pub fn read_response(stream: &mut TcpStream) -> Option<Reply> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(0) | Err(_) if buf.is_empty() => return None,
            Ok(0) => panic!("connection closed inside a response head: {buf:?}"),
            Ok(_) => buf.push(byte[0]),
            Err(e) => panic!("read failed inside a response head: {e}"),
        }
    }
    let ResponseHead {
        status,
        headers,
        length,
    } = response_head(&buf).expect("valid response head");
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).expect("complete body");
    Some(Reply {
        status,
        headers,
        body,
    })
}

/// What a response head says.
pub struct ResponseHead {
    /// Status code.
    pub status: u16,
    /// Header fields, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// `Content-Length`, 0 when absent.
    pub length: usize,
}

/// Reads a complete response head; `None` when it is not an HTTP/1.1 head.
pub fn response_head(head: &[u8]) -> Option<ResponseHead> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    if !matches!(response.parse(head), Ok(httparse::Status::Complete(_))) {
        return None;
    }
    let status = response.code?;
    let headers: Vec<(String, String)> = response
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_ascii_lowercase(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect();
    let length = match headers.iter().find(|(n, _)| n == "content-length") {
        Some((_, v)) => v.parse().ok()?,
        None => 0,
    };
    Some(ResponseHead {
        status,
        headers,
        length,
    })
}

/// Writes `bytes` to `stream`.
pub fn send(stream: &mut TcpStream, bytes: &[u8]) {
    stream.write_all(bytes).expect("write");
}

/// A POST of `body` to the bid endpoint, as raw bytes.
pub fn raw_bid(body: &[u8], extra_headers: &str) -> Vec<u8> {
    let mut request = format!(
        "POST /openrtb2/bid HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n{extra_headers}\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

/// Polls `check` until it holds or `timeout` passes.
pub fn eventually(timeout: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    check()
}

/// The bundled example campaigns, parsed by the same code the bidder uses.
pub fn example_campaigns() -> Vec<tern_engine::campaign::Campaign> {
    let text = std::fs::read_to_string(crate_file("campaigns/example.toml")).unwrap();
    tern_engine::campaign::parse_campaigns(&text, tern_engine::campaign::FileFormat::Toml).unwrap()
}

/// The bundled example campaign `id`.
pub fn example_campaign(id: &str) -> tern_engine::campaign::Campaign {
    example_campaigns()
        .into_iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no example campaign {id}"))
}

/// (winning campaign, price) of an answer to the banner sample; `None` for no bid.
pub fn banner_winner_of(reply: &Reply) -> Option<(String, f64)> {
    if reply.status != 200 {
        return None;
    }
    let bid = &reply.json()["seatbid"][0]["bid"][0];
    Some((
        bid["cid"].as_str().unwrap().to_owned(),
        bid["price"].as_f64().unwrap(),
    ))
}

/// (winning campaign, price) for the banner sample, or `None` for no bid.
pub fn banner_winner(bidder: &Bidder) -> Option<(String, f64)> {
    banner_winner_of(&bidder.bid(&sample("banner")))
}

/// Waits (at most `timeout`) until the banner sample is won by `want`.
#[track_caller]
pub fn wait_for_banner_winner(bidder: &Bidder, want: Option<(&str, f64)>, timeout: Duration) {
    let want = want.map(|(id, price)| (id.to_owned(), price));
    let mut last = None;
    let ok = eventually(timeout, || {
        last = banner_winner(bidder);
        last == want
    });
    assert!(ok, "wanted {want:?}, still getting {last:?}");
}
