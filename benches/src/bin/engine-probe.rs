//! The engine alone, measured for the targets: requests per second on one core,
//! per-request latency percentiles, and heap allocations per request in steady
//! state, counted by a counting global allocator (this binary's).
//!
//! `engine-probe [--seconds 2] [--json out.json]`; `benches/run.sh` runs it pinned
//! to one core.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Parser as _;
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use tern_benches::alloc_count::{self, CountingAllocator};
use tern_benches::corpus::{self, Sample};
use tern_benches::engine::{BENCH_NOW_UNIX_S, Engine, Outcome, Parser};
use tern_engine::decision::Auction;
use tern_engine::openrtb::BidRequest;

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator;

/// Measure the engine alone: throughput, latency, allocations.
#[derive(Debug, clap::Parser)]
struct Cli {
    /// Seconds per throughput and latency measurement.
    #[arg(long, default_value_t = 2.0)]
    seconds: f64,
    /// Write the results as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Only run this many requests through the engine and exit, measuring nothing
    /// (for instruction counting under callgrind: perf/callgrind.sh).
    #[arg(long)]
    requests: Option<u64>,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let window = Duration::from_secs_f64(cli.seconds);
    let mut results = serde_json::Map::new();

    let engine = Engine::new(&corpus::campaigns(1_000, 1));
    let samples = corpus::requests(200, 1, corpus::deal_pool(1_000));
    if let Some(count) = cli.requests {
        let (mut auction, mut out) = (Auction::default(), Vec::with_capacity(16 * 1024));
        for n in 0..count {
            out.clear();
            let body = &samples[n as usize % samples.len()].body;
            engine.handle(Parser::Tern, body, BENCH_NOW_UNIX_S, &mut auction, &mut out);
        }
        return Ok(());
    }
    let mean_bytes = samples.iter().map(|s| s.body.len()).sum::<usize>() / samples.len();
    results.insert("corpus_requests".into(), json!(samples.len()));
    results.insert("corpus_mean_bytes".into(), json!(mean_bytes));
    results.insert("outcomes".into(), outcomes(&engine, &samples));

    let allocations = allocations(&engine, &samples);
    println!("allocations per request (steady state, 1k campaigns): {allocations}");
    results.insert("allocations".into(), allocations);

    let latency = latency(&engine, &samples, window);
    println!("latency per request (1k campaigns, Tern's reader): {latency}");
    results.insert("latency_ns".into(), latency);

    let mut throughput = serde_json::Map::new();
    for campaigns in [1_000, 10_000, 100_000] {
        let larger = (campaigns != 1_000).then(|| Engine::new(&corpus::campaigns(campaigns, 1)));
        let engine = larger.as_ref().unwrap_or(&engine);
        let samples = corpus::requests(200, 1, corpus::deal_pool(campaigns));
        for (name, parser) in [("tern", Parser::Tern), ("serde_json", Parser::SerdeJson)] {
            if campaigns != 1_000 && parser == Parser::SerdeJson {
                continue;
            }
            let rps = throughput_rps(engine, &samples, parser, window);
            println!("throughput, {campaigns} campaigns, {name}: {rps:.0} requests/s on one core");
            throughput.insert(format!("{campaigns}/{name}"), json!(rps));
        }
    }
    results.insert("throughput_rps".into(), Value::Object(throughput));

    if let Some(path) = &cli.json {
        std::fs::write(path, serde_json::to_string_pretty(&Value::Object(results))?)?;
    }
    Ok(())
}

fn outcomes(engine: &Engine, samples: &[Sample]) -> Value {
    let (mut bid, mut no_bid, mut invalid) = (0, 0, 0);
    let (mut auction, mut out) = (Auction::default(), Vec::new());
    for s in samples {
        out.clear();
        match engine.handle(
            Parser::Tern,
            &s.body,
            BENCH_NOW_UNIX_S,
            &mut auction,
            &mut out,
        ) {
            Outcome::Bid => bid += 1,
            Outcome::NoBid => no_bid += 1,
            Outcome::Invalid => invalid += 1,
        }
    }
    json!({ "bid": bid, "no_bid": no_bid, "invalid": invalid })
}

