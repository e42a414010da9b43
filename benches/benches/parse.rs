//! Parsing a bid request into the engine's borrowed types: the engine's own reader
//! (what the bidder runs) against serde_json, per kind of traffic and over the
//! mixed corpus.
//!
//! `cargo bench -p tern-benches --bench parse`

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use tern_benches::corpus::{self, RequestKind, Sample};
use tern_benches::engine::parse_serde_json;
use tern_engine::openrtb::BidRequest;

const KINDS: [RequestKind; 6] = [
    RequestKind::BannerSite,
    RequestKind::BannerApp,
    RequestKind::Video,
    RequestKind::Native,
    RequestKind::MultiImpApp,
    RequestKind::Deal,
];

fn parse(c: &mut Criterion) {
    let all = corpus::requests(200, 1, corpus::deal_pool(1000));
    let mut group = c.benchmark_group("parse");
    let mut sets: Vec<(&str, Vec<&Sample>)> = KINDS
        .iter()
        .map(|k| (k.name(), all.iter().filter(|s| s.kind == *k).collect()))
        .collect();
    sets.push(("mixed", all.iter().collect()));
    for (name, samples) in &sets {
        let bytes: usize = samples.iter().map(|s| s.body.len()).sum();
        group.throughput(Throughput::Bytes((bytes / samples.len()) as u64));
        group.bench_with_input(BenchmarkId::new("tern", name), samples, |b, s| {
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) % s.len();
                black_box(BidRequest::parse(black_box(&s[i].body)).is_ok())
            });
        });
        group.bench_with_input(BenchmarkId::new("serde_json", name), samples, |b, s| {
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) % s.len();
                black_box(parse_serde_json(black_box(&s[i].body)).is_ok())
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
    targets = parse
}
criterion_main!(benches);
