//! ads.txt and app-ads.txt: which ad systems and accounts a publisher
//! authorises to sell its inventory (IAB Tech Lab ads.txt 1.1; app-ads.txt uses
//! the same file format).
//!
//! Loading, off the bid path: [`AdsTxt::parse`] reads one file the operator
//! supplies, and [`AuthorizedSellers::insert`] files it under the publisher's
//! domain (sites) or app bundle id (apps). On the bid path,
//! [`AuthorizedSellers::publisher_or_parent`] (sites) or
//! [`AuthorizedSellers::publisher`] (apps) finds the publisher's sellers and
//! [`PublisherSellers::relationship`] says how an ad system account may sell
//! there. Lookups hash the text they are given (see `key.rs`) and never allocate.
//!
//! Case rules, from the spec:
//! - ad system domains (field #1) are DNS names (ads.txt 1.1 §3.4.2, RFC 1123),
//!   which compare without regard to ASCII case (RFC 4343): matched
//!   case-insensitively; so are publisher domains and bundle ids (the operator's
//!   keys);
//! - the relationship (field #3) "should be treated as case insensitive"
//!   (§3.3);
//! - account ids (field #2) "must contain the same value used in transactions",
//!   that is OpenRTB `publisher.id` (§3.3), a string the spec never folds:
//!   matched exactly.
//!
//! ```
//! use tern_ivt::ads_txt::{AdsTxt, AuthorizedSellers, Relationship};
//!
//! let file = AdsTxt::parse("greenadexchange.com, XF7342, DIRECT, 5jyxf8k54\n")?;
//! let mut sellers = AuthorizedSellers::new();
//! sellers.insert("example.com", file);
//! let publisher = sellers.publisher_or_parent("www.Example.com").ok_or("filed above")?;
//! assert_eq!(publisher.relationship("GreenAdExchange.com", "XF7342"), Some(Relationship::Direct));
//! assert_eq!(publisher.relationship("greenadexchange.com", "xf7342"), None);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub(crate) mod key;
mod parse;
#[cfg(test)]
mod parse_tests;
mod table;

pub use parse::{
    AdsTxt, AdsTxtError, AdsTxtRecord, SkipReason, SkippedLine, Variable, VariableName,
};
pub use table::{AuthorizedSellers, PublisherSellers};

/// How a publisher authorises an ad system account (ads.txt 1.1 §3.3, field #3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Relationship {
    /// `DIRECT`: the publisher itself controls the account.
    Direct,
    /// `RESELLER`: the publisher authorised another entity to control the
    /// account and resell its inventory.
    Reseller,
}

impl Relationship {
    /// Reads field #3, ignoring ASCII case as §3.3 asks; `None` for any other
    /// value (the spec allows that more types "may be added in the future").
    pub fn parse(field: &str) -> Option<Relationship> {
        if field.eq_ignore_ascii_case("DIRECT") {
            Some(Relationship::Direct)
        } else if field.eq_ignore_ascii_case("RESELLER") {
            Some(Relationship::Reseller)
        } else {
            None
        }
    }

    /// The spec's spelling, for logs and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Relationship::Direct => "DIRECT",
            Relationship::Reseller => "RESELLER",
        }
    }
}

/// An ads.txt text with `n` records, for benchmarks and load tests.
///
/// Record `i` (0-based) reads `ssp{i % 50}.example, acct-{i}, <rel>` where
/// `<rel>` is `DIRECT` for even `i` and `RESELLER` for odd `i`; every third
/// record carries a certification authority id, every seventh an extension,
/// every eleventh a trailing comment; a comment line opens every hundred
/// records and `CONTACT` and `OWNERDOMAIN` variables close the file. With
/// `n == 0` the file is the placeholder record alone (authorises nobody).
#[doc(hidden)]
pub fn synthetic_ads_txt(n: usize) -> String {
    use std::fmt::Write as _;

    let mut out = String::with_capacity(64 + n * 48);
    out.push_str("# synthetic ads.txt\n");
    if n == 0 {
        out.push_str("placeholder.example.com, placeholder, DIRECT, placeholder\n");
    }
    for i in 0..n {
        if i % 100 == 0 {
            // Writing to a String cannot fail.
            _ = writeln!(out, "# records {i} and on");
        }
        let relationship = if i % 2 == 0 { "DIRECT" } else { "RESELLER" };
        _ = write!(out, "ssp{}.example, acct-{i}, {relationship}", i % 50);
        if i % 3 == 0 {
            _ = write!(out, ", cert{:x}", i % 50);
        }
        if i % 7 == 0 {
            out.push_str("; ext=1");
        }
        if i % 11 == 0 {
            out.push_str(" # note");
        }
        out.push('\n');
    }
    out.push_str("CONTACT=adops@example.com\nOWNERDOMAIN=example.com\n");
    out
}
