//! The bidder's configuration: one TOML file, then `TERN_<SECTION>__<KEY>` environment
//! variables, then command-line flags, each overriding the one before.
//!
//! Every option has its default here, in the `Default` impls, and is documented in
//! `bidder/bidder.example.toml` (a test keeps the two equal). Unknown keys and bad
//! values stop the bidder at start with a message naming the key.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use tern_engine::money::{Currency, FxTable};

/// Prefix of environment overrides: `TERN_LIMITS__BODY_BYTES=65536`.
pub const ENV_PREFIX: &str = "TERN_";

/// All settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Listeners and threads.
    pub server: ServerConfig,
    /// Limits on what a client may send and how slowly.
    pub limits: LimitsConfig,
    /// Bidding behaviour shared by all campaigns.
    pub bidding: BiddingConfig,
    /// Where campaigns come from.
    pub campaigns: CampaignsConfig,
    /// Billing notices (`burl`).
    pub notice: NoticeConfig,
    /// Frequency caps.
    pub frequency_cap: FrequencyCapConfig,
    /// The event log.
    pub events: EventsConfig,
    /// Graceful shutdown.
    pub shutdown: ShutdownConfig,
    /// Logging.
    pub log: LogConfig,
}

/// Listeners and threads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address of the bid listener (`POST /openrtb2/bid`, `GET /notice/imp`).
    pub bid_addr: SocketAddr,
    /// Address of the admin listener (`/metrics`, `/health`, `/ready`, `/state`).
    pub admin_addr: SocketAddr,
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

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bid_addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            admin_addr: SocketAddr::from(([127, 0, 0, 1], 9090)),
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
            body_read_timeout_ms: 2_000,
            idle_timeout_ms: 60_000,
            write_timeout_ms: 2_000,
        }
    }
}

/// Bidding behaviour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BiddingConfig {
    /// Our buyer seat id: sent in `seatbid.seat`, checked against `wseat`/`bseat`.
    pub seat: String,
    /// Deadline used when a request carries no `tmax`, milliseconds.
    pub default_tmax_ms: u64,
    /// Part of `tmax` kept for the network: past `tmax - margin` the answer is 204.
    pub tmax_margin_ms: u64,
    /// Exchange rates: units of each currency per one US dollar (USD is always 1).
    pub fx: BTreeMap<String, f64>,
}

impl Default for BiddingConfig {
    fn default() -> Self {
        BiddingConfig {
            seat: "tern".to_owned(),
            default_tmax_ms: 100,
            tmax_margin_ms: 10,
            fx: [("EUR", 0.92), ("GBP", 0.79), ("JPY", 150.0)]
                .into_iter()
                .map(|(c, r)| (c.to_owned(), r))
                .collect(),
        }
    }
}

/// Campaign source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CampaignsConfig {
    /// `file` (the embedded default) or `dynamodb`.
    pub source: SourceKind,
    /// Campaigns file (`.toml` or `.json`), re-read when it changes. Empty: the bundled
    /// example campaigns, compiled into the binary.
    pub path: Option<PathBuf>,
    /// How often the file is checked for changes, milliseconds.
    pub reload_interval_ms: u64,
    /// The DynamoDB source.
    pub dynamodb: DynamoDbConfig,
}

impl Default for CampaignsConfig {
    fn default() -> Self {
        CampaignsConfig {
            source: SourceKind::File,
            path: None,
            reload_interval_ms: 1_000,
            dynamodb: DynamoDbConfig::default(),
        }
    }
}

/// Where campaigns come from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// A local file, or the bundled examples.
    #[default]
    File,
    /// A DynamoDB table, scanned at start and then followed through its stream.
    Dynamodb,
}

