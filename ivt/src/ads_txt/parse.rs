//! Reading one ads.txt / app-ads.txt file (IAB Tech Lab ads.txt 1.1 §3.2–§3.5).
//!
//! Lines end at LF, CRLF or a lone CR (§3.4.2, §5.3); a UTF-8 byte order mark
//! is dropped; `#` starts a comment to the end of the line (§3.4.1); blank
//! lines are ignored. A line whose text before its first `=` is a single word
//! (no whitespace, `,` or `;`) is a variable (§3.5); any other line is a record:
//! comma-separated fields, trimmed (§3.4.2), optionally followed by `;` and
//! extension data (§3.4.3).
//!
//! A record line that cannot be read is skipped and reported with its line
//! number ([`AdsTxt::skipped`]), as crawlers ignore lines they cannot read,
//! instead of losing the whole file to one typo. A file left with no record at
//! all and no placeholder record is refused: §3.2 requires a non-empty set of
//! records and §3.2.1 at least one properly formatted line, so such a text is
//! an error page, a wrong file or garbage (§3.4.2: "if the data is obviously
//! corrupted or malformed the contents of the file should be ignored").

use std::fmt;

use super::Relationship;

/// The ad system domain of the "no seller is authorised" record (§3.2.1); it is
/// reserved (RFC 6761), so no real ad system sells through it.
const PLACEHOLDER_DOMAIN: &str = "placeholder.example.com";

/// Longest text of an unknown relationship kept in a [`SkipReason`], in bytes.
const QUOTED_FIELD_BYTES: usize = 32;

/// One parsed ads.txt or app-ads.txt file: its records, variables and the lines
/// it skipped. Built by [`AdsTxt::parse`]; filed into
/// [`AuthorizedSellers`](super::AuthorizedSellers) to be looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdsTxt {
    records: Vec<AdsTxtRecord>,
    variables: Vec<Variable>,
    skipped: Vec<SkippedLine>,
    placeholder: bool,
}

/// One authorising record (§3.3): ad system, account and relationship.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdsTxtRecord {
    /// Line number in the file, from 1.
    pub line: usize,
    /// Field #1, the ad system's canonical domain, lowercased (DNS names ignore
    /// ASCII case, RFC 4343). Always a host name of at least two labels.
    pub ad_system_domain: String,
    /// Field #2, the publisher's account id on that ad system, as written
    /// (trimmed): it must equal the id in bid requests, case included.
    pub account_id: String,
    /// Field #3.
    pub relationship: Relationship,
    /// Field #4, the certification authority (TAG) id, if present and not empty.
    pub certification_authority_id: Option<String>,
    /// The extension data after `;` (§3.4.3), trimmed; `None` if absent or empty.
    pub extension: Option<String>,
}

/// One `NAME=VALUE` line (§3.5). Every occurrence is kept, in file order, as
/// §3.5.1 asks crawlers to "read and store all of them".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    /// Line number in the file, from 1.
    pub line: usize,
    /// The variable, recognised whatever its case.
    pub name: VariableName,
    /// The text after `=`, trimmed; open text per §3.5 (for `MANAGERDOMAIN`,
    /// `domain[, country]`).
    pub value: String,
}

/// The variables ads.txt 1.1 §3.5.1 defines, and any other.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum VariableName {
    /// `CONTACT`: human-readable contact for the file's owner.
    Contact,
    /// `SUBDOMAIN`: a subdomain with its own ads.txt (unused in app-ads.txt).
    Subdomain,
    /// `INVENTORYPARTNERDOMAIN`: a partner whose ads.txt also authorises sellers.
    InventoryPartnerDomain,
    /// `OWNERDOMAIN`: the business domain of the owner (only the first counts).
    OwnerDomain,
    /// `MANAGERDOMAIN`: an exclusive monetisation partner, optionally per country.
    ManagerDomain,
    /// Any other name, as written; kept, not an error ("other variables may be
    /// added in the future", §3.5.1).
    Other(String),
}

