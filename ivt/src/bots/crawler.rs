//! The crawler-user-agents regex list, compiled for the bid path.
//!
//! Each pattern is a regex searched anywhere in the user agent (Python `re.search`,
//! case-sensitive; the list promises RE2-compatible syntax, no look-around). Running
//! 1,500 regexes per request is out of the question, so compilation splits every
//! pattern by what [`regex_syntax::hir::literal::Extractor`] can prove about it:
//!
//! * **pure literal** (`Googlebot\/`, `[wW]get`, `(sistrix|SISTRIX) [cC]rawler`): the
//!   pattern has no anchors and its prefix literals are *exact*, so it matches exactly
//!   when the user agent contains one of them. A hit in the shared Aho-Corasick
//!   automaton is a match; nothing else runs.
//! * **confirmed** (`^curl`, `AdsBot-Google([^-]|$)`): every match must contain one of a
//!   set of literals (its prefixes, suffixes or the prefixes of one concatenated
//!   piece), so those literals go into the automaton and a hit runs that pattern's own
//!   fully compiled DFA.
//! * **always checked**: no literal of at least [`MIN_CONFIRM_LITERAL_BYTES`] bytes
//!   is required; its DFA runs on every user agent. The bundled list has none.
//!
//! DFAs are `regex_automata::dfa::dense` (no cache, no allocation, `Sync`). A pattern
//! whose DFA cannot be built within [`DFA_SIZE_LIMIT_BYTES`], or that needs a Unicode
//! word boundary (which a DFA cannot do on non-ASCII text), falls back to a
//! `regex_automata::meta::Regex`; its pooled cache means a search allocates only while
//! a thread warms up, or when two threads contend for the same pool shard.

use aho_corasick::{AhoCorasick, MatchKind, automaton::OverlappingState};
use regex_automata::{
    dfa::{Automaton, StartKind, dense},
    meta,
    nfa::thompson::{self, WhichCaptures},
};
use regex_syntax::hir::{
    Hir, HirKind,
    literal::{ExtractKind, Extractor, Seq},
};
use rustc_hash::FxHashMap;
use serde::Deserialize;

use super::error::{ListError, ListKind};

/// Shortest literal worth using as a prefilter for a pattern that needs confirmation:
/// a one-byte literal fires on nearly every user agent, which is no better than
/// running the DFA unconditionally.
const MIN_CONFIRM_LITERAL_BYTES: usize = 2;

/// Most literals one pattern may contribute: more is a sign the extractor expanded a
/// class, and the pattern is cheaper to confirm than to prefilter.
const MAX_LITERALS_PER_PATTERN: usize = 64;

/// Largest dense DFA built for one pattern before falling back to the meta regex.
const DFA_SIZE_LIMIT_BYTES: usize = 1 << 20;

/// Largest NFA compiled for one pattern (the meta regex's own default): a
/// pattern past it, such as a nested Unicode repetition, is refused instead of
/// growing until memory runs out. The fallback meta regex keeps its same limit.
const NFA_SIZE_LIMIT_BYTES: usize = 10 << 20;

/// Parses the crawler-user-agents JSON file and returns its `pattern` fields in file
/// order.
///
/// The file (MIT, <https://github.com/monperrus/crawler-user-agents>, `crawler-user-agents.json`)
/// is an array of objects `{"pattern": "<regex>", "instances": [...], "url": ..,
/// "description": .., ...}`; every field but `pattern` is ignored here. The patterns are
/// not checked as regexes until [`BotPatterns::compile`](super::BotPatterns::compile),
/// whose error positions are indices into the returned vector (= array indices).
///
/// # Errors
///
/// [`ListError::CrawlerJson`] if the text is not such an array.
pub fn parse_crawler_user_agents(json: &str) -> Result<Vec<String>, ListError> {
    #[derive(Deserialize)]
    struct Entry {
        pattern: String,
    }
    let entries: Vec<Entry> =
        serde_json::from_str(json).map_err(|source| ListError::CrawlerJson { source })?;
    Ok(entries.into_iter().map(|e| e.pattern).collect())
}

