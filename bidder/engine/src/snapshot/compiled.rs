//! A campaign in the form the bid path reads: prices in micros, sets hashed, text
//! normalized, and its spend counter attached.

use std::sync::Arc;

use rustc_hash::FxHashSet;

use super::creative::{CompiledCreative, compile_creative};
use crate::audience::SegmentRules;
use crate::budget::{BudgetLimits, BudgetZone, CampaignBudget};
use crate::campaign::{Campaign, CampaignError, FrequencyCap, TaxonomyCategories, VideoTargeting};
use crate::money::{Currency, FxTable, Micros, micros_down};
use crate::openrtb::request::{BidRequest, Imp};
use crate::screen::ScreeningPolicy;

/// A campaign ready to bid.
#[derive(Debug)]
pub struct CompiledCampaign {
    /// Campaign id (`cid`).
    pub id: String,
    /// Version of the source record.
    pub version: u64,
    /// Advertiser domain (`adomain`).
    pub advertiser_domain: String,
    /// Ad categories in IAB Content Category 1.0 (`cat` with `cattax` 1).
    pub categories: Vec<String>,
    /// Ad categories in other taxonomies.
    pub category_taxonomies: Vec<TaxonomyCategories>,
    /// Advertised app store id.
    pub app_bundle: Option<String>,
    /// The ads.
    pub creatives: Vec<CompiledCreative>,
    /// Currency of prices and budget.
    pub currency: Currency,
    /// Highest bid, CPM micros in `currency`.
    pub max_cpm: Micros,
    /// Normal bid, CPM micros in `currency`.
    pub base_bid: Micros,
    /// Spend limits in micros of `currency`, the budget day's zone and pacing.
    pub budget: BudgetLimits,
    /// This bidder's lease of the budget; shared with every other snapshot.
    pub lease: Arc<CampaignBudget>,
    /// Frequency cap, enforced outside the engine.
    pub frequency_cap: Option<FrequencyCap>,
    /// What the campaign does about the screen's findings.
    pub screening: ScreeningPolicy,
    /// Its segment rules; `None` when it has none (most campaigns).
    pub segments: Option<Box<SegmentRules>>,
    pub(crate) targeting: CompiledTargeting,
}

/// Targeting sets in lookup-ready form. Empty sets mean "any".
#[derive(Debug, Default)]
pub(crate) struct CompiledTargeting {
    pub(crate) countries: Vec<[u8; 3]>,
    pub(crate) regions: FxHashSet<String>,
    pub(crate) device_types: Vec<u8>,
    /// Lower case.
    pub(crate) os: Vec<String>,
    pub(crate) categories_include: Vec<String>,
    pub(crate) categories_exclude: Vec<String>,
    pub(crate) publishers_allow: FxHashSet<String>,
    pub(crate) publishers_deny: FxHashSet<String>,
    pub(crate) deal_ids: Vec<String>,
    /// Bit `h` set when the campaign bids in UTC hour `h`.
    pub(crate) hours_mask: u32,
    /// `imp.rwdd` required (`true`) or refused (`false`).
    pub(crate) rewarded: Option<bool>,
    /// Rules for video slots.
    pub(crate) video: VideoTargeting,
}

