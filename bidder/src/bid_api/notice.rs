//! The notice endpoints, all carrying the token signed into the bid:
//! `GET /notice/win?t=..&p=..` (`nurl`: the bid won), `GET /notice/imp?t=..&p=..`
//! (`burl`: the impression was billed; debits the budget and counts against the
//! frequency cap) and `GET /notice/click?t=..` (a click). Each is verified, counted
//! once per auction and impression, and recorded as an event.

use std::time::Instant;

use tern_engine::clock;
use tern_engine::notice::{PriceSource, TokenError, clearing_price};
use tern_engine::user::UserKey;

use super::{BidRouter, non_empty, text};
use crate::events::{Event, EventKind};
use crate::http::{Reply, Request};
use crate::metrics::NoticeOutcome;

/// Which notice endpoint was called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NoticeKind {
    /// The bid won (`nurl`).
    Win,
    /// The impression was billed (`burl`).
    Impression,
    /// The ad was clicked.
    Click,
}

impl NoticeKind {
    fn event(self) -> EventKind {
        match self {
            NoticeKind::Win => EventKind::Win,
            NoticeKind::Impression => EventKind::Impression,
            NoticeKind::Click => EventKind::Click,
        }
    }
}

/// An impression to count against a frequency cap.
struct CapImpression {
    user: UserKey,
    campaign_id: String,
    window_secs: u64,
}

impl BidRouter {
    pub(super) async fn notice(
        &self,
        req: &Request<'_>,
        kind: NoticeKind,
        body: &mut Vec<u8>,
    ) -> Reply {
        let (outcome, reply, impression) = self.settle(req, kind, body);
        self.metrics.record_notice(kind, outcome);
        if let Some(impression) = impression {
            let deadline = Instant::now() + self.api.cap_record_timeout;
            let recorded = self
                .caps
                .record(
                    &impression.user,
                    &impression.campaign_id,
                    impression.window_secs,
                    deadline,
                )
                .await;
            if let Err(e) = &recorded {
                tracing::debug!(error = %e, "impression not counted against its cap");
            }
            self.metrics.cap_records[usize::from(recorded.is_err())].inc();
        }
        reply
    }

    /// Verifies, de-duplicates, records the event and (for impressions) debits;
    /// returns the impression to count against a cap, if the campaign has one
    /// (counted after, without holding any borrow).
    fn settle(
        &self,
        req: &Request<'_>,
        kind: NoticeKind,
        body: &mut Vec<u8>,
    ) -> (NoticeOutcome, Reply, Option<CapImpression>) {
        let malformed =
            |body: &mut Vec<u8>, why: &str| (NoticeOutcome::Malformed, text(body, 400, why), None);
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
        let now = clock::now_unix_s();
        let mut scratch = self.token_scratch.borrow_mut();
        let notice = match api
            .signer
            .verify(token, now, api.notice_max_age_s, &mut scratch)
        {
            Ok(verified) => verified,
            Err(TokenError::Forged) => {
                let reply = text(body, 403, "notice signature does not match");
                return (NoticeOutcome::Forged, reply, None);
            }
            Err(TokenError::Expired) => {
                return (
                    NoticeOutcome::Expired,
                    text(body, 410, "notice expired"),
                    None,
                );
            }
            Err(TokenError::Malformed) => return malformed(body, "malformed notice token"),
        };
        // A genuine token means a served impression: one whose price cannot be read
        // is still counted, at our bid (the most the exchange may charge).
        let price = clearing_price(price_param, notice.price);
        if !api.dedup[kind as usize].first_time(&notice.id(), notice.issued_at_s) {
            let reply = text(body, 200, "already counted");
            return (NoticeOutcome::Duplicate, reply, None);
        }
        self.events.emit(&Event {
            kind: Some(kind.event()),
            ts_ms: clock::now_ms(),
            request_id: Some(notice.request_id),
            imp_id: Some(notice.imp_id),
            campaign_id: Some(notice.campaign_id),
            creative_id: Some(notice.creative_id),
            bid_price_micros: Some(notice.price),
            win_price_micros: (kind != NoticeKind::Click).then_some(price.cpm),
            win_price_source: (kind != NoticeKind::Click).then_some(price.source.as_str()),
            currency: Some(notice.currency),
            exchange: non_empty(notice.exchange),
            instance: self.events.instance(),
            core: self.events.core(),
            ..Event::default()
        });
        let accepted = match (kind, price.source) {
            (NoticeKind::Click, _) | (_, PriceSource::Exchange) => NoticeOutcome::Accepted,
            (_, PriceSource::Capped) => NoticeOutcome::PriceCapped,
            (_, PriceSource::Bid) => NoticeOutcome::PriceUnreadable,
        };
        if kind != NoticeKind::Impression {
            return (accepted, text(body, 200, "ok"), None);
        }
        let snapshot = api.state.snapshot();
        let campaign = snapshot.campaign(notice.campaign_id);
        let debited = campaign.map_or(0, |c| {
            c.spend
                .debit_impression(snapshot.fx(), price.cpm, notice.currency, c.currency, now)
        });
        self.metrics.spend_micros.add(debited);
        let impression = match (campaign.and_then(|c| c.frequency_cap), notice.user) {
            (Some(cap), Some(user)) => Some(CapImpression {
                user,
                campaign_id: notice.campaign_id.to_owned(),
                window_secs: cap.window_secs,
            }),
            _ => None,
        };
        (accepted, text(body, 200, "ok"), impression)
    }
}