/// How one pattern is matched, decided at compile time.
#[derive(Debug, PartialEq, Eq)]
enum Plan {
    /// The pattern matches exactly when the haystack contains one of these.
    Pure(Vec<Vec<u8>>),
    /// Every match contains one of these; confirm with the pattern's automaton.
    Confirm(Vec<Vec<u8>>),
    /// No usable literal: run the automaton on every haystack.
    Always,
}

/// A per-pattern automaton that decides whether the pattern matches anywhere.
enum Confirm {
    /// A fully compiled unanchored DFA: searches never allocate.
    Dfa(Box<dense::DFA<Vec<u32>>>),
    /// Fallback for patterns a DFA cannot express or that exceed the size limit.
    Meta(meta::Regex),
}

impl Confirm {
    fn memory_bytes(&self) -> usize {
        match self {
            Self::Dfa(dfa) => dfa.memory_usage(),
            Self::Meta(re) => re.memory_usage(),
        }
    }

    fn is_match(&self, ua: &str) -> bool {
        match self {
            // The DFA has no quit bytes and never gives up (it is fully compiled and
            // built without a Unicode word boundary), so `Err` cannot happen; treating
            // it as "no match" keeps the bid path panic-free regardless.
            Self::Dfa(dfa) => dfa
                .try_search_fwd(&regex_automata::Input::new(ua).earliest(true))
                .is_ok_and(|m| m.is_some()),
            Self::Meta(re) => re.is_match(ua),
        }
    }
}

/// What an Aho-Corasick hit on one literal means.
#[derive(Clone, Copy, Debug)]
struct LiteralInfo {
    /// Some pure-literal pattern owns this literal: the hit is a match.
    pure: bool,
    /// `owners[start..end]` are the confirm patterns that require this literal.
    start: u32,
    end: u32,
}

/// Counts describing how the crawler list was compiled (see
/// [`BotPatternStats`](super::BotPatternStats)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct CrawlerStats {
    pub(super) patterns: usize,
    pub(super) pure_literal: usize,
    pub(super) confirmed: usize,
    pub(super) always_checked: usize,
    pub(super) meta_fallback: usize,
    pub(super) literals: usize,
    pub(super) memory_bytes: usize,
}

/// The compiled crawler-user-agents list.
pub(super) struct CrawlerMatcher {
    /// All literals of all patterns, deduplicated; pattern id = index into `literals`.
    ac: Option<AhoCorasick>,
    literals: Vec<LiteralInfo>,
    owners: Vec<u32>,
    confirms: Vec<Confirm>,
    always: Vec<u32>,
    stats: CrawlerStats,
}

impl std::fmt::Debug for CrawlerMatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The automata themselves are megabytes of transition tables: show the shape.
        f.debug_struct("CrawlerMatcher")
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// Remembers which confirm patterns already ran during one search, on the stack, so a
/// pattern whose literal occurs several times is confirmed once. Past capacity it
/// simply forgets (a re-check is correct, only slower).
struct Checked {
    seen: [u32; 8],
    len: usize,
}

impl Checked {
    fn first_time(&mut self, id: u32) -> bool {
        let seen = self.seen.get(..self.len).unwrap_or(&[]);
        if seen.contains(&id) {
            return false;
        }
        if let Some(slot) = self.seen.get_mut(self.len) {
            *slot = id;
            self.len += 1;
        }
        true
    }
}

