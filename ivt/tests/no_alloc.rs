//! Proves the screening hot paths do not allocate: after one warm-up call per input,
//! `BotPatterns::is_bot`, `UaVerdicts::is_bot` and `IpRanges::lookup_text` make no
//! heap allocation on this thread, for bots, browsers, non-ASCII user agents and IAB
//! slow-path patterns alike.
//!
//! A counting global allocator tallies allocations per thread (a `const`-initialised
//! thread-local, which itself never allocates), so the test harness's other threads
//! cannot disturb the count.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use tern_ivt::bots::{
    BotPatterns, IabList, UaVerdicts, parse_crawler_user_agents, synthetic_patterns,
};
use tern_ivt::ip_ranges::{IpRanges, RangeKind, synthetic_ranges};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to the system allocator; the only extra
// work is bumping a thread-local counter, which neither allocates nor unwinds.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` above with this `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract, passed on as is.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during(f: impl FnOnce()) -> u64 {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

const USER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "curl/8.4.0",
    "Mozilla/5.0 AdsBot-Google (+http://www.google.com/adsbot.html)",
    "BlogTraffic/1.23 Feed-Fetcher",
    "Mozilla/5.0 (Linux; Android 10; CUBOT X30) Chrome/131.0 Mobile Safari/537.36",
    "Mozilla/5.0 RÉCOLTE Garçon",
    "Mozilla/5.0 Éclair spider",
    "Mozilla/5.0 (compatible; SyntheticBot17/1.0)",
    "SynthFetch99/2.17 (linux)",
    "",
];

/// Every hot-path call allocates nothing once warmed up.
#[test]
fn screening_hot_paths_do_not_allocate() {
    let json = include_str!("../lists/bots/crawler-user-agents.json");
    let mut patterns = parse_crawler_user_agents(json).expect("bundled list parses");
    patterns.extend(synthetic_patterns(200));
    let iab = IabList::parse(
        b"mozilla|1|1|\nroku|1|0|\n\xC9clair|1|0|\n",
        b"bot|1|cubot,gar\xE7on|0|2|0|\nspider|1||0|2|0|\nr\xE9colte|1|gar\xE7on|0|2|0|\n",
    )
    .expect("IAB files parse");
    let with_iab = BotPatterns::compile(&patterns, Some(&iab)).expect("compiles");
    let crawler_only = BotPatterns::compile(&patterns, None).expect("compiles");
    let mut cache = UaVerdicts::new();
    let mut ranges = IpRanges::new();
    ranges
        .add_file(&synthetic_ranges(1000), RangeKind::DataCenter)
        .expect("ranges load");
    let ips = [
        "1.0.0.1",
        "2a00:0:0:1::7",
        "::ffff:1.0.1.9",
        "203.0.113.1",
        "not an ip",
    ];

    let mut verdicts = Vec::with_capacity(4 * USER_AGENTS.len() + ips.len());
    let mut run = |verdicts: &mut Vec<bool>| {
        for ua in USER_AGENTS {
            verdicts.push(with_iab.is_bot(ua));
            verdicts.push(crawler_only.is_bot(ua));
            verdicts.push(cache.is_bot(&with_iab, ua));
            verdicts.push(cache.is_bot(&crawler_only, ua));
        }
        for ip in ips {
            verdicts.push(ranges.lookup_text(ip).is_some());
        }
    };
    run(&mut verdicts);
    let warm = verdicts.clone();
    verdicts.clear();
    let count = allocations_during(|| run(&mut verdicts));
    assert_eq!(count, 0, "hot paths allocated {count} times after warm-up");
    assert_eq!(verdicts, warm, "same answers on the second pass");
    assert!(
        verdicts.iter().any(|v| *v) && verdicts.iter().any(|v| !*v),
        "both verdicts exercised"
    );
}

/// The counter works: a plain allocation is seen.
#[test]
fn the_counter_sees_allocations() {
    let count = allocations_during(|| drop(std::hint::black_box(vec![1_u8; 64])));
    assert!(count >= 1);
}