/// The DynamoDB campaign source. The endpoint, region and credentials come from the
/// standard AWS configuration (`AWS_ENDPOINT_URL`, `AWS_REGION`, the credentials chain).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DynamoDbConfig {
    /// Campaigns table (key `campaign_id`, stream with NEW_AND_OLD_IMAGES).
    pub table: String,
    /// Parallel segments of the bootstrap scan.
    pub scan_segments: u32,
    /// Pause between stream polls when no records came, milliseconds.
    pub poll_interval_ms: u64,
    /// How often the shard list is refreshed to find new shards, milliseconds.
    pub shard_refresh_ms: u64,
    /// Not ready while the source has not been caught up for this long, milliseconds.
    pub max_staleness_ms: u64,
    /// First retry delay after an error, milliseconds; doubles up to `retry_max_ms`.
    pub retry_initial_ms: u64,
    /// Longest retry delay, milliseconds.
    pub retry_max_ms: u64,
    /// Time allowed for one AWS call, milliseconds.
    pub request_timeout_ms: u64,
}

impl Default for DynamoDbConfig {
    fn default() -> Self {
        DynamoDbConfig {
            table: "tern-campaigns".to_owned(),
            scan_segments: 4,
            poll_interval_ms: 250,
            shard_refresh_ms: 10_000,
            max_staleness_ms: 10_000,
            retry_initial_ms: 100,
            retry_max_ms: 5_000,
            request_timeout_ms: 3_000,
        }
    }
}

/// Frequency caps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FrequencyCapConfig {
    /// `local` (in this process; the embedded default) or `redis` (shared by the fleet).
    pub store: CapStoreKind,
    /// Longest wait for the cap check of one bid request, milliseconds; it is also
    /// cut short to fit the request's `tmax`.
    pub timeout_ms: u64,
    /// What to do when the check cannot be made in time (store down, slow, or busy):
    /// `skip_capped` (bid only with campaigns without caps) or `ignore_caps`.
    pub on_unavailable: CapPolicy,
    /// Longest wait to count one impression from a billing notice, milliseconds.
    pub record_timeout_ms: u64,
    /// The Redis store.
    pub redis: RedisConfig,
}

impl Default for FrequencyCapConfig {
    fn default() -> Self {
        FrequencyCapConfig {
            store: CapStoreKind::Local,
            timeout_ms: 5,
            on_unavailable: CapPolicy::SkipCapped,
            record_timeout_ms: 500,
            redis: RedisConfig::default(),
        }
    }
}

/// Where frequency-cap counters live.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CapStoreKind {
    /// In this process.
    #[default]
    Local,
    /// In Redis.
    Redis,
}

/// What a bid does when its frequency caps cannot be checked in time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CapPolicy {
    /// Campaigns with a cap do not bid; the others do.
    #[default]
    SkipCapped,
    /// Every campaign bids as if under its cap.
    IgnoreCaps,
}

/// The Redis connection of each worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedisConfig {
    /// `host:port` of Redis: a primary, or any node of a cluster (the configuration
    /// endpoint in ElastiCache); cluster redirects are followed.
    pub addr: String,
    /// ACL user name for AUTH; empty for the default user.
    pub username: String,
    /// Password (ElastiCache auth token) for AUTH; empty means no AUTH.
    pub password: String,
    /// Encrypt connections with TLS (ElastiCache in-transit encryption).
    pub tls: bool,
    /// PEM file of the certificate authorities trusted for Redis; empty: the
    /// system's trust store (which ElastiCache's certificates chain to).
    pub tls_ca_file: String,
    /// Name the server's certificate must carry; empty: the host of `addr`.
    pub tls_server_name: String,
    /// Connections each worker may open.
    pub connections_per_worker: usize,
    /// Longest wait for a new connection, milliseconds.
    pub connect_timeout_ms: u64,
    /// Pause before trying again after failures, milliseconds; doubles up to `retry_max_ms`.
    pub retry_initial_ms: u64,
    /// Longest pause between attempts while Redis is failing, milliseconds.
    pub retry_max_ms: u64,
}

