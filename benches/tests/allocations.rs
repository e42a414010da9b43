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
