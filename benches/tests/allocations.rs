//! Proves how many heap allocations the engine path makes per request in steady
//! state (parse, the bidder's decision with its frequency-cap queries, write the
//! response with a signed billing URL), with a counting global allocator. It
//! counts, never times.

use tern_benches::alloc_count::{self, CountingAllocator};
use tern_benches::corpus;
use tern_benches::engine::{BENCH_NOW_UNIX_S, Engine, Outcome, Parser};
use tern_engine::decision::Auction;

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator;

/// One request through the engine path, into `out`.
fn answer(engine: &Engine, auction: &mut Auction, out: &mut Vec<u8>, body: &[u8]) -> Outcome {
    out.clear();
    engine.handle(Parser::Tern, body, BENCH_NOW_UNIX_S, auction, out)
}

#[test]
fn the_engine_path_does_not_allocate_per_request() {
    let engine = Engine::new(&corpus::campaigns(300, 3));
    let samples = corpus::requests(60, 3, corpus::deal_pool(300));
    let mut auction = Auction::default();
    let mut out = Vec::with_capacity(16 * 1024);
    for sample in &samples {
        answer(&engine, &mut auction, &mut out, &sample.body);
    }
    // The capped step is on the path measured: many requests ask about caps.
    let asking_caps = samples
        .iter()
        .filter(|s| {
            let request = tern_engine::openrtb::BidRequest::parse(&s.body).unwrap();
            let _ = engine.decide(&request, BENCH_NOW_UNIX_S, &mut auction);
            !auction.cap_queries().is_empty()
        })
        .count();
    assert!(
        asking_caps * 5 >= samples.len(),
        "only {asking_caps} of {} requests query caps",
        samples.len()
    );
    let mut worst = (0, "");
    for sample in &samples {
        let (_, made) =
            alloc_count::measure(|| answer(&engine, &mut auction, &mut out, &sample.body));
        if made.count > worst.0 {
            worst = (made.count, sample.kind.name());
        }
    }
    assert_eq!(
        worst.0, 0,
        "a {} request allocated {} times in steady state",
        worst.1, worst.0
    );
}

#[test]
fn the_counter_sees_allocations() {
    let (_, made) = alloc_count::measure(|| std::hint::black_box(vec![1u8; 100]));
    assert_eq!(made.count, 1);
    assert!(made.bytes >= 100);
}

#[test]
fn screening_does_not_allocate_per_request() {
    let samples = corpus::requests(60, 3, corpus::deal_pool(300));
    let requests: Vec<tern_engine::openrtb::BidRequest<'_>> = samples
        .iter()
        .map(|s| tern_engine::openrtb::BidRequest::parse(&s.body).unwrap())
        .collect();
    let lists = tern_benches::ivt_lists::realistic(&samples);
    let mut screener = tern_ivt::Screener::default();
    for request in &requests {
        screener.screen(&lists, request, Some("reseller.example"));
    }
    for (request, sample) in requests.iter().zip(&samples) {
        let (screened, made) =
            alloc_count::measure(|| screener.screen(&lists, request, Some("reseller.example")));
        assert_eq!(made.count, 0, "a {} request allocated", sample.kind.name());
        // The corpus's chains are listed in the realistic set: the lookups ran
        // to their end and found nothing wrong.
        assert!(
            screened.verdict.findings.is_empty(),
            "{:?}",
            screened.verdict
        );
    }
}

#[test]
fn segment_rules_do_not_allocate_per_request() {
    use tern_engine::campaign::{SegmentRef, Segments};
    let provider = |id: &str| SegmentRef {
        id: id.into(),
        provider: Some("dataco.example".into()),
        segtax: Some(4),
    };
    let first_party = |id: &str| SegmentRef {
        id: id.into(),
        provider: None,
        segtax: None,
    };
    let mut campaigns = corpus::campaigns(300, 3);
    for (i, campaign) in campaigns.iter_mut().enumerate() {
        campaign.segments = match i % 4 {
            0 => Segments {
                include_all: vec![provider("s1"), first_party("fp")],
                ..Segments::default()
            },
            2 => Segments {
                include_any: vec![provider("s9"), provider("s2")],
                ..Segments::default()
            },
            1 => Segments {
                exclude: vec![provider("s9")],
                ..Segments::default()
            },
            _ => Segments::default(),
        };
    }
    let engine = Engine::new(&campaigns);
    // Every request's user carries an exchange's segments.
    let bodies: Vec<Vec<u8>> = corpus::requests(60, 3, corpus::deal_pool(300))
        .iter()
        .map(|s| {
            let mut body: serde_json::Value = serde_json::from_slice(&s.body).unwrap();
            body["user"]["data"] = serde_json::json!([{"id": "7", "name": "dataco.example",
                "segment": [{"id": "s1"}, {"id": "s2"}], "ext": {"segtax": 4}}]);
            serde_json::to_vec(&body).unwrap()
        })
        .collect();
    let mut auction = Auction::default();
    let mut out = Vec::with_capacity(16 * 1024);
    for body in &bodies {
        answer(&engine, &mut auction, &mut out, body);
    }
    // The segment steps are on the path measured: segments were gathered and
    // some requests needed the first-party lookup.
    let looking_up = bodies
        .iter()
        .filter(|body| {
            let request = tern_engine::openrtb::BidRequest::parse(body).unwrap();
            let _ = engine.decide(&request, BENCH_NOW_UNIX_S, &mut auction);
            auction.segment_lookup()
        })
        .count();
    assert!(looking_up > 0, "no request needed a first-party lookup");
    for body in &bodies {
        let (_, made) = alloc_count::measure(|| answer(&engine, &mut auction, &mut out, body));
        assert_eq!(made.count, 0, "a request with segment rules allocated");
    }
}
