//! `[server]` and `[limits]`: the listeners, the worker threads and what a
//! client may send, how much and how slowly.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use crate::error::{ConfigError, at_least_one};

/// Listeners and threads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address of the bid listener (`POST /openrtb2/bid`, `GET /notice/{win,imp,click}`).
    pub bid_addr: SocketAddr,
    /// Address of the admin listener (`/metrics`, `/health`, `/ready`, `/state`).
    /// A loopback address unless [`ServerConfig::admin_public`] says otherwise.
    pub admin_addr: SocketAddr,
    /// Lets `admin_addr` be beyond loopback. Off by default: the admin listener
    /// serves the bidder's state (campaigns, budgets, leases, metrics) to anyone
    /// who reaches it, so exposing it must be a decision; a fleet behind a load
    /// balancer turns it on for the health check and keeps the port to the load
    /// balancer's security group.
    pub admin_public: bool,
    /// Worker threads, one executor and listener each; 0 means one per CPU core.
    pub workers: usize,
    /// Pin each worker to its own core.
    pub pin_workers: bool,
    /// Open connections one worker holds; further connections are closed at once.
    pub max_connections_per_worker: usize,
    /// Listen backlog of each worker's socket.
    pub listen_backlog: u32,
    /// Base URL exchanges use to reach this bidder, for billing notices (no trailing
    /// `/`). Empty: `http://` and the bid listener's bound address.
    pub public_url: String,
    /// I/O backend: `auto` (io_uring, else epoll), `io_uring`, or `epoll`.
    pub io_driver: IoDriver,
}

/// Which I/O backend the executors use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IoDriver {
    /// io_uring where the kernel allows it, epoll otherwise.
    #[default]
    Auto,
    /// io_uring only; workers fail to start without it.
    IoUring,
    /// epoll only.
    Epoll,
}

impl IoDriver {
    /// Runs `future` to completion on a new single-thread monoio executor (with
    /// timers) on this driver: a bid worker's, or a command's such as the
    /// segment loader. Fails when the driver cannot start (`io_uring` without
    /// kernel support).
    pub fn block_on<F: std::future::Future>(self, future: F) -> std::io::Result<F::Output> {
        Ok(match self {
            IoDriver::Auto => monoio::RuntimeBuilder::<monoio::FusionDriver>::new()
                .enable_timer()
                .build()?
                .block_on(future),
            IoDriver::IoUring => monoio::RuntimeBuilder::<monoio::IoUringDriver>::new()
                .enable_timer()
                .build()?
                .block_on(future),
            IoDriver::Epoll => monoio::RuntimeBuilder::<monoio::LegacyDriver>::new()
                .enable_timer()
                .build()?
                .block_on(future),
        })
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bid_addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            admin_addr: SocketAddr::from(([127, 0, 0, 1], 9090)),
            admin_public: false,
            workers: 0,
            pin_workers: true,
            max_connections_per_worker: 16_384,
            listen_backlog: 4096,
            public_url: String::new(),
            io_driver: IoDriver::Auto,
        }
    }
}

/// Limits on clients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Largest request head (request line and headers), bytes; larger gets 431.
    pub header_bytes: usize,
    /// Most header fields in one request; more gets 431.
    pub max_headers: usize,
    /// Largest request body as sent, bytes; larger gets 413.
    pub body_bytes: usize,
    /// Largest body after gzip inflation, bytes; larger gets 413.
    pub inflated_body_bytes: usize,
    /// Time allowed from a request's first byte to the end of its head; then 408.
    pub header_read_timeout_ms: u64,
    /// How long a new connection may stay silent before its first request's
    /// first byte; then it is closed without an answer. Shorter than the
    /// keep-alive idle timeout, so a flood of silent connections cannot hold a
    /// worker's slots for long; long enough for a client's pool to put a
    /// connection it opened ahead of need to use (closing one just as the client
    /// sends on it loses that request).
    pub first_request_timeout_ms: u64,
    /// Time allowed to receive a body once the head is in; then 408.
    pub body_read_timeout_ms: u64,
    /// An idle keep-alive connection is closed after this long.
    pub idle_timeout_ms: u64,
    /// Time allowed to write a response to a slow reader before the connection is cut.
    pub write_timeout_ms: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            header_bytes: 8 * 1024,
            max_headers: 64,
            body_bytes: 256 * 1024,
            inflated_body_bytes: 1024 * 1024,
            header_read_timeout_ms: 2_000,
            first_request_timeout_ms: 10_000,
            body_read_timeout_ms: 2_000,
            idle_timeout_ms: 60_000,
            write_timeout_ms: 2_000,
        }
    }
}

