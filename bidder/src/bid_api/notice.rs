//! The notice endpoints, all carrying the token signed into the bid:
//! `GET /notice/win?t=..&p=..` (`nurl`: the bid won), `GET /notice/imp?t=..&p=..`
//! (`burl`: the impression was billed; books the spend against the campaign's
//! budget and counts against the frequency cap), `GET /notice/click?t=..` (a
//! click) and `GET /notice/loss?t=..&r=..&m=..` (`lurl`: the bid lost, with the
//! loss reason and the lowest bid that would have won; a real loss releases the
//! bid's budget hold early, see [`crate::budget::BudgetService::release_lost`]).
//! Each is verified, counted once per auction and impression (a billing notice
//! once fleet-wide, when the fleet shares a Redis), and recorded as an event.

use std::time::Instant;

use std::borrow::Cow;
use tern_engine::clock;

use percent_encoding::percent_decode_str;
use tern_engine::money::{Micros, micros_up};
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
    ) -> Result<(Notice<'s>, Params<'q>), Answered> {
        let params = Params::read(req.query);
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
    /// impression, books the spend (a loss goes to [`BidRouter::settle_loss`]);
    /// returns the impression to count against a cap, if the campaign has one
    /// (counted after, without holding any borrow).
    fn settle(&self, req: &Request<'_>, kind: NoticeKind, body: &mut Vec<u8>) -> Answered {
        let mut scratch = self.token_scratch.borrow_mut();
        let (notice, params) = match self.verify(req, body, &mut scratch) {
            Ok(verified) => verified,
            Err(answered) => return answered,
        };
        if kind == NoticeKind::Loss {
            self.settle_loss(&notice, &params);
            return (
                NoticeOutcome::Accepted,
                Reply::plain(body, Status::OK, "ok"),
                None,
            );
        }
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

    /// Books a loss notice counted for the first time: records its event with the
    /// reason and the price it would have taken to win, and, for a real loss
    /// (a reason other than 0, "bid won"), releases the bid's budget hold. An
    /// unknown reason keeps the hold until its timeout: the bid may yet be billed.
    fn settle_loss(&self, notice: &Notice<'_>, params: &Params<'_>) {
        let reason = loss_reason(params.loss_reason());
        self.events.emit(&Event {
            kind: Some(EventKind::Loss),
            ts_ms: clock::now_ms(),
            request_id: Some(notice.request_id),
            imp_id: Some(notice.imp_id),
            campaign_id: Some(notice.campaign_id),
            creative_id: Some(notice.creative_id),
            bid_price_micros: Some(notice.price),
            currency: Some(notice.currency),
            exchange: non_empty(notice.exchange),
            instance: self.events.instance(),
            core: self.events.core(),
            loss_reason: reason,
            min_to_win_micros: min_to_win(params.min_to_win()),
            ..Event::default()
        });
        if reason.is_some_and(|r| r != BID_WON) {
            let snapshot = self.api.state.snapshot();
            let released = self
                .api
                .budget
                .release_lost(notice, snapshot.campaign(notice.campaign_id));
            self.metrics.released_by_loss(released);
        }
    }
}

/// How a notice was answered, and the impression to count against a cap.
type Answered = (NoticeOutcome, Reply, Option<CapImpression>);

/// The parameters of a notice URL, read tolerantly: exchanges that re-encode the
/// URL we bid with send the token percent-encoded (`%5F` for `_`), or the whole
/// query encoded (`t%3D…%26p%3D…`). `T` is `&str` while splitting a query,
/// [`Cow`] once read.
struct NoticeParams<T> {
    /// `t`: the signed token.
    token: Option<T>,
    /// `p`: the clearing price (win and billing notices).
    price: Option<T>,
    /// `r`: the loss reason (loss notices).
    loss_reason: Option<T>,
    /// `m`: the lowest bid that would have won (loss notices).
    min_to_win: Option<T>,
}

/// A notice URL's parameters, read.
type Params<'q> = NoticeParams<Cow<'q, str>>;

impl<'q> Params<'q> {
    fn read(query: &'q str) -> Params<'q> {
        let raw = NoticeParams::split(query);
        if raw.token.is_some() {
            return raw.map(Cow::Borrowed);
        }
        let Ok(Cow::Owned(decoded)) = percent_decode_str(query).decode_utf8() else {
            return raw.map(Cow::Borrowed);
        };
        NoticeParams::split(&decoded).map(|value| Cow::Owned(value.to_owned()))
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

    /// The loss reason as sent (see [`loss_reason`]).
    fn loss_reason(&self) -> Option<&str> {
        self.loss_reason.as_deref()
    }

    /// The minimum bid to win as sent (see [`min_to_win`]).
    fn min_to_win(&self) -> Option<&str> {
        self.min_to_win.as_deref()
    }
}

impl<'a> NoticeParams<&'a str> {
    /// The raw values of `t`, `p`, `r` and `m` in a query string.
    fn split(query: &'a str) -> NoticeParams<&'a str> {
        let mut params = NoticeParams {
            token: None,
            price: None,
            loss_reason: None,
            min_to_win: None,
        };
        for pair in query.split('&') {
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            let slot = match name {
                "t" => &mut params.token,
                "p" => &mut params.price,
                "r" => &mut params.loss_reason,
                "m" => &mut params.min_to_win,
                _ => continue,
            };
            *slot = Some(value);
        }
        params
    }

    fn map<U>(self, f: impl Fn(&'a str) -> U) -> NoticeParams<U> {
        NoticeParams {
            token: self.token.map(&f),
            price: self.price.map(&f),
            loss_reason: self.loss_reason.map(&f),
            min_to_win: self.min_to_win.map(&f),
        }
    }
}

/// Loss reason 0 in OpenRTB 2.6 list 5.25: the bid won after all.
const BID_WON: u32 = 0;

/// Longest `r` or `m` value read: a reason is a few digits, a price a few more
/// (an encrypted one about 40, and it is not read).
const MAX_LOSS_PARAM_TEXT: usize = 64;

/// The loss reason of an `r` value (`${AUCTION_LOSS}`, OpenRTB 2.6 list 5.25):
/// a whole number, percent-decoded and trimmed. Absent, empty (the exchange
/// removes a macro it has no value for), the macro unsubstituted in any
/// encoding, `AUDIT`, negative or anything else is unknown: `None`.
fn loss_reason(param: Option<&str>) -> Option<u32> {
    let text = decoded(param?)?;
    let code: u32 = text.trim().parse().ok()?;
    // The event column is a 32-bit signed int.
    (code <= i32::MAX as u32).then_some(code)
}

/// The lowest bid that would have won, from an `m` value
/// (`${AUCTION_MIN_TO_WIN}`): a CPM in the bid's currency, read like a clearing
/// price (percent-decoded, trimmed, a decimal number), as micros rounded up: it
/// is a floor we would have had to beat, so it is never reported below what the
/// exchange stated. Absent, empty, the macro unsubstituted, encrypted, negative
/// or not a number: `None`.
fn min_to_win(param: Option<&str>) -> Option<Micros> {
    let text = decoded(param?)?;
    micros_up(text.trim().parse::<f64>().ok()?)
}

/// A parameter value percent-decoded, if it is short enough and decodes to UTF-8.
fn decoded(raw: &str) -> Option<Cow<'_, str>> {
    if raw.len() > MAX_LOSS_PARAM_TEXT {
        return None;
    }
    percent_decode_str(raw).decode_utf8().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_parameter_is_read_plain_or_from_an_encoded_query() {
        for query in [
            "t=tok&p=1.5&r=102&m=2.5",
            "t%3Dtok%26p%3D1.5%26r%3D102%26m%3D2.5",
        ] {
            let params = Params::read(query);
            assert_eq!(params.token().as_deref(), Some("tok"), "{query}");
            assert_eq!(params.price(), Some("1.5"), "{query}");
            assert_eq!(params.loss_reason(), Some("102"), "{query}");
            assert_eq!(params.min_to_win(), Some("2.5"), "{query}");
        }
        let bare = Params::read("t=tok");
        assert_eq!((bare.loss_reason(), bare.min_to_win()), (None, None));
    }

    #[test]
    fn loss_reasons_are_whole_numbers_and_anything_else_is_unknown() {
        assert_eq!(loss_reason(Some("102")), Some(102));
        assert_eq!(loss_reason(Some("0")), Some(0));
        assert_eq!(loss_reason(Some("%31%30%32")), Some(102));
        assert_eq!(loss_reason(Some(" 1001 ")), Some(1001));
        assert_eq!(loss_reason(Some("2147483647")), Some(2_147_483_647));
        for unknown in [
            "",
            "${AUCTION_LOSS}",
            "$%7BAUCTION_LOSS%7D",
            "%24%7BAUCTION_LOSS%7D",
            "%24%7bAUCTION_LOSS%7d",
            "AUDIT",
            "-1",
            "102.5",
            "1e2",
            "2147483648",
            "99999999999999999999",
            "%FF",
            &"1".repeat(65),
        ] {
            assert_eq!(loss_reason(Some(unknown)), None, "{unknown:?}");
        }
        assert_eq!(loss_reason(None), None);
    }

    #[test]
    fn min_to_win_is_read_like_a_price_and_rounded_up() {
        assert_eq!(min_to_win(Some("2.5")), Some(2_500_000));
        assert_eq!(min_to_win(Some("2%2E5")), Some(2_500_000));
        assert_eq!(min_to_win(Some("0")), Some(0));
        // A floor we would have had to beat: never reported below it.
        assert_eq!(min_to_win(Some("2.0000001")), Some(2_000_001));
        assert_eq!(min_to_win(Some("1e9")), Some(1_000_000_000_000_000));
        for unknown in [
            "",
            "${AUCTION_MIN_TO_WIN}",
            "%24%7BAUCTION_MIN_TO_WIN%7D",
            "AUDIT",
            "WEp8wQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "-1",
            "NaN",
            "inf",
            "%",
            &"9".repeat(65),
        ] {
            assert_eq!(min_to_win(Some(unknown)), None, "{unknown:?}");
        }
        assert_eq!(min_to_win(None), None);
    }
}
