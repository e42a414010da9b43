//! The bidder's configuration: one TOML file, then `TERN_<SECTION>__<KEY>` environment
//! variables, then command-line flags, each overriding the one before.
//!
//! Each section's settings, defaults and checks live beside the code that uses them
//! (`server/config.rs`, `bid_api/config.rs`, `state/config.rs`,
//! `state/dynamodb/config.rs`, `freq_cap/config.rs`, `events/config.rs`,
//! `budget/config.rs`); this
//! module loads and layers them, and checks what spans sections. Every option is
//! documented in `bidder/bidder.example.toml` (a test keeps it equal to the
//! defaults). Unknown keys and bad values stop the bidder at start with a message
//! naming the key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use crate::bid_api::BidSettings;
pub use crate::bid_api::config::{BiddingConfig, NoticeConfig};
pub use crate::budget::config::{AlertsConfig, BudgetConfig, LedgerDynamoDbConfig, LedgerKind};
pub use crate::error::ConfigError;
use crate::error::at_least_one;
pub use crate::events::config::{EventFileConfig, EventKinesisConfig, EventSinkKind, EventsConfig};
pub use crate::freq_cap::config::{CapPolicy, CapStoreKind, FrequencyCapConfig, RedisConfig};
pub use crate::screening::config::ScreeningConfig;
pub use crate::segments::config::SegmentsConfig;
use crate::segments::load::LoadSettings;
pub use crate::server::config::{IoDriver, LimitsConfig, ServerConfig};
pub use crate::state::config::{CampaignsConfig, SourceKind};
pub use crate::state::dynamodb::config::DynamoDbConfig;
pub use tern_service::LogConfig;
use tern_service::from_figment;

/// Prefix of environment overrides: `TERN_LIMITS__BODY_BYTES=65536`.
pub const ENV_PREFIX: &str = "TERN_";

/// The environment's overrides: `TERN_<SECTION>__<KEY>`, except `TERN_CONFIG`,
/// which names the config file (the `--config` flag) rather than a key.
fn environment() -> Env {
    Env::prefixed(ENV_PREFIX).ignore(&["config"]).split("__")
}

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
    /// Fleet budgets: the spend ledger, leases, holds and alerts.
    pub budget: BudgetConfig,
    /// Invalid-traffic and supply-chain lists.
    pub screening: ScreeningConfig,
    /// First-party audience segments and the privacy rule's vendor id.
    pub segments: SegmentsConfig,
    /// Graceful shutdown.
    pub shutdown: ShutdownConfig,
    /// Logging.
    pub log: LogConfig,
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
        Config::load_with_env(file, overrides, environment())
    }

    fn load_with_env(
        file: Option<&Path>,
        overrides: &Overrides,
        env: Env,
    ) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError::new(
                    "--config",
                    format!("no such file: {}", path.display()),
                ));
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

    /// Checks every value that its type alone does not constrain: each section's
    /// own checks, then those that span sections.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.server.validate()?;
        self.limits.validate()?;
        self.bidding.validate()?;
        self.campaigns.validate()?;
        self.notice.validate()?;
        self.frequency_cap.validate()?;
        self.events.validate()?;
        self.budget.validate()?;
        self.screening.validate()?;
        self.segments.validate()?;
        if self.segments.file.is_some() && self.frequency_cap.store == CapStoreKind::Redis {
            return Err(ConfigError::new(
                "segments.file",
                "is for the in-process store; with frequency_cap.store = \"redis\", load the file with `bidder segments load`",
            ));
        }
        at_least_one(&[("shutdown.drain_timeout_ms", self.shutdown.drain_timeout_ms)])?;
        if self.frequency_cap.timeout_ms >= self.bidding.default_tmax_ms {
            return Err(ConfigError::new(
                "frequency_cap.timeout_ms",
                "must be below bidding.default_tmax_ms",
            ));
        }
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log.level) {
            return Err(ConfigError::new("log.level", e.to_string()));
        }
        Ok(())
    }

    /// The sections `bidder segments load` reads.
    pub fn segment_load_settings(&self) -> LoadSettings<'_> {
        LoadSettings {
            frequency_cap: &self.frequency_cap,
            segments: &self.segments,
            io_driver: self.server.io_driver,
        }
    }

    /// The sections the bid endpoints read.
    pub fn bid_settings(&self) -> BidSettings<'_> {
        BidSettings {
            bidding: &self.bidding,
            notice: &self.notice,
            frequency_cap: &self.frequency_cap,
            segments: &self.segments,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The key a config text is refused for.
    pub(crate) fn key_of(toml: &str) -> String {
        Config::from_toml(toml).unwrap_err().key
    }

    /// Checks that each config text is refused naming its key.
    pub(crate) fn assert_refused(cases: &[(&str, &str)]) {
        for (toml, key) in cases {
            assert_eq!(key_of(toml), *key, "for {toml:?}");
        }
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
    fn each_value_refused_across_sections_names_its_key() {
        assert_refused(&[
            (
                "[shutdown]\ndrain_timeout_ms = 0",
                "shutdown.drain_timeout_ms",
            ),
            (
                "[frequency_cap]\ntimeout_ms = 100",
                "frequency_cap.timeout_ms",
            ),
            (
                "[bidding]\ndefault_tmax_ms = 50\n[frequency_cap]\ntimeout_ms = 50",
                "frequency_cap.timeout_ms",
            ),
            ("[log]\nlevel = \"=[\"", "log.level"),
        ]);
    }

    #[test]
    fn environment_overrides_the_file_and_flags_override_both() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bidder.toml");
        std::fs::write(
            &file,
            "[limits]\nbody_bytes = 4096\n[server]\nworkers = 3\n",
        )
        .unwrap();
        #[allow(clippy::result_large_err)] // figment's Jail fixes the closure's error type
        figment::Jail::expect_with(|jail| {
            jail.set_env("TERN_LIMITS__BODY_BYTES", "8192");
            jail.set_env("TERN_SERVER__WORKERS", "5");
            // The config file's own variable names the file, not a key.
            jail.set_env("TERN_CONFIG", "elsewhere.toml");
            let env = environment();
            let overrides = Overrides {
                workers: Some(2),
                ..Overrides::default()
            };
            let config = Config::load_with_env(Some(&file), &overrides, env).unwrap();
            assert_eq!(config.limits.body_bytes, 8192);
            assert_eq!(config.server.workers, 2);
            jail.set_env("TERN_LIMITS__BODY_BYTEZ", "1");
            let env = environment();
            let err = Config::load_with_env(None, &Overrides::default(), env).unwrap_err();
            assert_eq!(err.key, "limits.body_bytez");
            Ok(())
        });
        let missing = Config::load(Some(&dir.path().join("nope.toml")), &Overrides::default());
        assert_eq!(missing.unwrap_err().key, "--config");
    }
}