impl ServerConfig {
    /// Checks what the types alone do not constrain.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.workers > 1024 {
            return Err(ConfigError::new(
                "server.workers",
                "at most 1024 (0 means one per core)",
            ));
        }
        at_least_one(&[(
            "server.max_connections_per_worker",
            self.max_connections_per_worker as u64,
        )])?;
        if self.listen_backlog == 0 || self.listen_backlog > i32::MAX as u32 {
            return Err(ConfigError::new(
                "server.listen_backlog",
                "must be between 1 and 2147483647",
            ));
        }
        if !self.admin_addr.ip().is_loopback() && !self.admin_public {
            return Err(ConfigError::new(
                "server.admin_addr",
                "is not a loopback address: the admin listener exposes the bidder's state; \
                 set server.admin_public = true to serve it beyond loopback",
            ));
        }
        if self.bid_addr == self.admin_addr && self.bid_addr.port() != 0 {
            return Err(ConfigError::new(
                "server.admin_addr",
                "must differ from server.bid_addr",
            ));
        }
        let url = &self.public_url;
        let http = url.starts_with("http://") || url.starts_with("https://");
        let clean = !url.ends_with('/')
            && !url
                .bytes()
                .any(|b| b <= b' ' || b == b'"' || b == b'\\' || b == 0x7f);
        if !(url.is_empty() || (http && clean)) {
            return Err(ConfigError::new(
                "server.public_url",
                "must be an http(s) URL without a trailing slash, spaces or quotes",
            ));
        }
        Ok(())
    }

    /// Number of workers to run: `workers`, or one per available core.
    pub fn worker_count(&self) -> usize {
        match self.workers {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
    }
}

impl LimitsConfig {
    /// Checks what the types alone do not constrain.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(1024..=1024 * 1024).contains(&self.header_bytes) {
            return Err(ConfigError::new(
                "limits.header_bytes",
                "must be between 1024 and 1048576",
            ));
        }
        if !(8..=1024).contains(&self.max_headers) {
            return Err(ConfigError::new(
                "limits.max_headers",
                "must be between 8 and 1024",
            ));
        }
        if !(1024..=64 * 1024 * 1024).contains(&self.body_bytes) {
            return Err(ConfigError::new(
                "limits.body_bytes",
                "must be between 1024 and 67108864",
            ));
        }
        if self.inflated_body_bytes < self.body_bytes
            || self.inflated_body_bytes > 256 * 1024 * 1024
        {
            return Err(ConfigError::new(
                "limits.inflated_body_bytes",
                "must be at least limits.body_bytes and at most 268435456",
            ));
        }
        at_least_one(&[
            ("limits.header_read_timeout_ms", self.header_read_timeout_ms),
            (
                "limits.first_request_timeout_ms",
                self.first_request_timeout_ms,
            ),
            ("limits.body_read_timeout_ms", self.body_read_timeout_ms),
            ("limits.idle_timeout_ms", self.idle_timeout_ms),
            ("limits.write_timeout_ms", self.write_timeout_ms),
        ])
    }
}

#[cfg(test)]
mod tests {
    use crate::config::tests::assert_refused;

    #[test]
    fn each_rejected_value_names_its_key() {
        assert_refused(&[
            ("[server]\nworkers = 5000", "server.workers"),
            (
                "[server]\nmax_connections_per_worker = 0",
                "server.max_connections_per_worker",
            ),
            ("[server]\nlisten_backlog = 0", "server.listen_backlog"),
            (
                "[server]\nadmin_addr = \"127.0.0.1:8080\"",
                "server.admin_addr",
            ),
            (
                "[server]\nadmin_addr = \"0.0.0.0:9090\"",
                "server.admin_addr",
            ),
            ("[server]\nadmin_addr = \"[::]:9090\"", "server.admin_addr"),
            ("[server]\npublic_url = \"ftp://x\"", "server.public_url"),
            ("[server]\npublic_url = \"http://x/\"", "server.public_url"),
            ("[server]\npublic_url = \"http://a b\"", "server.public_url"),
            ("[server]\nio_driver = \"kqueue\"", "server.io_driver"),
            ("[limits]\nheader_bytes = 10", "limits.header_bytes"),
            ("[limits]\nmax_headers = 2", "limits.max_headers"),
            ("[limits]\nbody_bytes = 10", "limits.body_bytes"),
            (
                "[limits]\ninflated_body_bytes = 2048",
                "limits.inflated_body_bytes",
            ),
            (
                "[limits]\nheader_read_timeout_ms = 0",
                "limits.header_read_timeout_ms",
            ),
            (
                "[limits]\nfirst_request_timeout_ms = 0",
                "limits.first_request_timeout_ms",
            ),
            (
                "[limits]\nbody_read_timeout_ms = 0",
                "limits.body_read_timeout_ms",
            ),
            ("[limits]\nidle_timeout_ms = 0", "limits.idle_timeout_ms"),
            ("[limits]\nwrite_timeout_ms = 0", "limits.write_timeout_ms"),
        ]);
    }

    #[test]
    fn the_admin_listener_goes_beyond_loopback_only_when_told_to() {
        use crate::config::Config;
        for addr in ["127.0.0.1:9090", "127.0.0.2:0", "[::1]:9090"] {
            let toml = format!("[server]\nadmin_addr = \"{addr}\"");
            assert!(Config::from_toml(&toml).is_ok(), "{addr}");
        }
        for addr in ["0.0.0.0:9090", "[::]:9090", "10.0.0.5:9090"] {
            let toml = format!("[server]\nadmin_addr = \"{addr}\"\nadmin_public = true");
            assert!(Config::from_toml(&toml).is_ok(), "{addr}");
        }
    }
}
