//! The bid listener's endpoints: `POST /openrtb2/bid[/<exchange>]` and the
//! notices `GET /notice/win`, `GET /notice/imp`, `GET /notice/click` and
//! `GET /notice/loss`.
//!
//! [`BidApi`] holds what every worker shares (state, settings, the notice signer);
//! each worker wraps it in its own [`BidRouter`] with per-core scratch space,
//! metrics and event queue. The only shared memory a request writes is a
//! campaign's atomic lease counters (a billing notice spends, a loss notice
//! releases a hold) and, without Redis, the in-process frequency caps.

mod bid;
pub mod config;
mod notice;

use std::cell::RefCell;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tern_engine::clock;
use tern_engine::decision::Auction;
use tern_engine::notice::{NoticeDedup, NoticeKind, NoticeSigner};
use tern_engine::response::{CLICK_PATH, LOSS_PATH, NOTICE_PATH, WIN_PATH};
use tern_ivt::Screener;

use self::config::{BiddingConfig, NoticeConfig};
use crate::budget::BudgetService;
use crate::events::EventLog;
use crate::freq_cap::config::{CapPolicy, FrequencyCapConfig};
use crate::freq_cap::{CapStore, RoundTrip};
use crate::http::{Method, Reply, Request, Router, Status};
use crate::metrics::WorkerMetrics;
use crate::screening::ScreeningState;
use crate::segments::config::SegmentsConfig;
use crate::state::BidderState;

/// Path of the OpenRTB endpoint; `/openrtb2/bid/<exchange>` names the supply
/// partner for reporting.
pub const BID_PATH: &str = "/openrtb2/bid";

/// The sections of the config the bid endpoints read.
#[derive(Debug, Clone, Copy)]
pub struct BidSettings<'c> {
    /// `[bidding]`.
    pub bidding: &'c BiddingConfig,
    /// `[notice]`.
    pub notice: &'c NoticeConfig,
    /// `[frequency_cap]`.
    pub frequency_cap: &'c FrequencyCapConfig,
    /// `[segments]`.
    pub segments: &'c SegmentsConfig,
}

/// Settings and shared state for the bid endpoints, built once from the config.
#[derive(Debug)]
pub struct BidApi {
    pub(crate) state: Arc<BidderState>,
    pub(crate) seat: String,
    pub(crate) default_tmax: Duration,
    pub(crate) tmax_margin: Duration,
    pub(crate) public_url: String,
    pub(crate) signer: NoticeSigner,
    /// Notices seen, per kind (win, impression, click, loss): each counts once.
    dedup: [NoticeDedup; NoticeKind::ALL.len()],
    pub(crate) notice_max_age_s: u64,
    pub(crate) cap_timeout: Duration,
    pub(crate) cap_record_timeout: Duration,
    pub(crate) cap_policy: CapPolicy,
    /// Our Global Vendor List id, for the segments' GDPR consent check.
    pub(crate) gvl_vendor_id: u16,
    /// Leases, holds and the spend journal.
    pub(crate) budget: Arc<BudgetService>,
    /// The invalid-traffic and supply-chain lists.
    pub(crate) screening: Arc<ScreeningState>,
}

impl BidApi {
    /// Builds the endpoints' settings. `public_url` is where billing notices point;
    /// an empty `notice.secret` signs with `stored_key` (the bidder's own, kept in
    /// its state directory so notices outlive a restart).
    pub fn new(
        config: BidSettings<'_>,
        public_url: String,
        state: Arc<BidderState>,
        budget: Arc<BudgetService>,
        screening: Arc<ScreeningState>,
        stored_key: &[u8],
    ) -> BidApi {
        let secret = if config.notice.secret.is_empty() {
            stored_key
        } else {
            config.notice.secret.as_bytes()
        };
        BidApi {
            budget,
            screening,
            state,
            seat: config.bidding.seat.clone(),
            default_tmax: Duration::from_millis(config.bidding.default_tmax_ms),
            tmax_margin: Duration::from_millis(config.bidding.tmax_margin_ms),
            public_url,
            signer: NoticeSigner::new(secret),
            dedup: NoticeKind::ALL.map(|_| NoticeDedup::new(config.notice.max_age_s)),
            notice_max_age_s: config.notice.max_age_s,
            cap_timeout: Duration::from_millis(config.frequency_cap.timeout_ms),
            cap_record_timeout: Duration::from_millis(config.frequency_cap.record_timeout_ms),
            cap_policy: config.frequency_cap.on_unavailable,
            gvl_vendor_id: config.segments.gvl_vendor_id,
        }
    }
}

