//! `loadgen`: an HTTP/1.1 load generator for any OpenRTB bidder.
//!
//! It holds N keep-alive connections and sends request bodies from a directory in
//! turn, in one of two modes:
//! - **saturation** (closed loop): each connection sends its next request as soon as
//!   the previous answer arrives, which finds the most the pair of processes can do;
//! - **fixed rate** (open loop, `--rate`): requests are due on a fixed schedule
//!   whatever the server does; a request that waits for a free connection is timed
//!   from when it was due, not from when it went out, so a stalled server cannot hide
//!   its stall (coordinated omission is corrected, as in wrk2).
//!
//! With an interval (`--interval-s`) it also reports each interval of the measured
//! window as it ends (responses, errors, latency percentiles), so a long run at a
//! fixed rate can be watched for drift (`benches/soak.sh`).
//!
//! One thread, one `epoll` loop, no allocation per request: the load generator has
//! to stay cheaper than the servers it measures. When given the server's pid it also
//! reads the server's CPU time over the measured window, which is the headline
//! figure on a machine where one load-generator core cannot saturate a server core.

mod event_loop;
mod report;

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::Path;
use std::time::Duration;

pub use report::{Errors, Interval, Report, ServerSample, StatusCounts};

/// Where requests go.
#[derive(Debug, Clone)]
pub struct Target {
    /// Address to connect to.
    pub addr: SocketAddr,
    /// `Host` header value.
    pub host: String,
    /// Request path, e.g. `/openrtb2/bid`.
    pub path: String,
}

impl Target {
    /// Parses `http://host:port/path` (no TLS, no user info).
    pub fn parse(url: &str) -> anyhow::Result<Target> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| anyhow::anyhow!("only http:// URLs are supported: {url}"))?;
        let (host, path) = match rest.find('/') {
            Some(at) => (&rest[..at], &rest[at..]),
            None => (rest, "/"),
        };
        let with_port = if host.contains(':') {
            host.to_owned()
        } else {
            format!("{host}:80")
        };
        let addr = with_port
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| anyhow::anyhow!("{host} resolves to no address"))?;
        Ok(Target {
            addr,
            host: host.to_owned(),
            path: path.to_owned(),
        })
    }
}

/// One load run.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to send.
    pub target: Target,
    /// Request bodies, sent in turn.
    pub bodies: Vec<Vec<u8>>,
    /// Keep-alive connections held open.
    pub connections: usize,
    /// Time before measuring starts (connections warm, caches hot).
    pub warmup: Duration,
    /// Measured time.
    pub duration: Duration,
    /// `None` for saturation; requests per second for a fixed rate.
    pub rate: Option<f64>,
    /// Server process whose CPU time is read over the measured window.
    pub server_pid: Option<u32>,
    /// Report every interval of the measured window as it ends
    /// ([`run_with_intervals`]); `None`: only the whole window.
    pub interval: Option<Duration>,
}

/// Reads every `*.json` file of `path` (sorted by name), or `path` itself if it is a
/// file.
pub fn read_bodies(path: &Path) -> anyhow::Result<Vec<Vec<u8>>> {
    if path.is_file() {
        return Ok(vec![std::fs::read(path)?]);
    }
    let mut files: Vec<_> = std::fs::read_dir(path)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let bodies = files
        .iter()
        .map(std::fs::read)
        .collect::<Result<Vec<_>, _>>()?;
    anyhow::ensure!(!bodies.is_empty(), "no *.json bodies in {}", path.display());
    Ok(bodies)
}

/// The bytes of one POST request carrying `body`.
pub fn request_bytes(target: &Target, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nX-OpenRTB-Version: 2.6\r\nContent-Length: {}\r\n\r\n",
        target.path,
        target.host,
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// Runs the load and returns what was measured.
pub fn run(config: &Config) -> anyhow::Result<Report> {
    run_with_intervals(config, &mut |_| {})
}

/// Runs the load, handing each interval of the measured window to `on_interval`
/// as it ends (when `config.interval` is set; the last one ends with the run), and
/// returns what was measured over the whole window.
pub fn run_with_intervals(
    config: &Config,
    on_interval: &mut dyn FnMut(&Interval),
) -> anyhow::Result<Report> {
    anyhow::ensure!(config.connections > 0, "need at least one connection");
    anyhow::ensure!(!config.bodies.is_empty(), "need at least one body");
    if let Some(rate) = config.rate {
        anyhow::ensure!(rate > 0.0 && rate.is_finite(), "rate must be positive");
    }
    if let Some(interval) = config.interval {
        anyhow::ensure!(
            interval >= Duration::from_millis(100),
            "the interval must be at least 0.1 s"
        );
    }
    event_loop::run(config, on_interval)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        let t = Target::parse("http://127.0.0.1:8080/openrtb2/bid").unwrap();
        assert_eq!(t.addr.port(), 8080);
        assert_eq!(
            (t.host.as_str(), t.path.as_str()),
            ("127.0.0.1:8080", "/openrtb2/bid")
        );
        assert_eq!(Target::parse("http://127.0.0.1:9").unwrap().path, "/");
        assert!(Target::parse("https://x").is_err());
    }
}
