//! Proves how many heap allocations the engine path makes per request in steady
//! state (parse, decide, write the response with a signed billing URL), with a
//! counting global allocator. It counts, never times.

use tern_benches::alloc_count::{self, CountingAllocator};
use tern_benches::corpus;
use tern_benches::engine::{BENCH_NOW_UNIX_S, Engine, Parser};

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator;

#[test]
fn the_engine_path_does_not_allocate_per_request() {
    let engine = Engine::new(&corpus::campaigns(300, 3));
    let samples = corpus::requests(60, 3, corpus::deal_pool(300));
    let mut bids = Vec::with_capacity(8);
    let mut out = Vec::with_capacity(16 * 1024);
    let mut run = |body: &[u8]| {
        out.clear();
        engine.handle(Parser::Sonic, body, BENCH_NOW_UNIX_S, &mut bids, &mut out)
    };
    for sample in &samples {
        run(&sample.body);
    }
    let mut worst = (0, "");
    for sample in &samples {
        let (_, made) = alloc_count::measure(|| run(&sample.body));
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
