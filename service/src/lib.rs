//! What every Tern service binary (the bidder, the control plane) shares about
//! running as a service: a configuration error names the dotted key at fault,
//! whether it came from the file, the environment or a flag ([`ConfigError`],
//! [`from_figment`]), and logs go to stderr through one `tracing` filter
//! ([`LogConfig`], [`init_logging`]).

/// A configuration that cannot be used, naming the key at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("config key `{key}`: {reason}")]
pub struct ConfigError {
    /// Dotted key, e.g. `limits.body_bytes`.
    pub key: String,
    /// What is wrong with it.
    pub reason: String,
}

impl ConfigError {
    /// The error for `key`.
    pub fn new(key: impl Into<String>, reason: impl Into<String>) -> ConfigError {
        ConfigError {
            key: key.into(),
            reason: reason.into(),
        }
    }
}

/// Refuses the first of `values` (dotted key, value) that is zero: durations,
/// sizes and counts that must be at least 1.
pub fn at_least_one(values: &[(&str, u64)]) -> Result<(), ConfigError> {
    match values.iter().find(|(_, value)| *value == 0) {
        Some((key, _)) => Err(ConfigError::new(*key, "must be at least 1")),
        None => Ok(()),
    }
}

/// Figment's error as one naming the dotted key (figment's path already ends
/// with the offending key, unknown ones included) and where the value came from.
pub fn from_figment(e: figment::Error) -> ConfigError {
    let reason = match &e.kind {
        figment::error::Kind::UnknownField(..) => "unknown key".to_owned(),
        kind => kind.to_string(),
    };
    let key = if e.path.is_empty() {
        "(file)".to_owned()
    } else {
        e.path.join(".")
    };
    match e.metadata.as_ref().map(|m| m.name.to_string()) {
        Some(source) => ConfigError {
            key,
            reason: format!("{reason} (from {source})"),
        },
        None => ConfigError { key, reason },
    }
}

/// `[log]`: what the service logs.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
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

/// Logs to stderr at `level` (a `tracing` filter such as `info`; `RUST_LOG`
/// overrides it), in colour only on a terminal.
pub fn init_logging(level: &str) {
    use std::io::IsTerminal as _;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
}
