//! Entry points for coverage-guided fuzzing and for replaying its corpus.
//!
//! Every function here takes arbitrary bytes — what a peer could send — and drives
//! the real code those bytes reach in a running bidder: the connection loop with
//! the real bid router, the OpenRTB handler, the notice endpoints, campaign
//! documents and DynamoDB items as the sync reads them, and Redis replies. The
//! AFL++ binaries in `fuzz/` call [`Harness::run`] once per input; `cargo test`
//! calls it on every committed corpus and crash file (`tests/fuzz_corpus.rs`), so
//! CI re-runs what the fuzzer found without the fuzzer.
//!
//! A broken invariant panics, which is the only failure signal a fuzzer reads.
//! Panics inside request handling are caught by the connection loop (answered
//! 500), so the harness checks the panic counter after each input and panics
//! itself when it moved.

mod documents;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use tern_engine::campaign::Campaign;
use tern_engine::response::{CLICK_PATH, LOSS_PATH, NOTICE_PATH, WIN_PATH};

use crate::bid_api::{BidApi, BidRouter};
use crate::budget::BudgetService;
use crate::config::Config;
use crate::events::EventLog;
use crate::freq_cap::CapStore;
use crate::http::{Method, Request, Router, Status};
use crate::lifecycle::Background;
use crate::local_state::LocalState;
use crate::metrics::WorkerMetrics;
use crate::screening::ScreeningState;
use crate::server::connection::{ConnectionLimits, Scratch, Step, step};
use crate::state::{BidderState, CampaignSource};

/// A sample request every bundled campaign set bids on; its notice URLs seed the
/// notice target with genuine tokens.
const SIGNED_SAMPLE: &[u8] = include_bytes!("../../samples/banner.json");

/// What one fuzz target feeds its bytes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A byte stream on one bid-listener connection: head and body framing
    /// (Content-Length, chunked, gzip), pipelining, routing, every endpoint.
    Http,
    /// A body `POST`ed to `/openrtb2/bid`: parsing, deciding and the response bytes,
    /// checked against OpenRTB 2.6 §4.
    Bid,
    /// Notice endpoints: genuine signed URLs with fuzzed macro values (price, loss
    /// reason, minimum to win), or a fuzzed path and query (forged tokens).
    Notice,
    /// A campaigns document (TOML or JSON), compiled into a snapshot that then
    /// answers a sample request.
    Campaigns,
    /// A DynamoDB item in the wire's JSON form (`{"S": ..}`, `{"N": ..}`, ...), read
    /// as a campaign (table scan and stream image) and as a spend ledger item.
    DynamodbItem,
    /// Bytes from a Redis server, as the frequency-cap client parses and reads them.
    RedisReply,
}

impl Target {
    /// Every target, in the order `fuzz/run.sh` runs them.
    pub const ALL: [Target; 6] = [
        Target::Http,
        Target::Bid,
        Target::Notice,
        Target::Campaigns,
        Target::DynamodbItem,
        Target::RedisReply,
    ];

    /// The target's name: its binary in `fuzz/` and its corpus directory.
    pub fn name(self) -> &'static str {
        match self {
            Target::Http => "http",
            Target::Bid => "bid",
            Target::Notice => "notice",
            Target::Campaigns => "campaigns",
            Target::DynamodbItem => "dynamodb_item",
            Target::RedisReply => "redis_reply",
        }
    }
}

/// The bid listener of an embedded-default bidder (bundled campaigns, in-process
/// caps, no events), built without sockets: one worker's router and a monoio
/// runtime to run it on.
pub struct Harness {
    runtime: monoio::Runtime<monoio::time::TimeDriver<monoio::LegacyDriver>>,
    router: BidRouter,
    state: Arc<BidderState>,
    /// What the `campaigns` target puts back after each accepted document.
    bundled: Vec<Campaign>,
    metrics: Arc<WorkerMetrics>,
    limits: ConnectionLimits,
    scratch: Scratch,
    /// Path and query of the sample's notice URLs, macros unexpanded.
    signed: Vec<String>,
    state_dir: PathBuf,
    _budget_sync: Background,
    _local: LocalState,
}

