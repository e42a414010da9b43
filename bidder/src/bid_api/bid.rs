//! `POST /openrtb2/bid`: parse, decide, check frequency caps, answer — inside the
//! request's deadline.

use std::time::{Duration, Instant};

use tern_engine::audience::{Audience, SegmentOutcome};
use tern_engine::clock;
use tern_engine::decision::{Auction, BidContext, CapOutcome, ImpBid, NoBidReason};
use tern_engine::money::Currency;
use tern_engine::openrtb::BidRequest;
use tern_engine::response::{BillingUrl, ResponseParts, write_bid_response};
use tern_engine::snapshot::Snapshot;
use tern_engine::user::UserKey;
use tern_ivt::Screened;

use super::{BidRouter, non_empty};
use crate::events::{Event, EventKind};
use crate::freq_cap::CapError;
use crate::freq_cap::config::CapPolicy;
use crate::http::{Reply, Request, Status};
use crate::metrics::{CapCheck, CapFallback};

/// Longest parse error echoed back to the client.
const MAX_REASON_BYTES: usize = 200;

/// A parse error as a short one-line reason: its first line (a visitor's message
/// may span lines), cut to [`MAX_REASON_BYTES`].
fn one_line(error: &str) -> &str {
    let line = error.lines().next().unwrap_or_default().trim_end();
    let cut = (0..=MAX_REASON_BYTES.min(line.len()))
        .rev()
        .find(|i| line.is_char_boundary(*i))
        .unwrap_or(0);
    &line[..cut]
}

/// What a bid response is written from.
struct Answer<'r, 'a> {
    request: &'r BidRequest<'a>,
    exchange: &'r str,
    received_at: Instant,
    snapshot: &'r Snapshot,
    bids: &'r [ImpBid],
    currency: Currency,
    user: Option<UserKey>,
    now_unix_s: u64,
    deadline: Instant,
    screened: &'r Screened,
    audience: &'r Audience,
}

impl BidRouter {
    pub(super) async fn bid(&self, req: &Request<'_>, exchange: &str, body: &mut Vec<u8>) -> Reply {
        if !req.json_content_type {
            return Reply::plain(
                body,
                Status::UNSUPPORTED_MEDIA_TYPE,
                "content-type must be application/json",
            );
        }
        let mut request = BidRequest::default();
        if let Err(e) = BidRequest::parse_into(req.body, &mut request) {
            return Reply::plain(body, Status::BAD_REQUEST, one_line(&e.to_string()));
        }
        let api = &*self.api;
        let tmax = match request.tmax {
            Some(ms) if ms > 0 => Duration::from_millis(ms),
            _ => api.default_tmax,
        };
        let deadline = req.received_at + tmax.saturating_sub(api.tmax_margin);
        if Instant::now() >= deadline {
            return self.no_bid(
                NoBidReason::Deadline,
                &request,
                exchange,
                req.received_at,
                None,
            );
        }
        let screened = self.screener.borrow_mut().screen(
            &api.screening.lists(),
            &request,
            api.screening.exchange_domain(exchange),
        );
        let no_bid =
            |reason| self.no_bid(reason, &request, exchange, req.received_at, Some(&screened));
        let snapshot = api.state.snapshot();
        let now_unix_s = clock::now_unix_s();
        let ctx = BidContext {
            seat: &api.seat,
            now_unix_s,
            screen: screened.verdict,
            gvl_vendor_id: api.gvl_vendor_id,
        };
        let mut auction = self.take_auction();
        let ran = auction.run(&snapshot, &request, &ctx);
        if auction.audience().withheld() {
            self.metrics.segments_withheld();
        }
        let currency = match ran {
            Ok(currency) => currency,
            Err(reason) => {
                self.give_back(auction);
                return no_bid(reason);
            }
        };
        let user = UserKey::from_request(&request);
        // Without store queries there is no wait and the lock-free guard serves.
        // With them, the snapshot is held as an `Arc` across the wait: a swap
        // meanwhile must not free the campaigns the bids point at.
        let (guard, held);
        let (snapshot, (caps, segments)): (&Snapshot, _) = if auction.store_query().is_empty() {
            guard = snapshot;
            (
                &guard,
                (CapOutcome::IgnoreCaps, SegmentOutcome::Unavailable),
            )
        } else {
            held = arc_swap::Guard::into_inner(snapshot);
            let outcomes = self
                .ask_store(&held, &mut auction, user.as_ref(), now_unix_s, deadline)
                .await;
            (&held, outcomes)
        };
        let finished = auction.finish(snapshot, caps, segments).map(drop);
        if caps == CapOutcome::Counted {
            self.metrics.capped(auction.capped_out());
        }
        if let Err(reason) = finished {
            self.give_back(auction);
            return no_bid(reason);
        }
        let answer = Answer {
            request: &request,
            exchange,
            received_at: req.received_at,
            snapshot,
            bids: auction.bids(),
            currency,
            user,
            now_unix_s,
            deadline,
            screened: &screened,
            audience: auction.audience(),
        };
        let reply = self.answer(&answer, body);
        if reply.status != Status::OK {
            // Nothing was sent: no notice will come for these bids.
            auction.cancel_holds(snapshot);
        }
        self.give_back(auction);
        reply
    }

