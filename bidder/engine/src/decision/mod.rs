//! The bid decision: for each impression, the best-paying campaign and creative
//! that may bid on it, or the reason nobody may. One path, which the bidder, the
//! benchmarks, the allocation test and the tokio baseline all run:
//!
//! 1. [`Auction::run`] walks the candidates of every impression (see `walk`) and
//!    keeps the eligible bids that could still win. A bid of a campaign without a
//!    frequency cap stands, so candidates that cannot beat it are passed over
//!    unchecked; and since the index keeps its lists ordered by what each
//!    campaign bids before floors, a list is left as soon as its next candidate
//!    cannot beat that bid.
//! 2. [`Auction::cap_queries`] names the capped campaigns whose cap can change the
//!    outcome: those that could beat the best uncapped bid on some impression.
//!    Often there are none and the cap store is not asked at all.
//! 3. [`Auction::finish`] takes what the cap store said ([`CapOutcome`]), keeps
//!    the best bid per impression among the campaigns the user may still see, and
//!    has each hold its cost against its campaign's budget lease until its billing
//!    notice (see `budget`).
//!
//! A request that gets no bid is labelled with the furthest check any candidate
//! reached, which tells an operator what to loosen.
//!
//! [`Auction::decide`] runs the three steps for callers whose cap store answers at
//! once. An [`Auction`] keeps its buffers across requests, so a worker that reuses
//! one allocates nothing per request in steady state.

mod blocks;
mod floors;
mod pricing;
mod walk;

use crate::audience::{Audience, Judgement, SegmentKey, SegmentOutcome};
use crate::money::{Currency, Micros};
use crate::openrtb::request::BidRequest;
use crate::screen::{Refusal, Verdict};
use crate::snapshot::Snapshot;

/// Why a request got no bid. Bounded, so it can label a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NoBidReason {
    /// No campaign targets this audience and inventory.
    NoMatch,
    /// The IP address is in an operator's blocked range.
    BlockedIp,
    /// The user agent is a known bot or non-browser.
    Bot,
    /// The IP address is in a data-centre range.
    Datacenter,
    /// The supply chain is missing, incomplete, malformed or not from the
    /// exchange that sent it.
    SupplyChain,
    /// The seller is not in the publisher's ads.txt, or a chain node is not in
    /// its ad system's sellers.json.
    UnauthorizedSeller,
    /// The scoring model's invalid-traffic score reached the campaigns' limits.
    IvtScore,
    /// The user is not in the audience the campaigns' segment rules ask for, or
    /// their segments may not be used (privacy) or could not be read in time.
    Segment,
    /// Private auction without one of our deals, or our deal closed to our seat.
    Deal,
    /// Candidates were blocked by `bcat`, `badv` or `bapp`.
    Blocked,
    /// No candidate has a creative that fits the slot.
    NoCreative,
    /// The impression sells several billable events (DOOH `qty.multiplier`),
    /// which budgets do not count yet: not bid on.
    Multiplier,
    /// A currency of the request (the response's, or a floor's) is not in the FX
    /// table.
    Currency,
    /// The floor is above every candidate's maximum price.
    BelowFloor,
    /// Every candidate that could pay the price is out of budget: this bidder's
    /// lease of it cannot pay for the bid.
    Budget,
    /// Pacing held back every candidate left, to spread its daily budget.
    Paced,
    /// Every candidate left has shown this user its ads as often as its cap allows
    /// (or the cap could not be checked and the policy skips capped campaigns).
    FrequencyCap,
    /// `wseat`/`bseat` exclude our seat.
    Seat,
    /// Too little of `tmax` was left to answer in time.
    Deadline,
}

impl NoBidReason {
    /// Every reason, for metric registration.
    pub const ALL: [NoBidReason; 19] = [
        NoBidReason::NoMatch,
        NoBidReason::BlockedIp,
        NoBidReason::Bot,
        NoBidReason::Datacenter,
        NoBidReason::SupplyChain,
        NoBidReason::UnauthorizedSeller,
        NoBidReason::IvtScore,
        NoBidReason::Segment,
        NoBidReason::Deal,
        NoBidReason::Blocked,
        NoBidReason::NoCreative,
        NoBidReason::Multiplier,
        NoBidReason::Currency,
        NoBidReason::BelowFloor,
        NoBidReason::Budget,
        NoBidReason::Paced,
        NoBidReason::FrequencyCap,
        NoBidReason::Seat,
        NoBidReason::Deadline,
    ];

