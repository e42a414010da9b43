//! The bid decision alone (requests parsed beforehand; the bidder's three steps,
//! frequency-cap queries answered in process) against 1,000, 10,000 and
//! 100,000 generated campaigns: what the inverted indexes save as the campaign
//! count grows.
//!
//! `cargo bench -p tern-benches --bench decide`

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use tern_benches::corpus;
use tern_benches::engine::{BENCH_NOW_UNIX_S, Engine};
use tern_engine::decision::Auction;
use tern_engine::openrtb::BidRequest;

fn decision(c: &mut Criterion) {
    let mut group = c.benchmark_group("decide");
    for campaigns in [1_000, 10_000, 100_000] {
        let engine = Engine::new(&corpus::campaigns(campaigns, 1));
        let samples = corpus::requests(200, 1, corpus::deal_pool(campaigns));
        let requests: Vec<BidRequest<'_>> = samples
            .iter()
            .map(|s| BidRequest::parse(&s.body).expect("corpus parses"))
            .collect();
        group.bench_with_input(
            BenchmarkId::new("campaigns", campaigns),
            &requests,
            |b, reqs| {
                let mut auction = Auction::default();
                let mut i = 0;
                b.iter(|| {
                    i = (i + 1) % reqs.len();
                    black_box(engine.decide(&reqs[i], BENCH_NOW_UNIX_S, &mut auction))
                });
            },
        );
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50);
    targets = decision
}
criterion_main!(benches);
