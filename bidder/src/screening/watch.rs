//! The `ivt-lists` service: checks the lists directory or S3 prefix every
//! `poll_interval_ms` and applies a changed set (`ScreeningState::apply`). A
//! change is seen from a cheap fingerprint (file sizes and times; S3 ETags), so
//! an unchanged set is neither read nor compiled again.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tern_ivt::Lists;

use super::ScreeningState;
use super::config::{S3Location, ScreeningConfig};
use super::s3::S3Lists;
use crate::error::StartError;
use crate::lifecycle::Background;

/// Starts the watcher when the lists come from a directory or S3; `None` for the
/// bundled lists alone.
pub fn watch(
    config: &ScreeningConfig,
    state: Arc<ScreeningState>,
) -> Result<Option<Background>, StartError> {
    let interval = Duration::from_millis(config.poll_interval_ms);
    if let Some(dir) = config.lists_dir.clone() {
        return Background::spawn("ivt-lists", move |signal| {
            let mut seen = dir_fingerprint(&dir);
            while signal.sleep(interval) {
                let now = dir_fingerprint(&dir);
                if now == seen {
                    continue;
                }
                seen = now;
                let origin = dir.display().to_string();
                match Lists::read_dir(&dir) {
                    Ok(files) => drop(state.apply(files, &origin)),
                    Err(e) => state.record_source_error(&e, &origin),
                }
            }
        })
        .map(Some);
    }
    let Some(uri) = config.s3().map(str::to_owned) else {
        return Ok(None);
    };
    let location = S3Location::parse(&uri).map_err(|why| {
        StartError::Config(crate::error::ConfigError::new("screening.s3_uri", why))
    })?;
    let mut s3 = S3Lists::new(location)?;
    Background::spawn("ivt-lists", move |signal| {
        let mut seen = None;
        loop {
            match s3.fingerprint() {
                Ok(now) if seen.as_ref() != Some(&now) => match s3.read(&now) {
                    Ok(files) => {
                        // A bad set is not read again until it changes.
                        let _ = state.apply(files, &uri);
                        seen = Some(now);
                    }
                    Err(e) => state.record_source_error(&e, &uri),
                },
                Ok(_) => {}
                Err(e) => state.record_source_error(&e, &uri),
            }
            if !signal.sleep(interval) {
                break;
            }
        }
    })
    .map(Some)
}

/// Every file under `dir` with its size and modification time, sorted.
fn dir_fingerprint(dir: &Path) -> Vec<(PathBuf, u64, Option<SystemTime>)> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(at) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&at) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            // `fs::metadata` follows symbolic links: a list linked from elsewhere
            // is seen to change when its target does.
            match std::fs::metadata(&path) {
                Ok(meta) if meta.is_dir() => pending.push(path),
                Ok(meta) => files.push((path, meta.len(), meta.modified().ok())),
                Err(_) => {}
            }
        }
    }
    files.sort();
    files
}