impl CompiledCampaign {
    /// Compiles a validated campaign. Fails only when its currency is not in `fx`.
    pub fn compile(
        campaign: &Campaign,
        fx: &FxTable,
        lease: Arc<CampaignBudget>,
    ) -> Result<CompiledCampaign, CampaignError> {
        let fail = |field: &str, reason: &str| CampaignError {
            campaign: campaign.id.clone(),
            field: field.to_owned(),
            reason: reason.to_owned(),
        };
        let currency = Currency::parse(&campaign.bidding.currency)
            .filter(|c| fx.knows(*c))
            .ok_or_else(|| fail("bidding.currency", "not in the bidder's FX table"))?;
        // Rounded down: a bid never passes what the advertiser allowed, nor spend
        // the budget (see `money`).
        let micros = |field: &str, amount: f64| {
            micros_down(amount)
                .filter(|m| *m > 0)
                .ok_or_else(|| fail(field, "must be at least 0.000001"))
        };
        let budget = BudgetLimits {
            daily: campaign
                .budget
                .daily
                .map(|d| micros("budget.daily", d))
                .transpose()?,
            total: campaign
                .budget
                .total
                .map(|t| micros("budget.total", t))
                .transpose()?,
            zone: match &campaign.budget.timezone {
                Some(name) => BudgetZone::named(name)
                    .map_err(|_| fail("budget.timezone", "unknown time zone"))?,
                None => BudgetZone::default(),
            },
            pacing: campaign.budget.pacing,
        };
        let t = &campaign.targeting;
        let hours_mask = if t.hours_utc.is_empty() {
            u32::MAX
        } else {
            t.hours_utc.iter().fold(0, |mask, h| mask | 1 << h)
        };
        Ok(CompiledCampaign {
            id: campaign.id.clone(),
            version: campaign.version,
            // `www.shoes.example` is blocked by `badv` `shoes.example`, so it is
            // kept in the form exchanges list.
            advertiser_domain: bare_domain(&campaign.advertiser_domain).to_owned(),
            categories: campaign.categories.clone(),
            category_taxonomies: campaign.category_taxonomies.clone(),
            app_bundle: campaign.app_bundle.clone(),
            creatives: campaign.creatives.iter().map(compile_creative).collect(),
            currency,
            max_cpm: micros("bidding.max_cpm", campaign.bidding.max_cpm)?,
            base_bid: micros("bidding.base_bid", campaign.bidding.base_bid)?,
            budget,
            lease,
            frequency_cap: campaign.frequency_cap,
            screening: ScreeningPolicy::compile(&campaign.screening),
            segments: SegmentRules::compile(&campaign.segments),
            targeting: CompiledTargeting {
                countries: t.countries.iter().filter_map(|c| country_key(c)).collect(),
                regions: t.regions.iter().map(|r| r.to_ascii_uppercase()).collect(),
                device_types: t.device_types.clone(),
                os: t.os.iter().map(|o| o.to_ascii_lowercase()).collect(),
                categories_include: t.categories_include.clone(),
                categories_exclude: t.categories_exclude.clone(),
                publishers_allow: t.publishers_allow.iter().cloned().collect(),
                publishers_deny: t.publishers_deny.iter().cloned().collect(),
                deal_ids: t.deal_ids.clone(),
                hours_mask,
                rewarded: t.rewarded,
                video: t.video.clone(),
            },
        })
    }

    /// Whether the request's audience and inventory fit the campaign's targeting
    /// (everything but deals, which are per impression).
    pub(crate) fn targets(&self, req: &BidRequest<'_>, hour_utc: u32) -> bool {
        let t = &self.targeting;
        if t.hours_mask & (1 << hour_utc) == 0 {
            return false;
        }
        if !t.countries.is_empty()
            && !req
                .country()
                .and_then(country_key)
                .is_some_and(|c| t.countries.contains(&c))
        {
            return false;
        }
        if !t.regions.is_empty()
            && !req
                .region()
                .is_some_and(|r| contains_ignore_case(&t.regions, r))
        {
            return false;
        }
        if !t.device_types.is_empty()
            && !req
                .device_type()
                .is_some_and(|d| t.device_types.contains(&d))
        {
            return false;
        }
        if !t.os.is_empty()
            && !req
                .os()
                .is_some_and(|os| t.os.iter().any(|o| o.eq_ignore_ascii_case(os)))
        {
            return false;
        }
        let publisher = req.publisher_id();
        if !t.publishers_allow.is_empty()
            && !publisher.is_some_and(|p| t.publishers_allow.contains(p))
        {
            return false;
        }
        if publisher.is_some_and(|p| t.publishers_deny.contains(p)) {
            return false;
        }
        // Content rules are IAB 1.0 categories: in another taxonomy, an include
        // rule cannot match and an exclude rule cannot be shown not to.
        let iab_1_0 = req.content_cattax() == 1;
        let included = |cat: &str| {
            t.categories_include
                .iter()
                .any(|rule| category_matches(rule, cat))
        };
        if !t.categories_include.is_empty() && (!iab_1_0 || !req.content_categories().any(included))
        {
            return false;
        }
        if !t.categories_exclude.is_empty()
            && req.content_categories().any(|cat| {
                !iab_1_0
                    || t.categories_exclude
                        .iter()
                        .any(|rule| category_matches(rule, cat))
            })
        {
            return false;
        }
        true
    }

