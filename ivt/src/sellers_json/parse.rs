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

use super::raw::RawDocument;
use super::seller::{Identifier, Seller, SkippedSeller};

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
