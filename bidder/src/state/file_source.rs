//! The embedded campaign source: a campaigns file re-read when it changes, or the
//! bundled example compiled into the binary.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tern_engine::campaign::{Campaign, FileFormat, parse_campaigns};

use super::BidderState;
use super::config::CampaignsConfig;
use crate::error::{CampaignsError, StartError};
use crate::lifecycle::Background;

/// The example campaigns shipped with the bidder.
const BUNDLED: &str = include_str!("../../campaigns/example.toml");

/// Where the embedded default reads campaigns from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CampaignSource {
    /// The bundled example campaigns.
    Bundled,
    /// A TOML or JSON file, watched for changes.
    File(PathBuf),
}

impl CampaignSource {
    /// The file `campaigns.path` names, or the bundled examples when it is unset.
    pub fn from_config(config: &CampaignsConfig) -> CampaignSource {
        match &config.path {
            Some(path) => CampaignSource::File(path.clone()),
            None => CampaignSource::Bundled,
        }
    }

    /// Reads and validates the campaigns; the error names the file, campaign and field.
    pub fn campaigns(&self) -> Result<Vec<Campaign>, CampaignsError> {
        match self {
            CampaignSource::Bundled => {
                parse_campaigns(BUNDLED, FileFormat::Toml).map_err(|source| {
                    CampaignsError::Invalid {
                        origin: "bundled campaigns".to_owned(),
                        source,
                    }
                })
            }
            CampaignSource::File(path) => read_file(path),
        }
    }

    /// Loads the campaigns once into `state`; returns how many there are.
    pub fn load_into(&self, state: &BidderState) -> Result<usize, CampaignsError> {
        let campaigns = self.campaigns()?;
        state
            .replace_campaigns(&campaigns)
            .map_err(|source| CampaignsError::Invalid {
                origin: self.origin(),
                source,
            })?;
        Ok(campaigns.len())
    }

    fn origin(&self) -> String {
        match self {
            CampaignSource::Bundled => "bundled campaigns".to_owned(),
            CampaignSource::File(path) => file_origin(path),
        }
    }
}

/// How errors name a campaigns file.
fn file_origin(path: &Path) -> String {
    format!("campaigns file {}", path.display())
}

fn read_file(path: &Path) -> Result<Vec<Campaign>, CampaignsError> {
    let text = std::fs::read_to_string(path).map_err(|source| CampaignsError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse_campaigns(&text, FileFormat::from_path(path)).map_err(|source| CampaignsError::Invalid {
        origin: file_origin(path),
        source,
    })
}

/// What identifies one version of a file without reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Fingerprint {
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
}

fn fingerprint(path: &Path) -> Option<Fingerprint> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).ok()?;
    Some(Fingerprint {
        modified: meta.modified().ok(),
        len: meta.len(),
        inode: meta.ino(),
    })
}

/// Starts the `campaign-file` service: it re-reads `path` every `interval` and
/// applies good versions to `state`. A bad version is logged and counted, and the
/// last good campaigns keep serving.
pub fn watch_file(
    path: PathBuf,
    interval: Duration,
    state: Arc<BidderState>,
) -> Result<Background, StartError> {
    Background::spawn("campaign-file", move |signal| {
        let mut seen = fingerprint(&path);
        while signal.sleep(interval) {
            let now = fingerprint(&path);
            if now == seen {
                continue;
            }
            seen = now;
            // A snapshot that fails to build counts its own rejection.
            let applied = match read_file(&path) {
                Err(e) => {
                    state.record_reject(e.to_string());
                    Err(e)
                }
                Ok(campaigns) => state
                    .replace_campaigns(&campaigns)
                    .map(|()| campaigns.len())
                    .map_err(|source| CampaignsError::Invalid {
                        origin: file_origin(&path),
                        source,
                    }),
            };
            match applied {
                Ok(n) => {
                    tracing::info!(campaigns = n, path = %path.display(), "campaigns reloaded");
                }
                Err(e) => tracing::warn!(
                    error = %e,
                    "campaigns rejected; the last good campaigns keep serving"
                ),
            }
        }
    })
}
