//! The invalid-traffic and supply-chain screen of one request (`docs/ivt.md`),
//! against the bundled lists and a set of realistic size (10,000 bot patterns,
//! 100,000 data-centre ranges, 10,000 sellers, an ads.txt per publisher), with
//! the decision alone (1,000 campaigns, unscreened) as the baseline of the same
//! run. The user-agent verdict cache serves the corpus's repeated user agents, as
//! it serves real traffic; `bots_uncached` is the bot lists' own cost on a miss.
//!
//! `cargo bench -p tern-benches --bench screen`

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use tern_benches::engine::{BENCH_NOW_UNIX_S, Engine};
use tern_benches::{corpus, ivt_lists};
use tern_engine::decision::{Auction, BidContext, nobody_at_cap};
use tern_engine::openrtb::BidRequest;
use tern_engine::screen::Verdict;
use tern_ivt::bots::BotPatterns;
use tern_ivt::{Lists, Screener};

fn screen(c: &mut Criterion) {
    let samples = corpus::requests(200, 1, corpus::deal_pool(1_000));
    let requests: Vec<BidRequest<'_>> = samples
        .iter()
        .map(|s| BidRequest::parse(&s.body).expect("corpus parses"))
        .collect();
    let mut group = c.benchmark_group("screen");

    // The baseline: the decision alone, as `decide` measures it.
    let engine = Engine::new(&corpus::campaigns(1_000, 1));
    let ctx = BidContext {
        seat: "tern",
        now_unix_s: BENCH_NOW_UNIX_S,
        screen: Verdict::PASS,
        gvl_vendor_id: 0,
    };
    group.bench_function("decide_unscreened", |b| {
        let mut auction = Auction::default();
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % requests.len();
            black_box(auction.decide(engine.snapshot(), &requests[i], &ctx, nobody_at_cap))
        });
    });

    for (name, lists) in [
        ("bundled", Lists::bundled()),
        ("realistic", ivt_lists::realistic(&samples)),
    ] {
        group.bench_with_input(BenchmarkId::new("whole", name), &lists, |b, lists| {
            let mut screener = Screener::default();
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) % requests.len();
                black_box(screener.screen(lists, &requests[i], Some("reseller.example")))
            });
        });
    }

    let uas: Vec<&str> = requests
        .iter()
        .filter_map(|r| r.device.as_ref()?.ua.as_deref())
        .collect();
    let crawler = tern_ivt::bots::parse_crawler_user_agents(include_str!(
        "../../ivt/lists/bots/crawler-user-agents.json"
    ))
    .expect("bundled list parses");
    let mut realistic = crawler.clone();
    realistic.extend(tern_ivt::bots::synthetic_patterns(
        ivt_lists::REALISTIC_BOT_PATTERNS - crawler.len(),
    ));
    for (name, patterns) in [("bundled", crawler), ("realistic", realistic)] {
        let bots = BotPatterns::compile(&patterns, None).expect("patterns compile");
        group.bench_with_input(BenchmarkId::new("bots_uncached", name), &bots, |b, bots| {
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) % uas.len();
                black_box(bots.is_bot(uas[i]))
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
    targets = screen
}
criterion_main!(benches);
