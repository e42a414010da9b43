//! The control plane's configuration: one TOML file, then `TERN_CP_<SECTION>__<KEY>`
//! environment variables, then command-line flags, each overriding the one before.
//! Every option is documented in `control-plane/control-plane.example.toml` (a
//! test keeps it equal to the defaults). Unknown keys and bad values stop the
//! service at start with a message naming the key.

use std::net::SocketAddr;
use std::path::Path;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use tern_engine::money::Currency;
pub use tern_service::{ConfigError, LogConfig};
use tern_service::{at_least_one, from_figment};

/// Prefix of environment overrides: `TERN_CP_SERVER__LISTEN=0.0.0.0:7070`.
pub const ENV_PREFIX: &str = "TERN_CP_";

/// All settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Listeners and request limits.
    pub server: ServerConfig,
    /// The DynamoDB tables.
    pub tables: TablesConfig,
    /// What the fleet's bidders accept beyond the campaign model.
    pub campaigns: CampaignsConfig,
    /// API keys.
    pub auth: AuthConfig,
    /// Graceful shutdown.
    pub shutdown: ShutdownConfig,
    /// Logging.
    pub log: LogConfig,
}

/// Listeners and request limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// The API listener (`/v1`, `/openapi.json`, `/health`).
    pub listen: SocketAddr,
    /// The operations listener (`/health`, `/ready`, `/metrics`), kept off the
    /// load balancer.
    pub admin_listen: SocketAddr,
    /// Largest request body, bytes (`413` beyond).
    pub body_bytes: usize,
    /// Time allowed for one DynamoDB call, milliseconds.
    pub request_timeout_ms: u64,
    /// Most campaigns or audit entries one page may hold (`limit` is capped to it).
    pub max_page_size: u32,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 7070)),
            admin_listen: SocketAddr::from(([127, 0, 0, 1], 7071)),
            body_bytes: 1 << 20,
            request_timeout_ms: 3_000,
            max_page_size: 200,
        }
    }
}

/// The DynamoDB tables. Endpoint, region and credentials come from the standard
/// AWS configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TablesConfig {
    /// Campaigns, read by the bidders through its stream (key `campaign_id`).
    pub campaigns: String,
    /// The control plane's own records: API keys, the audit log, idempotency
    /// records, versions of deleted campaigns (keys `pk`, `sk`; see
    /// `docs/control-plane.md`).
    pub control: String,
    /// The fleet's spend ledger, read for campaign status (key `campaign_id`).
    pub spend: String,
}

impl Default for TablesConfig {
    fn default() -> Self {
        TablesConfig {
            campaigns: "tern-campaigns".to_owned(),
            control: "tern-control".to_owned(),
            spend: "tern-spend".to_owned(),
        }
    }
}

/// What the fleet's bidders accept beyond the campaign model's own rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CampaignsConfig {
    /// Currencies the bidders price (USD and the codes of their `bidding.fx`
    /// table): a campaign in another is refused here, as the bidders would
    /// refuse it.
    pub currencies: Vec<String>,
}

impl Default for CampaignsConfig {
    fn default() -> Self {
        CampaignsConfig {
            currencies: ["USD", "EUR", "GBP", "JPY"].map(str::to_owned).to_vec(),
        }
    }
}

impl CampaignsConfig {
    /// The currencies, parsed.
    pub fn currency_codes(&self) -> Vec<Currency> {
        self.currencies
            .iter()
            .filter_map(|c| Currency::parse(c))
            .collect()
    }
}

/// API keys.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// An operator key accepted besides those stored (to create the first stored
    /// keys); empty: none. Set it from a secret (`TERN_CP_AUTH__BOOTSTRAP_OPERATOR_KEY`),
    /// never in a file under version control. At least 32 characters.
    pub bootstrap_operator_key: String,
    /// Secret mixed into every stored key's hash (HMAC-SHA-256 key), so a copy of
    /// the table alone cannot test guesses; empty: an empty HMAC key (no
    /// pepper). Changing it invalidates every stored key.
    pub pepper: String,
}

/// Graceful shutdown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ShutdownConfig {
    /// After SIGTERM/SIGINT, time to finish in-flight requests, milliseconds.
    pub drain_timeout_ms: u64,
}

