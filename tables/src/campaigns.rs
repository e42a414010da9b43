//! Campaign items: the campaign model stored as native DynamoDB attributes.
//!
//! An item is the campaign document with `id` renamed to the table's key
//! `campaign_id`; numbers are `N`, lists `L`, maps `M`, absent options are left
//! out. Items are read through `serde_json::Value` into the same deserializer and
//! validation as a campaigns file, so one model and one set of rules serve both.
//! DynamoDB refuses items nested past 32 levels, and the conversion here refuses
//! past `json_depth::MAX_DEPTH` before recursing further, like every document the
//! bidder reads from outside.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue as TableValue;
use aws_sdk_dynamodbstreams::types::AttributeValue as StreamValue;
use serde_json::{Map, Number, Value};
use tern_engine::campaign::{Campaign, CampaignError, parse_campaign};
use tern_engine::json_depth;

/// The table's partition key attribute (the campaign id).
pub const KEY_ATTRIBUTE: &str = "campaign_id";
/// The version attribute; changes apply only over a lower version.
pub const VERSION_ATTRIBUTE: &str = "version";

/// A change read from the table or its stream, before validation.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemDocument {
    /// Campaign id (the key).
    pub id: String,
    /// The item's version.
    pub version: u64,
    /// The item as a campaign document (`id` in place of `campaign_id`).
    pub document: Value,
}

impl ItemDocument {
    /// Validates the document as a campaign.
    pub fn campaign(&self) -> Result<Campaign, CampaignError> {
        parse_campaign(self.document.clone(), 0)
    }
}

/// Why an item cannot be read at all (no usable key or version).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("item {id}: {reason}")]
pub struct ItemError {
    /// The key, or `(no key)`.
    pub id: String,
    /// What is missing.
    pub reason: String,
}

fn number(text: &str) -> Option<Value> {
    if let Ok(n) = text.parse::<u64>() {
        return Some(Value::Number(n.into()));
    }
    if let Ok(n) = text.parse::<i64>() {
        return Some(Value::Number(n.into()));
    }
    text.parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .map(Value::Number)
}

/// An attribute that cannot be read as JSON, and where it sits in the item.
#[derive(Debug)]
struct Unreadable {
    /// Map keys and list indices from the innermost out.
    path: Vec<Segment>,
    reason: String,
}

#[derive(Debug)]
enum Segment {
    Key(String),
    Index(usize),
}

impl Unreadable {
    fn new(reason: String) -> Unreadable {
        Unreadable {
            path: Vec::new(),
            reason,
        }
    }

    /// The same failure seen from the map or list holding it.
    fn within(mut self, segment: Segment) -> Unreadable {
        self.path.push(segment);
        self
    }

    /// "`bidding.max_cpm`: `x` is not a number".
    fn describe(self) -> String {
        let mut path = String::new();
        for segment in self.path.iter().rev() {
            match segment {
                Segment::Key(key) if path.is_empty() => path.push_str(key),
                Segment::Key(key) => {
                    path.push('.');
                    path.push_str(key);
                }
                Segment::Index(i) => path.push_str(&format!("[{i}]")),
            }
        }
        format!("`{path}`: {}", self.reason)
    }
}

/// A map's entries in key order, so that of several unreadable attributes the
/// same one is reported on every read (a `HashMap`'s order differs per instance).
fn sorted<V>(map: &HashMap<String, V>) -> Vec<(&String, &V)> {
    let mut entries: Vec<_> = map.iter().collect();
    entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
    entries
}