impl CrawlerMatcher {
    /// Compiles `patterns` (see the module docs for the plan).
    pub(super) fn compile(patterns: &[String]) -> Result<Self, ListError> {
        let mut literal_ids: FxHashMap<Vec<u8>, usize> = FxHashMap::default();
        let mut literal_texts: Vec<Vec<u8>> = Vec::new();
        let mut literal_pure: Vec<bool> = Vec::new();
        let mut literal_owners: Vec<Vec<u32>> = Vec::new();
        let mut confirms = Vec::new();
        let mut always = Vec::new();
        let mut stats = CrawlerStats {
            patterns: patterns.len(),
            ..CrawlerStats::default()
        };

        for (index, pattern) in patterns.iter().enumerate() {
            let bad = |reason: String| ListError::BadPattern {
                index,
                pattern: pattern.clone(),
                reason,
            };
            let hir = regex_syntax::ParserBuilder::new()
                .build()
                .parse(pattern)
                .map_err(|e| bad(e.to_string()))?;
            if hir.properties().minimum_len() == Some(0) {
                return Err(bad(
                    "it matches the empty string, so every user agent".to_owned()
                ));
            }
            let (literals, confirm_id) = match plan(&hir) {
                Plan::Pure(literals) => {
                    stats.pure_literal += 1;
                    (literals, None)
                }
                plan => {
                    let confirm = build_confirm(&hir).map_err(bad)?;
                    stats.meta_fallback += usize::from(matches!(confirm, Confirm::Meta(_)));
                    let id = u32::try_from(confirms.len())
                        .map_err(|_| bad("too many patterns".to_owned()))?;
                    confirms.push(confirm);
                    match plan {
                        Plan::Confirm(literals) => {
                            stats.confirmed += 1;
                            (literals, Some(id))
                        }
                        _ => {
                            stats.always_checked += 1;
                            always.push(id);
                            continue;
                        }
                    }
                }
            };
            for literal in literals {
                let next = literal_texts.len();
                let id = *literal_ids.entry(literal.clone()).or_insert(next);
                if id == next {
                    literal_texts.push(literal);
                    literal_pure.push(false);
                    literal_owners.push(Vec::new());
                }
                match confirm_id {
                    None => {
                        if let Some(pure) = literal_pure.get_mut(id) {
                            *pure = true;
                        }
                    }
                    Some(c) => {
                        if let Some(owners) = literal_owners.get_mut(id) {
                            owners.push(c);
                        }
                    }
                }
            }
        }

        let build_error = |reason: String| ListError::Build {
            kind: ListKind::CrawlerUserAgents,
            reason,
        };
        let mut owners = Vec::new();
        let mut literals = Vec::with_capacity(literal_texts.len());
        for (pure, mut own) in literal_pure.into_iter().zip(literal_owners) {
            own.sort_unstable();
            own.dedup();
            let start = u32::try_from(owners.len()).map_err(|e| build_error(e.to_string()))?;
            // A pure hit already decides the match: its confirm owners never run.
            if !pure {
                owners.extend(own);
            }
            let end = u32::try_from(owners.len()).map_err(|e| build_error(e.to_string()))?;
            literals.push(LiteralInfo { pure, start, end });
        }
        stats.literals = literal_texts.len();
        let ac = if literal_texts.is_empty() {
            None
        } else {
            Some(
                AhoCorasick::builder()
                    .match_kind(MatchKind::Standard)
                    .kind(Some(aho_corasick::AhoCorasickKind::DFA))
                    .build(&literal_texts)
                    .map_err(|e| build_error(e.to_string()))?,
            )
        };
        stats.memory_bytes = ac.as_ref().map_or(0, AhoCorasick::memory_usage)
            + confirms.iter().map(Confirm::memory_bytes).sum::<usize>();
        Ok(Self {
            ac,
            literals,
            owners,
            confirms,
            always,
            stats,
        })
    }

    /// True when any crawler pattern matches anywhere in `ua`. Allocates nothing
    /// (except in meta-regex fallbacks while a thread warms up, see the module docs).
    pub(super) fn is_match(&self, ua: &str) -> bool {
        if let Some(ac) = &self.ac {
            let input = aho_corasick::Input::new(ua);
            let mut state = OverlappingState::start();
            let mut checked = Checked {
                seen: [0; 8],
                len: 0,
            };
            // Overlapping, so a literal nested inside another literal's hit is still
            // seen (`Standard` semantics are required for that and set at build).
            while ac.try_find_overlapping(input.clone(), &mut state).is_ok() {
                let Some(hit) = state.get_match() else { break };
                let Some(info) = self.literals.get(hit.pattern().as_usize()) else {
                    continue;
                };
                if info.pure {
                    return true;
                }
                let owners = self
                    .owners
                    .get(info.start as usize..info.end as usize)
                    .unwrap_or(&[]);
                for &id in owners {
                    if checked.first_time(id) && self.confirm(id, ua) {
                        return true;
                    }
                }
            }
        }
        self.always.iter().any(|&id| self.confirm(id, ua))
    }

