//! A campaign's screening policy: which invalid-traffic and supply-chain findings
//! it refuses to bid on (`docs/ivt.md`). Every check is on by default, the safe
//! choice for the advertiser's money, except requiring a supply chain at all:
//! without one the seller is the exchange itself, which ads.txt still checks.

use serde::{Deserialize, Serialize};

/// `screening = { ... }` in a campaign; every field optional.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, default)]
pub struct Screening {
    /// Refuse user agents on the bot lists (crawlers, headless browsers, tools).
    pub block_bots: bool,
    /// Refuse IP addresses in data-centre ranges (hosting, cloud, proxies).
    pub block_datacenter: bool,
    /// Refuse requests that carry no supply chain (`source.schain`). Off by
    /// default: an exchange selling its own publishers' inventory may send none.
    pub require_schain: bool,
    /// Refuse supply chains that say they are incomplete (`complete = 0`), are
    /// malformed, or do not end at the exchange that sent the request.
    pub require_schain_complete: bool,
    /// Refuse sellers the publisher's ads.txt / app-ads.txt does not list, and
    /// chain nodes an ad system's sellers.json does not know (where the operator
    /// loaded those files; an unknown publisher or ad system is not judged).
    pub require_authorized_seller: bool,
    /// Refuse requests whose invalid-traffic score (0–1) reaches this; absent:
    /// the scoring model's own threshold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_ivt_score: Option<f64>,
    /// From this score (0–1) up to the refusal limit, bid `price × (1 − score)`
    /// (never under the floor: such a bid is not made); absent: never lowered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lower_price_from_ivt_score: Option<f64>,
}

impl Default for Screening {
    fn default() -> Screening {
        Screening {
            block_bots: true,
            block_datacenter: true,
            require_schain: false,
            require_schain_complete: true,
            require_authorized_seller: true,
            max_ivt_score: None,
            lower_price_from_ivt_score: None,
        }
    }
}

impl Screening {
    /// Whether every field holds its default (left out when written).
    pub fn is_default(&self) -> bool {
        *self == Screening::default()
    }

    /// The first field with a value out of range, with why.
    pub(crate) fn invalid_field(&self) -> Option<(&'static str, &'static str)> {
        // A limit of 0 would refuse every request a model scores.
        if self.max_ivt_score.is_some_and(|s| !(s > 0.0 && s <= 1.0)) {
            return Some(("screening.max_ivt_score", "must be above 0 and at most 1"));
        }
        if self
            .lower_price_from_ivt_score
            .is_some_and(|s| !(0.0..1.0).contains(&s))
        {
            return Some((
                "screening.lower_price_from_ivt_score",
                "must be from 0 to below 1",
            ));
        }
        if let (Some(from), Some(max)) = (self.lower_price_from_ivt_score, self.max_ivt_score)
            && from >= max
        {
            return Some((
                "screening.lower_price_from_ivt_score",
                "must be below screening.max_ivt_score",
            ));
        }
        None
    }
}