    /// Metric label value.
    pub fn as_str(self) -> &'static str {
        match self {
            NoBidReason::NoMatch => "no_match",
            NoBidReason::BlockedIp => "blocked_ip",
            NoBidReason::Bot => "bot",
            NoBidReason::Datacenter => "datacenter",
            NoBidReason::SupplyChain => "schain",
            NoBidReason::UnauthorizedSeller => "unauthorized_seller",
            NoBidReason::IvtScore => "ivt_score",
            NoBidReason::Segment => "segment",
            NoBidReason::Blocked => "blocked",
            NoBidReason::NoCreative => "no_creative",
            NoBidReason::Multiplier => "dooh_multiplier",
            NoBidReason::Deal => "deal",
            NoBidReason::BelowFloor => "below_floor",
            NoBidReason::Budget => "budget_exhausted",
            NoBidReason::Paced => "paced",
            NoBidReason::FrequencyCap => "frequency_cap",
            NoBidReason::Currency => "currency",
            NoBidReason::Seat => "seat",
            NoBidReason::Deadline => "deadline",
        }
    }
}

impl From<Refusal> for NoBidReason {
    fn from(refusal: Refusal) -> NoBidReason {
        match refusal {
            Refusal::BlockedIp => NoBidReason::BlockedIp,
            Refusal::Bot => NoBidReason::Bot,
            Refusal::Datacenter => NoBidReason::Datacenter,
            Refusal::SupplyChain => NoBidReason::SupplyChain,
            Refusal::UnauthorizedSeller => NoBidReason::UnauthorizedSeller,
            Refusal::IvtScore => NoBidReason::IvtScore,
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
    /// What invalid-traffic and supply-chain screening found about the request
    /// ([`Verdict::PASS`] when it was not screened).
    pub screen: Verdict,
    /// Our id in the IAB Global Vendor List, whose consent a TCF string must give
    /// before a GDPR user's segments are used; 0 when we have none
    /// ([`crate::audience::may_use_segments`]).
    pub gvl_vendor_id: u16,
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
    /// What one impression at `price` costs in micros of the campaign's currency
    /// (rounded up): what the bid holds of the campaign's lease.
    pub cost: Micros,
    /// Width to report.
    pub w: Option<u32>,
    /// Height to report.
    pub h: Option<u32>,
    /// Digest of the impression's pod id (2.6 `podid`), 0 outside a pod: one
    /// advertiser wins at most one slot of an ad break.
    pub pod: u64,
}

/// What the frequency-cap store said about [`Auction::cap_queries`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapOutcome {
    /// The counts are in [`Auction::cap_counts`]: a campaign whose count reached its
    /// `max_impressions` sits out.
    Counted,
    /// No answer in time, and the policy is `skip_capped`: every queried campaign
    /// sits out.
    SkipCapped,
    /// No answer in time, and the policy is `ignore_caps`: every campaign bids as
    /// if under its cap.
    IgnoreCaps,
}

/// What the user store must answer before [`Auction::finish`]: the cap
/// counts of the queried campaigns, and the user's first-party segments when a
/// candidate's rules need them. Both come from one round trip.
#[derive(Debug)]
pub struct StoreQuery<'q> {
    /// Positions in the snapshot of the campaigns whose counts to read.
    pub caps: &'q [u32],
    /// Where the counts go, in `caps` order (cleared).
    pub counts: &'q mut Vec<u32>,
    /// Where the keys of the user's live first-party segments go (cleared);
    /// `None` when no candidate needs them.
    pub segments: Option<&'q mut Vec<SegmentKey>>,
}

impl StoreQuery<'_> {
    /// Whether the store has nothing to answer.
    pub fn is_empty(&self) -> bool {
        self.caps.is_empty() && self.segments.is_none()
    }
}

/// The cap store's answer for a user who has seen none of the queried campaigns,
/// for [`Auction::decide`]: what the embedded default's store answers for users it
/// has not shown ads yet.
pub fn nobody_at_cap(queries: &[u32], counts: &mut Vec<u32>) {
    counts.extend(queries.iter().map(|_| 0));
}

/// One request's decision, in buffers reused across requests (see the module).
#[derive(Debug, Default)]
pub struct Auction {
    /// Bids that could win, grouped by impression in impression order.
    eligible: Vec<ImpBid>,
    /// Positions of the capped campaigns whose cap can change the outcome, once each.
    cap_queries: Vec<u32>,
    /// Impressions the user has seen of each queried campaign, in query order.
    cap_counts: Vec<u32>,
    /// Queried campaigns that sit out.
    capped_out: Vec<u32>,
    /// The request's segments (gathered when the snapshot has segment rules).
    audience: Audience,
    /// Whether the user's first-party segments can change the outcome.
    segment_lookup: bool,
    /// One bid per won impression.
    bids: Vec<ImpBid>,
    /// The pods, the campaigns that won a slot in each and that slot's
    /// impression, while choosing.
    pod_winners: Vec<(u64, u32, usize)>,
    /// The request's block lists, hashed when long.
    blocks: blocks::BlockLists,
    /// This core's generator for pacing draws.
    rng: fastrand::Rng,
    /// The request's time, seconds since the epoch (holds are bucketed by it).
    now_s: u64,
}

