//! `GET /notice/imp?t=<token>&p=<price>`: the billing notice an exchange fires when
//! our bid won and the impression was billed. Verified, counted once, debited.

use tern_engine::money::{Micros, to_micros};
use tern_engine::notice::TokenError;

use super::{BidRouter, text, unix_now_s};
use crate::http::{Reply, Request};
use crate::metrics::NoticeOutcome;

/// The price macro as sent when an exchange did not substitute it.
const UNSUBSTITUTED: [&str; 2] = ["${AUCTION_PRICE}", "%24%7BAUCTION_PRICE%7D"];

impl BidRouter {
    pub(super) fn notice(&self, req: &Request<'_>, body: &mut Vec<u8>) -> Reply {
        let (outcome, reply) = self.settle(req, body);
        self.metrics.record_notice(outcome);
        reply
    }

    fn settle(&self, req: &Request<'_>, body: &mut Vec<u8>) -> (NoticeOutcome, Reply) {
        let malformed =
            |body: &mut Vec<u8>, why: &str| (NoticeOutcome::Malformed, text(body, 400, why));
        let mut token = None;
        let mut price_param = None;
        for pair in req.query.split('&') {
            match pair.split_once('=') {
                Some(("t", value)) => token = Some(value),
                Some(("p", value)) => price_param = Some(value),
                _ => {}
            }
        }
        let Some(token) = token else {
            return malformed(body, "missing notice token");
        };
        let api = &*self.api;
        let now = unix_now_s();
        let mut scratch = self.token_scratch.borrow_mut();
        let notice = match api
            .signer
            .verify(token, now, api.notice_max_age_s, &mut scratch)
        {
            Ok(verified) => verified,
            Err(TokenError::Forged) => {
                return (
                    NoticeOutcome::Forged,
                    text(body, 403, "notice signature does not match"),
                );
            }
            Err(TokenError::Expired) => {
                return (NoticeOutcome::Expired, text(body, 410, "notice expired"));
            }
            Err(TokenError::Malformed) => return malformed(body, "malformed notice token"),
        };
        let price = match price_param {
            None => notice.price,
            Some(p) if UNSUBSTITUTED.contains(&p) => notice.price,
            Some(p) => match p.parse::<f64>().ok().and_then(to_micros) {
                // We are never billed more than we bid.
                Some(cleared) => cleared.min(notice.price),
                None => return malformed(body, "price is not a number"),
            },
        };
        if !api.dedup.first_time(&notice.id(), notice.issued_at_s) {
            return (NoticeOutcome::Duplicate, text(body, 200, "already counted"));
        }
        let debited = self.debit(notice.campaign_id, price, notice.currency, now);
        self.metrics.spend_micros.add(debited);
        (NoticeOutcome::Accepted, text(body, 200, "ok"))
    }

    /// Debits one impression at `cpm` from the campaign's budget; returns the micros
    /// debited in the campaign's currency (0 if the campaign is gone).
    fn debit(
        &self,
        campaign_id: &str,
        cpm: Micros,
        currency: tern_engine::money::Currency,
        now_unix_s: u64,
    ) -> Micros {
        let snapshot = self.api.state.snapshot();
        let Some(campaign) = snapshot.campaign(campaign_id) else {
            return 0;
        };
        let Some(cpm) = snapshot.fx().convert_up(cpm, currency, campaign.currency) else {
            return 0;
        };
        let cost = cpm.div_ceil(1000);
        campaign.spend.record(cost, now_unix_s / 86_400);
        cost
    }
}
