//! The IAB Spiders & Bots List compiled for the bid path (rules on [`IabList`]).
//!
//! ASCII patterns go into Aho-Corasick automata with ASCII case folding: one unanchored
//! automaton for include patterns found anywhere, one anchored automaton for
//! `start_of_string` include patterns, one overlapping automaton for exclude patterns
//! (identical patterns share an automaton id and keep their own exceptions), and one
//! small automaton per exclude record for its ASCII exceptions. Patterns with a
//! non-ASCII (ISO-8859-1) character are rare; they are compared character by character
//! through Unicode lowercase mappings, and only against user agents that are not pure
//! ASCII (a Latin-1 letter never lowercases to an ASCII one, so an ASCII user agent
//! cannot contain them in any case).

use aho_corasick::{
    AhoCorasick, AhoCorasickKind, Anchored, Input, MatchKind, StartKind,
    automaton::OverlappingState,
};
use rustc_hash::FxHashMap;

use super::error::{ListError, ListKind};
use super::iab::IabList;

/// A non-ASCII pattern checked on the slow path.
#[derive(Debug)]
struct SlowPattern {
    text: String,
    start_of_string: bool,
}

impl SlowPattern {
    fn is_match(&self, ua: &str) -> bool {
        contains_folded(ua, &self.text, self.start_of_string)
    }
}

/// What cancels one exclude record's match.
#[derive(Debug, Default)]
struct Exceptions {
    ascii: Option<AhoCorasick>,
    other: Vec<String>,
}

impl Exceptions {
    fn build(exceptions: &[String]) -> Result<Self, ListError> {
        let (ascii, other): (Vec<&String>, Vec<&String>) =
            exceptions.iter().partition(|e| e.is_ascii());
        Ok(Self {
            ascii: automaton(
                &ascii,
                MatchKind::Standard,
                StartKind::Unanchored,
                ListKind::IabExclude,
            )?,
            other: other.into_iter().cloned().collect(),
        })
    }

    fn any_in(&self, ua: &str) -> bool {
        self.ascii
            .as_ref()
            .is_some_and(|ac| found(ac, Input::new(ua)))
            || (!ua.is_ascii() && self.other.iter().any(|e| contains_folded(ua, e, false)))
    }
}

/// One active exclude record.
#[derive(Debug)]
struct ExcludeRule {
    start_of_string: bool,
    exceptions: Exceptions,
}

/// The compiled IAB list.
pub(super) struct IabMatcher {
    include_anywhere: Option<AhoCorasick>,
    include_prefix: Option<AhoCorasick>,
    include_slow: Vec<SlowPattern>,
    exclude: Option<AhoCorasick>,
    /// Exclude automaton pattern id → `rules[start..end]`.
    exclude_groups: Vec<(usize, usize)>,
    rules: Vec<ExcludeRule>,
    exclude_slow: Vec<(SlowPattern, ExcludeRule)>,
    include_active: usize,
    exclude_active: usize,
}

impl std::fmt::Debug for IabMatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The automata are large transition tables: show the shape only.
        f.debug_struct("IabMatcher")
            .field("include_active", &self.include_active)
            .field("exclude_active", &self.exclude_active)
            .field("include_slow", &self.include_slow.len())
            .field("exclude_slow", &self.exclude_slow.len())
            .finish_non_exhaustive()
    }
}

impl IabMatcher {
    /// Compiles the active records of `list`.
    pub(super) fn compile(list: &IabList) -> Result<Self, ListError> {
        let mut anywhere = Vec::new();
        let mut prefix = Vec::new();
        let mut include_slow = Vec::new();
        let mut include_active = 0;
        for r in list.include().iter().filter(|r| r.active) {
            include_active += 1;
            if !r.pattern.is_ascii() {
                include_slow.push(SlowPattern {
                    text: r.pattern.clone(),
                    start_of_string: r.start_of_string,
                });
            } else if r.start_of_string {
                prefix.push(&r.pattern);
            } else {
                anywhere.push(&r.pattern);
            }
        }

        // Group identical (case-folded) ASCII exclude patterns under one automaton id.
        let mut group_of: FxHashMap<String, usize> = FxHashMap::default();
        let mut group_texts: Vec<&String> = Vec::new();
        let mut group_rules: Vec<Vec<ExcludeRule>> = Vec::new();
        let mut exclude_slow = Vec::new();
        let mut exclude_active = 0;
        for r in list.exclude().iter().filter(|r| r.active) {
            exclude_active += 1;
            let rule = ExcludeRule {
                start_of_string: r.start_of_string,
                exceptions: Exceptions::build(&r.exceptions)?,
            };
            if !r.pattern.is_ascii() {
                let slow = SlowPattern {
                    text: r.pattern.clone(),
                    start_of_string: r.start_of_string,
                };
                exclude_slow.push((slow, rule));
                continue;
            }
            let next = group_texts.len();
            let id = *group_of
                .entry(r.pattern.to_ascii_lowercase())
                .or_insert(next);
            if id == next {
                group_texts.push(&r.pattern);
                group_rules.push(Vec::new());
            }
            if let Some(rules) = group_rules.get_mut(id) {
                rules.push(rule);
            }
        }
        let mut rules = Vec::new();
        let mut exclude_groups = Vec::with_capacity(group_rules.len());
        for group in group_rules {
            let start = rules.len();
            rules.extend(group);
            exclude_groups.push((start, rules.len()));
        }

        Ok(Self {
            include_anywhere: automaton(
                &anywhere,
                MatchKind::Standard,
                StartKind::Unanchored,
                ListKind::IabInclude,
            )?,
            // Leftmost-first so an anchored search reports any pattern that is a prefix.
            include_prefix: automaton(
                &prefix,
                MatchKind::LeftmostFirst,
                StartKind::Anchored,
                ListKind::IabInclude,
            )?,
            include_slow,
            exclude: automaton(
                &group_texts,
                MatchKind::Standard,
                StartKind::Unanchored,
                ListKind::IabExclude,
            )?,
            exclude_groups,
            rules,
            exclude_slow,
            include_active,
            exclude_active,
        })
    }

