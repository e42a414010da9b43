//! The bidder's errors, by where they come from: the operator's settings
//! ([`ConfigError`], naming the key), the campaigns it starts with, the sockets and
//! threads it starts, and the AWS services it talks to. [`StartError`] is what a
//! failed start reports; each part has its own variant so the message says which
//! part failed.

use std::net::SocketAddr;
use std::path::PathBuf;

use tern_engine::campaign::CampaignError;

pub use tern_service::{ConfigError, at_least_one};

/// Refuses a retry back-off whose longest wait (`<section>.retry_max_ms`) is
/// shorter than its first (`<section>.retry_initial_ms`).
pub(crate) fn retry_waits_in_order(
    section: &str,
    retry_initial_ms: u64,
    retry_max_ms: u64,
) -> Result<(), ConfigError> {
    if retry_max_ms < retry_initial_ms {
        return Err(ConfigError::new(
            format!("{section}.retry_max_ms"),
            format!("must be at least {section}.retry_initial_ms"),
        ));
    }
    Ok(())
}

/// Campaigns that cannot be loaded from a file or the bundled examples.
#[derive(Debug, thiserror::Error)]
pub enum CampaignsError {
    /// The file could not be read.
    #[error("campaigns file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The document or a campaign in it is invalid (the error names campaign and field).
    #[error("{origin}: {source}")]
    Invalid {
        /// `campaigns file <path>` or `bundled campaigns`.
        origin: String,
        /// Which campaign and field, and why.
        source: CampaignError,
    },
}

/// A call to AWS that failed, or an AWS setup that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AwsError {
    /// No region in the environment or profile.
    #[error("no AWS region configured: set AWS_REGION (or a profile's region)")]
    NoRegion,
    /// A call failed: what was asked, and the service's code and message (or the
    /// transport error with its causes).
    #[error("{operation}: {text}")]
    Call {
        /// What was asked, e.g. `create table tern-campaigns`.
        operation: String,
        /// What went wrong.
        text: String,
    },
}

/// Why the bidder could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The initial campaigns are invalid or unreadable.
    #[error(transparent)]
    Campaigns(#[from] CampaignsError),
    /// A listener could not bind.
    #[error("cannot listen on {addr} ({listener}): {source}")]
    Bind {
        /// `bid` or `admin`.
        listener: &'static str,
        /// The address asked for.
        addr: SocketAddr,
        /// What the OS said.
        source: std::io::Error,
    },
    /// A thread could not be started.
    #[error("cannot start the {thread} thread: {source}")]
    Thread {
        /// Which one: `bid worker`, `admin worker`, `dynamodb-sync`, `event-shipper`,
        /// `redis-resolve`, `campaign-file`.
        thread: &'static str,
        /// What the OS said.
        source: std::io::Error,
    },
    /// Workers exited at start (e.g. `io_driver = "io_uring"` without io_uring).
    #[error("bid workers failed to start; see the log above")]
    WorkersExited,
    /// The Kinesis event sink cannot be set up.
    #[error("events: {0}")]
    Events(AwsError),
    /// The budget state (`budget.state_dir`: its lock, journal or local ledger)
    /// cannot be opened.
    #[error("budget state: {0}")]
    Budget(String),
    /// A screening list (`screening.lists_dir`) is unreadable or malformed.
    #[error("screening lists: {0}")]
    Lists(tern_ivt::ListError),
    /// The screening lists' S3 source cannot be set up.
    #[error("screening lists: {0}")]
    ListsSource(AwsError),
}