impl Default for RedisConfig {
    fn default() -> Self {
        RedisConfig {
            addr: "127.0.0.1:6379".to_owned(),
            username: String::new(),
            password: String::new(),
            tls: false,
            tls_ca_file: String::new(),
            tls_server_name: String::new(),
            connections_per_worker: 16,
            connect_timeout_ms: 100,
            retry_initial_ms: 100,
            retry_max_ms: 2_000,
        }
    }
}

/// The event log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EventsConfig {
    /// `file` (rotating NDJSON; the embedded default), `kinesis`, or `none`.
    pub sink: EventSinkKind,
    /// Bidder instance written into every event; empty: the host name.
    pub instance: String,
    /// Share of no-bids recorded, 0 to 1.
    pub nobid_sample_rate: f64,
    /// Events each worker's queue holds; when full, new events are dropped and counted.
    pub queue_capacity: usize,
    /// Events per sink batch (Kinesis `PutRecords` takes at most 500).
    pub batch_records: usize,
    /// Longest an event waits for its batch to fill, milliseconds.
    pub batch_linger_ms: u64,
    /// Events held while the sink is failing; beyond it, queues fill and drop.
    pub max_buffered_records: usize,
    /// First retry delay after a failed batch, milliseconds; doubles up to `retry_max_ms`.
    pub retry_initial_ms: u64,
    /// Longest retry delay, milliseconds.
    pub retry_max_ms: u64,
    /// The file sink.
    pub file: EventFileConfig,
    /// The Kinesis sink.
    pub kinesis: EventKinesisConfig,
}

impl Default for EventsConfig {
    fn default() -> Self {
        EventsConfig {
            sink: EventSinkKind::File,
            instance: String::new(),
            nobid_sample_rate: 0.01,
            queue_capacity: 65_536,
            batch_records: 500,
            batch_linger_ms: 200,
            max_buffered_records: 100_000,
            retry_initial_ms: 100,
            retry_max_ms: 5_000,
            file: EventFileConfig::default(),
            kinesis: EventKinesisConfig::default(),
        }
    }
}

impl EventsConfig {
    /// `instance`, or the host name when it is empty.
    pub fn instance_or_host(&self) -> String {
        if self.instance.is_empty() {
            crate::events::host_name()
        } else {
            self.instance.clone()
        }
    }
}

/// Where events go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventSinkKind {
    /// Rotating NDJSON files.
    #[default]
    File,
    /// A Kinesis data stream.
    Kinesis,
    /// Nowhere: events are not recorded.
    None,
}

/// The file sink.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EventFileConfig {
    /// Directory of the NDJSON files (created if missing).
    pub dir: PathBuf,
    /// A file is closed and a new one started past this size, bytes.
    pub max_file_bytes: u64,
    /// ... or past this age, seconds.
    pub max_file_age_s: u64,
}

impl Default for EventFileConfig {
    fn default() -> Self {
        EventFileConfig {
            dir: PathBuf::from("events"),
            max_file_bytes: 64 * 1024 * 1024,
            max_file_age_s: 3_600,
        }
    }
}

/// The Kinesis sink. Endpoint, region and credentials come from the standard AWS
/// configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EventKinesisConfig {
    /// Stream name.
    pub stream: String,
    /// Time allowed for one `PutRecords` call, milliseconds.
    pub request_timeout_ms: u64,
}

impl Default for EventKinesisConfig {
    fn default() -> Self {
        EventKinesisConfig {
            stream: "tern-events".to_owned(),
            request_timeout_ms: 5_000,
        }
    }
}

/// Billing notices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NoticeConfig {
    /// HMAC key shared by the fleet (at least 16 bytes). Empty: a random key per
    /// process, so notices only verify on the bidder that bid.
    pub secret: String,
    /// Notices older than this are refused, seconds; also how long repeats are remembered.
    pub max_age_s: u64,
}

impl Default for NoticeConfig {
    fn default() -> Self {
        NoticeConfig {
            secret: String::new(),
            max_age_s: 3_600,
        }
    }
}

