//! Price ranking: the numbers that bound each campaign's bid, packed densely by
//! position, and the order candidate lists are walked in (highest base bid first).
//!
//! The decision keeps one bid per impression, so once it holds a bid it can pass
//! over every candidate whose best possible price does not beat it, reading only
//! this small record instead of the campaign. Walking candidates from the highest
//! base bid down makes the first bid found a high one, so most of the rest are
//! passed over. The order is only a heuristic: what is skipped is decided by the
//! bound alone, so the result never depends on it.

use crate::money::{Currency, FxTable, Micros};
use crate::snapshot::compiled::CompiledCampaign;

/// What bounds one campaign's price, in the campaign's currency.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BidTerms {
    /// Currency of `base_bid` and `max_cpm`.
    pub(crate) currency: Currency,
    /// Bids through deals only, whose floors the impression's floor does not bound.
    pub(crate) deal_only: bool,
    /// Has a frequency cap, so a bid of its may still be filtered out after the
    /// decision.
    pub(crate) capped: bool,
    /// Normal bid, CPM micros.
    pub(crate) base_bid: Micros,
    /// Highest bid, CPM micros.
    pub(crate) max_cpm: Micros,
}

impl BidTerms {
    /// The terms of a compiled campaign.
    pub(crate) fn of(c: &CompiledCampaign) -> BidTerms {
        BidTerms {
            currency: c.currency,
            deal_only: c.is_deal_only(),
            capped: c.frequency_cap.is_some(),
            base_bid: c.base_bid,
            max_cpm: c.max_cpm,
        }
    }
}

/// Every indexed campaign's terms by position, and the walking order.
#[derive(Debug, Default)]
pub(crate) struct PriceRank {
    terms: Vec<BidTerms>,
    /// Base bid in US dollars, by position: the sort key of candidate lists.
    base_usd: Vec<Micros>,
}

impl PriceRank {
    /// Adds the campaign at the next position.
    pub(crate) fn add(&mut self, c: &CompiledCampaign, fx: &FxTable) {
        self.terms.push(BidTerms::of(c));
        // Compiled campaigns are priced in a currency the table knows.
        let usd = fx.convert_down(c.base_bid, c.currency, Currency::USD);
        self.base_usd.push(usd.unwrap_or(0));
    }

    /// The terms of the campaign at `position`.
    #[inline]
    pub(crate) fn terms(&self, position: u32) -> &BidTerms {
        &self.terms[position as usize]
    }

    /// Orders a candidate list highest base bid first (ties by position, so the
    /// order is deterministic).
    pub(crate) fn sort(&self, list: &mut [u32]) {
        list.sort_unstable_by_key(|&p| (std::cmp::Reverse(self.base_usd[p as usize]), p));
    }
}