impl std::fmt::Debug for Harness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Harness")
            .field("state_dir", &self.state_dir)
            .finish_non_exhaustive()
    }
}

impl Harness {
    /// Builds the harness with its state directory under the system's temporary
    /// directory (removed on drop).
    ///
    /// # Panics
    /// When the embedded default cannot start (it always can: this is a bug).
    pub fn new() -> Harness {
        let state_dir = std::env::temp_dir().join(format!(
            "tern-fuzz-{}-{}",
            std::process::id(),
            fastrand::u64(..)
        ));
        let mut config = Config::from_toml("").expect("the default config is valid");
        config.budget.state_dir = state_dir.clone();
        let state = Arc::new(BidderState::new(
            config.bidding.fx_table().expect("default rates"),
            config.budget.hold_timeout_s,
        ));
        let bundled = CampaignSource::Bundled
            .campaigns()
            .expect("bundled campaigns parse");
        state
            .replace_campaigns(&bundled)
            .expect("bundled campaigns compile");
        let local = LocalState::open(&state_dir, &config.budget.bidder_id).expect("state dir");
        let (budget, replay) = BudgetService::open(&config.budget, &local, config.notice.max_age_s)
            .expect("spend journal");
        let budget = Arc::new(budget);
        // Leases are granted by the budget thread; AFL++'s forked children run
        // without it, on the leases granted before the fork.
        let budget_sync =
            crate::budget::start(Arc::clone(&budget), replay, Arc::clone(&state), || 0)
                .expect("budget sync");
        let synced = Instant::now() + std::time::Duration::from_secs(10);
        while !state.budgets_synced() {
            assert!(Instant::now() < synced, "budgets synced within 10 s");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let api = Arc::new(BidApi::new(
            config.bid_settings(),
            "http://127.0.0.1:8080".to_owned(),
            Arc::clone(&state),
            budget,
            Arc::new(ScreeningState::load(&config.screening).expect("the bundled lists load")),
            local.notice_key(),
        ));
        let metrics = Arc::new(WorkerMetrics::default());
        let router = BidRouter::new(
            api,
            Arc::clone(&metrics),
            CapStore::Local(Arc::default(), Arc::default()),
            EventLog::new(None, 0, "fuzz".into(), 0.0),
        );
        let runtime = monoio::RuntimeBuilder::<monoio::LegacyDriver>::new()
            .enable_timer()
            .build()
            .expect("monoio runtime");
        let mut harness = Harness {
            runtime,
            router,
            state,
            bundled,
            metrics,
            limits: ConnectionLimits::from_config(&config.limits),
            scratch: Scratch::default(),
            signed: Vec::new(),
            state_dir,
            _budget_sync: budget_sync,
            _local: local,
        };
        let (status, body) = harness.route(Method::Post, "/openrtb2/bid", "", SIGNED_SAMPLE);
        assert_eq!(
            status,
            Status::OK,
            "the bundled campaigns bid on the sample"
        );
        harness.signed = notice_urls(&body);
        assert_eq!(harness.signed.len(), 3, "win, billing and loss URLs");
        harness
    }

    /// Feeds `data` to `target`.
    ///
    /// # Panics
    /// On any broken invariant, or when request handling panicked.
    pub fn run(&mut self, target: Target, data: &[u8]) {
        let panics_before = self.metrics.panics();
        match target {
            Target::Http => self.http(data),
            Target::Bid => self.bid(data),
            Target::Notice => self.notice(data),
            Target::Campaigns => {
                let (state, bundled) = (Arc::clone(&self.state), std::mem::take(&mut self.bundled));
                documents::campaigns(&state, &bundled, data, |body| {
                    self.route(Method::Post, "/openrtb2/bid", "", body)
                });
                self.bundled = bundled;
            }
            Target::DynamodbItem => documents::dynamodb_item(&self.state, data),
            Target::RedisReply => crate::freq_cap::read_replies(data),
        }
        assert_eq!(
            self.metrics.panics(),
            panics_before,
            "request handling panicked (answered 500)"
        );
    }

    /// Answers one request through the router; returns the status and body.
    fn route(&mut self, method: Method, path: &str, query: &str, body: &[u8]) -> (Status, Vec<u8>) {
        let request = Request {
            method,
            path,
            query,
            body,
            json_content_type: true,
            received_at: Instant::now(),
        };
        let mut out = Vec::new();
        let reply = self.runtime.block_on(self.router.route(&request, &mut out));
        (reply.status, out)
    }

    /// Runs the connection loop's steps over `data` as if it arrived in one read,
    /// then once more with the connection's end (what is left is incomplete).
    fn http(&mut self, data: &[u8]) {
        let mut out = Vec::new();
        let mut at = 0;
        while at < data.len() {
            let inbuf = &data[at..];
            let answered = self.runtime.block_on(step(
                inbuf,
                &self.router,
                &self.limits,
                &mut self.scratch,
                &mut out,
                Instant::now(),
                false,
            ));
            match answered {
                Step::NeedMore { .. } => break,
                Step::Answered { consumed, close } => {
                    assert!(
                        (1..=inbuf.len()).contains(&consumed),
                        "a step consumed {consumed} of {} bytes",
                        inbuf.len()
                    );
                    assert!(out.starts_with(b"HTTP/1.1 "), "a response was written");
                    at += consumed;
                    if close {
                        break;
                    }
                }
            }
        }
        let limit = self.limits.inflated_body_bytes.max(self.limits.body_bytes);
        assert!(self.scratch.chunks.len() <= limit && self.scratch.inflated.len() <= limit + 1);
    }

    /// Posts `data` as a bid request and checks the answer.
    fn bid(&mut self, data: &[u8]) {
        let (status, body) = self.route(Method::Post, "/openrtb2/bid/fuzz", "", data);
        match status {
            Status::OK => documents::check_bid_response(data, &body),
            Status::NO_CONTENT => assert!(body.is_empty(), "a no-bid has no body"),
            Status::BAD_REQUEST => {
                assert!(body.ends_with(b"\n") && !body[..body.len() - 1].contains(&b'\n'));
                assert!(body.len() <= 202, "reasons are one short line");
            }
            other => panic!("a bid request answered {other:?}"),
        }
    }

    /// `data[0]` picks a notice; the rest, split at newlines, fills the price, loss
    /// reason and minimum-to-win macros of a genuine URL — or, for the last choice,
    /// is a whole path and query of its own.
    fn notice(&mut self, data: &[u8]) {
        let Some((&pick, rest)) = data.split_first() else {
            return;
        };
        let rest = String::from_utf8_lossy(rest);
        let pick = usize::from(pick) % (self.signed.len() + 1);
        let target = match self.signed.get(pick) {
            Some(url) => {
                let mut values = rest.split('\n');
                let mut next = || values.next().unwrap_or_default().to_owned();
                url.replace("${AUCTION_PRICE}", &next())
                    .replace("${AUCTION_LOSS}", &next())
                    .replace("${AUCTION_MIN_TO_WIN}", &next())
            }
            None => rest.into_owned(),
        };
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let (status, _) = self.route(Method::Get, path, query, b"");
        let known = [WIN_PATH, NOTICE_PATH, CLICK_PATH, LOSS_PATH].contains(&path);
        let expected: &[Status] = if known {
            &[
                Status::OK,
                Status::NO_CONTENT,
                Status::BAD_REQUEST,
                Status::FORBIDDEN,
                Status::GONE,
                Status::SERVICE_UNAVAILABLE,
            ]
        } else {
            &[Status::NOT_FOUND, Status::METHOD_NOT_ALLOWED]
        };
        assert!(expected.contains(&status), "{path} answered {status:?}");
    }
}

impl Default for Harness {
    fn default() -> Harness {
        Harness::new()
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.state_dir);
    }
}

/// The `nurl`, `burl` and `lurl` of a bid response, as path and query.
fn notice_urls(response: &[u8]) -> Vec<String> {
    let value: serde_json::Value = serde_json::from_slice(response).expect("a JSON response");
    let bid = &value["seatbid"][0]["bid"][0];
    ["nurl", "burl", "lurl"]
        .iter()
        .filter_map(|field| bid[field].as_str())
        .filter_map(|url| url.find("/notice/").map(|at| url[at..].to_owned()))
        .collect()
}
