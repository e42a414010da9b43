//! sellers.json: who the sellers behind an ad system's seller ids are (IAB Tech
//! Lab sellers.json 1.0).
//!
//! Loading, off the bid path: [`SellersJson::parse`] reads one ad system's file
//! and [`Sellers::insert`] files it under the domain it is served from (the
//! `asi` of SupplyChain nodes). On the bid path, [`Sellers::ad_system`] finds an
//! ad system and [`SellerDirectory::seller_type`] says what a seller id is.
//! Lookups hash their arguments on the stack and never allocate.
//!
//! Case rules, from the spec:
//! - the ad system domain (`asi`) is a DNS name, compared without regard to
//!   ASCII case (RFC 4343);
//! - `seller_type` "should be treated as case insensitive" (Object: Seller);
//! - `seller_id` "is the same ID that appears in an ads.txt file and in the
//!   SupplyChain.nodes array sid property" and is never declared
//!   case-insensitive: matched exactly.
//!
//! ```
//! use tern_ivt::sellers_json::{SellerType, Sellers, SellersJson};
//!
//! let file = SellersJson::parse(r#"{"version": "1.0", "sellers": [
//!     {"seller_id": "1942009976", "name": "Publisher1", "domain": "publisher1.com", "seller_type": "PUBLISHER"},
//!     {"seller_id": 1397382429, "seller_type": "intermediary"}
//! ]}"#)?;
//! let mut sellers = Sellers::new();
//! sellers.insert("advertisingsystem.com", file);
//! let directory = sellers.ad_system("AdvertisingSystem.com").ok_or("filed above")?;
//! assert_eq!(directory.seller_type("1942009976"), Some(SellerType::Publisher));
//! assert_eq!(directory.seller_type("1397382429"), Some(SellerType::Intermediary));
//! assert_eq!(directory.seller_type("0000"), None);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod parse;
#[cfg(test)]
mod parse_tests;
mod raw;
mod seller;
mod table;

pub use parse::{SellersJson, SellersJsonError};
pub use seller::{Identifier, Seller, SellerSkipReason, SkippedSeller};
pub use table::{SellerDirectory, Sellers};

/// What a seller id stands for (sellers.json 1.0, Object: Seller, `seller_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SellerType {
    /// `PUBLISHER`: the inventory is the named entity's own and the ad system
    /// pays it directly.
    Publisher,
    /// `INTERMEDIARY`: the inventory is not the named entity's, or the ad
    /// system does not pay it directly.
    Intermediary,
    /// `BOTH`: the seller transacts both kinds of inventory.
    Both,
}

impl SellerType {
    /// Reads `seller_type` ignoring ASCII case and surrounding whitespace, as
    /// the spec asks; `None` for any other value.
    pub fn parse(text: &str) -> Option<SellerType> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("PUBLISHER") {
            Some(SellerType::Publisher)
        } else if text.eq_ignore_ascii_case("INTERMEDIARY") {
            Some(SellerType::Intermediary)
        } else if text.eq_ignore_ascii_case("BOTH") {
            Some(SellerType::Both)
        } else {
            None
        }
    }

    /// The spec's spelling, for logs and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            SellerType::Publisher => "PUBLISHER",
            SellerType::Intermediary => "INTERMEDIARY",
            SellerType::Both => "BOTH",
        }
    }
}

/// A sellers.json text with `n` sellers, for benchmarks and load tests.
///
/// Seller `i` (0-based) has seller id `{i}` — written as a JSON number when
/// `i % 10 == 9`, as a string otherwise — and seller type `PUBLISHER`,
/// `INTERMEDIARY` or `BOTH` for `i % 3` = 0, 1, 2; every fifth (`i % 5 == 4`)
/// is confidential and has no name or domain.
#[doc(hidden)]
pub fn synthetic_sellers(n: usize) -> String {
    use std::fmt::Write as _;

    let mut out = String::with_capacity(256 + n * 112);
    out.push_str(
        "{\"contact_email\":\"adops@ssp.example\",\"contact_address\":\"1 Main St\",\
         \"version\":\"1.0\",\"identifiers\":[{\"name\":\"TAG-ID\",\"value\":\"28cb65e5bbc0bd5f\"}],\
         \"sellers\":[",
    );
    for i in 0..n {
        if i > 0 {
            out.push(',');
        }
        let seller_type = ["PUBLISHER", "INTERMEDIARY", "BOTH"][i % 3];
        // Writing to a String cannot fail.
        if i % 10 == 9 {
            _ = write!(
                out,
                "\n{{\"seller_id\":{i},\"seller_type\":\"{seller_type}\""
            );
        } else {
            _ = write!(
                out,
                "\n{{\"seller_id\":\"{i}\",\"seller_type\":\"{seller_type}\""
            );
        }
        if i % 5 == 4 {
            out.push_str(",\"is_confidential\":1}");
        } else {
            _ = write!(
                out,
                ",\"name\":\"Seller {i}\",\"domain\":\"seller{i}.example\"}}"
            );
        }
    }
    out.push_str("\n]}\n");
    out
}
