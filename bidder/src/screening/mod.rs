//! Invalid-traffic and supply-chain screening in the bidder: the current lists
//! (compiled by `tern-ivt`, swapped whole like campaign snapshots), where they
//! come from, and the exchange identities the supply-chain check compares with.
//! Each worker screens with its own `tern_ivt::Screener` (`bid_api`).

pub mod config;
mod s3;
mod watch;

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use arc_swap::ArcSwap;
use serde::Serialize;
use tern_ivt::{ListCounts, ListError, ListFile, Lists};

pub use self::config::ScreeningConfig;
pub use self::watch::watch;
use crate::error::StartError;

/// The lists every worker screens with, and how their reloads went.
#[derive(Debug)]
pub struct ScreeningState {
    lists: ArcSwap<Lists>,
    /// Exchange name and its ad system domain; names compared ignoring ASCII
    /// case (environment keys arrive lower-cased).
    exchange_domains: Vec<(String, String)>,
    /// Whether the bundled files are part of every set.
    bundled: bool,
    /// Sets applied so far, the first included.
    generation: AtomicU64,
    /// Whether the configured source has been read: false from start until
    /// the first good set from S3 (the fleet's lists, its block list among
    /// them, must be in force before the bidder takes traffic).
    ready: AtomicBool,
    /// Sets refused (the last good set kept serving).
    rejects: AtomicU64,
    last_error: Mutex<Option<String>>,
}

/// What `/state` and the metrics report about screening.
#[derive(Debug, Clone, Serialize)]
pub struct ScreeningSummary {
    /// What the serving set holds.
    pub lists: ListCounts,
    /// Sets applied so far.
    pub generation: u64,
    /// Whether the configured lists are in force (false until the first good
    /// read of an S3 prefix).
    pub ready: bool,
    /// Sets refused.
    pub rejects: u64,
    /// Why the last refused set was refused.
    pub last_error: Option<String>,
}

impl ScreeningState {
    /// The state at start: the bundled lists (if configured) plus `lists_dir`'s;
    /// a bad list in the directory fails the start naming the file. With an S3
    /// prefix, the bundled lists serve until the watcher's first good read.
    pub fn load(config: &ScreeningConfig) -> Result<ScreeningState, StartError> {
        let operator = match &config.lists_dir {
            Some(dir) => Lists::read_dir(dir).map_err(StartError::Lists)?,
            None => Vec::new(),
        };
        let lists =
            Lists::compile(&compose(config.bundled, operator)).map_err(StartError::Lists)?;
        Ok(ScreeningState {
            lists: ArcSwap::from_pointee(lists),
            exchange_domains: config
                .exchange_domains
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            bundled: config.bundled,
            generation: AtomicU64::new(1),
            ready: AtomicBool::new(config.s3().is_none()),
            rejects: AtomicU64::new(0),
            last_error: Mutex::new(None),
        })
    }

    /// The serving lists (lock-free).
    pub fn lists(&self) -> arc_swap::Guard<Arc<Lists>> {
        self.lists.load()
    }

