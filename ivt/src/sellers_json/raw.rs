//! The serde visitors behind [`SellersJson::parse`](super::SellersJson::parse).
//!
//! They read the text once, straight into the final types: no
//! `serde_json::Value` tree, which for the largest public files (over a
//! million sellers) would take gigabytes. Values that are skipped (unknown
//! fields, non-scalar values where a scalar belongs) go through serde's
//! `IgnoredAny`, which serde_json reads without recursion; the visitors here
//! recurse only a handful of levels (document, sellers, seller, field), so no
//! input can exhaust the stack.

use std::fmt;

use rustc_hash::FxHashSet;
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::SellerType;
use super::seller::{Identifier, Seller, SellerSkipReason, SkippedSeller};
use crate::ads_txt::key;

/// Longest text of an unknown seller type kept in a [`SellerSkipReason`], in bytes.
const QUOTED_FIELD_BYTES: usize = 32;

/// The top-level object, read; only `sellers` is required, and may appear
/// once. Non-string `contact_email`, `contact_address` and `version` read as
/// absent; `identifiers` that is not an array reads as empty.
pub(super) struct RawDocument {
    pub(super) contact_email: Option<String>,
    pub(super) contact_address: Option<String>,
    pub(super) version: Option<String>,
    pub(super) identifiers: Vec<Identifier>,
    pub(super) sellers: Vec<Seller>,
    pub(super) skipped: Vec<SkippedSeller>,
}

/// The top-level fields read, in the order [`DocumentVisitor`] matches them.
const DOCUMENT_FIELDS: [&str; 5] = [
    "contact_email",
    "contact_address",
    "version",
    "identifiers",
    "sellers",
];

impl<'de> Deserialize<'de> for RawDocument {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(DocumentVisitor)
    }
}

struct DocumentVisitor;