/// Graceful shutdown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ShutdownConfig {
    /// After SIGTERM, time to finish in-flight requests before exiting, milliseconds.
    pub drain_timeout_ms: u64,
    /// After SIGTERM, time spent reporting not-ready while still serving, so a load
    /// balancer stops sending first, milliseconds.
    pub unready_delay_ms: u64,
}

impl Default for ShutdownConfig {
    fn default() -> Self {
        ShutdownConfig {
            drain_timeout_ms: 10_000,
            unready_delay_ms: 0,
        }
    }
}

/// Logging.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `tracing` filter, e.g. `info` or `bidder=debug`; `RUST_LOG` overrides it.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: "info".to_owned(),
        }
    }
}

/// A configuration that cannot be used, naming the key at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("config key `{key}`: {reason}")]
pub struct ConfigError {
    /// Dotted key, e.g. `limits.body_bytes`.
    pub key: String,
    /// What is wrong with it.
    pub reason: String,
}

fn bad(key: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        key: key.to_owned(),
        reason: reason.into(),
    }
}

/// Values given on the command line, each overriding its key.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// `server.bid_addr`.
    pub bid_addr: Option<SocketAddr>,
    /// `server.admin_addr`.
    pub admin_addr: Option<SocketAddr>,
    /// `server.workers`.
    pub workers: Option<usize>,
    /// `campaigns.path`.
    pub campaigns: Option<PathBuf>,
}

