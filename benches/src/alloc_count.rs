//! A global allocator that counts allocations, to prove (or disprove) that the
//! engine's hot path does not allocate.
//!
//! Counting is per thread and off until [`measure`] turns it on, so the harness,
//! other threads and set-up work are never counted. Install it in a binary or test:
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOC: tern_benches::alloc_count::CountingAllocator =
//!     tern_benches::alloc_count::CountingAllocator;
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    static BYTES: Cell<u64> = const { Cell::new(0) };
}

/// The system allocator, counting the calls made while [`measure`] runs.
#[derive(Debug, Clone, Copy, Default)]
pub struct CountingAllocator;

fn note(size: usize) {
    // `try_with`: the allocator may run while thread-locals are being torn down.
    let _ = COUNTING.try_with(|on| {
        if on.get() {
            let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
            let _ = BYTES.try_with(|b| b.set(b.get() + size as u64));
        }
    });
}

// SAFETY: every call is forwarded to `System` unchanged; counting touches only
// const-initialized thread-locals, which never allocate.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Allocations (calls to `alloc`, `alloc_zeroed` and `realloc`) and bytes asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Allocations {
    /// Number of allocation calls.
    pub count: u64,
    /// Bytes requested by them.
    pub bytes: u64,
}

/// Runs `work` on this thread and returns its result with the allocations it made.
/// Only meaningful where [`CountingAllocator`] is the global allocator.
pub fn measure<T>(work: impl FnOnce() -> T) -> (T, Allocations) {
    let before = (ALLOCATIONS.with(Cell::get), BYTES.with(Cell::get));
    COUNTING.with(|on| on.set(true));
    let value = work();
    COUNTING.with(|on| on.set(false));
    let after = (ALLOCATIONS.with(Cell::get), BYTES.with(Cell::get));
    let made = Allocations {
        count: after.0 - before.0,
        bytes: after.1 - before.1,
    };
    (value, made)
}
