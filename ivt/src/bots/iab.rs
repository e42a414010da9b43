//! The IAB/ABC International Spiders & Bots List: parsing the operator's files.
//!
//! The list is licensed (<https://iabtechlab.com/software/iababc-international-spiders-and-bots-list/>),
//! so it is never bundled: the operator supplies `include_current.txt` and
//! `exclude_current.txt`. Both are ISO-8859-1 text (each byte is the code point of
//! the same number, decoded here without a crate), with `#` comment lines, blank lines
//! and one `|`-delimited record per line:
//!
//! * include: `pattern|active|start_of_string|inactive_date`
//! * exclude: `pattern|active|exceptions|additional_flag|primary_impact|start_of_string|inactive_date`
//!
//! Flags are `0`/`1`; `inactive_date` is `MM/dd/yyyy` or empty (and may be left off
//! with its `|`); fields past the last are ignored, as is whitespace around flags,
//! dates, exceptions and at the end of a line. The pattern field is kept verbatim
//! (a leading or trailing space in a pattern can be meaningful). How the records are
//! applied is described on [`IabList`].

use super::error::{IabLineProblem, ListError, ListKind};

/// One record of the include file: a string that valid browsers' user agents contain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IabInclude {
    /// Case-insensitive literal, decoded from ISO-8859-1.
    pub pattern: String,
    /// Inactive records (`0`) are ignored when compiling.
    pub active: bool,
    /// `1`: the pattern must be at the very start of the user agent; `0`: anywhere.
    pub start_of_string: bool,
    /// When the record was retired, if it was (informational; `active` decides).
    pub inactive_date: Option<IabDate>,
}

/// One record of the exclude file: a string that marks a user agent as a bot, unless
/// the user agent also contains one of the record's exceptions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IabExclude {
    /// Case-insensitive literal, decoded from ISO-8859-1.
    pub pattern: String,
    /// Inactive records (`0`) are ignored when compiling.
    pub active: bool,
    /// Case-insensitive substrings that cancel this record's match (comma-separated in
    /// the file, trimmed, empties dropped).
    pub exceptions: Vec<String>,
    /// The fourth field, kept as text (trimmed): the list describes it only as an
    /// additional flag, and nothing here depends on it.
    pub additional_flag: String,
    /// Which impressions the agent typically inflates. Parsed and kept; every active
    /// record is applied whatever its impact (see [`IabList`]).
    pub primary_impact: IabImpact,
    /// `1`: the pattern must be at the very start of the user agent; `0`: anywhere.
    pub start_of_string: bool,
    /// When the record was retired, if it was (informational; `active` decides).
    pub inactive_date: Option<IabDate>,
}

/// The exclude file's `primary_impact` field: `0` page, `1` ad, `2` both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IabImpact {
    /// `0`: page impressions.
    Page,
    /// `1`: ad impressions.
    Ad,
    /// `2`: both.
    Both,
}

/// An `inactive_date` (`MM/dd/yyyy` in the file). Only range-checked (month 1–12,
/// day 1–31), not checked against the calendar: it is informational.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IabDate {
    /// Four-digit year.
    pub year: u16,
    /// 1–12.
    pub month: u8,
    /// 1–31.
    pub day: u8,
}

/// Parsed include and exclude records, ready for
/// [`BotPatterns::compile`](super::BotPatterns::compile).
///
/// A user agent is valid only if it contains (or, for `start_of_string` records,
/// starts with) at least one active include pattern **and** no active exclude pattern
/// matches it without being cancelled by one of that record's exceptions. All
/// comparisons are case-insensitive. Inactive records are ignored. The exclude file's
/// `primary_impact` is not used to skip records: the bid path screens ad requests, and
/// a page-impact agent fetching an ad is still not a human.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IabList {
    include: Vec<IabInclude>,
    exclude: Vec<IabExclude>,
}

/// Fewest fields of an include record (the date may be left off).
const INCLUDE_MIN_FIELDS: usize = 3;
/// Fewest fields of an exclude record (the date may be left off).
const EXCLUDE_MIN_FIELDS: usize = 6;

impl IabList {
    /// Pairs include and exclude records.
    ///
    /// # Errors
    ///
    /// [`ListError::IabNoActiveInclude`] if no include record is active: every user
    /// agent would then be invalid, which is a bad upload, not a policy.
    pub fn new(include: Vec<IabInclude>, exclude: Vec<IabExclude>) -> Result<Self, ListError> {
        if !include.iter().any(|r| r.active) {
            return Err(ListError::IabNoActiveInclude);
        }
        Ok(Self { include, exclude })
    }

    /// Parses both files' bytes and pairs them ([`Self::parse_include`],
    /// [`Self::parse_exclude`], [`Self::new`]).
    ///
    /// # Errors
    ///
    /// The first error of those three.
    pub fn parse(include: &[u8], exclude: &[u8]) -> Result<Self, ListError> {
        Self::new(Self::parse_include(include)?, Self::parse_exclude(exclude)?)
    }