macro_rules! attribute_to_json {
    ($name:ident, $ty:ty) => {
        /// Converts one attribute at nesting level `depth` (the item is level 1) to
        /// JSON; binary attributes have no campaign meaning. Lists and maps nested
        /// past `json_depth::MAX_DEPTH` are refused before the recursion goes on.
        fn $name(value: &$ty, depth: usize) -> Result<Value, Unreadable> {
            type V = $ty;
            let nested = |depth: usize| {
                let depth = depth + 1;
                if depth > json_depth::MAX_DEPTH {
                    Err(Unreadable::new(format!(
                        "nested deeper than {} levels",
                        json_depth::MAX_DEPTH
                    )))
                } else {
                    Ok(depth)
                }
            };
            let not_a_number = |n: &str| Unreadable::new(format!("`{n}` is not a number"));
            Ok(match value {
                V::S(s) => Value::String(s.clone()),
                V::N(n) => number(n).ok_or_else(|| not_a_number(n))?,
                V::Bool(b) => Value::Bool(*b),
                V::Null(_) => Value::Null,
                V::L(items) => {
                    let depth = nested(depth)?;
                    Value::Array(
                        items
                            .iter()
                            .enumerate()
                            .map(|(i, item)| {
                                $name(item, depth).map_err(|e| e.within(Segment::Index(i)))
                            })
                            .collect::<Result<_, _>>()?,
                    )
                }
                V::Ss(items) => Value::Array(items.iter().cloned().map(Value::String).collect()),
                V::Ns(items) => Value::Array(
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, n)| {
                            number(n).ok_or_else(|| not_a_number(n).within(Segment::Index(i)))
                        })
                        .collect::<Result<_, _>>()?,
                ),
                V::M(map) => {
                    let depth = nested(depth)?;
                    Value::Object(
                        sorted(map)
                            .into_iter()
                            .map(|(k, v)| {
                                let v = $name(v, depth)
                                    .map_err(|e| e.within(Segment::Key(k.clone())))?;
                                Ok((k.clone(), v))
                            })
                            .collect::<Result<Map<_, _>, Unreadable>>()?,
                    )
                }
                _ => {
                    return Err(Unreadable::new(
                        "binary and unknown attribute types are not supported".into(),
                    ));
                }
            })
        }

        impl ItemAttributes for HashMap<String, $ty> {
            fn to_json(&self) -> Result<Map<String, Value>, String> {
                sorted(self)
                    .into_iter()
                    .map(|(k, v)| {
                        let v = $name(v, 1).map_err(|e| e.within(Segment::Key(k.clone())))?;
                        Ok((k.clone(), v))
                    })
                    .collect::<Result<Map<_, _>, Unreadable>>()
                    .map_err(Unreadable::describe)
            }
        }
    };
}

/// An item's attributes, of either SDK's type, as a JSON object.
trait ItemAttributes {
    fn to_json(&self) -> Result<Map<String, Value>, String>;
}

attribute_to_json!(table_value_to_json, TableValue);
attribute_to_json!(stream_value_to_json, StreamValue);

/// Reads an item from a Scan.
pub fn from_table_item(item: &HashMap<String, TableValue>) -> Result<ItemDocument, ItemError> {
    to_document(
        item_key(item.get(KEY_ATTRIBUTE).and_then(|v| v.as_s().ok())),
        item.to_json(),
    )
}

/// Reads an item image from a stream record.
pub fn from_stream_image(item: &HashMap<String, StreamValue>) -> Result<ItemDocument, ItemError> {
    to_document(
        item_key(item.get(KEY_ATTRIBUTE).and_then(|v| v.as_s().ok())),
        item.to_json(),
    )
}

fn item_key(key: Option<&String>) -> String {
    key.cloned().unwrap_or_else(|| "(no key)".to_owned())
}

fn to_document(
    id: String,
    map: Result<Map<String, Value>, String>,
) -> Result<ItemDocument, ItemError> {
    let fail = |reason: String| ItemError {
        id: id.clone(),
        reason,
    };
    let mut map = map.map_err(fail)?;
    if id == "(no key)" {
        return Err(fail(format!("missing string attribute `{KEY_ATTRIBUTE}`")));
    }
    let version = map
        .get(VERSION_ATTRIBUTE)
        .and_then(Value::as_u64)
        .ok_or_else(|| fail(format!("missing numeric attribute `{VERSION_ATTRIBUTE}`")))?;
    map.remove(KEY_ATTRIBUTE);
    map.insert("id".to_owned(), Value::String(id.clone()));
    Ok(ItemDocument {
        id,
        version,
        document: Value::Object(map),
    })
}

/// Writes a campaign as a table item.
pub fn to_table_item(campaign: &Campaign) -> HashMap<String, TableValue> {
    let document = serde_json::to_value(campaign).expect("campaigns serialize");
    let Value::Object(mut map) = document else {
        unreachable!("a campaign is an object")
    };
    let id = map
        .remove("id")
        .unwrap_or(Value::String(campaign.id.clone()));
    map.insert(KEY_ATTRIBUTE.to_owned(), id);
    map.into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k, json_to_table_value(&v)))
        .collect()
}