    /// Whether the campaign's impression-level rules (`targeting.rewarded`) take
    /// `imp`.
    pub(crate) fn targets_imp(&self, imp: &Imp<'_>) -> bool {
        self.targeting
            .rewarded
            .is_none_or(|wanted| (imp.rwdd == 1) == wanted)
    }

    /// The campaign's categories in taxonomy `cattax` (1 is IAB Content Category
    /// 1.0), or `None` when it declares none there.
    pub fn categories_in(&self, cattax: u16) -> Option<&[String]> {
        if cattax == 1 {
            return Some(&self.categories);
        }
        self.category_taxonomies
            .iter()
            .find(|t| t.cattax == cattax)
            .map(|t| t.categories.as_slice())
    }

    /// Whether the campaign's categories fall under the request's `bcat`: one of
    /// them, or (in IAB 1.0) its parent, is listed, ignoring case. A campaign
    /// with no categories in the `bcat` taxonomy cannot show it is not blocked,
    /// so it counts as blocked wherever `bcat` is set.
    fn category_blocked(&self, req: &BidRequest<'_>) -> bool {
        if req.bcat.is_empty() {
            return false;
        }
        let cattax = req.bcat_cattax();
        let Some(categories) = self.categories_in(cattax) else {
            return true;
        };
        req.bcat.iter().any(|blocked| {
            let blocked = blocked.trim();
            categories.iter().any(|cat| {
                if cattax == 1 {
                    category_matches(blocked, cat)
                } else {
                    blocked.eq_ignore_ascii_case(cat)
                }
            })
        })
    }

    /// Whether the request's block lists (`bcat`, `badv`, `bapp`) exclude the
    /// campaign: the plain reading, which the bid path's prepared lists
    /// (`decision::blocks`) are tested against.
    #[cfg(test)]
    pub(crate) fn is_blocked(&self, req: &BidRequest<'_>) -> bool {
        self.is_blocked_by(req, req.badv.iter().map(|d| bare_domain(d)))
    }

    /// [`CompiledCampaign::is_blocked`], with `badv` given as bare domains (see
    /// [`bare_domain`]), for a caller that made them once per request.
    pub(crate) fn is_blocked_by<'d>(
        &self,
        req: &BidRequest<'_>,
        mut bare_badv: impl Iterator<Item = &'d str>,
    ) -> bool {
        let mut adv_blocked =
            || bare_badv.any(|blocked| domain_within(&self.advertiser_domain, blocked));
        let app_blocked = || {
            self.app_bundle
                .as_deref()
                .is_some_and(|bundle| req.bapp.iter().any(|b| b == bundle))
        };
        self.category_blocked(req) || adv_blocked() || app_blocked()
    }

    /// Whether the campaign may bid through deals only.
    pub fn is_deal_only(&self) -> bool {
        !self.targeting.deal_ids.is_empty()
    }

    /// Whether the campaign targets `deal_id`.
    pub(crate) fn targets_deal(&self, deal_id: &str) -> bool {
        self.targeting.deal_ids.iter().any(|d| d == deal_id)
    }
}

/// A country code as an index key: three upper-case ASCII letters.
pub(crate) fn country_key(code: &str) -> Option<[u8; 3]> {
    let bytes: [u8; 3] = code.as_bytes().try_into().ok()?;
    Some(bytes.map(|b| b.to_ascii_uppercase()))
}

fn contains_ignore_case(set: &FxHashSet<String>, value: &str) -> bool {
    if value.bytes().all(|b| !b.is_ascii_lowercase()) {
        return set.contains(value);
    }
    set.iter().any(|v| v.eq_ignore_ascii_case(value))
}

