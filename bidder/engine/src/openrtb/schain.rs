//! The supply chain a request passed through (OpenRTB 2.6 §3.2.25 SupplyChain,
//! §3.2.26 SupplyChainNode; IAB Tech Lab SupplyChain Object 1.0), read for the
//! supply-chain screen. Every field is read tolerantly: a value of the wrong shape
//! is absent, never a 400, and the screen finds the chain malformed instead.

use serde::Deserialize;

use super::borrowed::{List, Str};
use super::lenient;

/// `source.schain` (2.6) or `source.ext.schain` (2.5).
#[derive(Debug, Default, Deserialize)]
pub struct SupplyChain<'a> {
    /// 1 when the chain lists every party back to the owner of the inventory.
    #[serde(default, deserialize_with = "lenient::recorded_flag")]
    pub complete: Option<u8>,
    /// Version of the SupplyChain spec, `"1.0"`.
    #[serde(borrow, default, deserialize_with = "lenient::recorded_text")]
    pub ver: Option<Str<'a>>,
    /// Every party that sold the impression, the inventory's owner first.
    /// An item that is not an object reads as an empty node (malformed).
    #[serde(borrow, default, deserialize_with = "lenient::list")]
    pub nodes: List<SupplyChainNode<'a>, 4>,
}

/// One party in the chain (§3.2.26).
#[derive(Debug, Default, Deserialize)]
pub struct SupplyChainNode<'a> {
    /// Domain of the party's ad system, where its sellers.json is served
    /// (the same domain as in ads.txt).
    #[serde(borrow, default, deserialize_with = "lenient::recorded_text")]
    pub asi: Option<Str<'a>>,
    /// The seller's id in that ad system (`seller_id` in its sellers.json), at
    /// most 64 characters; a number is read as its text.
    #[serde(borrow, default, deserialize_with = "lenient::recorded_text")]
    pub sid: Option<Str<'a>>,
    /// 1 when the party was paid for the impression (the spec's only value).
    #[serde(default, deserialize_with = "lenient::recorded_flag")]
    pub hp: Option<u8>,
    /// The request id the party issued.
    #[serde(borrow, default, deserialize_with = "lenient::recorded_text")]
    pub rid: Option<Str<'a>>,
}

impl<'de: 'a, 'a> lenient::Item<'de> for SupplyChainNode<'a> {
    fn read<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Self>, D::Error> {
        // Anything but an object is a node with nothing in it, which the screen
        // finds malformed: skipping it would make a broken chain look whole.
        Ok(Some(
            lenient::recorded_object(deserializer)?.unwrap_or_default(),
        ))
    }

    fn read_object<M: serde::de::MapAccess<'de>>(map: M) -> Result<Option<Self>, M::Error> {
        let map = serde::de::value::MapAccessDeserializer::new(map);
        SupplyChainNode::deserialize(map).map(Some)
    }
}