    /// Writes the response with the bids, or a no-bid when the deadline passed.
    fn answer(&self, answer: &Answer<'_, '_>, body: &mut Vec<u8>) -> Reply {
        let no_bid = |reason| {
            let screened = Some(answer.screened);
            self.no_bid(
                reason,
                answer.request,
                answer.exchange,
                answer.received_at,
                screened,
            )
        };
        let api = &*self.api;
        let parts = ResponseParts {
            request: answer.request,
            snapshot: answer.snapshot,
            bids: answer.bids,
            currency: answer.currency,
            seat: &api.seat,
            billing: Some(BillingUrl {
                base_url: &api.public_url,
                signer: &api.signer,
                origin: api.budget.origin(),
            }),
            now_unix_s: answer.now_unix_s,
            user: answer.user,
            exchange: answer.exchange,
        };
        write_bid_response(body, &parts);
        if Instant::now() >= answer.deadline {
            // Late is worse than silent: the exchange has moved on.
            body.clear();
            return no_bid(NoBidReason::Deadline);
        }
        self.metrics.bids(answer.bids.len());
        self.bid_events(answer);
        Reply::new(Status::OK, "application/json").with_header("X-OpenRTB-Version", "2.6")
    }

    /// One `bid` event per bid sent.
    fn bid_events(&self, answer: &Answer<'_, '_>) {
        if !self.events.enabled() {
            return;
        }
        let request = answer.request;
        let latency_us = answer.received_at.elapsed().as_micros() as u64;
        let ts_ms = clock::now_ms();
        for bid in answer.bids {
            let campaign = &answer.snapshot.campaigns()[bid.campaign as usize];
            let segments: Option<Vec<&str>> = campaign
                .segments
                .as_ref()
                .map(|rules| rules.matched(answer.audience).collect());
            self.events.emit(&Event {
                kind: Some(EventKind::Bid),
                ts_ms,
                request_id: Some(&request.id),
                imp_id: Some(&request.imp[bid.imp].id),
                campaign_id: Some(&campaign.id),
                creative_id: Some(&campaign.creatives[bid.creative].id),
                bid_price_micros: Some(bid.price),
                currency: Some(answer.currency),
                exchange: non_empty(answer.exchange),
                publisher_id: request.publisher_id(),
                country: request.country(),
                device_type: request.device_type(),
                instance: self.events.instance(),
                core: self.events.core(),
                latency_us: Some(latency_us),
                auction_type: Some(request.auction_type()),
                ivt_score: Some(answer.screened.verdict.score_per_mille),
                ivt_features: Some(&answer.screened.features),
                segments: segments.as_deref(),
                ..Event::default()
            });
        }
    }

