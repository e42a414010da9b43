//! `POST /openrtb2/bid`: parse, decide, answer — inside the request's deadline.

use std::time::Duration;

use tern_engine::decision::{BidContext, Decision, NoBidReason, decide};
use tern_engine::openrtb::{BidRequest, BillingUrl, ResponseParts, write_bid_response};

use super::{BidRouter, text, unix_now_s};
use crate::http::{Reply, Request};

/// Longest parse error echoed back to the client.
const MAX_REASON_BYTES: usize = 200;

impl BidRouter {
    pub(super) fn bid(&self, req: &Request<'_>, body: &mut Vec<u8>) -> Reply {
        if !req.json_content_type {
            return text(body, 415, "content-type must be application/json");
        }
        let request = match BidRequest::parse(req.body) {
            Ok(request) => request,
            Err(e) => {
                let mut reason = e.to_string();
                if reason.len() > MAX_REASON_BYTES {
                    let cut = (0..=MAX_REASON_BYTES)
                        .rev()
                        .find(|i| reason.is_char_boundary(*i));
                    reason.truncate(cut.unwrap_or(0));
                }
                return text(body, 400, &reason);
            }
        };
        let api = &*self.api;
        let tmax = match request.tmax {
            Some(ms) if ms > 0 => Duration::from_millis(ms),
            _ => api.default_tmax,
        };
        let budget = tmax.saturating_sub(api.tmax_margin);
        if req.received_at.elapsed() >= budget {
            return self.no_bid(NoBidReason::Deadline);
        }
        let snapshot = api.state.snapshot();
        let now_unix_s = unix_now_s();
        let ctx = BidContext {
            seat: &api.seat,
            now_unix_s,
        };
        let mut bids = self.bids.borrow_mut();
        let currency = match decide(&snapshot, &request, &ctx, &mut bids) {
            Decision::NoBid(reason) => return self.no_bid(reason),
            Decision::Bid(currency) => currency,
        };
        let parts = ResponseParts {
            request: &request,
            snapshot: &snapshot,
            bids: &bids,
            currency,
            seat: &api.seat,
            billing: Some(BillingUrl {
                base_url: &api.public_url,
                signer: &api.signer,
            }),
            now_unix_s,
        };
        write_bid_response(body, &parts);
        if req.received_at.elapsed() >= budget {
            // Late is worse than silent: the exchange has moved on.
            body.clear();
            return self.no_bid(NoBidReason::Deadline);
        }
        self.metrics.bids.add(bids.len() as u64);
        Reply::new(200, "application/json").with_header("X-OpenRTB-Version", "2.6")
    }

    fn no_bid(&self, reason: NoBidReason) -> Reply {
        self.metrics.record_nobid(reason);
        Reply::empty(204).with_header("X-OpenRTB-Version", "2.6")
    }
}