    /// True when `ua` fails the two-pass test: it matches no active include pattern,
    /// or it matches an active exclude pattern whose exceptions it does not contain.
    pub(super) fn is_invalid(&self, ua: &str) -> bool {
        !self.included(ua) || self.excluded(ua)
    }

    fn included(&self, ua: &str) -> bool {
        // The anchored search reads only as far as the longest prefix pattern: first.
        self.include_prefix
            .as_ref()
            .is_some_and(|ac| found(ac, Input::new(ua).anchored(Anchored::Yes)))
            || self
                .include_anywhere
                .as_ref()
                .is_some_and(|ac| found(ac, Input::new(ua)))
            || (!ua.is_ascii() && self.include_slow.iter().any(|p| p.is_match(ua)))
    }

    fn excluded(&self, ua: &str) -> bool {
        if let Some(ac) = &self.exclude {
            let input = Input::new(ua);
            let mut state = OverlappingState::start();
            while ac.try_find_overlapping(input.clone(), &mut state).is_ok() {
                let Some(hit) = state.get_match() else { break };
                let Some(&(start, end)) = self.exclude_groups.get(hit.pattern().as_usize()) else {
                    continue;
                };
                let rules = self.rules.get(start..end).unwrap_or(&[]);
                if rules
                    .iter()
                    .any(|r| (!r.start_of_string || hit.start() == 0) && !r.exceptions.any_in(ua))
                {
                    return true;
                }
            }
        }
        !ua.is_ascii()
            && self
                .exclude_slow
                .iter()
                .any(|(p, r)| p.is_match(ua) && !r.exceptions.any_in(ua))
    }

    /// Heap bytes held by the automata.
    pub(super) fn memory_bytes(&self) -> usize {
        let ac = |a: &Option<AhoCorasick>| a.as_ref().map_or(0, AhoCorasick::memory_usage);
        ac(&self.include_anywhere)
            + ac(&self.include_prefix)
            + ac(&self.exclude)
            + self
                .rules
                .iter()
                .chain(self.exclude_slow.iter().map(|(_, r)| r))
                .map(|r| ac(&r.exceptions.ascii))
                .sum::<usize>()
    }

    /// Active include and exclude records compiled.
    pub(super) fn active_counts(&self) -> (usize, usize) {
        (self.include_active, self.exclude_active)
    }
}

/// Builds an ASCII-case-insensitive automaton, or `None` for no patterns.
fn automaton(
    patterns: &[&String],
    kind: MatchKind,
    start: StartKind,
    list: ListKind,
) -> Result<Option<AhoCorasick>, ListError> {
    if patterns.is_empty() {
        return Ok(None);
    }
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .kind(Some(AhoCorasickKind::DFA))
        .match_kind(kind)
        .start_kind(start)
        .build(patterns)
        .map(Some)
        .map_err(|e| ListError::Build {
            kind: list,
            reason: e.to_string(),
        })
}

/// Whether `ac` finds anything in `input`. Errors (impossible: every automaton is
/// searched the way it was built) count as "not found" rather than panicking.
fn found(ac: &AhoCorasick, input: Input<'_>) -> bool {
    ac.try_find(input.earliest(true)).is_ok_and(|m| m.is_some())
}

/// True if `needle` occurs in `hay` (only at its start when `prefix_only`), comparing
/// characters through their Unicode lowercase mappings. Quadratic and allocation-free:
/// used only for the rare non-ASCII patterns and exceptions.
pub(super) fn contains_folded(hay: &str, needle: &str, prefix_only: bool) -> bool {
    let starts_at = |start: usize| {
        let mut rest = hay.get(start..).unwrap_or("").chars();
        needle.chars().all(|n| {
            rest.next()
                .is_some_and(|h| h == n || h.to_lowercase().eq(n.to_lowercase()))
        })
    };
    if prefix_only {
        return starts_at(0);
    }
    hay.char_indices().any(|(i, _)| starts_at(i)) || needle.is_empty()
}
