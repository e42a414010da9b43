//! Random and mutated input at the OpenRTB parser and the whole engine: never a
//! panic, and every response written is valid JSON.

use std::sync::Arc;

use proptest::prelude::*;
use tern_engine::budget::Budgets;
use tern_engine::campaign::{FileFormat, parse_campaigns};
use tern_engine::decision::{Auction, BidContext, nobody_at_cap};
use tern_engine::money::{Currency, FxTable};
use tern_engine::notice::NoticeSigner;
use tern_engine::openrtb::BidRequest;
use tern_engine::response::{BillingUrl, ResponseParts, write_bid_response};
use tern_engine::screen::Verdict;
use tern_engine::snapshot::Snapshot;

const SAMPLES: [&str; 6] = [
    include_str!("../../samples/banner.json"),
    include_str!("../../samples/video.json"),
    include_str!("../../samples/native.json"),
    include_str!("../../samples/app-multi-imp.json"),
    include_str!("../../samples/pmp-deal.json"),
    include_str!("../../samples/video-pod.json"),
];

static SNAPSHOT: std::sync::LazyLock<Snapshot> = std::sync::LazyLock::new(snapshot);

fn snapshot() -> Snapshot {
    let campaigns = parse_campaigns(
        include_str!("../../campaigns/example.toml"),
        FileFormat::Toml,
    )
    .unwrap();
    let fx = FxTable::new([(Currency::parse("EUR").unwrap(), 0.92)]).unwrap();
    let snapshot = Snapshot::build(&campaigns, Arc::new(fx), &Budgets::default()).unwrap();
    snapshot.grant_whole_budgets(NOW, NOW + 3_600);
    snapshot
}

/// The time every request is decided at.
const NOW: u64 = 1_700_000_000;

/// Parses, decides and answers; checks the answer is JSON when there is one.
fn run_engine(snapshot: &Snapshot, body: &[u8]) {
    let Ok(request) = BidRequest::parse(body) else {
        return;
    };
    let ctx = BidContext {
        seat: "tern",
        now_unix_s: NOW,
        screen: Verdict::PASS,
        gvl_vendor_id: 0,
    };
    let mut auction = Auction::default();
    if let Ok(currency) = auction.decide(snapshot, &request, &ctx, nobody_at_cap) {
        let signer = NoticeSigner::new(b"0123456789abcdef");
        let mut out = Vec::new();
        let parts = ResponseParts {
            request: &request,
            snapshot,
            bids: auction.bids(),
            currency,
            seat: "tern",
            billing: Some(BillingUrl {
                base_url: "http://b",
                signer: &signer,
                origin: tern_engine::notice::BidOrigin::default(),
            }),
            now_unix_s: NOW,
            user: tern_engine::user::UserKey::from_request(&request),
            exchange: "bench",
        };
        write_bid_response(&mut out, &parts);
        let parsed: Result<sonic_rs::Value, _> = sonic_rs::from_slice(&out);
        assert!(
            parsed.is_ok(),
            "invalid response JSON: {}",
            String::from_utf8_lossy(&out)
        );
    }
}

/// A sample with a few bytes overwritten, inserted or removed.
fn mutated() -> impl Strategy<Value = Vec<u8>> {
    (
        0..SAMPLES.len(),
        prop::collection::vec((any::<usize>(), any::<u8>(), 0u8..3), 1..8),
    )
        .prop_map(|(which, edits)| {
            let mut bytes = SAMPLES[which].as_bytes().to_vec();
            for (at, byte, kind) in edits {
                if bytes.is_empty() {
                    break;
                }
                let at = at % bytes.len();
                match kind {
                    0 => bytes[at] = byte,
                    1 => bytes.insert(at, byte),
                    _ => {
                        bytes.remove(at);
                    }
                }
            }
            bytes
        })
}

/// A sample with one JSON token swapped for a value of another type.
fn retyped() -> impl Strategy<Value = Vec<u8>> {
    let replacements = [
        "null",
        "-1",
        "1e999",
        "\"\"",
        "[]",
        "{}",
        "true",
        "\"\\u0000\"",
        "4294967296",
    ];
    (0..SAMPLES.len(), any::<usize>(), 0..replacements.len()).prop_map(move |(which, at, with)| {
        let text = SAMPLES[which];
        let starts: Vec<usize> = text.match_indices(": ").map(|(i, _)| i + 2).collect();
        let start = starts[at % starts.len()];
        let end = text[start..]
            .find([',', '}', ']', '\n'])
            .map_or(text.len(), |e| start + e);
        format!("{}{}{}", &text[..start], replacements[with], &text[end..]).into_bytes()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        run_engine(&SNAPSHOT, &bytes);
    }

    #[test]
    fn mutated_requests_never_panic(bytes in mutated()) {
        run_engine(&SNAPSHOT, &bytes);
    }

    #[test]
    fn retyped_fields_never_panic(bytes in retyped()) {
        run_engine(&SNAPSHOT, &bytes);
    }
}

#[test]
fn every_sample_parses_and_bids() {
    let snapshot = &*SNAPSHOT;
    for sample in SAMPLES {
        let request = BidRequest::parse(sample.as_bytes()).expect("sample parses");
        let ctx = BidContext {
            seat: "tern",
            now_unix_s: NOW,
            screen: Verdict::PASS,
            gvl_vendor_id: 0,
        };
        let decision = Auction::default().decide(snapshot, &request, &ctx, nobody_at_cap);
        assert!(
            decision.is_ok(),
            "{}: {decision:?}",
            request.id.as_ref() as &str
        );
    }
}
