//! Known bot and non-browser user agents.
//!
//! Two lists, compiled together into one immutable [`BotPatterns`] that the bid path
//! shares across workers:
//!
//! * **crawler-user-agents** (MIT, <https://github.com/monperrus/crawler-user-agents>,
//!   bundled at `ivt/lists/bots/crawler-user-agents.json`): regexes, a user agent is a
//!   bot if any matches anywhere in it ([`parse_crawler_user_agents`]).
//! * **IAB/ABC International Spiders & Bots List** (licensed, operator-supplied): a
//!   list of valid-browser strings and a list of bot strings with exceptions
//!   ([`IabList`]). Optional: without it only the first list applies.
//!
//! [`BotPatterns::is_bot`] does not allocate and costs about 200 ns on a ~150-byte
//! browser user agent with the bundled list (release build, one core); a
//! [`UaVerdicts`] hit in front of it costs about 10 ns. How each list is compiled is
//! described in `crawler.rs` and `iab_matcher.rs`. Read `tests/crawler.rs` first for
//! what the bundled list flags and spares, and `ivt/tests/no_alloc.rs` for the
//! allocation guarantee.

mod cache;
mod crawler;
mod error;
mod iab;
mod iab_matcher;
mod synthetic;
#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicU64, Ordering};

pub use cache::{UA_VERDICT_SLOTS, UaVerdicts};
pub use crawler::parse_crawler_user_agents;
pub use error::{IabLineProblem, ListError, ListKind};
pub use iab::{IabDate, IabExclude, IabImpact, IabInclude, IabList};
pub use synthetic::{synthetic_bot_user_agent, synthetic_patterns};

use crawler::CrawlerMatcher;
use iab_matcher::IabMatcher;

/// Source of [`BotPatterns::generation`]: starts at 1 so 0 can mean "empty" in caches.
static NEXT_GENERATION: AtomicU64 = AtomicU64::new(1);

/// The compiled bot lists: immutable, `Send + Sync`, shared by every worker (swap a
/// new one in when the lists change; [`UaVerdicts`] notices through
/// [`generation`](Self::generation)).
#[derive(Debug)]
pub struct BotPatterns {
    generation: u64,
    crawler: CrawlerMatcher,
    iab: Option<IabMatcher>,
}

/// How a [`BotPatterns`] was compiled: for logs at load time and for benches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BotPatternStats {
    /// Crawler regex patterns compiled.
    pub crawler_patterns: usize,
    /// Of those, patterns that are literal sets: a literal hit is a match.
    pub pure_literal: usize,
    /// Of those, patterns prefiltered by required literals and confirmed by a regex.
    pub confirmed: usize,
    /// Of those, patterns with no usable literal, run on every user agent.
    pub always_checked: usize,
    /// Of the confirmed and always-checked, those on the meta-regex fallback instead
    /// of a dense DFA (see the crawler module docs).
    pub meta_fallback: usize,
    /// Distinct literals in the crawler prefilter automaton.
    pub literals: usize,
    /// Heap bytes held by all automata (both lists).
    pub memory_bytes: usize,
    /// Active IAB include records (0 without an IAB list).
    pub iab_include_active: usize,
    /// Active IAB exclude records (0 without an IAB list).
    pub iab_exclude_active: usize,
}

impl BotPatterns {
    /// Compiles crawler regexes (as returned by [`parse_crawler_user_agents`], or any
    /// regexes with the same `re.search` semantics) and, optionally, an IAB list.
    ///
    /// Costs milliseconds per thousand patterns in release builds; do it off the bid
    /// path and swap the result in.
    ///
    /// # Errors
    ///
    /// [`ListError::BadPattern`] naming the first pattern (0-based index and text)
    /// that does not parse or matches the empty string; [`ListError::Build`] if an
    /// automaton cannot be built.
    pub fn compile(patterns: &[String], iab: Option<&IabList>) -> Result<Self, ListError> {
        let crawler = CrawlerMatcher::compile(patterns)?;
        let iab = iab.map(IabMatcher::compile).transpose()?;
        Ok(Self {
            generation: NEXT_GENERATION.fetch_add(1, Ordering::Relaxed),
            crawler,
            iab,
        })
    }

    /// True when `ua` is a known bot or non-browser agent: some crawler pattern
    /// matches it, or an IAB list is loaded and `ua` fails it (matches no active
    /// include pattern, or matches an active exclude pattern none of whose exceptions
    /// it contains). Never panics. Never allocates, except on the meta-regex fallback
    /// (no bundled pattern uses it, see [`BotPatternStats::meta_fallback`]) while a
    /// thread warms up its cache or when two threads contend for one cache shard.
    pub fn is_bot(&self, ua: &str) -> bool {
        self.crawler.is_match(ua) || self.iab.as_ref().is_some_and(|iab| iab.is_invalid(ua))
    }

    /// Crawler patterns plus active IAB include and exclude records.
    pub fn pattern_count(&self) -> usize {
        let s = self.stats();
        s.crawler_patterns + s.iab_include_active + s.iab_exclude_active
    }

    /// A process-wide unique id of this compilation (never 0), used by [`UaVerdicts`]
    /// to drop verdicts made with older lists.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// How the lists were compiled.
    pub fn stats(&self) -> BotPatternStats {
        let c = self.crawler.stats();
        let (iab_include_active, iab_exclude_active) =
            self.iab.as_ref().map_or((0, 0), IabMatcher::active_counts);
        BotPatternStats {
            crawler_patterns: c.patterns,
            pure_literal: c.pure_literal,
            confirmed: c.confirmed,
            always_checked: c.always_checked,
            meta_fallback: c.meta_fallback,
            literals: c.literals,
            memory_bytes: c.memory_bytes + self.iab.as_ref().map_or(0, IabMatcher::memory_bytes),
            iab_include_active,
            iab_exclude_active,
        }
    }
}
