//! Price ranking: the numbers that bound each campaign's bid, packed densely by
//! position, and the order candidate lists are walked in.
//!
//! The decision keeps one bid per impression, so once it holds a bid it can pass
//! over every candidate whose best possible price does not beat it, reading only
//! this small record instead of the campaign. Lists are sorted by each campaign's
//! rank key, the most it bids before any floor (its base bid, or its maximum when
//! it bids through deals only, whose floors may lift it that far), in US dollars,
//! highest first. So the first bid found is a high one, and once the key of the
//! next candidate cannot beat the standing bid, no later one can: the walk stops.

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
    /// Has segment rules naming first-party segments, so a bid of its may still
    /// be filtered out once the user store answers.
    pub(crate) first_party_segments: bool,
    /// Normal bid, CPM micros.
    pub(crate) base_bid: Micros,
    /// Highest bid, CPM micros.
    pub(crate) max_cpm: Micros,
    /// The rank key, in US dollar micros: in a sorted list, no later campaign's
    /// key is higher.
    pub(crate) rank_key_usd: Micros,
}

impl BidTerms {
    /// Whether a bid of the campaign may still be filtered out after the
    /// decision, once the user store answers (a cap, or first-party segment
    /// rules): such a bid does not stand against the others.
    pub(crate) fn awaits_store(&self) -> bool {
        self.capped || self.first_party_segments
    }

    /// The terms of a compiled campaign, ranked with `fx`.
    fn of(c: &CompiledCampaign, fx: &FxTable) -> BidTerms {
        let deal_only = c.is_deal_only();
        let before_floors = if deal_only { c.max_cpm } else { c.base_bid };
        // Compiled campaigns are priced in a currency the table knows, so this is
        // never the fallback (which would rank the campaign first: never skipped).
        let rank_key_usd = fx
            .convert_down(before_floors, c.currency, Currency::USD)
            .unwrap_or(Micros::MAX);
        BidTerms {
            currency: c.currency,
            deal_only,
            capped: c.frequency_cap.is_some(),
            first_party_segments: c.segments.as_ref().is_some_and(|s| s.needs_first_party()),
            base_bid: c.base_bid,
            max_cpm: c.max_cpm,
            rank_key_usd,
        }
    }
}

/// Every indexed campaign's terms by position, and the walking order.
#[derive(Debug, Default)]
pub(crate) struct PriceRank {
    terms: Vec<BidTerms>,
}

impl PriceRank {
    /// Adds the campaign at the next position.
    pub(crate) fn add(&mut self, c: &CompiledCampaign, fx: &FxTable) {
        self.terms.push(BidTerms::of(c, fx));
    }

    /// The terms of the campaign at `position`.
    #[inline]
    pub(crate) fn terms(&self, position: u32) -> &BidTerms {
        &self.terms[position as usize]
    }

    /// Orders a candidate list highest rank key first (ties by position, so the
    /// order is deterministic).
    pub(crate) fn sort(&self, list: &mut [u32]) {
        list.sort_unstable_by_key(|&p| (std::cmp::Reverse(self.terms(p).rank_key_usd), p));
    }
}