impl Config {
    /// Loads the file (if any), then environment overrides, then `overrides`, and
    /// validates the result.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Config, ConfigError> {
        Config::load_with_env(file, overrides, Env::prefixed(ENV_PREFIX).split("__"))
    }

    fn load_with_env(
        file: Option<&Path>,
        overrides: &Overrides,
        env: Env,
    ) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(bad("--config", format!("no such file: {}", path.display())));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        figment = figment.merge(env);
        let o = overrides;
        if let Some(v) = o.bid_addr {
            figment = figment.merge(Serialized::default("server.bid_addr", v));
        }
        if let Some(v) = o.admin_addr {
            figment = figment.merge(Serialized::default("server.admin_addr", v));
        }
        if let Some(v) = o.workers {
            figment = figment.merge(Serialized::default("server.workers", v));
        }
        if let Some(v) = &o.campaigns {
            figment = figment.merge(Serialized::default("campaigns.path", v));
        }
        let config: Config = figment.extract().map_err(from_figment)?;
        config.validate()?;
        Ok(config)
    }

    /// Parses TOML text alone (no environment), then validates it.
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let config: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::string(text))
            .extract()
            .map_err(from_figment)?;
        config.validate()?;
        Ok(config)
    }

    /// Checks every value that its type alone does not constrain.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let s = &self.server;
        if s.workers > 1024 {
            return Err(bad("server.workers", "at most 1024 (0 means one per core)"));
        }
        if s.max_connections_per_worker == 0 {
            return Err(bad(
                "server.max_connections_per_worker",
                "must be at least 1",
            ));
        }
        if s.listen_backlog == 0 || s.listen_backlog > i32::MAX as u32 {
            return Err(bad("server.listen_backlog", "must be at least 1"));
        }
        if s.bid_addr == s.admin_addr && s.bid_addr.port() != 0 {
            return Err(bad("server.admin_addr", "must differ from server.bid_addr"));
        }
        let url = &s.public_url;
        let http = url.starts_with("http://") || url.starts_with("https://");
        let clean = !url.ends_with('/')
            && !url
                .bytes()
                .any(|b| b <= b' ' || b == b'"' || b == b'\\' || b == 0x7f);
        let acceptable = url.is_empty() || (http && clean);
        if !acceptable {
            return Err(bad(
                "server.public_url",
                "must be an http(s) URL without a trailing slash, spaces or quotes",
            ));
        }
        let l = &self.limits;
        if !(1024..=1024 * 1024).contains(&l.header_bytes) {
            return Err(bad(
                "limits.header_bytes",
                "must be between 1024 and 1048576",
            ));
        }
        if !(8..=1024).contains(&l.max_headers) {
            return Err(bad("limits.max_headers", "must be between 8 and 1024"));
        }
        if !(1024..=64 * 1024 * 1024).contains(&l.body_bytes) {
            return Err(bad(
                "limits.body_bytes",
                "must be between 1024 and 67108864",
            ));
        }
        if l.inflated_body_bytes < l.body_bytes || l.inflated_body_bytes > 256 * 1024 * 1024 {
            return Err(bad(
                "limits.inflated_body_bytes",
                "must be at least limits.body_bytes and at most 268435456",
            ));
        }
        for (key, ms) in [
            ("limits.header_read_timeout_ms", l.header_read_timeout_ms),
            ("limits.body_read_timeout_ms", l.body_read_timeout_ms),
            ("limits.idle_timeout_ms", l.idle_timeout_ms),
            ("limits.write_timeout_ms", l.write_timeout_ms),
            (
                "campaigns.reload_interval_ms",
                self.campaigns.reload_interval_ms,
            ),
            ("shutdown.drain_timeout_ms", self.shutdown.drain_timeout_ms),
            ("bidding.default_tmax_ms", self.bidding.default_tmax_ms),
        ] {
            if ms == 0 {
                return Err(bad(key, "must be at least 1"));
            }
        }
        let d = &self.campaigns.dynamodb;
        if d.table.is_empty() {
            return Err(bad("campaigns.dynamodb.table", "must not be empty"));
        }
        if !(1..=64).contains(&d.scan_segments) {
            return Err(bad(
                "campaigns.dynamodb.scan_segments",
                "must be between 1 and 64",
            ));
        }
        for (key, ms) in [
            ("campaigns.dynamodb.poll_interval_ms", d.poll_interval_ms),
            ("campaigns.dynamodb.shard_refresh_ms", d.shard_refresh_ms),
            ("campaigns.dynamodb.retry_initial_ms", d.retry_initial_ms),
            (
                "campaigns.dynamodb.request_timeout_ms",
                d.request_timeout_ms,
            ),
        ] {
            if ms == 0 {
                return Err(bad(key, "must be at least 1"));
            }
        }
        if d.retry_max_ms < d.retry_initial_ms {
            return Err(bad(
                "campaigns.dynamodb.retry_max_ms",
                "must be at least campaigns.dynamodb.retry_initial_ms",
            ));
        }
        if d.max_staleness_ms <= d.poll_interval_ms {
            return Err(bad(
                "campaigns.dynamodb.max_staleness_ms",
                "must be longer than campaigns.dynamodb.poll_interval_ms",
            ));
        }
        if self.campaigns.source == SourceKind::Dynamodb && self.campaigns.path.is_some() {
            return Err(bad(
                "campaigns.path",
                "is for source = \"file\"; unset it for dynamodb",
            ));
        }
        let f = &self.frequency_cap;
        for (key, ms) in [
            ("frequency_cap.timeout_ms", f.timeout_ms),
            ("frequency_cap.record_timeout_ms", f.record_timeout_ms),
            (
                "frequency_cap.redis.connect_timeout_ms",
                f.redis.connect_timeout_ms,
            ),
            (
                "frequency_cap.redis.retry_initial_ms",
                f.redis.retry_initial_ms,
            ),
        ] {
            if ms == 0 {
                return Err(bad(key, "must be at least 1"));
            }
        }
        if f.timeout_ms >= self.bidding.default_tmax_ms {
            return Err(bad(
                "frequency_cap.timeout_ms",
                "must be below bidding.default_tmax_ms",
            ));
        }
        if f.redis.retry_max_ms < f.redis.retry_initial_ms {
            return Err(bad(
                "frequency_cap.redis.retry_max_ms",
                "must be at least frequency_cap.redis.retry_initial_ms",
            ));
        }
        if !(1..=1024).contains(&f.redis.connections_per_worker) {
            return Err(bad(
                "frequency_cap.redis.connections_per_worker",
                "must be between 1 and 1024",
            ));
        }
        match f.redis.addr.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0) => {}
            _ => return Err(bad("frequency_cap.redis.addr", "must be host:port")),
        }
        let e = &self.events;
        if !(0.0..=1.0).contains(&e.nobid_sample_rate) {
            return Err(bad("events.nobid_sample_rate", "must be between 0 and 1"));
        }
        if !(1..=16_777_216).contains(&e.queue_capacity) {
            return Err(bad(
                "events.queue_capacity",
                "must be between 1 and 16777216",
            ));
        }
        if !(1..=500).contains(&e.batch_records) {
            return Err(bad("events.batch_records", "must be between 1 and 500"));
        }
        if e.max_buffered_records < e.batch_records {
            return Err(bad(
                "events.max_buffered_records",
                "must be at least events.batch_records",
            ));
        }
        for (key, value) in [
            ("events.retry_initial_ms", e.retry_initial_ms),
            ("events.file.max_file_bytes", e.file.max_file_bytes),
            ("events.file.max_file_age_s", e.file.max_file_age_s),
            (
                "events.kinesis.request_timeout_ms",
                e.kinesis.request_timeout_ms,
            ),
        ] {
            if value == 0 {
                return Err(bad(key, "must be at least 1"));
            }
        }
        if e.retry_max_ms < e.retry_initial_ms {
            return Err(bad(
                "events.retry_max_ms",
                "must be at least events.retry_initial_ms",
            ));
        }
        if e.sink == EventSinkKind::Kinesis && e.kinesis.stream.is_empty() {
            return Err(bad("events.kinesis.stream", "must not be empty"));
        }
        let b = &self.bidding;
        if b.seat.is_empty() {
            return Err(bad("bidding.seat", "must not be empty"));
        }
        if b.tmax_margin_ms >= b.default_tmax_ms {
            return Err(bad(
                "bidding.tmax_margin_ms",
                "must be below bidding.default_tmax_ms",
            ));
        }
        self.fx_table()?;
        if !self.notice.secret.is_empty() && self.notice.secret.len() < 16 {
            return Err(bad("notice.secret", "must be at least 16 bytes (or empty)"));
        }
        if self.notice.max_age_s == 0 {
            return Err(bad("notice.max_age_s", "must be at least 1"));
        }
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log.level) {
            return Err(bad("log.level", e.to_string()));
        }
        Ok(())
    }

    /// The exchange-rate table from `bidding.fx`.
    pub fn fx_table(&self) -> Result<FxTable, ConfigError> {
        let mut rates = Vec::new();
        for (code, rate) in &self.bidding.fx {
            let key = format!("bidding.fx.{code}");
            let currency = Currency::parse(code)
                .ok_or_else(|| bad(&key, "must be a three-letter currency code"))?;
            rates.push((currency, *rate));
        }
        FxTable::new(rates).map_err(|e| {
            let tern_engine::money::FxError::BadRate(c) = e;
            bad(&format!("bidding.fx.{c}"), e.to_string())
        })
    }

    /// Number of workers to run: `server.workers`, or one per available core.
    pub fn worker_count(&self) -> usize {
        match self.server.workers {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
    }
}