/// IAB 1.0 category rule: `IAB1` matches `IAB1` and its subcategories `IAB1-*`,
/// ignoring ASCII case (`iab1` is `IAB1`).
pub(crate) fn category_matches(rule: &str, category: &str) -> bool {
    let Some(head) = category.get(..rule.len()) else {
        return false;
    };
    head.eq_ignore_ascii_case(rule)
        && matches!(category.as_bytes().get(rule.len()), None | Some(b'-'))
}

/// A domain as `badv` and `adomain` compare it: without scheme, path, port, a
/// leading `www.` or a trailing dot (`https://WWW.Shoes.Example./x` is
/// `Shoes.Example`; case is ignored where it is compared).
pub(crate) fn bare_domain(text: &str) -> &str {
    // Most entries are bare already: one pass over the bytes tells.
    let bytes = text.as_bytes();
    let plain = bytes
        .iter()
        .all(|b| !matches!(b, b':' | b'/' | b'?' | b'#' | b' ' | b'\t'));
    let www = bytes.len() >= 4 && bytes[..4].eq_ignore_ascii_case(b"www.");
    if plain && !www && bytes.last() != Some(&b'.') {
        return text;
    }
    let text = text.trim();
    let text = match text.find(':') {
        Some(at) if text[at..].starts_with("://") => &text[at + 3..],
        _ => text.strip_prefix("//").unwrap_or(text),
    };
    let text = text.split(['/', '?', '#']).next().unwrap_or_default();
    // `user:password@host:port`: the host.
    let text = text.rsplit_once('@').map_or(text, |(_, host)| host);
    let text = text.split(':').next().unwrap_or_default();
    let text = text.trim_end_matches('.');
    match text.get(..4) {
        Some(www) if www.eq_ignore_ascii_case("www.") => &text[4..],
        _ => text,
    }
}

/// Whether `domain` is `blocked` or one of its subdomains, ignoring case.
fn domain_within(domain: &str, blocked: &str) -> bool {
    if domain.len() < blocked.len() {
        return false;
    }
    let (head, tail) = domain.split_at(domain.len() - blocked.len());
    tail.eq_ignore_ascii_case(blocked) && (head.is_empty() || head.ends_with('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_match_themselves_and_subcategories() {
        assert!(category_matches("IAB1", "IAB1"));
        assert!(category_matches("IAB1", "IAB1-5"));
        assert!(!category_matches("IAB1", "IAB12"));
        assert!(!category_matches("IAB1-5", "IAB1"));
    }

    #[test]
    fn categories_compare_without_case() {
        assert!(category_matches("iab1", "IAB1-5"));
        assert!(category_matches("IAB1-5", "iab1-5"));
        assert!(!category_matches("iab1", "IAB12"));
        assert!(!category_matches("IAB1-", "IAB1"));
    }

    #[test]
    fn blocked_domains_are_read_in_every_common_spelling() {
        for spelling in [
            "shoes.example",
            "Shoes.Example",
            "www.shoes.example",
            "shoes.example.",
            "https://www.shoes.example/path?q=1",
            "http://shoes.example:8080",
            " shoes.example ",
            "//shoes.example/x",
            "https://user:pw@shoes.example:443/",
        ] {
            assert!(
                domain_within("shoes.example", bare_domain(spelling)),
                "{spelling}"
            );
        }
        for nothing in ["", ".", "https://", "www."] {
            assert!(
                !domain_within("shoes.example", bare_domain(nothing)),
                "{nothing}"
            );
        }
        assert!(!domain_within(
            "shoes.example",
            bare_domain("myshoes.example")
        ));
    }

    #[test]
    fn domains_block_their_subdomains_only() {
        assert!(domain_within("shoes.example", "shoes.example"));
        assert!(domain_within("eu.shoes.example", "Shoes.Example"));
        assert!(!domain_within("myshoes.example", "shoes.example"));
        assert!(!domain_within("example", "shoes.example"));
    }
}