impl<'de> Visitor<'de> for DocumentVisitor {
    type Value = RawDocument;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sellers.json object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawDocument, A::Error> {
        let (mut contact_email, mut contact_address, mut version) =
            (Loose::Absent, Loose::Absent, Loose::Absent);
        let mut identifiers = RawIdentifiers::default();
        let mut sellers = None;
        while let Some(key) = map.next_key_seed(KeyIndex(&DOCUMENT_FIELDS))? {
            match key {
                Some(0) => contact_email = map.next_value()?,
                Some(1) => contact_address = map.next_value()?,
                Some(2) => version = map.next_value()?,
                Some(3) => identifiers = map.next_value()?,
                Some(4) if sellers.is_some() => return Err(de::Error::duplicate_field("sellers")),
                Some(4) => sellers = Some(map.next_value()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let sellers: SellerList = sellers.ok_or_else(|| de::Error::missing_field("sellers"))?;
        Ok(RawDocument {
            contact_email: contact_email.text(),
            contact_address: contact_address.text(),
            version: version.text(),
            identifiers: identifiers.0,
            sellers: sellers.sellers,
            skipped: sellers.skipped,
        })
    }
}

/// Any JSON value, kept only when it is a scalar.
#[derive(Debug, Default)]
enum Loose {
    #[default]
    Absent,
    Null,
    Bool(bool),
    Unsigned(u64),
    Signed(i64),
    Float,
    Text(String),
    Compound,
}

impl Loose {
    fn text(self) -> Option<String> {
        match self {
            Loose::Text(text) => Some(text),
            _ => None,
        }
    }

    fn flag(&self) -> bool {
        match self {
            Loose::Bool(on) => *on,
            Loose::Unsigned(n) => *n == 1,
            Loose::Signed(n) => *n == 1,
            Loose::Text(text) => text.trim() == "1" || text.trim().eq_ignore_ascii_case("true"),
            _ => false,
        }
    }

    fn seller_id(self) -> Result<String, SellerSkipReason> {
        match self {
            Loose::Text(text) if text.trim().is_empty() => Err(SellerSkipReason::EmptySellerId),
            Loose::Text(text) if text.trim().len() == text.len() => Ok(text),
            Loose::Text(text) => Ok(text.trim().to_owned()),
            Loose::Unsigned(n) => Ok(n.to_string()),
            Loose::Signed(n) => Ok(n.to_string()),
            Loose::Absent | Loose::Null => Err(SellerSkipReason::MissingSellerId),
            Loose::Bool(_) | Loose::Float | Loose::Compound => {
                Err(SellerSkipReason::UnreadableSellerId)
            }
        }
    }

    fn seller_type(&self) -> Result<SellerType, SellerSkipReason> {
        let unknown = |text: &str| Err(SellerSkipReason::UnknownSellerType(text.to_owned()));
        match self {
            Loose::Text(text) => SellerType::parse(text)
                .map_or_else(|| unknown(prefix(text, QUOTED_FIELD_BYTES)), Ok),
            Loose::Absent | Loose::Null => Err(SellerSkipReason::MissingSellerType),
            Loose::Bool(_) => unknown("<boolean>"),
            Loose::Unsigned(_) | Loose::Signed(_) | Loose::Float => unknown("<number>"),
            Loose::Compound => unknown("<array or object>"),
        }
    }
}

impl<'de> Deserialize<'de> for Loose {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(LooseVisitor)
    }
}

struct LooseVisitor;

impl<'de> Visitor<'de> for LooseVisitor {
    type Value = Loose;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Loose, E> {
        Ok(Loose::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Loose, E> {
        Ok(Loose::Signed(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Loose, E> {
        Ok(Loose::Unsigned(v))
    }

    fn visit_f64<E>(self, _: f64) -> Result<Loose, E> {
        Ok(Loose::Float)
    }

    fn visit_str<E>(self, v: &str) -> Result<Loose, E> {
        Ok(Loose::Text(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Loose, E> {
        Ok(Loose::Text(v))
    }

    fn visit_unit<E>(self) -> Result<Loose, E> {
        Ok(Loose::Null)
    }

    fn visit_none<E>(self) -> Result<Loose, E> {
        Ok(Loose::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Loose, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Loose::Compound)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Loose, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Loose::Compound)
    }
}

/// Reads an object key as its index in a list of known names (`None` for any
/// other key) without allocating.
struct KeyIndex(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for KeyIndex {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<usize>, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl<'de> Visitor<'de> for KeyIndex {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E>(self, v: &str) -> Result<Option<usize>, E> {
        Ok(self.0.iter().position(|name| *name == v))
    }
}

/// Reads the fields named in `names` of an object into `slots` (same order),
/// ignoring other keys; a repeated key keeps its last value, as most JSON
/// readers do.
fn read_fields<'de, A: MapAccess<'de>>(
    mut map: A,
    names: &'static [&'static str],
    slots: &mut [Loose],
) -> Result<(), A::Error> {
    while let Some(key) = map.next_key_seed(KeyIndex(names))? {
        match key.and_then(|index| slots.get_mut(index)) {
            Some(slot) => *slot = map.next_value()?,
            None => {
                map.next_value::<IgnoredAny>()?;
            }
        }
    }
    Ok(())
}

/// The `sellers` array, read straight into sellers and skipped entries.
#[derive(Default)]
struct SellerList {
    sellers: Vec<Seller>,
    skipped: Vec<SkippedSeller>,
    seen: FxHashSet<u64>,
}

impl SellerList {
    fn push(&mut self, index: usize, entry: Option<[Loose; SELLER_FIELDS.len()]>) {
        let Some(
            [
                seller_id,
                seller_type,
                is_confidential,
                is_passthrough,
                name,
                domain,
                comment,
            ],
        ) = entry
        else {
            return self.skip(index, None, SellerSkipReason::NotAnObject);
        };
        let seller_id = match seller_id.seller_id() {
            Ok(id) => id,
            Err(reason) => return self.skip(index, None, reason),
        };
        let seller_type = match seller_type.seller_type() {
            Ok(seller_type) => seller_type,
            Err(reason) => return self.skip(index, Some(seller_id), reason),
        };
        if !self.seen.insert(key::exact(&seller_id)) {
            return self.skip(index, Some(seller_id), SellerSkipReason::DuplicateSellerId);
        }
        self.sellers.push(Seller {
            seller_id,
            seller_type,
            is_confidential: is_confidential.flag(),
            is_passthrough: is_passthrough.flag(),
            name: name.text(),
            domain: domain.text(),
            comment: comment.text(),
        });
    }

    fn skip(&mut self, index: usize, seller_id: Option<String>, reason: SellerSkipReason) {
        self.skipped.push(SkippedSeller {
            index,
            seller_id,
            reason,
        });
    }
}

/// The Seller fields read, in the order [`SellerList::push`] takes them.
const SELLER_FIELDS: [&str; 7] = [
    "seller_id",
    "seller_type",
    "is_confidential",
    "is_passthrough",
    "name",
    "domain",
    "comment",
];

impl<'de> Deserialize<'de> for SellerList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(SellerListVisitor)
    }
}

struct SellerListVisitor;

impl<'de> Visitor<'de> for SellerListVisitor {
    type Value = SellerList;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of seller objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<SellerList, A::Error> {
        let mut list = SellerList::default();
        let mut index = 0;
        while let Some(fields) = seq.next_element_seed(ObjectFields(&SELLER_FIELDS))? {
            list.push(index, fields.and_then(|fields| fields.try_into().ok()));
            index += 1;
        }
        Ok(list)
    }
}

/// The `identifiers` array; anything else there is ignored.
#[derive(Default)]
struct RawIdentifiers(Vec<Identifier>);

impl<'de> Deserialize<'de> for RawIdentifiers {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let entries = deserializer.deserialize_any(Entries(&IDENTIFIER_FIELDS))?;
        let identifiers = entries
            .into_iter()
            .flatten()
            .filter_map(|fields| match <[Loose; 2]>::try_from(fields) {
                Ok([Loose::Text(name), Loose::Text(value)]) => Some(Identifier { name, value }),
                _ => None,
            })
            .collect();
        Ok(RawIdentifiers(identifiers))
    }
}

const IDENTIFIER_FIELDS: [&str; 2] = ["name", "value"];

/// Any JSON value: the named fields of an object (in the order named, absent
/// ones [`Loose::Absent`]), `None` for anything else.
struct ObjectFields(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for ObjectFields {
    type Value = Option<Vec<Loose>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ObjectFields {
    type Value = Option<Vec<Loose>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let mut slots: Vec<Loose> = self.0.iter().map(|_| Loose::Absent).collect();
        read_fields(map, self.0, &mut slots)?;
        Ok(Some(slots))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        LooseVisitor.visit_seq(seq).map(|_| None)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// Any JSON value: for an array, each element read with [`ObjectFields`];
/// for anything else, nothing.
struct Entries(&'static [&'static str]);

impl<'de> Visitor<'de> for Entries {
    type Value = Vec<Option<Vec<Loose>>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = seq.next_element_seed(ObjectFields(self.0))? {
            entries.push(entry);
        }
        Ok(entries)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        LooseVisitor.visit_map(map).map(|_| Vec::new())
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }
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
