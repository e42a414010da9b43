//! Every ad system's sellers, compiled for lookups on the bid path.
//!
//! Two levels of `FxHashMap` keyed by 64-bit xxh3 keys (`ads_txt/key.rs`): ad
//! system domain (case-insensitive) → seller id (exact) → seller type. A lookup
//! hashes its arguments on the stack and probes each map once: no allocation,
//! no string comparison. The ids themselves are not kept (the largest files
//! list over a million sellers), so a 64-bit collision between two keys is the
//! only way to a wrong answer.

use rustc_hash::FxHashMap;

use super::{SellerType, SellersJson};
use crate::ads_txt::key;

/// Every ad system's sellers, keyed by the domain the sellers.json is served
/// from (the SupplyChain node's `asi`).
///
/// Built once off the bid path with [`Sellers::insert`], then only read.
#[derive(Debug, Default, Clone)]
pub struct Sellers {
    ad_systems: FxHashMap<u64, FxHashMap<u64, SellerType>>,
    seller_count: usize,
}

/// One ad system's sellers, borrowed from [`Sellers`].
#[derive(Debug, Clone, Copy)]
pub struct SellerDirectory<'a> {
    sellers: &'a FxHashMap<u64, SellerType>,
}

impl Sellers {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Files `file` under `ad_system_domain` (matched without regard to ASCII
    /// case), replacing any file filed under the same domain. Only seller ids
    /// and types are kept.
    pub fn insert(&mut self, ad_system_domain: &str, file: SellersJson) {
        let mut sellers =
            FxHashMap::with_capacity_and_hasher(file.sellers().len(), Default::default());
        for seller in file.sellers() {
            // The parser already dropped repeated ids; the first one wins here too.
            sellers
                .entry(key::exact(&seller.seller_id))
                .or_insert(seller.seller_type);
        }
        self.seller_count += sellers.len();
        if let Some(replaced) = self
            .ad_systems
            .insert(key::caseless(ad_system_domain), sellers)
        {
            self.seller_count -= replaced.len();
        }
    }

    /// The sellers of the ad system whose sellers.json was filed under `asi`
    /// (ASCII case ignored); `None` if none was.
    pub fn ad_system(&self, asi: &str) -> Option<SellerDirectory<'_>> {
        self.ad_systems
            .get(&key::caseless(asi))
            .map(|sellers| SellerDirectory { sellers })
    }

    /// Sellers filed, over all ad systems.
    pub fn len(&self) -> usize {
        self.seller_count
    }

    /// Whether no seller is filed (ad systems with empty files may be).
    pub fn is_empty(&self) -> bool {
        self.seller_count == 0
    }
}

impl SellerDirectory<'_> {
    /// The type of `seller_id` (exact, case-sensitive: sellers.json 1.0 makes
    /// it the ads.txt account id and SupplyChain `sid`, and declares only
    /// `seller_type` case-insensitive), or `None` if the ad system does not
    /// list it.
    pub fn seller_type(&self, seller_id: &str) -> Option<SellerType> {
        self.sellers.get(&key::exact(seller_id)).copied()
    }

    /// Sellers the ad system lists.
    pub fn len(&self) -> usize {
        self.sellers.len()
    }

    /// Whether the ad system lists no seller.
    pub fn is_empty(&self) -> bool {
        self.sellers.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sellers_json::synthetic_sellers;

    fn file(text: &str) -> SellersJson {
        SellersJson::parse(text).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Ad system domains ignore ASCII case; seller ids match exactly.
    #[test]
    fn lookup_case_rules() {
        let mut sellers = Sellers::new();
        sellers.insert(
            "SSP.Example.com",
            file(r#"{"sellers":[{"seller_id":"Pub-1","seller_type":"PUBLISHER"},{"seller_id":"42","seller_type":"both"}]}"#),
        );
        let directory = sellers.ad_system("ssp.example.COM").expect("filed");
        assert_eq!(directory.seller_type("Pub-1"), Some(SellerType::Publisher));
        assert_eq!(directory.seller_type("pub-1"), None);
        assert_eq!(directory.seller_type("PUB-1"), None);
        assert_eq!(directory.seller_type(" Pub-1"), None);
        assert_eq!(directory.seller_type("42"), Some(SellerType::Both));
        assert_eq!(directory.seller_type(""), None);
        assert!(sellers.ad_system("other.example.com").is_none());
        assert!(
            sellers.ad_system("www.ssp.example.com").is_none(),
            "no parent walk for asi"
        );
    }

    /// Replacing an ad system's file replaces its sellers and keeps the count right.
    #[test]
    fn insert_replaces_and_counts() {
        let mut sellers = Sellers::new();
        assert!(sellers.is_empty());
        sellers.insert("a.com", file(&synthetic_sellers(10)));
        sellers.insert("b.com", file(&synthetic_sellers(5)));
        assert_eq!(sellers.len(), 15);
        sellers.insert(
            "A.com",
            file(r#"{"sellers":[{"seller_id":"new","seller_type":"INTERMEDIARY"}]}"#),
        );
        assert_eq!(sellers.len(), 6);
        let a = sellers.ad_system("a.com").expect("filed");
        assert_eq!(a.seller_type("0"), None);
        assert_eq!(a.seller_type("new"), Some(SellerType::Intermediary));
        sellers.insert("c.com", file(r#"{"sellers":[]}"#));
        assert!(sellers.ad_system("c.com").is_some_and(|c| c.is_empty()));
        assert_eq!(sellers.len(), 6);
    }

    /// 10k sellers load and each is found with its type.
    #[test]
    fn ten_thousand_sellers_load_and_look_up() {
        let n = 10_000;
        let parsed = file(&synthetic_sellers(n));
        assert_eq!(parsed.sellers().len(), n);
        assert!(parsed.skipped().is_empty());
        let mut sellers = Sellers::new();
        sellers.insert("ssp.example", parsed);
        assert_eq!(sellers.len(), n);
        let directory = sellers.ad_system("ssp.example").expect("filed");
        let types = [
            SellerType::Publisher,
            SellerType::Intermediary,
            SellerType::Both,
        ];
        for i in 0..n {
            assert_eq!(
                directory.seller_type(&i.to_string()),
                Some(types[i % 3]),
                "seller {i}"
            );
        }
        assert_eq!(directory.seller_type(&n.to_string()), None);
    }
}