impl VariableName {
    fn parse(name: &str) -> VariableName {
        const KNOWN: [(&str, VariableName); 5] = [
            ("CONTACT", VariableName::Contact),
            ("SUBDOMAIN", VariableName::Subdomain),
            (
                "INVENTORYPARTNERDOMAIN",
                VariableName::InventoryPartnerDomain,
            ),
            ("OWNERDOMAIN", VariableName::OwnerDomain),
            ("MANAGERDOMAIN", VariableName::ManagerDomain),
        ];
        KNOWN
            .into_iter()
            .find(|(spelling, _)| name.eq_ignore_ascii_case(spelling))
            .map_or_else(|| VariableName::Other(name.to_owned()), |(_, known)| known)
    }
}

/// A record line that was skipped, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedLine {
    /// Line number in the file, from 1.
    pub line: usize,
    /// What is wrong with it.
    pub reason: SkipReason,
}

impl fmt::Display for SkippedLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// Why a record line was skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// Fewer than the three required fields (§3.4.2).
    TooFewFields {
        /// Comma-separated fields found.
        found: usize,
    },
    /// Field #1 is empty.
    EmptyAdSystemDomain,
    /// Field #1 is not a host name of at least two labels (letters, digits and
    /// inner hyphens, 1–63 bytes a label, 253 in all; RFC 1123 §2.1, §3.4.2).
    InvalidAdSystemDomain,
    /// Field #2 is empty.
    EmptyAccountId,
    /// Field #2 contains whitespace, which no field may (§3.4.2).
    AccountIdHasWhitespace,
    /// Field #3 is neither `DIRECT` nor `RESELLER`; holds its first 32 bytes.
    UnknownRelationship(String),
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::TooFewFields { found } => {
                write!(
                    f,
                    "{found} field(s), a record needs domain, account id and relationship"
                )
            }
            SkipReason::EmptyAdSystemDomain => f.write_str("empty ad system domain"),
            SkipReason::InvalidAdSystemDomain => f.write_str("ad system domain is not a host name"),
            SkipReason::EmptyAccountId => f.write_str("empty account id"),
            SkipReason::AccountIdHasWhitespace => f.write_str("account id contains whitespace"),
            SkipReason::UnknownRelationship(text) => {
                write!(f, "relationship {text:?} is neither DIRECT nor RESELLER")
            }
        }
    }
}

/// Why a whole file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdsTxtError {
    /// Not one valid record and no placeholder record (§3.2, §3.2.1): an empty
    /// file, an error page, or every record line unreadable.
    #[error(
        "no valid ads.txt record and no placeholder record (IAB ads.txt 1.1 §3.2.1); \
         {skipped} record line(s) skipped{}",
        first_skipped.as_ref().map(|first| format!(", first at {first}")).unwrap_or_default()
    )]
    NoRecords {
        /// Record lines skipped.
        skipped: usize,
        /// The first of them, to point the operator at the problem.
        first_skipped: Option<SkippedLine>,
    },
}

impl AdsTxt {
    /// Parses the text of an ads.txt or app-ads.txt file.
    ///
    /// Records for the placeholder domain `placeholder.example.com` (§3.2.1)
    /// make the file valid but are not kept: such a file authorises nobody.
    /// Unreadable record lines are skipped (see [`AdsTxt::skipped`]).
    ///
    /// # Errors
    ///
    /// [`AdsTxtError::NoRecords`] if no record is valid and there is no
    /// placeholder record (an empty or comment-only file, an HTML page, ...).
    pub fn parse(text: &str) -> Result<AdsTxt, AdsTxtError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut file = AdsTxt {
            records: Vec::new(),
            variables: Vec::new(),
            skipped: Vec::new(),
            placeholder: false,
        };
        for (index, raw) in Lines(Some(text)).enumerate() {
            let line = index + 1;
            let content = raw.split_once('#').map_or(raw, |(before, _)| before).trim();
            if content.is_empty() {
                continue;
            }
            if let Some((name, value)) = as_variable(content) {
                file.variables.push(Variable {
                    line,
                    name: VariableName::parse(name),
                    value: value.to_owned(),
                });
                continue;
            }
            match parse_record(line, content) {
                Ok(record) if record.ad_system_domain == PLACEHOLDER_DOMAIN => {
                    file.placeholder = true
                }
                Ok(record) => file.records.push(record),
                Err(reason) => file.skipped.push(SkippedLine { line, reason }),
            }
        }
        if file.records.is_empty() && !file.placeholder {
            return Err(AdsTxtError::NoRecords {
                skipped: file.skipped.len(),
                first_skipped: file.skipped.first().cloned(),
            });
        }
        Ok(file)
    }

    /// The valid records, in file order (placeholder records left out).
    pub fn records(&self) -> &[AdsTxtRecord] {
        &self.records
    }

    /// The variable lines, in file order.
    pub fn variables(&self) -> &[Variable] {
        &self.variables
    }

    /// The record lines that were skipped, in file order.
    pub fn skipped(&self) -> &[SkippedLine] {
        &self.skipped
    }

    /// Whether the file holds the §3.2.1 placeholder record.
    pub fn has_placeholder(&self) -> bool {
        self.placeholder
    }

    /// Whether the file authorises no seller at all (placeholder only).
    pub fn authorizes_nobody(&self) -> bool {
        self.records.is_empty()
    }
}

