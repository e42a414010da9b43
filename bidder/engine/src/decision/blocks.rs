//! The request's block lists (`bcat`, `badv`, `bapp`; OpenRTB 2.6 §3.2.1), checked
//! for every candidate of every impression.
//!
//! Short lists (all real ones) are scanned. Long ones are hashed once per request,
//! so a check costs a few lookups however long the lists are: without that, a
//! request of a few KB gzip-compressed, with thousands of impressions and tens of
//! thousands of blocked domains, held a worker for seconds. A hash collision can
//! only make a campaign look blocked (a lost bid), never let a blocked one through.

use rustc_hash::FxHashSet;

use crate::openrtb::request::BidRequest;
use crate::snapshot::CompiledCampaign;
use crate::snapshot::bare_domain;

/// Entries up to which a list is scanned rather than hashed.
const SCAN_UP_TO: usize = 32;

/// The block lists of the request being decided, hashed when long; buffers reused
/// across requests.
#[derive(Debug, Default)]
pub(crate) struct BlockLists {
    hashed: bool,
    /// Where the bare domain lies in each `badv` entry (see `bare_domain`),
    /// found once per request rather than per candidate.
    bare_badv: Vec<(usize, usize)>,
    categories: FxHashSet<u64>,
    domains: FxHashSet<u64>,
    apps: FxHashSet<u64>,
}

impl BlockLists {
    /// Prepares for `req`: hashes its lists when one is long.
    pub(crate) fn prepare(&mut self, req: &BidRequest<'_>) {
        self.bare_badv.clear();
        self.bare_badv.extend(req.badv.iter().map(|entry| {
            let bare = bare_domain(entry);
            let start = bare.as_ptr() as usize - entry.as_ptr() as usize;
            (start, start + bare.len())
        }));
        self.hashed = [req.bcat.len(), req.badv.len(), req.bapp.len()]
            .iter()
            .any(|len| *len > SCAN_UP_TO);
        if !self.hashed {
            return;
        }
        self.categories.clear();
        self.categories
            .extend(req.bcat.iter().map(|c| hash_lowercase(c.trim())));
        self.domains.clear();
        let domains = bare_badv(req, &self.bare_badv).map(hash_lowercase);
        self.domains.extend(domains);
        self.apps.clear();
        self.apps
            .extend(req.bapp.iter().map(|a| hash(a.as_bytes())));
    }

    /// Whether the lists of `req` (the one prepared for) exclude `campaign`: one of
    /// its categories (in the `bcat` taxonomy) or their parents is blocked, or it
    /// has none in that taxonomy; its advertiser domain or a domain it is under;
    /// or its app. Categories and domains compare without case.
    pub(crate) fn exclude(&self, req: &BidRequest<'_>, campaign: &CompiledCampaign) -> bool {
        if !self.hashed {
            return campaign.is_blocked_by(req, bare_badv(req, &self.bare_badv));
        }
        let cattax = req.bcat_cattax();
        let category_blocked = !req.bcat.is_empty()
            && campaign.categories_in(cattax).is_none_or(|categories| {
                categories.iter().any(|category| {
                    // `IAB1-5` is blocked by `IAB1-5` and by its parent `IAB1`;
                    // other taxonomies' ids have no such parents.
                    let parents = category
                        .match_indices('-')
                        .filter(|_| cattax == 1)
                        .map(|(at, _)| &category[..at]);
                    std::iter::once(category.as_str())
                        .chain(parents)
                        .any(|rule| self.categories.contains(&hash_lowercase(rule)))
                })
            });
        let domain = &campaign.advertiser_domain;
        // `ads.shoes.example` is blocked by itself, `shoes.example` and `example`.
        let parents = domain.match_indices('.').map(|(at, _)| &domain[at + 1..]);
        let domain_blocked = std::iter::once(domain.as_str())
            .chain(parents)
            .any(|d| self.domains.contains(&hash_lowercase(d)));
        let app_blocked = campaign
            .app_bundle
            .as_deref()
            .is_some_and(|bundle| self.apps.contains(&hash(bundle.as_bytes())));
        category_blocked || domain_blocked || app_blocked
    }
}

