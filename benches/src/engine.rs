//! The engine path a bid takes inside a server, without the server: bytes in, bytes
//! out. The same steps as the bidder's `POST /openrtb2/bid` handler (parse, the
//! invalid-traffic screen with the bundled lists, the decision's three steps with
//! frequency-cap queries answered, write the response with a signed billing URL),
//! so the micro-benchmarks, the allocation count and the tokio baseline all measure
//! the code the bidder runs.

use std::cell::RefCell;
use std::sync::Arc;

use tern_engine::budget::Budgets;
use tern_engine::campaign::{Campaign, FileFormat, parse_campaigns};
use tern_engine::decision::{Auction, BidContext, NoBidReason, nobody_at_cap};
use tern_engine::money::{Currency, FxTable};
use tern_engine::notice::NoticeSigner;
use tern_engine::openrtb::BidRequest;
use tern_engine::response::{BillingUrl, ResponseParts, write_bid_response};
use tern_engine::snapshot::Snapshot;
use tern_ivt::{Lists, Screener};

thread_local! {
    /// Each thread's screening state, as each bidder worker has its own.
    static SCREENER: RefCell<Screener> = RefCell::new(Screener::default());
}

/// Noon UTC on a fixed day, so budgets and hours never depend on the wall clock.
pub const BENCH_NOW_UNIX_S: u64 = 1_700_006_400 + 12 * 3600;

/// Which JSON library parses the request (the response writer is the engine's own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parser {
    /// The engine's own reader, as the bidder does ([`BidRequest::parse_into`]).
    Tern,
    /// `serde_json::from_slice` into the same borrowed types.
    SerdeJson,
}

/// What one request came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// `200`: a response body was written.
    Bid,
    /// `204`: nothing to bid.
    NoBid,
    /// `400`: the body is not an acceptable bid request.
    Invalid,
}

/// A snapshot and the settings a bid handler holds.
#[derive(Debug)]
pub struct Engine {
    snapshot: Snapshot,
    /// The screening lists (the bidder's bundled set).
    lists: Lists,
    signer: NoticeSigner,
    seat: String,
    base_url: String,
}

/// The FX table the benchmarks use (the bidder's defaults).
pub fn fx_table() -> FxTable {
    let rates = [("EUR", 0.92), ("GBP", 0.79), ("JPY", 150.0)];
    FxTable::new(
        rates
            .iter()
            .map(|(code, rate)| (Currency::parse(code).expect("valid code"), *rate)),
    )
    .expect("valid rates")
}

impl Engine {
    /// An engine over `campaigns` (validated already).
    pub fn new(campaigns: &[Campaign]) -> Engine {
        let snapshot = Snapshot::build(campaigns, Arc::new(fx_table()), &Budgets::default())
            .expect("benchmark campaigns compile");
        // Each bid holds its cost against a lease, as in the bidder; the leases
        // hold whole budgets and never lapse, so the budget never decides.
        snapshot.grant_whole_budgets(tern_engine::clock::now_unix_s(), u64::MAX);
        Engine {
            snapshot,
            lists: Lists::bundled(),
            signer: NoticeSigner::new(b"tern-benchmarks-notice-secret-32b"),
            seat: "tern".to_owned(),
            base_url: "http://127.0.0.1:8080".to_owned(),
        }
    }

    /// An engine over a campaigns document (TOML or JSON, as the bidder reads it).
    pub fn from_document(text: &str, format: FileFormat) -> anyhow::Result<Engine> {
        let campaigns = parse_campaigns(text, format).map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(Engine::new(&campaigns))
    }

    /// The campaigns' snapshot.
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// Answers one request body: parses it with `parser`, decides, and on a bid
    /// appends the JSON response to `out` (which the caller clears). `auction` is
    /// scratch space reused across calls, as the bidder reuses it per core.
    pub fn handle(
        &self,
        parser: Parser,
        body: &[u8],
        now_unix_s: u64,
        auction: &mut Auction,
        out: &mut Vec<u8>,
    ) -> Outcome {
        let mut request = BidRequest::default();
        let parsed = match parser {
            Parser::Tern => BidRequest::parse_into(body, &mut request).is_ok(),
            Parser::SerdeJson => parse_serde_json(body).map(|r| request = r).is_ok(),
        };
        if !parsed {
            return Outcome::Invalid;
        }
        self.answer(&request, now_unix_s, auction, out)
    }

    /// The screen and the decision, as the bidder makes them with its bundled
    /// lists and its embedded default cap store for users it has not shown ads
    /// yet: every capped campaign the auction asks about is under its cap. The
    /// bids are left in `auction`.
    pub fn decide(
        &self,
        request: &BidRequest<'_>,
        now_unix_s: u64,
        auction: &mut Auction,
    ) -> Result<Currency, NoBidReason> {
        let screened = SCREENER.with_borrow_mut(|s| s.screen(&self.lists, request, None));
        let ctx = BidContext {
            seat: &self.seat,
            now_unix_s,
            screen: screened.verdict,
            gvl_vendor_id: 0,
        };
        auction.decide(&self.snapshot, request, &ctx, nobody_at_cap)
    }

    /// Decides and writes the answer for a parsed request.
    pub fn answer(
        &self,
        request: &BidRequest<'_>,
        now_unix_s: u64,
        auction: &mut Auction,
        out: &mut Vec<u8>,
    ) -> Outcome {
        let Ok(currency) = self.decide(request, now_unix_s, auction) else {
            return Outcome::NoBid;
        };
        let parts = ResponseParts {
            request,
            snapshot: &self.snapshot,
            bids: auction.bids(),
            currency,
            seat: &self.seat,
            billing: Some(BillingUrl {
                base_url: &self.base_url,
                signer: &self.signer,
                origin: tern_engine::notice::BidOrigin::default(),
            }),
            now_unix_s,
            user: tern_engine::user::UserKey::from_request(request),
            exchange: "",
        };
        write_bid_response(out, &parts);
        Outcome::Bid
    }
}

/// Parses with `serde_json` into the engine's types and applies the same checks as
/// [`BidRequest::parse`], as a serde_json-based server would.
/// The error is serde_json's or the engine's reason, as text.
pub fn parse_serde_json(body: &[u8]) -> Result<BidRequest<'_>, String> {
    let mut request: BidRequest<'_> = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    request.normalize();
    request.validate().map_err(|e| e.to_string())?;
    Ok(request)
}
