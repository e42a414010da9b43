//! First-party audience segments outside the bid path: their configuration,
//! the user→segments file format, and `bidder segments load`, which writes files
//! into the user store (`docs/segments.md`). The bid path reads them through the
//! user store (`freq_cap`), in the same round trip as frequency caps.

pub mod config;
pub(crate) mod file;
pub mod load;

use std::io::BufRead as _;

use tern_engine::clock;

use crate::error::ConfigError;
use crate::freq_cap::LocalSegments;
use crate::segments::config::SegmentsConfig;

/// The in-process store of the embedded default, from `segments.file` (empty
/// without one). A line that cannot be read stops the start, naming the file
/// and line: a store missing some users would bid wrongly for them unnoticed.
pub(crate) fn load_local(config: &SegmentsConfig) -> Result<LocalSegments, ConfigError> {
    let mut store = LocalSegments::default();
    let Some(path) = &config.file else {
        return Ok(store);
    };
    let fail =
        |why: String| ConfigError::new("segments.file", format!("{}: {why}", path.display()));
    let lines = file::open(path).map_err(|e| fail(e.to_string()))?;
    let now_unix_s = clock::now_unix_s();
    for (number, line) in lines.lines().enumerate() {
        let line = line.map_err(|e| fail(format!("line {}: {e}", number + 1)))?;
        match file::parse_line(&line, config.default_ttl_s) {
            Ok(None) => {}
            Ok(Some(user)) => store.set(user.user, &user.segments, now_unix_s),
            Err(why) => return Err(fail(format!("line {}: {why}", number + 1))),
        }
    }
    tracing::info!(users = store.users(), file = %path.display(), "first-party segments loaded");
    Ok(store)
}