impl BidApi {
    /// The notices of `kind` seen so far.
    pub(crate) fn dedup(&self, kind: NoticeKind) -> &NoticeDedup {
        let at = NoticeKind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
        &self.dedup[at]
    }
}

/// `None` for an empty string (an unnamed exchange).
pub(crate) fn non_empty(text: &str) -> Option<&str> {
    (!text.is_empty()).then_some(text)
}

/// One worker's view of the bid endpoints.
pub(crate) struct BidRouter {
    api: Arc<BidApi>,
    metrics: Arc<WorkerMetrics>,
    caps: CapStore,
    events: EventLog,
    /// Reusable auctions. Requests on one worker interleave at await points, so
    /// each takes its own from here and gives it back.
    auctions: RefCell<Vec<Auction>>,
    token_scratch: RefCell<Vec<u8>>,
    /// This core's screening state (its cache of user-agent verdicts).
    screener: RefCell<Screener>,
}

impl BidRouter {
    pub(crate) fn new(
        api: Arc<BidApi>,
        metrics: Arc<WorkerMetrics>,
        caps: CapStore,
        events: EventLog,
    ) -> BidRouter {
        BidRouter {
            api,
            metrics,
            caps,
            events,
            auctions: RefCell::new(Vec::new()),
            token_scratch: RefCell::new(Vec::with_capacity(1024)),
            screener: RefCell::new(Screener::default()),
        }
    }

    /// An auction with its buffers, reused when one is free.
    fn take_auction(&self) -> Auction {
        self.auctions.borrow_mut().pop().unwrap_or_default()
    }

    /// Returns an auction for reuse.
    fn give_back(&self, auction: Auction) {
        self.auctions.borrow_mut().push(auction);
    }

    /// Records how long the cap store took, when it was Redis.
    fn record_round_trip(&self, round_trip: RoundTrip) {
        if let Some(took) = round_trip {
            self.metrics
                .redis_round_trip(took.as_micros() as u64, clock::now_unix_s());
        }
    }
}

/// The exchange named by a bid path: `""` for `/openrtb2/bid`, `x` for
/// `/openrtb2/bid/x`; `None` for any other path (or an unusable name).
fn bid_endpoint(path: &str) -> Option<&str> {
    let rest = path.strip_prefix(BID_PATH)?;
    if rest.is_empty() {
        return Some("");
    }
    let name = rest.strip_prefix('/')?;
    let usable = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    usable.then_some(name)
}

impl Router for BidRouter {
    async fn route(&self, req: &Request<'_>, body: &mut Vec<u8>) -> Reply {
        if let Some(exchange) = bid_endpoint(req.path) {
            return match req.method {
                Method::Post => self.bid(req, exchange, body).await,
                _ => Reply::plain(body, Status::METHOD_NOT_ALLOWED, "use POST")
                    .with_header("Allow", "POST"),
            };
        }
        let kind = match req.path {
            WIN_PATH => NoticeKind::Win,
            NOTICE_PATH => NoticeKind::Impression,
            CLICK_PATH => NoticeKind::Click,
            LOSS_PATH => NoticeKind::Loss,
            _ => return Reply::plain(body, Status::NOT_FOUND, "not found"),
        };
        match req.method {
            Method::Get => self.notice(req, kind, body).await,
            _ => Reply::plain(body, Status::METHOD_NOT_ALLOWED, "use GET")
                .with_header("Allow", "GET"),
        }
    }

    fn on_response(&self, status: Status, received_at: Instant) {
        let latency_us = received_at.elapsed().as_micros() as u64;
        self.metrics
            .response(status.code(), latency_us, clock::now_unix_s());
    }

    fn on_panic(&self) {
        self.metrics.panic();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bid_paths_name_the_exchange() {
        assert_eq!(bid_endpoint("/openrtb2/bid"), Some(""));
        assert_eq!(bid_endpoint("/openrtb2/bid/adx-eu.1"), Some("adx-eu.1"));
        assert_eq!(bid_endpoint("/openrtb2/bidder"), None);
        assert_eq!(bid_endpoint("/openrtb2/bid/"), None);
        assert_eq!(bid_endpoint("/openrtb2/bid/a/b"), None);
        assert_eq!(bid_endpoint("/notice/imp"), None);
    }
}
