//! Proves the bid-path lookups of the ads.txt and sellers.json tables never
//! touch the heap: a counting global allocator sees no allocation, reallocation
//! or free on this thread while they run, for hits, misses, mixed case, parent
//! walks and keys longer than the on-stack buffer.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;

use tern_ivt::ads_txt::{AdsTxt, AuthorizedSellers, Relationship, synthetic_ads_txt};
use tern_ivt::sellers_json::{SellerType, Sellers, SellersJson, synthetic_sellers};

/// Counts heap calls made by the current thread (other test threads do not
/// disturb the count), then hands them to the system allocator.
struct CountingAllocator;

thread_local! {
    static HEAP_CALLS: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    // `try_with`: the slot may already be gone while the thread exits.
    _ = HEAP_CALLS.try_with(|calls| calls.set(calls.get() + 1));
}

// SAFETY: every call is forwarded unchanged to `System`, which upholds the
// `GlobalAlloc` contract; counting touches only a const-initialised
// thread-local `Cell`, which never allocates.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller's contract for `alloc` is passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count();
        // SAFETY: `ptr` came from `System` with this layout (every allocation does).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller's contract for `alloc_zeroed` is passed on as is.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: `ptr` came from `System` with `layout`; the caller's contract
        // for `realloc` is passed on as is.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Heap calls made by this thread while `run` runs.
fn heap_calls_during(run: impl FnOnce()) -> u64 {
    let before = HEAP_CALLS.with(Cell::get);
    run();
    HEAP_CALLS.with(Cell::get) - before
}

#[test]
fn ads_txt_lookups_do_not_allocate() {
    let mut table = AuthorizedSellers::new();
    let file = AdsTxt::parse(&synthetic_ads_txt(1_000)).expect("synthetic file parses");
    table.insert("example.com", file);
    let long_domain = format!("{}example.com", "sub.".repeat(200));
    let long_account = "x".repeat(1_000);

    let mut found = 0_u32;
    let calls = heap_calls_during(|| {
        for _ in 0..100 {
            for domain in [
                "example.com",
                "WWW.Example.COM",
                "a.b.c.example.com",
                "example.org",
                "",
                long_domain.as_str(),
            ] {
                if let Some(publisher) = table.publisher_or_parent(black_box(domain)) {
                    for (ad_system, account) in [
                        ("SSP0.example", "acct-0"),
                        ("ssp1.example", "acct-1"),
                        ("ssp1.example", "ACCT-1"),
                        ("ssp1.example", long_account.as_str()),
                        (long_domain.as_str(), "acct-1"),
                    ] {
                        if publisher
                            .relationship(black_box(ad_system), black_box(account))
                            .is_some()
                        {
                            found += 1;
                        }
                    }
                }
            }
            found += u32::from(table.publisher(black_box("EXAMPLE.com")).is_some());
        }
    });
    assert_eq!(calls, 0, "ads.txt lookups allocated");
    // 4 domains × 2 hits (acct-0, acct-1) + the exact publisher lookup, 100 times.
    assert_eq!(found, 100 * (4 * 2 + 1));
    let publisher = table.publisher("example.com").expect("filed");
    assert_eq!(
        publisher.relationship("ssp0.example", "acct-0"),
        Some(Relationship::Direct)
    );
}

#[test]
fn sellers_json_lookups_do_not_allocate() {
    let mut table = Sellers::new();
    let file = SellersJson::parse(&synthetic_sellers(1_000)).expect("synthetic file parses");
    table.insert("ssp.example", file);
    let long_asi = format!("{}ssp.example", "a.".repeat(300));
    let long_id = "9".repeat(1_000);

    let mut found = 0_u32;
    let calls = heap_calls_during(|| {
        for _ in 0..100 {
            for asi in [
                "ssp.example",
                "SSP.Example",
                "other.example",
                "",
                long_asi.as_str(),
            ] {
                if let Some(directory) = table.ad_system(black_box(asi)) {
                    for seller_id in ["0", "1", "999", "1000", "", long_id.as_str()] {
                        if directory.seller_type(black_box(seller_id)).is_some() {
                            found += 1;
                        }
                    }
                }
            }
        }
    });
    assert_eq!(calls, 0, "sellers.json lookups allocated");
    // 2 spellings of the ad system × 3 listed ids, 100 times.
    assert_eq!(found, 100 * 2 * 3);
    let directory = table.ad_system("ssp.example").expect("filed");
    assert_eq!(directory.seller_type("2"), Some(SellerType::Both));
}

/// The counter itself works: an allocation made on purpose is seen.
#[test]
fn the_counter_sees_allocations() {
    let calls = heap_calls_during(|| {
        black_box(vec![1_u8; 64]);
    });
    assert!(calls >= 1);
}
