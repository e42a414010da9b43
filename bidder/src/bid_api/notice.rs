//! The notice endpoints, all carrying the token signed into the bid:
//! `GET /notice/win?t=..&p=..` (`nurl`: the bid won), `GET /notice/imp?t=..&p=..`
//! (`burl`: the impression was billed; books the spend against the campaign's
//! budget and counts against the frequency cap) and `GET /notice/click?t=..` (a
//! click). Each is verified, counted once per auction and impression (a billing
//! notice once fleet-wide, when the fleet shares a Redis), and recorded as an
//! event.

use std::time::Instant;

use std::borrow::Cow;
use tern_engine::clock;

use percent_encoding::percent_decode_str;
use tern_engine::notice::{
    Notice, NoticeId, NoticeKind, NoticeOutcome, TokenError, clearing_price,
};
use tern_engine::user::UserKey;

use super::{BidRouter, non_empty};
use crate::events::{Event, EventKind};
use crate::http::{Reply, Request, Status};
use crate::metrics::CapRecord;

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
        let (outcome, reply, impression) = match self.check(req, kind, body) {
            Err(answered) => answered,
            Ok(id) if kind == NoticeKind::Impression && !self.claim(&id).await => {
                let reply = Reply::plain(body, Status::OK, "already counted");
                (NoticeOutcome::Duplicate, reply, None)
            }
            Ok(_) => self.settle(req, kind, body),
        };
        self.metrics.notice(kind, outcome);
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
            let record = match recorded {
                Ok(round_trip) => {
                    self.record_round_trip(round_trip);
                    CapRecord::Ok
                }
                Err(e) => {
                    tracing::debug!(error = %e, "impression not counted against its cap");
                    CapRecord::Failed
                }
            };
            self.metrics.cap_record(record);
        }
        reply
    }

    /// Verifies the token and counts the notice once in this bidder; returns its
    /// identity when it is new here, or the answer when it is refused or a repeat.
    fn check(
        &self,
        req: &Request<'_>,
        kind: NoticeKind,
        body: &mut Vec<u8>,
    ) -> Result<NoticeId, Answered> {
        let mut scratch = self.token_scratch.borrow_mut();
        let (notice, _) = self.verify(req, body, &mut scratch)?;
        let id = notice.id();
        if !self.api.dedup(kind).first_time(&id, notice.issued_at_s) {
            let reply = Reply::plain(body, Status::OK, "already counted");
            return Err((NoticeOutcome::Duplicate, reply, None));
        }
        Ok(id)
    }

    /// Whether this bidder is the fleet's first to count billing notice `id`
    /// (exchanges resend notices, and a load balancer spreads the copies). When
    /// the store cannot say, the notice counts: spend is over-counted rather than
    /// under.
    async fn claim(&self, id: &NoticeId) -> bool {
        let deadline = Instant::now() + self.api.cap_record_timeout;
        match self
            .caps
            .claim_notice(id, self.api.notice_max_age_s, deadline)
            .await
        {
            Ok(first) => first,
            Err(e) => {
                tracing::debug!(error = %e, "billing notice not claimed fleet-wide; counted here");
                true
            }
        }
    }

    /// Verifies a notice's token (signature and age); returns it with the URL's
    /// parameters, or the answer refusing it.
    fn verify<'s, 'q>(
        &self,
        req: &Request<'q>,
        body: &mut Vec<u8>,
        scratch: &'s mut Vec<u8>,
    ) -> Result<(Notice<'s>, NoticeParams<'q>), Answered> {
        let params = NoticeParams::read(req.query);
        let Some(token) = params.token() else {
            let reply = Reply::plain(body, Status::BAD_REQUEST, "missing notice token");
            return Err((NoticeOutcome::Malformed, reply, None));
        };
        let api = &*self.api;
        match api
            .signer
            .verify(&token, clock::now_unix_s(), api.notice_max_age_s, scratch)
        {
            Ok(notice) => Ok((notice, params)),
            Err(error) => {
                let (status, why) = match error {
                    TokenError::Forged => (Status::FORBIDDEN, "notice signature does not match"),
                    TokenError::Expired => (Status::GONE, "notice expired"),
                    TokenError::Malformed => (Status::BAD_REQUEST, "malformed notice token"),
                };
                let reply = Reply::plain(body, status, why);
                Err((NoticeOutcome::refused(error), reply, None))
            }
        }
    }

    /// Books a notice counted for the first time: records its event and, for an
    /// impression, books the spend; returns the impression to count against a cap,
    /// if the campaign has one (counted after, without holding any borrow).
    fn settle(&self, req: &Request<'_>, kind: NoticeKind, body: &mut Vec<u8>) -> Answered {
        let mut scratch = self.token_scratch.borrow_mut();
        let (notice, params) = match self.verify(req, body, &mut scratch) {
            Ok(verified) => verified,
            Err(answered) => return answered,
        };
        // A genuine token means a served impression: one whose price cannot be read
        // is still counted, at our bid (the most the exchange may charge).
        let price = clearing_price(params.price(), notice.price);
        self.events.emit(&Event {
            kind: Some(EventKind::from(kind)),
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
        let accepted = NoticeOutcome::counted(kind, price.source);
        if kind != NoticeKind::Impression {
            return (accepted, Reply::plain(body, Status::OK, "ok"), None);
        }
        let api = &*self.api;
        let snapshot = api.state.snapshot();
        let campaign = snapshot.campaign(notice.campaign_id);
        let booked = api
            .budget
            .record_billed(&notice, price.cpm, campaign, snapshot.fx());
        self.metrics.spend(booked);
        let impression = match (campaign.and_then(|c| c.frequency_cap), notice.user) {
            (Some(cap), Some(user)) => Some(CapImpression {
                user,
                campaign_id: notice.campaign_id.to_owned(),
                window_secs: cap.window_secs,
            }),
            _ => None,
        };
        (accepted, Reply::plain(body, Status::OK, "ok"), impression)
    }
}

/// How a notice was answered, and the impression to count against a cap.
type Answered = (NoticeOutcome, Reply, Option<CapImpression>);

/// The parameters of a notice URL, read tolerantly: exchanges that re-encode the
/// URL we bid with send the token percent-encoded (`%5F` for `_`), or the whole
/// query encoded (`t%3D…%26p%3D…`).
struct NoticeParams<'q> {
    token: Option<Cow<'q, str>>,
    price: Option<Cow<'q, str>>,
}

