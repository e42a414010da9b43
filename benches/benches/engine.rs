//! The whole engine, bytes in to bytes out (parse, decide, write the response with
//! a signed billing URL), over the mixed corpus with 1,000 campaigns: with the engine's
//! own reader as the bidder runs it, and with serde_json as the tokio baseline runs it.
//!
//! `cargo bench -p tern-benches --bench engine`

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tern_benches::corpus;
use tern_benches::engine::{BENCH_NOW_UNIX_S, Engine, Parser};
use tern_engine::decision::Auction;

fn whole_engine(c: &mut Criterion) {
    let engine = Engine::new(&corpus::campaigns(1_000, 1));
    let samples = corpus::requests(200, 1, corpus::deal_pool(1_000));
    let mut group = c.benchmark_group("engine");
    group.throughput(Throughput::Elements(1));
    for (name, parser) in [("tern", Parser::Tern), ("serde_json", Parser::SerdeJson)] {
        group.bench_function(format!("1k-campaigns/{name}"), |b| {
            let mut auction = Auction::default();
            let mut out = Vec::with_capacity(8192);
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) % samples.len();
                out.clear();
                let outcome = engine.handle(
                    parser,
                    black_box(&samples[i].body),
                    BENCH_NOW_UNIX_S,
                    &mut auction,
                    &mut out,
                );
                black_box((outcome, out.len()))
            });
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50);
    targets = whole_engine
}
criterion_main!(benches);
