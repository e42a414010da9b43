//! The records a sellers.json file is read into (IAB Tech Lab sellers.json 1.0,
//! Object: Seller and Object: Identifier), and the entries skipped while reading.

use std::fmt;

use super::SellerType;

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