    fn confirm(&self, id: u32, ua: &str) -> bool {
        self.confirms
            .get(id as usize)
            .is_some_and(|c| c.is_match(ua))
    }

    /// How the list was compiled.
    pub(super) fn stats(&self) -> CrawlerStats {
        self.stats
    }
}

/// Decides how a parsed pattern is matched.
///
/// Pure when the pattern has no look-around (anchors are look-arounds: the extractor
/// treats them as empty, so `^curl` yields the exact literal `curl`) and its prefix
/// set is exact: then the set of strings it matches *is* the literal set (the same test
/// `regex_automata::meta` uses before skipping its regex engines). Otherwise the best of
/// the prefix set, the suffix set and the prefix sets of the top-level concatenation's
/// pieces, scored by shortest literal (longer is rarer in real traffic), then fewer
/// literals.
fn plan(hir: &Hir) -> Plan {
    let prefixes = extract(hir, ExtractKind::Prefix);
    if hir.properties().look_set().is_empty()
        && prefixes.is_exact()
        && usable(&prefixes, 1).is_some()
    {
        return Plan::Pure(into_literals(prefixes));
    }
    let mut best: Option<(Seq, (usize, std::cmp::Reverse<usize>))> = None;
    let mut consider = |seq: Seq| {
        if let Some(score) = usable(&seq, MIN_CONFIRM_LITERAL_BYTES)
            && best.as_ref().is_none_or(|(_, s)| score > *s)
        {
            best = Some((seq, score));
        }
    };
    consider(prefixes);
    consider(extract(hir, ExtractKind::Suffix));
    let mut root = hir;
    while let HirKind::Capture(cap) = root.kind() {
        root = &cap.sub;
    }
    if let HirKind::Concat(pieces) = root.kind() {
        for piece in pieces {
            consider(extract(piece, ExtractKind::Prefix));
        }
    }
    match best {
        Some((seq, _)) => Plan::Confirm(into_literals(seq)),
        None => Plan::Always,
    }
}

fn extract(hir: &Hir, kind: ExtractKind) -> Seq {
    let mut seq = Extractor::new().kind(kind).extract(hir);
    seq.dedup();
    seq
}

/// The score of a literal set usable as a prefilter: finite, non-empty, at most
/// [`MAX_LITERALS_PER_PATTERN`] literals, each at least `min_bytes` long.
fn usable(seq: &Seq, min_bytes: usize) -> Option<(usize, std::cmp::Reverse<usize>)> {
    let count = seq
        .len()
        .filter(|&n| n > 0 && n <= MAX_LITERALS_PER_PATTERN)?;
    let shortest = seq.min_literal_len().filter(|&n| n >= min_bytes)?;
    Some((shortest, std::cmp::Reverse(count)))
}

fn into_literals(seq: Seq) -> Vec<Vec<u8>> {
    seq.literals()
        .map(|lits| lits.iter().map(|l| l.as_bytes().to_vec()).collect())
        .unwrap_or_default()
}

/// Builds the confirming automaton: a dense DFA when possible, else a meta regex.
fn build_confirm(hir: &Hir) -> Result<Confirm, String> {
    let dfa = thompson::Compiler::new()
        .configure(
            thompson::Config::new()
                .which_captures(WhichCaptures::None)
                .nfa_size_limit(Some(NFA_SIZE_LIMIT_BYTES)),
        )
        .build_from_hir(hir)
        .ok()
        .and_then(|nfa| {
            dense::Builder::new()
                .configure(
                    dense::Config::new()
                        .start_kind(StartKind::Unanchored)
                        .minimize(false)
                        .dfa_size_limit(Some(DFA_SIZE_LIMIT_BYTES))
                        .determinize_size_limit(Some(2 * DFA_SIZE_LIMIT_BYTES)),
                )
                .build_from_nfa(&nfa)
                .ok()
        });
    match dfa {
        Some(dfa) => Ok(Confirm::Dfa(Box::new(dfa))),
        None => meta::Regex::builder()
            .build_from_hir(hir)
            .map(Confirm::Meta)
            .map_err(|e| e.to_string()),
    }
}