impl Auction {
    /// Step 1: finds the eligible bids for `req` and the cap queries they need.
    /// Returns the response currency, or why nothing is eligible.
    pub fn run(
        &mut self,
        snapshot: &Snapshot,
        req: &BidRequest<'_>,
        ctx: &BidContext<'_>,
    ) -> Result<Currency, NoBidReason> {
        self.eligible.clear();
        self.cap_queries.clear();
        self.cap_counts.clear();
        self.capped_out.clear();
        self.bids.clear();
        self.now_s = ctx.now_unix_s;
        self.segment_lookup = false;
        if snapshot.uses_segments() {
            self.audience.prepare(req, ctx.gvl_vendor_id);
        } else {
            self.audience.clear();
        }
        let stands = |terms: &crate::snapshot::BidTerms| !terms.awaits_store();
        self.blocks.prepare(req);
        let eligible = &mut self.eligible;
        let currency = walk::walk_eligible(
            snapshot,
            req,
            ctx,
            walk::Prepared {
                blocks: &self.blocks,
                audience: &self.audience,
            },
            &mut self.rng,
            stands,
            |bid| eligible.push(bid),
        )?;
        self.query_store(snapshot);
        Ok(currency)
    }

    /// Step 2: the positions (in the snapshot) of the capped campaigns whose
    /// counts the cap store must read; empty when no cap can change the outcome.
    pub fn cap_queries(&self) -> &[u32] {
        &self.cap_queries
    }

    /// Whether the user's first-party segments can change the outcome: the user
    /// store must read them (in the same round trip as the caps).
    pub fn segment_lookup(&self) -> bool {
        self.segment_lookup
    }

