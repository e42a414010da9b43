//! The bid listener's endpoints: `POST /openrtb2/bid` and `GET /notice/imp`.
//!
//! [`BidApi`] holds what every worker shares (state, settings, the notice signer);
//! each worker wraps it in its own [`BidRouter`] with per-core scratch space and
//! metrics, so answering a request touches nothing another core writes.

mod bid;
mod notice;

pub(crate) use notice::NoticeKind;

use std::cell::RefCell;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tern_engine::clock;
use tern_engine::decision::Auction;
use tern_engine::notice::{NoticeDedup, NoticeSigner};
use tern_engine::openrtb::{CLICK_PATH, NOTICE_PATH, WIN_PATH};

use crate::config::{CapPolicy, Config};
use crate::events::EventLog;
use crate::freq_cap::CapStore;
use crate::http::{Method, Reply, Request, Router};
use crate::metrics::WorkerMetrics;
use crate::state::BidderState;

/// Path of the OpenRTB endpoint; `/openrtb2/bid/<exchange>` names the supply
/// partner for reporting.
pub const BID_PATH: &str = "/openrtb2/bid";

/// Settings and shared state for the bid endpoints, built once from the config.
#[derive(Debug)]
pub struct BidApi {
    pub(crate) state: Arc<BidderState>,
    pub(crate) seat: String,
    pub(crate) default_tmax: Duration,
    pub(crate) tmax_margin: Duration,
    pub(crate) public_url: String,
    pub(crate) signer: NoticeSigner,
    /// Notices seen, per kind (win, impression, click): each counts once.
    pub(crate) dedup: [NoticeDedup; 3],
    pub(crate) notice_max_age_s: u64,
    pub(crate) cap_timeout: Duration,
    pub(crate) cap_record_timeout: Duration,
    pub(crate) cap_policy: CapPolicy,
}

impl BidApi {
    /// Builds the endpoints' settings. `public_url` is where billing notices point;
    /// an empty `notice.secret` gets a random key.
    pub fn new(config: &Config, public_url: String, state: Arc<BidderState>) -> BidApi {
        let secret = if config.notice.secret.is_empty() {
            random_key().to_vec()
        } else {
            config.notice.secret.as_bytes().to_vec()
        };
        BidApi {
            state,
            seat: config.bidding.seat.clone(),
            default_tmax: Duration::from_millis(config.bidding.default_tmax_ms),
            tmax_margin: Duration::from_millis(config.bidding.tmax_margin_ms),
            public_url,
            signer: NoticeSigner::new(&secret),
            dedup: [(); 3].map(|()| NoticeDedup::new(config.notice.max_age_s)),
            notice_max_age_s: config.notice.max_age_s,
            cap_timeout: Duration::from_millis(config.frequency_cap.timeout_ms),
            cap_record_timeout: Duration::from_millis(config.frequency_cap.record_timeout_ms),
            cap_policy: config.frequency_cap.on_unavailable,
        }
    }
}

/// 32 bytes from the kernel's random source, for a per-process notice key.
fn random_key() -> [u8; 32] {
    use std::io::Read;
    let mut key = [0u8; 32];
    let read = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut key));
    if read.is_err() {
        // Without /dev/urandom, fall back to time and address entropy; still unguessable
        // enough for a development default, and production sets notice.secret.
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let mixed = seed ^ (&key as *const _ as u128);
        key[..16].copy_from_slice(&mixed.to_le_bytes());
    }
    key
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

fn text(body: &mut Vec<u8>, status: u16, message: &str) -> Reply {
    body.extend_from_slice(message.as_bytes());
    body.push(b'\n');
    Reply::text(status)
}

impl Router for BidRouter {
    async fn route(&self, req: &Request<'_>, body: &mut Vec<u8>) -> Reply {
        if let Some(exchange) = bid_endpoint(req.path) {
            return match req.method {
                Method::Post => self.bid(req, exchange, body).await,
                _ => text(body, 405, "use POST").with_header("Allow", "POST"),
            };
        }
        let kind = match req.path {
            WIN_PATH => NoticeKind::Win,
            NOTICE_PATH => NoticeKind::Impression,
            CLICK_PATH => NoticeKind::Click,
            _ => return text(body, 404, "not found"),
        };
        match req.method {
            Method::Get => self.notice(req, kind, body).await,
            _ => text(body, 405, "use GET").with_header("Allow", "GET"),
        }
    }

    fn on_response(&self, status: u16, received_at: Instant) {
        let latency_us = received_at.elapsed().as_micros() as u64;
        self.metrics
            .record_response(status, latency_us, clock::now_unix_s());
    }

    fn on_panic(&self) {
        self.metrics.panics.inc();
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