/// The `badv` entries of `req` as bare domains, from the ranges `prepare` found.
fn bare_badv<'r>(
    req: &'r BidRequest<'_>,
    ranges: &'r [(usize, usize)],
) -> impl Iterator<Item = &'r str> {
    req.badv
        .iter()
        .zip(ranges)
        .map(|(entry, &(start, end))| &entry[start..end])
}

/// 64-bit FNV-1a.
fn hash(bytes: &[u8]) -> u64 {
    hash_bytes(bytes.iter().copied())
}

/// 64-bit FNV-1a of the ASCII-lowercased text (domains compare without case).
fn hash_lowercase(text: &str) -> u64 {
    hash_bytes(text.bytes().map(|b| b.to_ascii_lowercase()))
}

fn hash_bytes(bytes: impl Iterator<Item = u8>) -> u64 {
    bytes.fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use proptest::prelude::*;

    use super::*;
    use crate::campaign::{Bidding, Budget, Campaign, CampaignStatus, Targeting};
    use crate::money::FxTable;

    fn campaign(categories: &[&str], domain: &str, bundle: Option<&str>) -> CompiledCampaign {
        let campaign = Campaign {
            id: "c".into(),
            version: 1,
            status: CampaignStatus::Active,
            advertiser_id: None,
            advertiser_domain: domain.into(),
            categories: categories.iter().map(|c| (*c).to_owned()).collect(),
            category_taxonomies: vec![],
            app_bundle: bundle.map(str::to_owned),
            creatives: vec![],
            targeting: Targeting::default(),
            bidding: Bidding {
                max_cpm: 2.0,
                base_bid: 1.0,
                currency: "USD".into(),
            },
            budget: Budget::default(),
            frequency_cap: None,
            screening: Default::default(),
            segments: Default::default(),
        };
        let fx = FxTable::default();
        CompiledCampaign::compile(&campaign, &fx, Arc::default()).unwrap()
    }

    fn request(bcat: &[String], badv: &[String], bapp: &[String]) -> String {
        serde_json::json!({
            "id": "r", "imp": [{ "id": "1" }], "bcat": bcat, "badv": badv, "bapp": bapp
        })
        .to_string()
    }

    fn word() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "IAB1", "IAB1-5", "IAB12", "shoes", "Shoes", "ads", "example", "com", "x",
        ])
        .prop_map(str::to_owned)
    }

    fn joined(sep: &'static str) -> impl Strategy<Value = String> {
        prop::collection::vec(word(), 1..4).prop_map(move |w| w.join(sep))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        /// Hashed long lists decide exactly like scanning them (collisions aside,
        /// which these few names do not have).
        #[test]
        fn hashed_lists_block_what_scanning_blocks(
            categories in prop::collection::vec(joined("-"), 0..3),
            domain in joined("."),
            bundle in prop::option::of(joined(".")),
            bcat in prop::collection::vec(joined("-"), 0..4),
            badv in prop::collection::vec(joined("."), 0..4),
            bapp in prop::collection::vec(joined("."), 0..4),
        ) {
            let categories: Vec<&str> = categories.iter().map(String::as_str).collect();
            let campaign = campaign(&categories, &domain, bundle.as_deref());
            // Padding past SCAN_UP_TO switches to hashing without blocking anything.
            let padding: Vec<String> = (0..=SCAN_UP_TO).map(|i| format!("pad-{i}.invalid")).collect();
            let short = request(&bcat, &badv, &bapp);
            let long = request(&bcat, &[badv.clone(), padding].concat(), &bapp);
            let (short, long) = (
                BidRequest::parse(short.as_bytes()).unwrap(),
                BidRequest::parse(long.as_bytes()).unwrap(),
            );
            let mut lists = BlockLists::default();
            lists.prepare(&short);
            prop_assert!(!lists.hashed);
            let scanned = lists.exclude(&short, &campaign);
            prop_assert_eq!(scanned, campaign.is_blocked(&short));
            lists.prepare(&long);
            prop_assert!(lists.hashed);
            prop_assert_eq!(lists.exclude(&long, &campaign), scanned);
        }
    }
}