impl Default for ShutdownConfig {
    fn default() -> Self {
        ShutdownConfig {
            drain_timeout_ms: 10_000,
        }
    }
}

/// Settings given as flags, applied last.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `server.listen`.
    pub listen: Option<SocketAddr>,
    /// `server.admin_listen`.
    pub admin_listen: Option<SocketAddr>,
}

impl Config {
    /// Loads the file (if any), then the environment, then `overrides`, and
    /// validates the result.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Config, ConfigError> {
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
        figment = figment.merge(Env::prefixed(ENV_PREFIX).ignore(&["config"]).split("__"));
        if let Some(v) = overrides.listen {
            figment = figment.merge(Serialized::default("server.listen", v));
        }
        if let Some(v) = overrides.admin_listen {
            figment = figment.merge(Serialized::default("server.admin_listen", v));
        }
        let config: Config = figment.extract().map_err(from_figment)?;
        config.validate()?;
        Ok(config)
    }

    /// Checks what the types alone do not constrain.
    pub fn validate(&self) -> Result<(), ConfigError> {
        at_least_one(&[
            ("server.body_bytes", self.server.body_bytes as u64),
            ("server.request_timeout_ms", self.server.request_timeout_ms),
            ("server.max_page_size", u64::from(self.server.max_page_size)),
            ("shutdown.drain_timeout_ms", self.shutdown.drain_timeout_ms),
        ])?;
        for (key, name) in [
            ("tables.campaigns", &self.tables.campaigns),
            ("tables.control", &self.tables.control),
            ("tables.spend", &self.tables.spend),
        ] {
            if name.is_empty() {
                return Err(ConfigError::new(key, "must not be empty"));
            }
        }
        if self.campaigns.currencies.is_empty()
            || self
                .campaigns
                .currencies
                .iter()
                .any(|c| Currency::parse(c).is_none())
        {
            return Err(ConfigError::new(
                "campaigns.currencies",
                "must list three-letter ISO-4217 codes, at least one",
            ));
        }
        let bootstrap = &self.auth.bootstrap_operator_key;
        if !bootstrap.is_empty() && bootstrap.chars().count() < 32 {
            return Err(ConfigError::new(
                "auth.bootstrap_operator_key",
                "must be at least 32 characters (or empty)",
            ));
        }
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log.level) {
            return Err(ConfigError::new("log.level", e.to_string()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let config: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::string(text))
            .extract()
            .map_err(from_figment)?;
        config.validate()?;
        Ok(config)
    }

    #[test]
    fn the_example_file_is_the_defaults() {
        let text = include_str!("../control-plane.example.toml");
        assert_eq!(from_toml(text).unwrap(), Config::default());
    }

    #[test]
    fn the_ami_config_file_is_accepted() {
        let text = include_str!("../../packer/files/control-plane.toml");
        let config = from_toml(text).unwrap();
        assert_eq!(config.server.listen.port(), 7070);
        assert!(config.server.admin_listen.ip().is_loopback());
    }

    #[test]
    fn each_refused_value_names_its_key() {
        for (text, key) in [
            ("[server]\nlisten = \"nowhere\"", "server.listen"),
            ("[server]\nbody_bytes = 0", "server.body_bytes"),
            ("[server]\nmax_page_size = 0", "server.max_page_size"),
            ("[server]\nport = 1", "server.port"),
            ("[tables]\ncontrol = \"\"", "tables.control"),
            ("[campaigns]\ncurrencies = []", "campaigns.currencies"),
            (
                "[campaigns]\ncurrencies = [\"EURO\"]",
                "campaigns.currencies",
            ),
            (
                "[auth]\nbootstrap_operator_key = \"short\"",
                "auth.bootstrap_operator_key",
            ),
            ("[log]\nlevel = \"=\"", "log.level"),
            (
                "[shutdown]\ndrain_timeout_ms = 0",
                "shutdown.drain_timeout_ms",
            ),
        ] {
            let error = from_toml(text).unwrap_err();
            assert_eq!(error.key, key, "{text}: {error}");
        }
    }
}