/// Allocations per request by step, after two warm-up passes (buffers grown).
fn allocations(engine: &Engine, samples: &[Sample]) -> Value {
    let mut auction = Auction::default();
    let mut out = Vec::with_capacity(16 * 1024);
    for _ in 0..2 {
        for s in samples {
            out.clear();
            engine.handle(
                Parser::Tern,
                &s.body,
                BENCH_NOW_UNIX_S,
                &mut auction,
                &mut out,
            );
        }
    }
    let (mut parse, mut decided, mut whole, mut serde) = (0u64, 0u64, 0u64, 0u64);
    let mut max_whole = 0u64;
    for s in samples {
        let (request, a) = alloc_count::measure(|| BidRequest::parse(&s.body));
        parse += a.count;
        let request = request.expect("corpus parses");
        let (_, a) =
            alloc_count::measure(|| engine.decide(&request, BENCH_NOW_UNIX_S, &mut auction));
        decided += a.count;
        drop(request);
        let (_, a) = alloc_count::measure(|| {
            out.clear();
            engine.handle(
                Parser::Tern,
                &s.body,
                BENCH_NOW_UNIX_S,
                &mut auction,
                &mut out,
            )
        });
        whole += a.count;
        max_whole = max_whole.max(a.count);
        let (_, a) = alloc_count::measure(|| {
            out.clear();
            engine.handle(
                Parser::SerdeJson,
                &s.body,
                BENCH_NOW_UNIX_S,
                &mut auction,
                &mut out,
            )
        });
        serde += a.count;
    }
    let n = samples.len() as f64;
    let write = whole.saturating_sub(parse + decided);
    json!({
        "parse": parse as f64 / n,
        "decide": decided as f64 / n,
        "write": write as f64 / n,
        "whole": whole as f64 / n,
        "whole_max": max_whole,
        "whole_serde_json": serde as f64 / n,
    })
}

fn latency(engine: &Engine, samples: &[Sample], window: Duration) -> Value {
    let mut hist = Histogram::<u64>::new_with_bounds(1, 1_000_000_000, 3).expect("valid bounds");
    let mut auction = Auction::default();
    let mut out = Vec::with_capacity(16 * 1024);
    let started = Instant::now();
    let mut i = 0;
    while started.elapsed() < window {
        for _ in 0..1000 {
            i = (i + 1) % samples.len();
            let t = Instant::now();
            out.clear();
            let outcome = engine.handle(
                Parser::Tern,
                std::hint::black_box(&samples[i].body),
                BENCH_NOW_UNIX_S,
                &mut auction,
                &mut out,
            );
            std::hint::black_box((outcome, out.len()));
            hist.saturating_record(t.elapsed().as_nanos() as u64);
        }
    }
    json!({
        "p50": hist.value_at_quantile(0.5),
        "p90": hist.value_at_quantile(0.9),
        "p99": hist.value_at_quantile(0.99),
        "p99.9": hist.value_at_quantile(0.999),
        "max": hist.max(),
        "mean": hist.mean(),
        "count": hist.len(),
    })
}

fn throughput_rps(engine: &Engine, samples: &[Sample], parser: Parser, window: Duration) -> f64 {
    let mut auction = Auction::default();
    let mut out = Vec::with_capacity(16 * 1024);
    let started = Instant::now();
    let mut done = 0u64;
    let mut i = 0;
    while started.elapsed() < window {
        for _ in 0..1000 {
            i = (i + 1) % samples.len();
            out.clear();
            let outcome = engine.handle(
                parser,
                std::hint::black_box(&samples[i].body),
                BENCH_NOW_UNIX_S,
                &mut auction,
                &mut out,
            );
            std::hint::black_box((outcome, out.len()));
        }
        done += 1000;
    }
    done as f64 / started.elapsed().as_secs_f64()
}