impl<'q> NoticeParams<'q> {
    fn read(query: &'q str) -> NoticeParams<'q> {
        let (token, price) = token_and_price(query);
        if token.is_some() {
            return NoticeParams {
                token: token.map(Cow::Borrowed),
                price: price.map(Cow::Borrowed),
            };
        }
        let Ok(Cow::Owned(decoded)) = percent_decode_str(query).decode_utf8() else {
            return NoticeParams {
                token: None,
                price: price.map(Cow::Borrowed),
            };
        };
        let (token, price) = token_and_price(&decoded);
        NoticeParams {
            token: token.map(|t| Cow::Owned(t.to_owned())),
            price: price.map(|p| Cow::Owned(p.to_owned())),
        }
    }

    /// The token, percent-decoded.
    fn token(&self) -> Option<Cow<'_, str>> {
        let raw = self.token.as_deref()?;
        percent_decode_str(raw).decode_utf8().ok()
    }

    /// The price as sent (the engine reads every form it comes in).
    fn price(&self) -> Option<&str> {
        self.price.as_deref()
    }
}

/// The raw `t` and `p` values of a query string.
fn token_and_price(query: &str) -> (Option<&str>, Option<&str>) {
    let (mut token, mut price) = (None, None);
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("t", value)) => token = Some(value),
            Some(("p", value)) => price = Some(value),
            _ => {}
        }
    }
    (token, price)
}