    /// What the user store must answer, with the buffers for its answer, to
    /// fill before [`Auction::finish`].
    pub fn store_query(&mut self) -> StoreQuery<'_> {
        self.cap_counts.clear();
        StoreQuery {
            caps: &self.cap_queries,
            counts: &mut self.cap_counts,
            segments: if self.segment_lookup {
                Some(self.audience.first_party())
            } else {
                None
            },
        }
    }

    /// The request's segments, as [`Auction::run`] gathered them and the user
    /// store completed them (for reporting matched segments).
    pub fn audience(&self) -> &Audience {
        &self.audience
    }

    /// Step 3: keeps the best bid per impression among the campaigns the cap
    /// outcome lets bid (a queried campaign with no count, from a short answer,
    /// sits out) and whose segment rules the user passes (a campaign needing
    /// first-party segments that were not read sits out), and has each hold its
    /// cost against its campaign's lease. The bids are in impression order. Fails
    /// with `FrequencyCap` or `Segment` when caps or segments left no bid, or
    /// `Budget` when no lease could hold one (other cores spent it since step 1).
    pub fn finish(
        &mut self,
        snapshot: &Snapshot,
        outcome: CapOutcome,
        segments: SegmentOutcome,
    ) -> Result<&[ImpBid], NoBidReason> {
        self.audience.set_first_party(if self.segment_lookup {
            segments
        } else {
            SegmentOutcome::Unavailable
        });
        self.capped_out.clear();
        match outcome {
            CapOutcome::IgnoreCaps => {}
            CapOutcome::SkipCapped => self.capped_out.extend_from_slice(&self.cap_queries),
            CapOutcome::Counted => {
                for (i, &position) in self.cap_queries.iter().enumerate() {
                    let max = snapshot.campaigns()[position as usize]
                        .frequency_cap
                        .map_or(u32::MAX, |cap| cap.max_impressions);
                    if self.cap_counts.get(i).is_none_or(|seen| *seen >= max) {
                        self.capped_out.push(position);
                    }
                }
            }
        }
        self.bids.clear();
        self.pod_winners.clear();
        let mut segmented_out = false;
        for bid in &self.eligible {
            // Past an impression in a pod, its choice is final: record it.
            if let Some(won) = self.bids.last()
                && won.imp != bid.imp
                && won.pod != 0
                && self.pod_winners.last().is_none_or(|w| w.2 != won.imp)
            {
                self.pod_winners.push((won.pod, won.campaign, won.imp));
            }
            if self.capped_out.contains(&bid.campaign)
                || self.advertiser_won_pod(snapshot, bid.pod, bid.campaign)
            {
                continue;
            }
            if snapshot.index.terms(bid.campaign).first_party_segments
                && self.judge(snapshot, bid.campaign) != Judgement::Pass
            {
                segmented_out = true;
                continue;
            }
            match self.bids.last_mut() {
                Some(best) if best.imp == bid.imp => {
                    if bid.price > best.price {
                        *best = *bid;
                    }
                }
                _ => self.bids.push(*bid),
            }
        }
        if self.bids.is_empty() {
            return Err(if segmented_out && self.capped_out.is_empty() {
                NoBidReason::Segment
            } else {
                NoBidReason::FrequencyCap
            });
        }
        let now_s = self.now_s;
        self.bids.retain(|bid| {
            let campaign = &snapshot.campaigns()[bid.campaign as usize];
            !campaign.budget.is_limited() || campaign.lease.try_hold(bid.cost, now_s)
        });
        if self.bids.is_empty() {
            return Err(NoBidReason::Budget);
        }
        Ok(&self.bids)
    }

    /// Whether the advertiser of the campaign at `position` already won an
    /// earlier slot of `pod` (competitive separation in an ad break).
    fn advertiser_won_pod(&self, snapshot: &Snapshot, pod: u64, position: u32) -> bool {
        if pod == 0 {
            return false;
        }
        let campaigns = snapshot.campaigns();
        let domain = &campaigns[position as usize].advertiser_domain;
        self.pod_winners.iter().any(|&(won_pod, won, _)| {
            won_pod == pod && campaigns[won as usize].advertiser_domain == *domain
        })
    }

    /// Releases the holds [`Auction::finish`] placed, for bids that were not
    /// sent after all (the deadline passed while writing the response).
    pub fn cancel_holds(&self, snapshot: &Snapshot) {
        for bid in &self.bids {
            let campaign = &snapshot.campaigns()[bid.campaign as usize];
            if campaign.budget.is_limited() {
                campaign.lease.cancel_hold(self.now_s, bid.cost);
            }
        }
    }

    /// The bids [`Auction::finish`] kept.
    pub fn bids(&self) -> &[ImpBid] {
        &self.bids
    }

    /// How many queried campaigns the last [`Auction::finish`] left out.
    pub fn capped_out(&self) -> usize {
        self.capped_out.len()
    }

    /// All three steps, for a user store that answers at once: `counts` fills the
    /// impressions the user has seen of each queried campaign, in order, and the
    /// user has no first-party segments (a user the store does not know). Returns
    /// the response currency with the bids in [`Auction::bids`], or why there is
    /// none.
    pub fn decide(
        &mut self,
        snapshot: &Snapshot,
        req: &BidRequest<'_>,
        ctx: &BidContext<'_>,
        counts: impl FnOnce(&[u32], &mut Vec<u32>),
    ) -> Result<Currency, NoBidReason> {
        let currency = self.run(snapshot, req, ctx)?;
        let outcome = if self.cap_queries.is_empty() {
            CapOutcome::IgnoreCaps
        } else {
            let query = self.store_query();
            counts(query.caps, query.counts);
            CapOutcome::Counted
        };
        self.finish(snapshot, outcome, SegmentOutcome::Read)?;
        Ok(currency)
    }

    /// What the segment rules of the campaign at `position` say about the user.
    fn judge(&self, snapshot: &Snapshot, position: u32) -> Judgement {
        let campaign = &snapshot.campaigns()[position as usize];
        campaign
            .segments
            .as_ref()
            .map_or(Judgement::Pass, |rules| rules.judge(&self.audience))
    }

    /// What the user store must be asked: the capped campaigns whose cap can
    /// change the outcome, once each, and whether first-party segments can. Only
    /// bids that could beat the best bid nothing can filter out (no cap, no
    /// first-party rules) on some impression matter; when such a bid wins anyway,
    /// the store is not asked at all. In a pod every candidate is asked about: the
    /// best bid may lose its slot to pod separation (its advertiser won an
    /// earlier slot).
    fn query_store(&mut self, snapshot: &Snapshot) {
        // The dense terms record, not the campaign: one cache line for many bids.
        let terms = |b: &ImpBid| snapshot.index.terms(b.campaign);
        // `eligible` is grouped by impression, in order.
        for group in self.eligible.chunk_by(|a, b| a.imp == b.imp) {
            let in_pod = group[0].pod != 0;
            let standing = group.iter().filter(|b| !in_pod && !terms(b).awaits_store());
            let best_standing = standing.map(|b| b.price).max();
            let matters = |b: &&ImpBid| best_standing.is_none_or(|best| b.price >= best);
            for bid in group.iter().filter(matters) {
                let t = terms(bid);
                if t.capped {
                    self.cap_queries.push(bid.campaign);
                }
                if t.first_party_segments
                    && !self.segment_lookup
                    && self.judge(snapshot, bid.campaign) == Judgement::NeedsFirstParty
                {
                    self.segment_lookup = true;
                }
            }
        }
        self.cap_queries.sort_unstable();
        self.cap_queries.dedup();
    }
}

#[cfg(test)]
mod tests;
