//! `[frequency_cap]`: where counters live, how long a bid may wait for them, what
//! to do when they cannot be read, and the Redis connection.

use serde::{Deserialize, Serialize};

use crate::error::{ConfigError, at_least_one, retry_waits_in_order};

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

impl FrequencyCapConfig {
    /// Checks what the types alone do not constrain (the bid deadline it must fit
    /// in is checked with the whole config).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let redis = &self.redis;
        at_least_one(&[
            ("frequency_cap.timeout_ms", self.timeout_ms),
            ("frequency_cap.record_timeout_ms", self.record_timeout_ms),
            (
                "frequency_cap.redis.connect_timeout_ms",
                redis.connect_timeout_ms,
            ),
            (
                "frequency_cap.redis.retry_initial_ms",
                redis.retry_initial_ms,
            ),
        ])?;
        retry_waits_in_order(
            "frequency_cap.redis",
            redis.retry_initial_ms,
            redis.retry_max_ms,
        )?;
        if !(1..=1024).contains(&redis.connections_per_worker) {
            return Err(ConfigError::new(
                "frequency_cap.redis.connections_per_worker",
                "must be between 1 and 1024",
            ));
        }
        match redis.addr.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0) => {
                Ok(())
            }
            _ => Err(ConfigError::new(
                "frequency_cap.redis.addr",
                "must be host:port",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::tests::assert_refused;

    #[test]
    fn each_rejected_value_names_its_key() {
        assert_refused(&[
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
        ]);
    }
}