    /// The ad system domain `exchange` sells under, if configured (names
    /// compared ignoring ASCII case; a fleet configures a handful).
    pub fn exchange_domain(&self, exchange: &str) -> Option<&str> {
        self.exchange_domains
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(exchange))
            .map(|(_, domain)| domain.as_str())
    }

    /// Counts a list source that could not be read (the last good lists keep
    /// serving), like a refused set.
    pub fn record_source_error(&self, error: &dyn std::fmt::Display, origin: &str) {
        self.rejects.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(%error, origin, "screening lists unreadable; the last good lists keep serving");
        if let Ok(mut last) = self.last_error.lock() {
            *last = Some(format!("{origin}: {error}"));
        }
    }

    /// Compiles the operator's `files` (with the bundled ones, if configured)
    /// and swaps them in; a bad set is counted and logged, and the last good set
    /// keeps serving.
    pub fn apply(&self, files: Vec<ListFile>, origin: &str) -> Result<ListCounts, ListError> {
        match Lists::compile(&compose(self.bundled, files)) {
            Ok(lists) => {
                let counts = lists.counts();
                self.lists.store(Arc::new(lists));
                self.generation.fetch_add(1, Ordering::Relaxed);
                self.ready.store(true, Ordering::Release);
                tracing::info!(?counts, origin, "screening lists reloaded");
                Ok(counts)
            }
            Err(e) => {
                self.rejects.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(error = %e, origin, "screening lists rejected; the last good lists keep serving");
                if let Ok(mut last) = self.last_error.lock() {
                    *last = Some(e.to_string());
                }
                Err(e)
            }
        }
    }

    /// Whether the configured lists are in force (`/ready` waits for it).
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// Counts and reload history.
    pub fn summary(&self) -> ScreeningSummary {
        ScreeningSummary {
            lists: self.lists.load().counts(),
            generation: self.generation.load(Ordering::Relaxed),
            ready: self.is_ready(),
            rejects: self.rejects.load(Ordering::Relaxed),
            last_error: self.last_error.lock().ok().and_then(|e| e.clone()),
        }
    }
}

/// The bundled files (when `bundled`), each replaced by an operator file at the
/// same path, then the operator's other files.
fn compose(bundled: bool, operator: Vec<ListFile>) -> Vec<ListFile> {
    let mut files = if bundled {
        Lists::bundled_files()
    } else {
        Vec::new()
    };
    files.retain(|b| !operator.iter().any(|o| o.path == b.path));
    files.extend(operator);
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, text: &str) -> ListFile {
        ListFile::new(path, text)
    }

    #[test]
    fn operator_files_add_to_the_bundled_ones_and_replace_them_by_path() {
        let bundled = Lists::bundled_files();
        let mine = vec![
            file("ip/datacenter/sample.txt", "10.0.0.0/8\n"),
            file("ip/blocked/mine.txt", "10.9.9.9\n"),
        ];
        let composed = compose(true, mine);
        assert_eq!(composed.len(), bundled.len() + 1);
        let sample = composed
            .iter()
            .find(|f| f.path == "ip/datacenter/sample.txt")
            .unwrap();
        assert_eq!(sample.bytes, b"10.0.0.0/8\n");
        assert_eq!(compose(false, vec![file("model.json", "{}")]).len(), 1);
    }

    #[test]
    fn exchange_names_are_matched_ignoring_case() {
        let mut config = ScreeningConfig::default();
        config
            .exchange_domains
            .insert("openx".to_owned(), "openx.example".to_owned());
        let state = ScreeningState::load(&config).unwrap();
        assert_eq!(state.exchange_domain("OpenX"), Some("openx.example"));
        assert_eq!(state.exchange_domain("openx"), Some("openx.example"));
        assert_eq!(state.exchange_domain("other"), None);
    }

    #[test]
    fn a_bad_set_is_counted_and_the_last_good_one_keeps_serving() {
        let state = ScreeningState::load(&ScreeningConfig::default()).unwrap();
        let before = state.lists().counts();
        let err = state
            .apply(
                vec![file("ip/blocked/bad.txt", "10.0.0.0/8\nnot an address\n")],
                "test",
            )
            .unwrap_err();
        assert_eq!(err.path, "ip/blocked/bad.txt");
        assert!(err.reason.contains('2'), "names the line: {err}");
        let summary = state.summary();
        assert_eq!((summary.generation, summary.rejects), (1, 1));
        assert_eq!(summary.lists, before);
        assert!(summary.last_error.unwrap().contains("bad.txt"));
        let counts = state
            .apply(vec![file("ip/blocked/good.txt", "10.0.0.0/8\n")], "test")
            .unwrap();
        assert_eq!(counts.ip_ranges, before.ip_ranges + 1);
        assert_eq!(state.summary().generation, 2);
    }
}
