//! Errors from loading and compiling bot lists.
//!
//! Every error names the list it came from and where in it (a 1-based line for the
//! IAB text files, a 0-based array position for crawler-user-agents patterns), so an
//! operator can fix the file without guessing.

use std::fmt;

/// Which bot list a [`ListError`] came from.
///
/// Exists so one error type can say "IAB exclude list line 12" or "crawler pattern 40"
/// without the caller keeping track of which file it was loading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListKind {
    /// The crawler-user-agents JSON array (<https://github.com/monperrus/crawler-user-agents>).
    CrawlerUserAgents,
    /// The IAB/ABC International Spiders & Bots List include file (`include_current.txt`).
    IabInclude,
    /// The IAB/ABC International Spiders & Bots List exclude file (`exclude_current.txt`).
    IabExclude,
}

impl fmt::Display for ListKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::CrawlerUserAgents => "crawler-user-agents list",
            Self::IabInclude => "IAB include list",
            Self::IabExclude => "IAB exclude list",
        })
    }
}

/// Why a bot list could not be loaded or compiled.
///
/// Returned by [`parse_crawler_user_agents`](super::parse_crawler_user_agents),
/// [`IabList::parse_include`](super::IabList::parse_include),
/// [`IabList::parse_exclude`](super::IabList::parse_exclude),
/// [`IabList::new`](super::IabList::new) and
/// [`BotPatterns::compile`](super::BotPatterns::compile). A list that fails is refused
/// whole: the caller keeps serving the previous [`BotPatterns`](super::BotPatterns).
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    /// The crawler-user-agents file is not a JSON array of objects with a string
    /// `pattern` field.
    #[error(
        "crawler-user-agents list is not a JSON array of {{\"pattern\": ...}} objects: {source}"
    )]
    CrawlerJson {
        /// The JSON error, with its line and column.
        #[source]
        source: serde_json::Error,
    },
    /// A crawler pattern is not a usable regex: it does not parse, matches the empty
    /// string (and so every user agent), or its automaton could not be built.
    #[error("crawler pattern {index} `{pattern}` is not usable: {reason}")]
    BadPattern {
        /// 0-based position of the pattern in the list given to
        /// [`BotPatterns::compile`](super::BotPatterns::compile) (the JSON array index).
        index: usize,
        /// The pattern text as given.
        pattern: String,
        /// Why, as reported by the regex parser or automaton builder.
        reason: String,
    },
    /// A line of an IAB file is malformed.
    #[error("{kind} line {line}: {problem}")]
    IabLine {
        /// Include or exclude file.
        kind: ListKind,
        /// 1-based line number in the file.
        line: usize,
        /// What is wrong with the line.
        problem: IabLineProblem,
    },
    /// The IAB include file has no active record. The include file is the list of
    /// valid browsers: with none, every user agent would be judged a bot, which is
    /// always a bad upload rather than an intended policy.
    #[error("IAB include list has no active record: every user agent would be flagged as a bot")]
    IabNoActiveInclude,
    /// The multi-pattern matcher could not be built (for example more patterns than
    /// aho-corasick's state identifiers can address).
    #[error("{kind}: could not build the matcher: {reason}")]
    Build {
        /// Which list's matcher failed.
        kind: ListKind,
        /// The builder's message.
        reason: String,
    },
}

/// What is wrong with one line of an IAB Spiders & Bots file (see [`ListError::IabLine`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IabLineProblem {
    /// Fewer `|`-separated fields than the record needs.
    #[error("expected at least {min} `|`-separated fields, found {found}")]
    FieldCount {
        /// The fewest fields a record of this file may have.
        min: usize,
        /// How many the line has.
        found: usize,
    },
    /// A 0/1 flag field holds something else.
    #[error("field `{field}` must be 0 or 1, found `{value}`")]
    Flag {
        /// The field's name in the IAB file description (`active`, `start_of_string`).
        field: &'static str,
        /// The text found (trimmed).
        value: String,
    },
    /// `primary_impact` is not 0 (page), 1 (ad) or 2 (both).
    #[error("field `primary_impact` must be 0, 1 or 2, found `{value}`")]
    Impact {
        /// The text found (trimmed).
        value: String,
    },
    /// `inactive_date` is neither empty nor `MM/dd/yyyy`.
    #[error("field `inactive_date` must be MM/dd/yyyy or empty, found `{value}`")]
    Date {
        /// The text found (trimmed).
        value: String,
    },
    /// The pattern field is empty or only whitespace; it would match every user agent.
    #[error("the pattern field is empty")]
    EmptyPattern,
}