/// Splits at LF, CRLF or a lone CR; the text after the last break (possibly
/// empty) is the last line.
struct Lines<'a>(Option<&'a str>);

impl<'a> Iterator for Lines<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.0?;
        match rest.find(['\r', '\n']) {
            Some(end) => {
                let after = rest.get(end..).unwrap_or_default();
                let break_len = if after.starts_with("\r\n") { 2 } else { 1 };
                self.0 = Some(after.get(break_len..).unwrap_or_default());
                Some(rest.get(..end).unwrap_or_default())
            }
            None => {
                self.0 = None;
                Some(rest)
            }
        }
    }
}

/// `NAME=VALUE` when the text before the first `=` is one word (§3.5: "a
/// string identifier without internal whitespace"); both sides trimmed.
fn as_variable(content: &str) -> Option<(&str, &str)> {
    let (name, value) = content.split_once('=')?;
    let name = name.trim();
    let is_word =
        !name.is_empty() && !name.contains(|c: char| c.is_whitespace() || c == ',' || c == ';');
    is_word.then(|| (name, value.trim()))
}

fn parse_record(line: usize, content: &str) -> Result<AdsTxtRecord, SkipReason> {
    let (fields, extension) = match content.split_once(';') {
        Some((fields, extension)) => (fields, Some(extension.trim())),
        None => (content, None),
    };
    let mut parts = fields.split(',').map(str::trim);
    let (Some(domain), Some(account_id), Some(relationship)) =
        (parts.next(), parts.next(), parts.next())
    else {
        return Err(SkipReason::TooFewFields {
            found: fields.split(',').count(),
        });
    };
    // Further comma-separated fields have no meaning in 1.1 and are ignored.
    let certification_authority_id = parts.next().filter(|id| !id.is_empty());
    if domain.is_empty() {
        return Err(SkipReason::EmptyAdSystemDomain);
    }
    if !is_host_name(domain) {
        return Err(SkipReason::InvalidAdSystemDomain);
    }
    if account_id.is_empty() {
        return Err(SkipReason::EmptyAccountId);
    }
    if account_id.contains(char::is_whitespace) {
        return Err(SkipReason::AccountIdHasWhitespace);
    }
    let relationship = Relationship::parse(relationship).ok_or_else(|| {
        SkipReason::UnknownRelationship(prefix(relationship, QUOTED_FIELD_BYTES).to_owned())
    })?;
    Ok(AdsTxtRecord {
        line,
        ad_system_domain: domain.to_ascii_lowercase(),
        account_id: account_id.to_owned(),
        relationship,
        certification_authority_id: certification_authority_id.map(str::to_owned),
        extension: extension.filter(|text| !text.is_empty()).map(str::to_owned),
    })
}

/// An RFC 1123 host name of at least two labels: labels of ASCII letters,
/// digits and hyphens, 1–63 bytes, not starting or ending with a hyphen;
/// at most 253 bytes in all.
fn is_host_name(domain: &str) -> bool {
    domain.len() <= 253
        && domain.contains('.')
        && domain.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// The longest prefix of `text` of at most `max_bytes` that ends on a char
/// boundary.
fn prefix(text: &str, max_bytes: usize) -> &str {
    let mut end = text.len().min(max_bytes);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or_default()
}
