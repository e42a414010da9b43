//! Reading one sellers.json file (IAB Tech Lab sellers.json 1.0), tolerantly.
//!
//! The document must be JSON with a `sellers` array (Object: Parent says it is
//! required); anything else is refused. Inside it, real files stray from the
//! spec, so each seller is read on its own: a `seller_id` written as a JSON
//! integer is taken as its decimal text; unknown fields are ignored; a field of
//! an unexpected JSON type is treated as absent (for `is_confidential` and
//! `is_passthrough`, `1`, `true`, `"1"` and `"true"` read as 1, anything else
//! as 0); a seller without a usable `seller_id` or `seller_type`, or repeating
//! an earlier `seller_id` ("every seller_id must map to only a single entity"),
//! is skipped and reported, not fatal.

use std::fmt;

use super::SellerType;
use super::raw::RawDocument;

/// One parsed sellers.json file: its sellers and the entries it skipped. Built
/// by [`SellersJson::parse`]; filed into [`Sellers`](super::Sellers) to be
/// looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SellersJson {
    contact_email: Option<String>,
    contact_address: Option<String>,
    version: Option<String>,
    identifiers: Vec<Identifier>,
    sellers: Vec<Seller>,
    skipped: Vec<SkippedSeller>,
}

/// A name/value identifier of the ad system (Object: Identifier), e.g.
/// `TAG-ID`. Entries whose name or value is not a string are dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identifier {
    /// The identifier's name (`TAG-ID`, `DUNS`, ...).
    pub name: String,
    /// Its value.
    pub value: String,
}

/// One seller (Object: Seller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seller {
    /// The id in ads.txt field #2 and SupplyChain `sid`: trimmed, case kept.
    pub seller_id: String,
    /// What the seller is.
    pub seller_type: SellerType,
    /// `is_confidential` = 1: name and domain may be left out.
    pub is_confidential: bool,
    /// `is_passthrough` = 1: the seller has an account-control relationship
    /// with the downstream system.
    pub is_passthrough: bool,
    /// The legal entity paid for the inventory, if given as a string.
    pub name: Option<String>,
    /// Its business domain, if given as a string.
    pub domain: Option<String>,
    /// Free-text description, if given as a string.
    pub comment: Option<String>,
}

/// A `sellers` entry that was skipped, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedSeller {
    /// Position in the `sellers` array, from 0.
    pub index: usize,
    /// Its seller id, when one could be read.
    pub seller_id: Option<String>,
    /// What is wrong with it.
    pub reason: SellerSkipReason,
}

/// Why a `sellers` entry was skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SellerSkipReason {
    /// The entry is not a JSON object.
    NotAnObject,
    /// No `seller_id` (or `null`); it is required.
    MissingSellerId,
    /// `seller_id` is neither a string nor an integer.
    UnreadableSellerId,
    /// `seller_id` is empty or only whitespace.
    EmptySellerId,
    /// No `seller_type` (or `null`); it is required.
    MissingSellerType,
    /// `seller_type` is not PUBLISHER, INTERMEDIARY or BOTH: its first 32 bytes,
    /// or the JSON kind in angle brackets when it is not a string.
    UnknownSellerType(String),
    /// An earlier entry has the same `seller_id` (compared by 64-bit hash);
    /// the first one is kept.
    DuplicateSellerId,
}

impl fmt::Display for SellerSkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SellerSkipReason::NotAnObject => f.write_str("entry is not an object"),
            SellerSkipReason::MissingSellerId => f.write_str("no seller_id"),
            SellerSkipReason::UnreadableSellerId => {
                f.write_str("seller_id is neither a string nor an integer")
            }
            SellerSkipReason::EmptySellerId => f.write_str("empty seller_id"),
            SellerSkipReason::MissingSellerType => f.write_str("no seller_type"),
            SellerSkipReason::UnknownSellerType(text) => {
                write!(
                    f,
                    "seller_type {text:?} is not PUBLISHER, INTERMEDIARY or BOTH"
                )
            }
            SellerSkipReason::DuplicateSellerId => {
                f.write_str("seller_id repeats an earlier seller")
            }
        }
    }
}

impl fmt::Display for SkippedSeller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sellers[{}]", self.index)?;
        if let Some(id) = &self.seller_id {
            write!(f, " ({id:?})")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// Why a whole sellers.json file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SellersJsonError {
    /// Not JSON, not an object, or no `sellers` array (sellers.json 1.0,
    /// Object: Parent, `sellers` required).
    #[error("not a sellers.json document: {message}")]
    Invalid {
        /// serde_json's description, with line and column.
        message: String,
        /// Line of the problem, from 1 (0 if unknown).
        line: usize,
        /// Column of the problem, from 1 (0 if unknown).
        column: usize,
    },
}

impl SellersJson {
    /// Parses the text of a sellers.json file (a UTF-8 byte order mark is
    /// dropped).
    ///
    /// # Errors
    ///
    /// [`SellersJsonError::Invalid`] if the text is not JSON, is not an object,
    /// or has no `sellers` array. Problems with single sellers are reported in
    /// [`SellersJson::skipped`] instead.
    pub fn parse(text: &str) -> Result<SellersJson, SellersJsonError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let raw: RawDocument =
            serde_json::from_str(text).map_err(|e| SellersJsonError::Invalid {
                message: e.to_string(),
                line: e.line(),
                column: e.column(),
            })?;
        Ok(SellersJson {
            contact_email: raw.contact_email,
            contact_address: raw.contact_address,
            version: raw.version,
            identifiers: raw.identifiers,
            sellers: raw.sellers,
            skipped: raw.skipped,
        })
    }

    /// The sellers read, in file order.
    pub fn sellers(&self) -> &[Seller] {
        &self.sellers
    }

    /// The entries skipped, in file order.
    pub fn skipped(&self) -> &[SkippedSeller] {
        &self.skipped
    }

    /// The ad system's identifiers.
    pub fn identifiers(&self) -> &[Identifier] {
        &self.identifiers
    }

    /// `contact_email`, if a string.
    pub fn contact_email(&self) -> Option<&str> {
        self.contact_email.as_deref()
    }

    /// `contact_address`, if a string.
    pub fn contact_address(&self) -> Option<&str> {
        self.contact_address.as_deref()
    }

    /// `version` (the spec knows only `1.0`), if a string; not checked.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }
}
