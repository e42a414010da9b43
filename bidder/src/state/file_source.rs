//! The embedded campaign source: a campaigns file re-read when it changes, or the
//! bundled example compiled into the binary.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use tern_engine::campaign::{CampaignError, FileFormat, parse_campaigns};

use super::BidderState;

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

/// The bundled example campaigns, parsed.
pub fn bundled_campaigns() -> Result<Vec<tern_engine::campaign::Campaign>, CampaignError> {
    parse_campaigns(BUNDLED, FileFormat::Toml)
}

impl CampaignSource {
    /// Loads the campaigns once into `state`; the error names the campaign and field.
    pub fn load_into(&self, state: &BidderState) -> Result<usize, String> {
        let campaigns = match self {
            CampaignSource::Bundled => {
                bundled_campaigns().map_err(|e| format!("bundled campaigns: {e}"))?
            }
            CampaignSource::File(path) => read_file(path)?,
        };
        state
            .replace_campaigns(&campaigns)
            .map_err(|e| e.to_string())?;
        Ok(campaigns.len())
    }
}

fn read_file(path: &Path) -> Result<Vec<tern_engine::campaign::Campaign>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("campaigns file {}: {e}", path.display()))?;
    parse_campaigns(&text, FileFormat::from_path(path))
        .map_err(|e| format!("campaigns file {}: {e}", path.display()))
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

/// A thread that re-reads a campaigns file whenever it changes.
#[derive(Debug)]
pub struct FileWatcher {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FileWatcher {
    /// Starts watching `path` every `interval`, applying good versions to `state`.
    /// A bad version is logged and counted, and the last good campaigns keep serving.
    pub fn start(path: PathBuf, interval: Duration, state: Arc<BidderState>) -> FileWatcher {
        let stop = Arc::new(AtomicBool::new(false));
        let stop_flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("campaign-file".into())
            .spawn(move || {
                let mut seen = fingerprint(&path);
                while !stop_flag.load(Ordering::Relaxed) {
                    std::thread::sleep(interval);
                    let now = fingerprint(&path);
                    if now == seen {
                        continue;
                    }
                    seen = now;
                    let result = match read_file(&path) {
                        Ok(campaigns) => state
                            .replace_campaigns(&campaigns)
                            .map(|()| campaigns.len())
                            .map_err(|e| e.to_string()),
                        Err(e) => {
                            state.record_reject(e.clone());
                            Err(e)
                        }
                    };
                    match result {
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
            .expect("spawning the campaign file watcher");
        FileWatcher {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for FileWatcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
