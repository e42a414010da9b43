//! The drain signal a worker hands down to its connections (as pingora hands down
//! its `ShutdownWatch`): whether the worker is shutting down, and a handle whose
//! waits (the accept, idle keep-alive reads) the drain cancels.

use std::cell::{Cell, RefCell};

use monoio::io::{CancelHandle, Canceller};

/// One worker's drain signal; single-threaded, so `Cell`s.
pub(crate) struct Drain {
    draining: Cell<bool>,
    canceller: RefCell<Canceller>,
}

impl Drain {
    pub(crate) fn new() -> Drain {
        Drain {
            draining: Cell::new(false),
            canceller: RefCell::new(Canceller::new()),
        }
    }

    /// Whether the worker is shutting down: answer what is in flight, then close.
    pub(crate) fn is_draining(&self) -> bool {
        self.draining.get()
    }

    /// A handle whose operations the drain cancels.
    pub(crate) fn cancel_handle(&self) -> CancelHandle {
        self.canceller.borrow().handle()
    }

    /// Starts the drain: cancels the accept and every idle keep-alive read; handles
    /// taken before stay cancelled.
    pub(crate) fn begin(&self) {
        self.draining.set(true);
        let canceller = std::mem::take(&mut *self.canceller.borrow_mut());
        drop(canceller.cancel());
    }
}