    /// Asks the user store about the auction's cap queries and, when they can
    /// change the outcome, the user's first-party segments: one round trip,
    /// inside the request's deadline. When it cannot answer in time the cap policy
    /// decides for caps, and campaigns needing segments sit out.
    async fn ask_store(
        &self,
        snapshot: &Snapshot,
        auction: &mut Auction,
        user: Option<&UserKey>,
        now_unix_s: u64,
        deadline: Instant,
    ) -> (CapOutcome, SegmentOutcome) {
        let query = auction.store_query();
        let (capped, segmented) = (!query.caps.is_empty(), query.segments.is_some());
        let check = match user {
            // Nobody to count for or look up: a cap cannot be honoured.
            None => Err(CapCheck::NoUser),
            Some(user) => {
                let store_deadline = deadline.min(Instant::now() + self.api.cap_timeout);
                self.caps
                    .lookup(user, snapshot, query, now_unix_s, store_deadline)
                    .await
                    .map(|lookup| {
                        self.record_round_trip(lookup.round_trip);
                        if lookup.segments_complete {
                            SegmentOutcome::Read
                        } else {
                            SegmentOutcome::Partial
                        }
                    })
                    .map_err(|error| match error {
                        CapError::Timeout => CapCheck::Timeout,
                        CapError::Unavailable(_) => CapCheck::Unavailable,
                        CapError::Busy => CapCheck::Busy,
                    })
            }
        };
        let result = *check.as_ref().err().unwrap_or(&CapCheck::Ok);
        if segmented {
            self.metrics.segment_lookup(result);
        }
        let segments = check.unwrap_or(SegmentOutcome::Unavailable);
        if !capped {
            return (CapOutcome::IgnoreCaps, segments);
        }
        self.metrics.cap_check(result);
        let caps = match check {
            Ok(_) => CapOutcome::Counted,
            Err(CapCheck::NoUser) => CapOutcome::SkipCapped,
            Err(_) => {
                let (fallback, outcome) = match self.api.cap_policy {
                    CapPolicy::SkipCapped => (CapFallback::SkipCapped, CapOutcome::SkipCapped),
                    CapPolicy::IgnoreCaps => (CapFallback::IgnoreCaps, CapOutcome::IgnoreCaps),
                };
                self.metrics.cap_fallback(fallback);
                outcome
            }
        };
        (caps, segments)
    }

    /// Answers 204, counts the reason, and records a `nobid` event if sampled.
    fn no_bid(
        &self,
        reason: NoBidReason,
        request: &BidRequest<'_>,
        exchange: &str,
        received_at: Instant,
        screened: Option<&Screened>,
    ) -> Reply {
        self.metrics.nobid(reason);
        if self.events.sample_nobid() {
            self.events.emit(&Event {
                kind: Some(EventKind::NoBid),
                ts_ms: clock::now_ms(),
                request_id: Some(&request.id),
                exchange: non_empty(exchange),
                publisher_id: request.publisher_id(),
                country: request.country(),
                device_type: request.device_type(),
                nobid_reason: Some(reason.as_str()),
                instance: self.events.instance(),
                core: self.events.core(),
                latency_us: Some(received_at.elapsed().as_micros() as u64),
                ivt_score: screened.map(|s| s.verdict.score_per_mille),
                ivt_features: screened.map(|s| &s.features),
                ..Event::default()
            });
        }
        Reply::empty(Status::NO_CONTENT).with_header("X-OpenRTB-Version", "2.6")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_become_one_short_line() {
        assert_eq!(
            one_line("bad at line 1 column 5\n\n\t{\"tmax\":-5}\n\t^"),
            "bad at line 1 column 5"
        );
        let long = "é".repeat(150);
        let cut = one_line(&long);
        assert!(cut.len() <= MAX_REASON_BYTES && long.starts_with(cut));
        assert_eq!(one_line(""), "");
    }
}
