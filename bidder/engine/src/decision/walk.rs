//! The walk over candidates: for each impression, every campaign the index offers,
//! checked in order of cost (targeting, screening, segments, deal terms, block
//! lists, creative fit, price against the floor, budget lease, pacing), skipping
//! those that cannot beat a bid that already stands.

use super::blocks::BlockLists;
use super::floors;
use super::pricing::{Pricing, response_currency};
use super::{BidContext, ImpBid, NoBidReason};
use crate::audience::{Audience, Judgement};
use crate::budget;
use crate::clock;
use crate::money::{Currency, Micros};
use crate::openrtb::request::{BidRequest, Deal, Imp};
use crate::snapshot::{BidSize, BidTerms, CompiledCampaign, Snapshot};

/// Evaluates the candidates of every impression, in impression order, handing each
/// eligible bid that could still win to `eligible`. A bid of a campaign that
/// `stands` accepts cannot be filtered out later, so candidates that cannot beat it
/// are skipped. Returns the response currency, or the furthest reason a candidate
/// failed when none was eligible.
pub(super) fn walk_eligible(
    snapshot: &Snapshot,
    req: &BidRequest<'_>,
    ctx: &BidContext<'_>,
    prepared: Prepared<'_>,
    rng: &mut fastrand::Rng,
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
    let hour = clock::hour_of_day(ctx.now_unix_s);
    let mut furthest = NoBidReason::NoMatch;
    let mut any = false;
    let bits = snapshot.index.request_bits(req, hour);
    let pricing = Pricing::new(snapshot.fx(), currency);
    let view = RequestView {
        req,
        ctx,
        blocks: prepared.blocks,
        audience: prepared.audience,
        hour,
        pricing: &pricing,
    };
    for (imp_pos, imp) in req.imp.iter().enumerate() {
        if imp.has_multiplier() {
            furthest = furthest.max(NoBidReason::Multiplier);
            continue;
        }
        let candidates = snapshot.index.candidates(req, imp);
        if candidates.iter().all(|list| list.is_empty()) && is_private(imp) {
            // None of the deals on offer belongs to any campaign.
            furthest = furthest.max(NoBidReason::Deal);
        }
        let slot = Slot {
            imp,
            floor: pricing.floor(imp.bidfloor, imp.bidfloorcur.as_ref()),
        };
        // A floor per second of ad depends on the creative, which the price
        // bounds below do not know, and in a pod the best bid may go to another
        // slot (one advertiser per pod): such slots check every candidate.
        let pod = pod_digest(imp);
        let may_skip = !floors::any_per_second_on(imp) && pod == 0;
        // The best bid so far for this impression that nothing can filter out.
        let mut to_beat: Option<Micros> = None;
        for list in candidates {
            for &position in list {
                let terms = snapshot.index.terms(position);
                let key = terms.rank_key_usd;
                let skip_past = to_beat.filter(|_| may_skip);
                if skip_past.is_some_and(|best| !pricing.ranked_could_beat(key, slot.floor, best)) {
                    // Nor can any later candidate in this list: their keys are lower.
                    break;
                }
                if !snapshot.index.may_target(position, &bits) {
                    // What `evaluate` would conclude, without reading the campaign.
                    continue;
                }
                if skip_past.is_some_and(|best| !pricing.could_beat(terms, slot.floor, best)) {
                    continue;
                }
                let campaign = &snapshot.campaigns()[position as usize];
                match evaluate(campaign, terms, &slot, &view, rng) {
                    Ok(mut bid) => {
                        bid.imp = imp_pos;
                        bid.campaign = position;
                        bid.pod = pod;
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

/// What the auction prepared from the request before the walk.
pub(super) struct Prepared<'p> {
    /// The request's block lists.
    pub(super) blocks: &'p BlockLists,
    /// The request's segments.
    pub(super) audience: &'p Audience,
}

/// What every candidate of one request is checked against, prepared once.
pub(super) struct RequestView<'r, 'a> {
    pub(super) req: &'r BidRequest<'a>,
    pub(super) ctx: &'r BidContext<'r>,
    pub(super) blocks: &'r BlockLists,
    /// The request's segments, for campaigns with segment rules.
    pub(super) audience: &'r Audience,
    /// The UTC hour, for `targeting.hours_utc`.
    pub(super) hour: u32,
    pub(super) pricing: &'r Pricing<'r>,
}

/// One impression with its own floor in the response currency, priced once.
pub(super) struct Slot<'i, 'a> {
    pub(super) imp: &'i Imp<'a>,
    pub(super) floor: Result<Micros, NoBidReason>,
}

/// Checks one candidate for one impression; on success returns its bid (with the
/// impression and campaign positions left for the caller to fill). `rng` is this
/// core's generator, for pacing draws.
pub(super) fn evaluate(
    campaign: &CompiledCampaign,
    terms: &BidTerms,
    slot: &Slot<'_, '_>,
    view: &RequestView<'_, '_>,
    rng: &mut fastrand::Rng,
) -> Result<ImpBid, NoBidReason> {
    let RequestView {
        req,
        ctx,
        blocks,
        audience,
        hour,
        pricing,
    } = *view;
    let imp = slot.imp;
    if !campaign.targets(req, hour) || !campaign.targets_imp(imp) {
        return Err(NoBidReason::NoMatch);
    }
    let price_per_mille = campaign.screening.admit(&ctx.screen)?;
    // A rule that needs first-party segments is settled once the store answers
    // (`Auction::finish`).
    if let Some(rules) = &campaign.segments
        && rules.judge(audience) == Judgement::Fail
    {
        return Err(NoBidReason::Segment);
    }
    let deal = choose_deal(campaign, imp, ctx.seat)?;
    if blocks.exclude(req, campaign) {
        return Err(NoBidReason::Blocked);
    }
    let deal_terms = deal.map(|(_, d)| d);
    let (creative, (w, h), (price, cost)) = if floors::any_per_second(imp, deal_terms) {
        // The floor depends on the ad's length: the first creative that fits
        // and can meet its floor.
        let mut outcome = Err(NoBidReason::NoCreative);
        for (i, c) in campaign.creatives.iter().enumerate() {
            let Some(size) = c.fits(req, imp, &campaign.targeting.video) else {
                continue;
            };
            let floor = floors::floor(slot.floor, imp, deal_terms, c, pricing);
            let priced = floor.and_then(|f| price(campaign, terms, f, price_per_mille, pricing));
            match priced {
                Ok(priced) => {
                    outcome = Ok((i, size, priced));
                    break;
                }
                Err(reason) => outcome = Err(reason),
            }
        }
        outcome?
    } else {
        let (i, size) = choose_creative(campaign, req, imp).ok_or(NoBidReason::NoCreative)?;
        let creative = &campaign.creatives[i];
        let floor = floors::floor(slot.floor, imp, deal_terms, creative, pricing)?;
        (
            i,
            size,
            price(campaign, terms, floor, price_per_mille, pricing)?,
        )
    };
    if campaign.budget.is_limited() {
        if !campaign.lease.can_spend(cost, ctx.now_unix_s) {
            return Err(NoBidReason::Budget);
        }
        if !campaign.lease.admits(rng) {
            return Err(NoBidReason::Paced);
        }
    }
    Ok(ImpBid {
        imp: 0,
        campaign: 0,
        creative,
        deal: deal.map(|(i, _)| i),
        price,
        cost,
        w,
        h,
        pod: 0,
    })
}

/// A digest of the impression's pod id (video or audio `podid`); 0 when it is
/// in no pod.
fn pod_digest(imp: &Imp<'_>) -> u64 {
    let podid = imp.video.as_ref().and_then(|v| v.podid.as_deref());
    let podid = podid.or_else(|| imp.audio.as_ref()?.podid.as_deref());
    podid.map_or(0, |id| xxhash_rust::xxh3::xxh3_64(id.as_bytes()).max(1))
}

/// The campaign's creative for `imp`: one of the slot's main size when there is
/// one, else the first that fits. Returns its position and the size to report.
fn choose_creative(
    campaign: &CompiledCampaign,
    req: &BidRequest<'_>,
    imp: &Imp<'_>,
) -> Option<(usize, BidSize)> {
    let primary = imp.banner.as_ref().map(|b| (b.w, b.h));
    let mut first = None;
    for (i, creative) in campaign.creatives.iter().enumerate() {
        let Some(size) = creative.fits(req, imp, &campaign.targeting.video) else {
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

/// The price to bid: the base bid, raised to `floor` when the floor is higher,
/// never above the campaign's maximum, both first lowered to `per_mille`
/// thousandths by screening; with what one impression at it costs in the
/// campaign's currency (rounded up, see `money`).
fn price(
    campaign: &CompiledCampaign,
    terms: &BidTerms,
    floor: Micros,
    per_mille: u32,
    pricing: &Pricing<'_>,
) -> Result<(Micros, Micros), NoBidReason> {
    let price = pricing.bid_over(terms, floor, per_mille)?;
    let cost = budget::impression_cost_in(pricing.fx, price, pricing.currency, campaign.currency)
        .ok_or(NoBidReason::Currency)?;
    Ok((price, cost))
}
