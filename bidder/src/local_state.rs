//! The bidder's own directory (`budget.state_dir`): what must outlive a restart on
//! the same host. It holds:
//! - `lock`: held while the process runs, so two bidders never share a directory;
//! - `bidder-id`: this bidder's name in the spend ledger (host name and a random
//!   suffix, made on first start; `budget.bidder_id` overrides it);
//! - `notice-key`: the notice signing key used when `notice.secret` is empty, so
//!   billing notices for bids made before a restart still verify;
//! - the spend journal and, for the local ledger, `ledger.json` (see `budget`).

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::error::StartError;

/// Bytes of a generated notice key.
const NOTICE_KEY_BYTES: usize = 32;

/// The opened directory; its lock is held until this is dropped.
#[derive(Debug)]
pub struct LocalState {
    dir: PathBuf,
    bidder_id: String,
    journal_id: u64,
    notice_key: Vec<u8>,
    _lock: File,
}

impl LocalState {
    /// Opens (creating) `dir` and takes its lock. `bidder_id` overrides the
    /// stored id when not empty.
    pub fn open(dir: &Path, bidder_id: &str) -> Result<LocalState, StartError> {
        let fail = |what: &str, e: &dyn std::fmt::Display| {
            StartError::Budget(format!("{what} {}: {e}", dir.display()))
        };
        std::fs::create_dir_all(dir).map_err(|e| fail("cannot create", &e))?;
        let lock =
            File::create(dir.join("lock")).map_err(|e| fail("cannot open the lock in", &e))?;
        lock.try_lock().map_err(|_| {
            StartError::Budget(format!(
                "{} is in use by another bidder (each needs its own budget.state_dir)",
                dir.display()
            ))
        })?;
        let bidder_id = match bidder_id {
            "" => keep(dir, "bidder-id", || {
                let host = crate::events::host_name().replace(['@', '\n'], "_");
                Ok(format!("{host}-{:08x}", fastrand::u32(..)).into_bytes())
            })
            .map_err(|e| fail("cannot keep the bidder id in", &e))
            .map(|id| String::from_utf8_lossy(&id).trim().to_owned())?,
            id => id.to_owned(),
        };
        let notice_key = keep(dir, "notice-key", random_key)
            .map_err(|e| fail("cannot keep the notice key in", &e))?;
        let journal_id = keep(dir, "journal-id", || {
            let mut id = [0u8; 8];
            getrandom::fill(&mut id)?;
            Ok(format!("{:016x}", u64::from_ne_bytes(id)).into_bytes())
        })
        .map_err(|e| fail("cannot keep the journal id in", &e))
        .and_then(|text| {
            let text = String::from_utf8_lossy(&text).trim().to_owned();
            u64::from_str_radix(&text, 16).map_err(|e| fail("unreadable journal-id in", &e))
        })?;
        Ok(LocalState {
            dir: dir.to_owned(),
            bidder_id,
            journal_id,
            notice_key,
            _lock: lock,
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// This bidder's id in the spend ledger.
    pub fn bidder_id(&self) -> &str {
        &self.bidder_id
    }

    /// This directory's spend journal, as the ledger's `flushed` positions name
    /// it: random, made with the directory, so a bidder id used again with a new
    /// directory (or by two bidders at once) never shares a flush position.
    pub fn journal_id(&self) -> u64 {
        self.journal_id
    }

    /// The notice key kept here (used when `notice.secret` is empty).
    pub fn notice_key(&self) -> &[u8] {
        &self.notice_key
    }
}

/// The contents of `dir/name`, written first from `make` (atomically: a
/// temporary file renamed into place) when missing or empty.
fn keep(
    dir: &Path,
    name: &str,
    make: impl FnOnce() -> std::io::Result<Vec<u8>>,
) -> std::io::Result<Vec<u8>> {
    let path = dir.join(name);
    match std::fs::read(&path) {
        Ok(bytes) if !bytes.is_empty() => return Ok(bytes),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let bytes = make()?;
    let temporary = path.with_extension("tmp");
    std::fs::write(&temporary, &bytes)?;
    std::fs::rename(&temporary, &path)?;
    Ok(bytes)
}

/// Random bytes from the operating system's CSPRNG (`getrandom(2)`): the key
/// signs billing notices, so it must not be guessable. Fails rather than fall
/// back to anything weaker.
fn random_key() -> std::io::Result<Vec<u8>> {
    let mut key = vec![0u8; NOTICE_KEY_BYTES];
    getrandom::fill(&mut key).map_err(std::io::Error::other)?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_serves_one_bidder_and_keeps_its_id_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let first = LocalState::open(dir.path(), "").unwrap();
        let (id, key) = (first.bidder_id().to_owned(), first.notice_key().to_vec());
        assert_eq!(key.len(), NOTICE_KEY_BYTES);
        let err = LocalState::open(dir.path(), "").unwrap_err();
        assert!(
            err.to_string().contains("in use by another bidder"),
            "{err}"
        );
        drop(first);
        let again = LocalState::open(dir.path(), "").unwrap();
        assert_eq!(again.bidder_id(), id);
        assert_eq!(again.notice_key(), key);
        drop(again);
        let named = LocalState::open(dir.path(), "bidder-7").unwrap();
        assert_eq!(named.bidder_id(), "bidder-7");
    }
}
