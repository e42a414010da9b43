//! Prices in the response currency: floors rounded up, a campaign's prices
//! rounded down (see `money`), and the bounds that let the walk skip candidates.

use super::NoBidReason;
use crate::money::{Currency, FxTable, Micros, micros_up};
use crate::openrtb::request::{BidRequest, Str};
use crate::screen::FULL_PRICE_PER_MILLE;
use crate::snapshot::BidTerms;

/// The first currency the exchange accepts that we can price in; USD when unstated.
pub(super) fn response_currency(req: &BidRequest<'_>, fx: &FxTable) -> Option<Currency> {
    if req.cur.is_empty() {
        return Some(Currency::USD);
    }
    req.cur
        .iter()
        .filter_map(|c| Currency::parse(c))
        .find(|c| fx.knows(*c))
}

/// What prices one request: the FX table and the response currency.
pub(super) struct Pricing<'f> {
    pub(super) fx: &'f FxTable,
    pub(super) currency: Currency,
    /// Units of `currency` per US dollar.
    units_per_usd: f64,
}

impl<'f> Pricing<'f> {
    /// Pricing in `currency`, which `fx` knows.
    pub(super) fn new(fx: &'f FxTable, currency: Currency) -> Pricing<'f> {
        Pricing {
            fx,
            currency,
            units_per_usd: fx.units_per_usd(currency).unwrap_or(f64::INFINITY),
        }
    }

    /// Whether a campaign ranked at `key_usd` (or lower) could bid more than `best`
    /// on an impression whose own floor is `imp_floor`. Never false for one that
    /// could: open-market campaigns bid at least the floor, and otherwise at most
    /// their key, which rounding may have cut by under one micro-dollar.
    pub(super) fn ranked_could_beat(
        &self,
        key_usd: Micros,
        imp_floor: Result<Micros, NoBidReason>,
        best: Micros,
    ) -> bool {
        if imp_floor.is_ok_and(|floor| floor > best) {
            return true;
        }
        // In the response currency, rounded generously up (one micro-dollar for the
        // key's rounding, a relative margin and one micro for the float arithmetic).
        let ceiling = (key_usd as f64 + 1.0) * self.units_per_usd * (1.0 + 1e-9) + 1.0;
        ceiling > best as f64
    }
    /// A floor in the response currency, rounded up: a bid of it reads back, as the
    /// exchange reads our price, at least the floor (see `money`).
    pub(super) fn floor(
        &self,
        amount: f64,
        currency: Option<&Str<'_>>,
    ) -> Result<Micros, NoBidReason> {
        let from = match currency {
            None => Currency::USD,
            Some(code) => Currency::parse(code).ok_or(NoBidReason::Currency)?,
        };
        let amount = self
            .fx
            .convert_amount(amount, from, self.currency)
            .ok_or(NoBidReason::Currency)?;
        // Beyond what micros can hold (billions): no campaign pays that.
        micros_up(amount).ok_or(NoBidReason::BelowFloor)
    }

    /// The price a campaign bids over `floor`: its base bid raised to the floor,
    /// in the response currency, unless that passes its maximum. Screening may
    /// lower base bid and maximum to `per_mille` thousandths first (1000: full
    /// price), rounded down like every price of ours, so a lowered bid still
    /// never passes what the advertiser allowed and the floor is still met.
    pub(super) fn bid_over(
        &self,
        terms: &BidTerms,
        floor: Micros,
        per_mille: u32,
    ) -> Result<Micros, NoBidReason> {
        let convert = |micros: Micros| {
            let lowered = if per_mille >= FULL_PRICE_PER_MILLE {
                micros
            } else {
                // u128: a Micros times 1000 cannot overflow it.
                (u128::from(micros) * u128::from(per_mille) / u128::from(FULL_PRICE_PER_MILLE))
                    as Micros
            };
            self.fx
                .convert_down(lowered, terms.currency, self.currency)
                .ok_or(NoBidReason::Currency)
        };
        let base = convert(terms.base_bid)?;
        let max = convert(terms.max_cpm)?;
        let price = base.max(floor);
        if price > max || price == 0 {
            return Err(NoBidReason::BelowFloor);
        }
        Ok(price)
    }

    /// Whether a campaign could bid more than `best` on an impression whose own
    /// floor is `imp_floor`. Never false for a campaign that could; reads only the
    /// campaign's terms.
    pub(super) fn could_beat(
        &self,
        terms: &BidTerms,
        imp_floor: Result<Micros, NoBidReason>,
        best: Micros,
    ) -> bool {
        if terms.deal_only {
            // A deal's own floor may lift the bid up to the maximum.
            return self
                .fx
                .convert_down(terms.max_cpm, terms.currency, self.currency)
                .is_some_and(|max| max > best);
        }
        imp_floor
            .and_then(|floor| self.bid_over(terms, floor, FULL_PRICE_PER_MILLE))
            .is_ok_and(|price| price > best)
    }
}
