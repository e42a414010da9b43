//! The bid decision: for each impression, the best-paying campaign and creative
//! that may bid on it, or the reason nobody may.
//!
//! Order of checks per candidate, cheapest first: targeting, deal terms, block
//! lists, creative fit, price against the floor, budget. A request that gets no bid is
//! labelled with the furthest check any candidate reached, which tells an operator
//! what to loosen.
//!
//! Once an impression holds a bid that will stand, candidates whose best possible
//! price does not beat it are passed over unchecked, and since the index keeps its
//! lists ordered by what each campaign bids before floors, a list is left as soon
//! as its next candidate cannot beat that bid.

use crate::money::{Currency, FxTable, Micros, impression_cost};
use crate::openrtb::request::{BidRequest, Deal, Imp, Str};
use crate::snapshot::{BidSize, BidTerms, CompiledCampaign, Snapshot};

/// Why a request got no bid. Bounded, so it can label a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NoBidReason {
    /// No campaign targets this audience and inventory.
    NoMatch,
    /// Private auction without one of our deals, or our deal closed to our seat.
    Deal,
    /// Candidates were blocked by `bcat`, `badv` or `bapp`.
    Blocked,
    /// No candidate has a creative that fits the slot.
    NoCreative,
    /// The floor is above every candidate's maximum price.
    BelowFloor,
    /// Every candidate that could pay the price is out of budget.
    Budget,
    /// Every candidate left has shown this user its ads as often as its cap allows
    /// (or the cap could not be checked and the policy skips capped campaigns).
    FrequencyCap,
    /// None of the request's currencies is in the FX table.
    Currency,
    /// `wseat`/`bseat` exclude our seat.
    Seat,
    /// Too little of `tmax` was left to answer in time.
    Deadline,
}

impl NoBidReason {
    /// Every reason, for metric registration.
    pub const ALL: [NoBidReason; 10] = [
        NoBidReason::NoMatch,
        NoBidReason::Deal,
        NoBidReason::Blocked,
        NoBidReason::NoCreative,
        NoBidReason::BelowFloor,
        NoBidReason::Budget,
        NoBidReason::FrequencyCap,
        NoBidReason::Currency,
        NoBidReason::Seat,
        NoBidReason::Deadline,
    ];

    /// Metric label value.
    pub fn as_str(self) -> &'static str {
        match self {
            NoBidReason::NoMatch => "no_match",
            NoBidReason::Blocked => "blocked",
            NoBidReason::NoCreative => "no_creative",
            NoBidReason::Deal => "deal",
            NoBidReason::BelowFloor => "below_floor",
            NoBidReason::Budget => "budget",
            NoBidReason::FrequencyCap => "frequency_cap",
            NoBidReason::Currency => "currency",
            NoBidReason::Seat => "seat",
            NoBidReason::Deadline => "deadline",
        }
    }
}

/// What the engine needs besides the snapshot and the request.
#[derive(Debug, Clone, Copy)]
pub struct BidContext<'c> {
    /// Our buyer seat id, checked against `wseat`/`bseat` and sent in `seatbid.seat`.
    pub seat: &'c str,
    /// Wall-clock time, seconds since the Unix epoch (for hours and budget days).
    pub now_unix_s: u64,
}

/// The winning bid for one impression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImpBid {
    /// Position of the impression in `imp[]`.
    pub imp: usize,
    /// Position of the campaign in the snapshot.
    pub campaign: u32,
    /// Position of the creative in the campaign.
    pub creative: usize,
    /// Position of the deal in `imp.pmp.deals[]`, when bidding through one.
    pub deal: Option<usize>,
    /// CPM price in micros of the response currency.
    pub price: Micros,
    /// Width to report.
    pub w: Option<u32>,
    /// Height to report.
    pub h: Option<u32>,
}

/// The outcome of one decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// At least one impression got a bid; prices are in this currency.
    Bid(Currency),
    /// Nothing to bid, and why.
    NoBid(NoBidReason),
}