/// Turns figment's error into one naming the dotted key.
fn from_figment(e: figment::Error) -> ConfigError {
    // Figment's path already ends with the offending key, unknown ones included.
    let path = &e.path;
    let reason = match &e.kind {
        figment::error::Kind::UnknownField(..) => "unknown key".to_owned(),
        kind => kind.to_string(),
    };
    let key = if path.is_empty() {
        "(file)".to_owned()
    } else {
        path.join(".")
    };
    let source = e.metadata.as_ref().map(|m| m.name.to_string());
    match source {
        Some(source) => ConfigError {
            key,
            reason: format!("{reason} (from {source})"),
        },
        None => ConfigError { key, reason },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_of(toml: &str) -> String {
        Config::from_toml(toml).unwrap_err().key
    }

    #[test]
    fn the_example_file_documents_exactly_the_defaults() {
        let example = include_str!("../bidder.example.toml");
        assert_eq!(Config::from_toml(example).unwrap(), Config::default());
    }

    #[test]
    fn unknown_keys_are_named() {
        assert_eq!(
            key_of("[server]\nbid_adr = \"127.0.0.1:1\""),
            "server.bid_adr"
        );
        assert_eq!(key_of("[servr]\n"), "servr");
    }

    #[test]
    fn wrong_types_are_named() {
        assert_eq!(
            key_of("[limits]\nbody_bytes = \"big\""),
            "limits.body_bytes"
        );
        assert_eq!(
            key_of("[server]\nbid_addr = \"localhost\""),
            "server.bid_addr"
        );
    }

    #[test]
    fn each_rejected_value_names_its_key() {
        let cases = [
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
            ("[server]\npublic_url = \"ftp://x\"", "server.public_url"),
            ("[server]\npublic_url = \"http://x/\"", "server.public_url"),
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
                "[limits]\nbody_read_timeout_ms = 0",
                "limits.body_read_timeout_ms",
            ),
            ("[limits]\nidle_timeout_ms = 0", "limits.idle_timeout_ms"),
            ("[limits]\nwrite_timeout_ms = 0", "limits.write_timeout_ms"),
            (
                "[campaigns]\nreload_interval_ms = 0",
                "campaigns.reload_interval_ms",
            ),
            (
                "[shutdown]\ndrain_timeout_ms = 0",
                "shutdown.drain_timeout_ms",
            ),
            ("[bidding]\ndefault_tmax_ms = 0", "bidding.default_tmax_ms"),
            ("[bidding]\nseat = \"\"", "bidding.seat"),
            ("[bidding]\ntmax_margin_ms = 100", "bidding.tmax_margin_ms"),
            ("[bidding.fx]\nEURO = 1.0", "bidding.fx.EURO"),
            ("[bidding.fx]\nCHF = -1.0", "bidding.fx.CHF"),
            ("[notice]\nsecret = \"short\"", "notice.secret"),
            ("[events]\nsink = \"kafka\"", "events.sink"),
            (
                "[events]\nnobid_sample_rate = 1.5",
                "events.nobid_sample_rate",
            ),
            ("[events]\nqueue_capacity = 0", "events.queue_capacity"),
            ("[events]\nbatch_records = 501", "events.batch_records"),
            (
                "[events]\nmax_buffered_records = 10",
                "events.max_buffered_records",
            ),
            ("[events]\nretry_initial_ms = 0", "events.retry_initial_ms"),
            ("[events]\nretry_max_ms = 1", "events.retry_max_ms"),
            (
                "[events.file]\nmax_file_bytes = 0",
                "events.file.max_file_bytes",
            ),
            (
                "[events.file]\nmax_file_age_s = 0",
                "events.file.max_file_age_s",
            ),
            (
                "[events.kinesis]\nrequest_timeout_ms = 0",
                "events.kinesis.request_timeout_ms",
            ),
            (
                "[events]\nsink = \"kinesis\"\n[events.kinesis]\nstream = \"\"",
                "events.kinesis.stream",
            ),
            (
                "[frequency_cap]\nstore = \"memcached\"",
                "frequency_cap.store",
            ),
            (
                "[frequency_cap]\non_unavailable = \"panic\"",
                "frequency_cap.on_unavailable",
            ),
            (
                "[frequency_cap]\ntimeout_ms = 0",
                "frequency_cap.timeout_ms",
            ),
            (
                "[frequency_cap]\ntimeout_ms = 100",
                "frequency_cap.timeout_ms",
            ),
            (
                "[frequency_cap]\nrecord_timeout_ms = 0",
                "frequency_cap.record_timeout_ms",
            ),
            (
                "[frequency_cap.redis]\naddr = \"localhost\"",
                "frequency_cap.redis.addr",
            ),
            (
                "[frequency_cap.redis]\naddr = \"localhost:0\"",
                "frequency_cap.redis.addr",
            ),
            (
                "[frequency_cap.redis]\nconnections_per_worker = 0",
                "frequency_cap.redis.connections_per_worker",
            ),
            (
                "[frequency_cap.redis]\nconnect_timeout_ms = 0",
                "frequency_cap.redis.connect_timeout_ms",
            ),
            (
                "[frequency_cap.redis]\nretry_initial_ms = 0",
                "frequency_cap.redis.retry_initial_ms",
            ),
            (
                "[frequency_cap.redis]\nretry_max_ms = 1",
                "frequency_cap.redis.retry_max_ms",
            ),
            ("[campaigns]\nsource = \"s3\"", "campaigns.source"),
            (
                "[campaigns]\nsource = \"dynamodb\"\npath = \"x.toml\"",
                "campaigns.path",
            ),
            (
                "[campaigns.dynamodb]\ntable = \"\"",
                "campaigns.dynamodb.table",
            ),
            (
                "[campaigns.dynamodb]\nscan_segments = 0",
                "campaigns.dynamodb.scan_segments",
            ),
            (
                "[campaigns.dynamodb]\npoll_interval_ms = 0",
                "campaigns.dynamodb.poll_interval_ms",
            ),
            (
                "[campaigns.dynamodb]\nshard_refresh_ms = 0",
                "campaigns.dynamodb.shard_refresh_ms",
            ),
            (
                "[campaigns.dynamodb]\nretry_initial_ms = 0",
                "campaigns.dynamodb.retry_initial_ms",
            ),
            (
                "[campaigns.dynamodb]\nrequest_timeout_ms = 0",
                "campaigns.dynamodb.request_timeout_ms",
            ),
            (
                "[campaigns.dynamodb]\nretry_max_ms = 10",
                "campaigns.dynamodb.retry_max_ms",
            ),
            (
                "[campaigns.dynamodb]\nmax_staleness_ms = 100",
                "campaigns.dynamodb.max_staleness_ms",
            ),
            ("[notice]\nmax_age_s = 0", "notice.max_age_s"),
            ("[log]\nlevel = \"=[\"", "log.level"),
        ];
        for (toml, key) in cases {
            assert_eq!(key_of(toml), key, "for {toml:?}");
        }
    }

    #[test]
    fn environment_overrides_the_file_and_flags_override_both() {
        let dir = std::env::temp_dir().join(format!("tern-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("bidder.toml");
        std::fs::write(
            &file,
            "[limits]\nbody_bytes = 4096\n[server]\nworkers = 3\n",
        )
        .unwrap();
        #[allow(clippy::result_large_err)] // figment's Jail fixes the closure's error type
        figment::Jail::expect_with(|jail| {
            jail.set_env("TERN_LIMITS__BODY_BYTES", "8192");
            jail.set_env("TERN_SERVER__WORKERS", "5");
            let env = Env::prefixed(ENV_PREFIX).split("__");
            let overrides = Overrides {
                workers: Some(2),
                ..Overrides::default()
            };
            let config = Config::load_with_env(Some(&file), &overrides, env).unwrap();
            assert_eq!(config.limits.body_bytes, 8192);
            assert_eq!(config.server.workers, 2);
            jail.set_env("TERN_LIMITS__BODY_BYTEZ", "1");
            let env = Env::prefixed(ENV_PREFIX).split("__");
            let err = Config::load_with_env(None, &Overrides::default(), env).unwrap_err();
            assert_eq!(err.key, "limits.body_bytez");
            Ok(())
        });
        let missing = Config::load(Some(&dir.join("nope.toml")), &Overrides::default());
        assert_eq!(missing.unwrap_err().key, "--config");
    }
}