fn json_to_table_value(value: &Value) -> TableValue {
    match value {
        Value::Null => TableValue::Null(true),
        Value::Bool(b) => TableValue::Bool(*b),
        Value::Number(n) => TableValue::N(n.to_string()),
        Value::String(s) => TableValue::S(s.clone()),
        Value::Array(items) => TableValue::L(items.iter().map(json_to_table_value).collect()),
        Value::Object(map) => TableValue::M(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), json_to_table_value(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> Vec<Campaign> {
        let text = include_str!("../../bidder/campaigns/example.toml");
        tern_engine::campaign::parse_campaigns(text, tern_engine::campaign::FileFormat::Toml)
            .unwrap()
    }

    #[test]
    fn every_example_campaign_round_trips_through_an_item() {
        for campaign in example() {
            let item = to_table_item(&campaign);
            assert_eq!(
                item.get(KEY_ATTRIBUTE).unwrap().as_s().unwrap(),
                &campaign.id
            );
            assert!(!item.contains_key("id"));
            let read = from_table_item(&item).unwrap();
            assert_eq!(read.version, campaign.version);
            assert_eq!(read.campaign().unwrap(), campaign);
        }
    }

    #[test]
    fn stream_images_read_like_table_items() {
        let image: HashMap<String, StreamValue> = [
            (KEY_ATTRIBUTE.to_owned(), StreamValue::S("c1".into())),
            (VERSION_ATTRIBUTE.to_owned(), StreamValue::N("7".into())),
            (
                "bidding".to_owned(),
                StreamValue::M(
                    [("max_cpm".to_owned(), StreamValue::N("2.5".into()))]
                        .into_iter()
                        .collect(),
                ),
            ),
            (
                "categories".to_owned(),
                StreamValue::Ss(vec!["IAB1".into()]),
            ),
        ]
        .into_iter()
        .collect();
        let read = from_stream_image(&image).unwrap();
        assert_eq!((read.id.as_str(), read.version), ("c1", 7));
        assert_eq!(read.document["bidding"]["max_cpm"], 2.5);
        assert_eq!(read.document["categories"][0], "IAB1");
        let err = read.campaign().unwrap_err();
        assert_eq!(err.campaign, "c1", "validation names the campaign: {err}");
    }

    #[test]
    fn an_unreadable_attribute_is_named_by_its_path_whatever_the_map_order() {
        // Found by the dynamodb_item fuzz target: with several unreadable numbers,
        // the error named whichever a HashMap yielded first, so a scan and a stream
        // image of one item (or two reads of it) gave different reasons.
        let bidding = || {
            [
                ("max_cpm".to_owned(), TableValue::N("1.2.3".into())),
                ("base_cpm".to_owned(), TableValue::N("x".into())),
            ]
            .into_iter()
            .collect::<HashMap<_, _>>()
        };
        for _ in 0..32 {
            let item: HashMap<String, TableValue> = [
                (KEY_ATTRIBUTE.to_owned(), TableValue::S("c1".into())),
                (VERSION_ATTRIBUTE.to_owned(), TableValue::N("1".into())),
                ("zone".to_owned(), TableValue::N("--".into())),
                ("bidding".to_owned(), TableValue::M(bidding())),
            ]
            .into_iter()
            .collect();
            let err = from_table_item(&item).unwrap_err();
            assert_eq!(err.reason, "`bidding.base_cpm`: `x` is not a number");
        }
        let image: HashMap<String, StreamValue> = [
            (KEY_ATTRIBUTE.to_owned(), StreamValue::S("c1".into())),
            (
                "list".to_owned(),
                StreamValue::L(vec![StreamValue::S("a".into()), StreamValue::N("?".into())]),
            ),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            from_stream_image(&image).unwrap_err().reason,
            "`list[1]`: `?` is not a number"
        );
    }

    #[test]
    fn items_nested_past_the_limit_are_refused_not_recursed_into() {
        let item = |levels: usize| -> HashMap<String, TableValue> {
            let mut value = TableValue::S("deep".into());
            for _ in 0..levels {
                value = TableValue::L(vec![value]);
            }
            [
                (KEY_ATTRIBUTE.to_owned(), TableValue::S("c1".into())),
                (VERSION_ATTRIBUTE.to_owned(), TableValue::N("1".into())),
                ("x".to_owned(), value),
            ]
            .into_iter()
            .collect()
        };
        // The item is level 1: 127 lists inside it reach the limit of 128.
        assert!(from_table_item(&item(127)).is_ok());
        for levels in [128, 1_000] {
            let err = from_table_item(&item(levels)).unwrap_err();
            assert!(
                err.reason.contains("nested deeper than 128 levels"),
                "{err}"
            );
        }
    }

    #[test]
    fn items_without_key_or_version_are_refused() {
        let no_version: HashMap<String, TableValue> =
            [(KEY_ATTRIBUTE.to_owned(), TableValue::S("c1".into()))]
                .into_iter()
                .collect();
        assert!(
            from_table_item(&no_version)
                .unwrap_err()
                .reason
                .contains("version")
        );
        let no_key: HashMap<String, TableValue> =
            [(VERSION_ATTRIBUTE.to_owned(), TableValue::N("1".into()))]
                .into_iter()
                .collect();
        assert!(
            from_table_item(&no_key)
                .unwrap_err()
                .reason
                .contains(KEY_ATTRIBUTE)
        );
        let binary: HashMap<String, TableValue> = [
            (KEY_ATTRIBUTE.to_owned(), TableValue::S("c1".into())),
            (VERSION_ATTRIBUTE.to_owned(), TableValue::N("1".into())),
            ("x".to_owned(), TableValue::B(vec![1u8].into())),
        ]
        .into_iter()
        .collect();
        assert!(from_table_item(&binary).is_err());
    }
}