/// Decides the bids for `req`, writing one [`ImpBid`] per won impression into `bids`
/// (cleared first, so one vector can be reused across requests).
pub fn decide(
    snapshot: &Snapshot,
    req: &BidRequest<'_>,
    ctx: &BidContext<'_>,
    bids: &mut Vec<ImpBid>,
) -> Decision {
    bids.clear();
    // Impressions are walked in order, so the best bid so far for this impression,
    // if any, is the last one kept. Every bid stands: none is filtered afterwards.
    let stands = |_: &BidTerms| true;
    let outcome = walk_eligible(snapshot, req, ctx, stands, |bid| match bids.last_mut() {
        Some(best) if best.imp == bid.imp => {
            if bid.price > best.price {
                *best = bid;
            }
        }
        _ => bids.push(bid),
    });
    match outcome {
        Ok(currency) => Decision::Bid(currency),
        Err(reason) => Decision::NoBid(reason),
    }
}

/// Like [`decide`], but keeps the eligible bids of capped campaigns (which the
/// caller must still check against their frequency caps) beside the best uncapped
/// bid, for [`pick_best`] to choose among once capped-out campaigns are known.
/// A bid is left out only when an uncapped bid at least as high came before it, so
/// it could never be picked. Returns the response currency, or why nothing is
/// eligible.
pub fn decide_eligible(
    snapshot: &Snapshot,
    req: &BidRequest<'_>,
    ctx: &BidContext<'_>,
    eligible: &mut Vec<ImpBid>,
) -> Result<Currency, NoBidReason> {
    eligible.clear();
    let stands = |terms: &BidTerms| !terms.capped;
    walk_eligible(snapshot, req, ctx, stands, |bid| eligible.push(bid))
}

/// Keeps the best-paying bid per impression among `eligible` (in impression order,
/// as [`decide_eligible`] leaves them) that `allowed` accepts; `allowed` may only
/// turn away bids of capped campaigns.
pub fn pick_best(
    eligible: &[ImpBid],
    mut allowed: impl FnMut(&ImpBid) -> bool,
    bids: &mut Vec<ImpBid>,
) {
    bids.clear();
    for bid in eligible.iter().filter(|b| allowed(b)) {
        match bids.last_mut() {
            Some(best) if best.imp == bid.imp => {
                if bid.price > best.price {
                    *best = *bid;
                }
            }
            _ => bids.push(*bid),
        }
    }
}

/// Evaluates the candidates of every impression, in impression order, handing each
/// eligible bid that could still win to `eligible`. A bid of a campaign that
/// `stands` accepts cannot be filtered out later, so candidates that cannot beat it
/// are skipped. Returns the response currency, or the furthest reason a candidate
/// failed when none was eligible.
fn walk_eligible(
    snapshot: &Snapshot,
    req: &BidRequest<'_>,
    ctx: &BidContext<'_>,
    stands: impl Fn(&BidTerms) -> bool,
    mut eligible: impl FnMut(ImpBid),
) -> Result<Currency, NoBidReason> {
    if (!req.wseat.is_empty() && !req.wseat.iter().any(|s| s == ctx.seat))
        || req.bseat.iter().any(|s| s == ctx.seat)
    {
        return Err(NoBidReason::Seat);
    }
    let Some(currency) = response_currency(req, snapshot.fx()) else {
        return Err(NoBidReason::Currency);
    };
    let hour = ((ctx.now_unix_s / 3600) % 24) as u32;
    let day = ctx.now_unix_s / 86_400;
    let mut furthest = NoBidReason::NoMatch;
    let mut any = false;
    let bits = snapshot.index.request_bits(req, hour);
    let pricing = Pricing::new(snapshot.fx(), currency, day);
    for (imp_pos, imp) in req.imp.iter().enumerate() {
        let candidates = snapshot.index.candidates(req, imp);
        if candidates.iter().all(|list| list.is_empty()) && is_private(imp) {
            // None of the deals on offer belongs to any campaign.
            furthest = furthest.max(NoBidReason::Deal);
        }
        let slot = Slot {
            imp,
            floor: pricing.floor(imp.bidfloor, imp.bidfloorcur.as_ref()),
        };
        // The best bid so far for this impression that nothing can filter out.
        let mut to_beat: Option<Micros> = None;
        for list in candidates {
            for &position in list {
                let terms = snapshot.index.terms(position);
                let key = terms.rank_key_usd;
                if to_beat.is_some_and(|best| !pricing.ranked_could_beat(key, slot.floor, best)) {
                    // Nor can any later candidate in this list: their keys are lower.
                    break;
                }
                if !snapshot.index.may_target(position, &bits) {
                    // What `evaluate` would conclude, without reading the campaign.
                    continue;
                }
                if to_beat.is_some_and(|best| !pricing.could_beat(terms, slot.floor, best)) {
                    continue;
                }
                let campaign = &snapshot.campaigns()[position as usize];
                match evaluate(campaign, terms, req, &slot, ctx, hour, &pricing) {
                    Ok(mut bid) => {
                        bid.imp = imp_pos;
                        bid.campaign = position;
                        any = true;
                        if stands(terms) {
                            to_beat = to_beat.max(Some(bid.price));
                        }
                        eligible(bid);
                    }
                    Err(reason) => furthest = furthest.max(reason),
                }
            }
        }
    }
    if any { Ok(currency) } else { Err(furthest) }
}

