//! First-party audience segments outside the bid path: their configuration,
//! the user→segments file format, and `bidder segments load`, which writes files
//! into the user store (`docs/segments.md`). The bid path reads them through the
//! user store (`freq_cap`), in the same round trip as frequency caps.

pub mod config;
pub(crate) mod file;
pub mod load;

use tern_engine::clock;

use crate::error::ConfigError;
use crate::freq_cap::LocalSegments;
use crate::segments::config::SegmentsConfig;

/// The in-process store of the embedded default, from `segments.file` (empty
/// without one), read as `bidder segments load` reads a file ([`file::lines`]).
/// A line that cannot be read stops the start, naming the file and line: a
/// store missing some users would bid wrongly for them unnoticed.
pub(crate) fn load_local(config: &SegmentsConfig) -> Result<LocalSegments, ConfigError> {
    let mut store = LocalSegments::default();
    let Some(path) = &config.file else {
        return Ok(store);
    };
    let fail =
        |why: String| ConfigError::new("segments.file", format!("{}: {why}", path.display()));
    let reader = file::open(path).map_err(|e| fail(e.to_string()))?;
    let now_unix_s = clock::now_unix_s();
    // The loader's reader: the same lines accepted and refused, for the same reasons.
    let mut lines = file::lines(reader, config.default_ttl_s);
    while let Some(item) = lines.next() {
        match item {
            Ok((_, Ok(user))) => store.set(user.user, &user.segments, now_unix_s),
            Ok((number, Err(why))) => return Err(fail(format!("line {number}: {why}"))),
            Err(e) => return Err(fail(format!("line {}: {e}", lines.line() + 1))),
        }
    }
    tracing::info!(users = store.users(), file = %path.display(), "first-party segments loaded");
    Ok(store)
}