    /// Parses an include file (`include_current.txt`, ISO-8859-1).
    ///
    /// # Errors
    ///
    /// [`ListError::IabLine`] for the first malformed line: too few fields, a flag
    /// other than `0`/`1`, a bad date, or an empty pattern.
    pub fn parse_include(bytes: &[u8]) -> Result<Vec<IabInclude>, ListError> {
        records(bytes, ListKind::IabInclude, INCLUDE_MIN_FIELDS, |f| {
            Ok(IabInclude {
                pattern: pattern(f.first())?,
                active: flag(f.get(1), "active")?,
                start_of_string: flag(f.get(2), "start_of_string")?,
                inactive_date: date(f.get(3))?,
            })
        })
    }

    /// Parses an exclude file (`exclude_current.txt`, ISO-8859-1).
    ///
    /// # Errors
    ///
    /// [`ListError::IabLine`] for the first malformed line: too few fields, a flag
    /// other than `0`/`1`, `primary_impact` other than `0`/`1`/`2`, a bad date, or an
    /// empty pattern.
    pub fn parse_exclude(bytes: &[u8]) -> Result<Vec<IabExclude>, ListError> {
        records(bytes, ListKind::IabExclude, EXCLUDE_MIN_FIELDS, |f| {
            Ok(IabExclude {
                pattern: pattern(f.first())?,
                active: flag(f.get(1), "active")?,
                exceptions: f
                    .get(2)
                    .map(|e| {
                        e.split(',')
                            .map(str::trim)
                            .filter(|e| !e.is_empty())
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
                additional_flag: f.get(3).map(|s| s.trim().to_owned()).unwrap_or_default(),
                primary_impact: impact(f.get(4))?,
                start_of_string: flag(f.get(5), "start_of_string")?,
                inactive_date: date(f.get(6))?,
            })
        })
    }

    /// The include records, in file order.
    pub fn include(&self) -> &[IabInclude] {
        &self.include
    }

    /// The exclude records, in file order.
    pub fn exclude(&self) -> &[IabExclude] {
        &self.exclude
    }
}

/// Decodes ISO-8859-1: byte `b` is code point `U+00bb`.
fn decode_latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// Runs `parse` on the fields of every record line, numbering lines from 1.
fn records<T>(
    bytes: &[u8],
    kind: ListKind,
    min_fields: usize,
    parse: impl Fn(&[&str]) -> Result<T, IabLineProblem>,
) -> Result<Vec<T>, ListError> {
    let text = decode_latin1(bytes);
    let mut out = Vec::new();
    let mut fields: Vec<&str> = Vec::new();
    for (index, raw) in text.split('\n').enumerate() {
        let line = raw.trim_end();
        if line.trim_start().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        fields.clear();
        fields.extend(line.split('|'));
        let problem = if fields.len() < min_fields {
            Err(IabLineProblem::FieldCount {
                min: min_fields,
                found: fields.len(),
            })
        } else {
            parse(&fields)
        };
        match problem {
            Ok(record) => out.push(record),
            Err(problem) => {
                return Err(ListError::IabLine {
                    kind,
                    line: index + 1,
                    problem,
                });
            }
        }
    }
    Ok(out)
}

fn pattern(field: Option<&&str>) -> Result<String, IabLineProblem> {
    match field {
        Some(p) if !p.trim().is_empty() => Ok((*p).to_owned()),
        _ => Err(IabLineProblem::EmptyPattern),
    }
}

fn flag(field: Option<&&str>, name: &'static str) -> Result<bool, IabLineProblem> {
    let value = field.map_or("", |f| f.trim());
    match value {
        "0" => Ok(false),
        "1" => Ok(true),
        _ => Err(IabLineProblem::Flag {
            field: name,
            value: value.to_owned(),
        }),
    }
}

fn impact(field: Option<&&str>) -> Result<IabImpact, IabLineProblem> {
    let value = field.map_or("", |f| f.trim());
    match value {
        "0" => Ok(IabImpact::Page),
        "1" => Ok(IabImpact::Ad),
        "2" => Ok(IabImpact::Both),
        _ => Err(IabLineProblem::Impact {
            value: value.to_owned(),
        }),
    }
}

fn date(field: Option<&&str>) -> Result<Option<IabDate>, IabLineProblem> {
    let value = field.map_or("", |f| f.trim());
    if value.is_empty() {
        return Ok(None);
    }
    let bad = || IabLineProblem::Date {
        value: value.to_owned(),
    };
    let number = |s: &str, max_len: usize| -> Option<u16> {
        (!s.is_empty() && s.len() <= max_len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let mut parts = value.split('/');
    let (Some(m), Some(d), Some(y), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    let month = number(m, 2)
        .and_then(|n| u8::try_from(n).ok())
        .filter(|n| (1..=12).contains(n));
    let day = number(d, 2)
        .and_then(|n| u8::try_from(n).ok())
        .filter(|n| (1..=31).contains(n));
    let year = number(y, 4).filter(|_| y.len() == 4);
    match (month, day, year) {
        (Some(month), Some(day), Some(year)) => Ok(Some(IabDate { year, month, day })),
        _ => Err(bad()),
    }
}