/// The first currency the exchange accepts that we can price in; USD when unstated.
fn response_currency(req: &BidRequest<'_>, fx: &FxTable) -> Option<Currency> {
    if req.cur.is_empty() {
        return Some(Currency::USD);
    }
    req.cur
        .iter()
        .filter_map(|c| Currency::parse(c))
        .find(|c| fx.knows(*c))
}

/// One impression with its own floor in the response currency, priced once.
struct Slot<'i, 'a> {
    imp: &'i Imp<'a>,
    floor: Result<Micros, NoBidReason>,
}

/// What prices one request: the FX table, the response currency and the budget day.
struct Pricing<'f> {
    fx: &'f FxTable,
    currency: Currency,
    /// Units of `currency` per US dollar.
    units_per_usd: f64,
    day: u64,
}

impl<'f> Pricing<'f> {
    /// Pricing in `currency`, which `fx` knows.
    fn new(fx: &'f FxTable, currency: Currency, day: u64) -> Pricing<'f> {
        Pricing {
            fx,
            currency,
            units_per_usd: fx.units_per_usd(currency).unwrap_or(f64::INFINITY),
            day,
        }
    }

    /// Whether a campaign ranked at `key_usd` (or lower) could bid more than `best`
    /// on an impression whose own floor is `imp_floor`. Never false for one that
    /// could: open-market campaigns bid at least the floor, and otherwise at most
    /// their key, which rounding may have cut by under one micro-dollar.
    fn ranked_could_beat(
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
    fn floor(&self, amount: f64, currency: Option<&Str<'_>>) -> Result<Micros, NoBidReason> {
        let from = match currency {
            None => Currency::USD,
            Some(code) => Currency::parse(code).ok_or(NoBidReason::Currency)?,
        };
        self.fx
            .floor_micros(amount, from, self.currency)
            .ok_or(NoBidReason::Currency)
    }

    /// The price a campaign bids over `floor`: its base bid raised to the floor,
    /// in the response currency, unless that passes its maximum.
    fn bid_over(&self, terms: &BidTerms, floor: Micros) -> Result<Micros, NoBidReason> {
        let convert = |micros| {
            self.fx
                .convert_down(micros, terms.currency, self.currency)
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
    fn could_beat(
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
            .and_then(|floor| self.bid_over(terms, floor))
            .is_ok_and(|price| price > best)
    }
}

/// Checks one candidate for one impression; on success returns its bid (with the
/// impression and campaign positions left for the caller to fill).
fn evaluate(
    campaign: &CompiledCampaign,
    terms: &BidTerms,
    req: &BidRequest<'_>,
    slot: &Slot<'_, '_>,
    ctx: &BidContext<'_>,
    hour: u32,
    pricing: &Pricing<'_>,
) -> Result<ImpBid, NoBidReason> {
    let imp = slot.imp;
    if !campaign.targets(req, hour) {
        return Err(NoBidReason::NoMatch);
    }
    let deal = choose_deal(campaign, imp, ctx.seat)?;
    if campaign.is_blocked(req) {
        return Err(NoBidReason::Blocked);
    }
    let (creative, (w, h)) = choose_creative(campaign, imp).ok_or(NoBidReason::NoCreative)?;
    let price = price(campaign, terms, slot.floor, deal.map(|(_, d)| d), pricing)?;
    Ok(ImpBid {
        imp: 0,
        campaign: 0,
        creative,
        deal: deal.map(|(i, _)| i),
        price,
        w,
        h,
    })
}

/// The campaign's creative for `imp`: one of the slot's main size when there is
/// one, else the first that fits. Returns its position and the size to report.
fn choose_creative(campaign: &CompiledCampaign, imp: &Imp<'_>) -> Option<(usize, BidSize)> {
    let primary = imp.banner.as_ref().map(|b| (b.w, b.h));
    let mut first = None;
    for (i, creative) in campaign.creatives.iter().enumerate() {
        let Some(size) = creative.fits(imp) else {
            continue;
        };
        if primary.is_some_and(|p| p == size) {
            return Some((i, size));
        }
        first = first.or(Some((i, size)));
    }
    first
}

/// The deal a campaign bids through on `imp`, if any. Open-market campaigns cannot
/// bid in private auctions (`Deal`); deal-only campaigns are not targeted where none
/// of their deals is offered (`NoMatch`), and cannot use a deal closed to our seat.
fn choose_deal<'i, 'a>(
    campaign: &CompiledCampaign,
    imp: &'i Imp<'a>,
    seat: &str,
) -> Result<Option<(usize, &'i Deal<'a>)>, NoBidReason> {
    if !campaign.is_deal_only() {
        return if is_private(imp) {
            Err(NoBidReason::Deal)
        } else {
            Ok(None)
        };
    }
    let mut offered = imp
        .pmp
        .iter()
        .flat_map(|p| p.deals.iter().enumerate())
        .filter(|(_, deal)| campaign.targets_deal(&deal.id))
        .peekable();
    if offered.peek().is_none() {
        return Err(NoBidReason::NoMatch);
    }
    offered
        .find(|(_, deal)| deal.wseat.is_empty() || deal.wseat.iter().any(|s| s == seat))
        .map(Some)
        .ok_or(NoBidReason::Deal)
}

/// Whether only deal bids are accepted for `imp`.
fn is_private(imp: &Imp<'_>) -> bool {
    imp.pmp.as_ref().is_some_and(|p| p.private_auction == 1)
}

/// The price to bid: the base bid, raised to the floor (the deal's, when bidding
/// through a deal that sets one, else the impression's) when the floor is higher,
/// never above the campaign's maximum, and only when the budget can pay for it.
fn price(
    campaign: &CompiledCampaign,
    terms: &BidTerms,
    imp_floor: Result<Micros, NoBidReason>,
    deal: Option<&Deal<'_>>,
    pricing: &Pricing<'_>,
) -> Result<Micros, NoBidReason> {
    let floor = match deal {
        Some(d) if d.bidfloor > 0.0 => pricing.floor(d.bidfloor, d.bidfloorcur.as_ref())?,
        _ => imp_floor?,
    };
    let price = pricing.bid_over(terms, floor)?;
    let cost = impression_cost(
        pricing
            .fx
            .convert_up(price, pricing.currency, campaign.currency)
            .ok_or(NoBidReason::Currency)?,
    );
    if !campaign.spend.allows(cost, &campaign.budget, pricing.day) {
        return Err(NoBidReason::Budget);
    }
    Ok(price)
}

#[cfg(test)]
mod tests;
