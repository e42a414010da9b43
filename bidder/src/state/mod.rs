//! The bidder's hot state: the current campaign snapshot, the budget leases that
//! outlive snapshots, and readiness.
//!
//! Workers read the snapshot through `arc-swap` (no lock, no reference-count
//! traffic on the fast path). Sources of campaigns (the file watcher here, DynamoDB
//! later) build a new snapshot off the hot path and swap it in whole.

pub mod config;
pub mod dynamodb;
mod file_source;
mod sync_health;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use tern_engine::budget::Budgets;
use tern_engine::campaign::{Campaign, CampaignError};
use tern_engine::clock::now_ms;
use tern_engine::money::FxTable;
use tern_engine::snapshot::Snapshot;

pub use file_source::{CampaignSource, watch_file};
pub use sync_health::{SyncHealth, SyncReport};

/// Campaign snapshot, budget leases, and readiness, shared by every thread.
#[derive(Debug)]
pub struct BidderState {
    snapshot: ArcSwap<Snapshot>,
    budgets: Budgets,
    fx: Arc<FxTable>,
    loaded: AtomicBool,
    /// The budget service has settled every campaign with the ledger once.
    budgets_synced: AtomicBool,
    draining: AtomicBool,
    updates: AtomicU64,
    rejects: AtomicU64,
    last_update_ms: AtomicU64,
    last_error: Mutex<Option<String>>,
    sync: SyncHealth,
}

/// A point-in-time description of the state, for `/state` and metrics.
#[derive(Debug, Clone)]
pub struct StateSummary {
    /// Campaigns able to bid.
    pub campaigns_active: usize,
    /// Paused campaigns.
    pub campaigns_paused: usize,
    /// Updates applied since start.
    pub updates: u64,
    /// Updates rejected since start.
    pub rejects: u64,
    /// Seconds since the last applied update (0 before the first).
    pub age_s: f64,
    /// The last rejection's message, if any.
    pub last_error: Option<String>,
    /// Ready for traffic.
    pub ready: bool,
    /// Shutting down.
    pub draining: bool,
}

impl BidderState {
    /// Empty state: bids nothing and is not ready until campaigns are applied.
    /// Bids hold their cost against leases for `hold_timeout_s`.
    pub fn new(fx: FxTable, hold_timeout_s: u64) -> BidderState {
        let fx = Arc::new(fx);
        BidderState {
            snapshot: ArcSwap::from_pointee(Snapshot::empty(Arc::clone(&fx))),
            budgets: Budgets::new(hold_timeout_s),
            fx,
            loaded: AtomicBool::new(false),
            budgets_synced: AtomicBool::new(false),
            draining: AtomicBool::new(false),
            updates: AtomicU64::new(0),
            rejects: AtomicU64::new(0),
            last_update_ms: AtomicU64::new(0),
            last_error: Mutex::new(None),
            sync: SyncHealth::default(),
        }
    }

    /// The current snapshot; cheap, lock-free, and safe to hold for one request.
    pub fn snapshot(&self) -> arc_swap::Guard<Arc<Snapshot>> {
        self.snapshot.load()
    }

    /// Replaces every campaign. On error the current snapshot keeps serving and the
    /// rejection is counted.
    pub fn replace_campaigns<'c>(
        &self,
        campaigns: impl IntoIterator<Item = &'c Campaign>,
    ) -> Result<(), CampaignError> {
        match Snapshot::build(campaigns, Arc::clone(&self.fx), &self.budgets) {
            Ok(snapshot) => {
                self.snapshot.store(Arc::new(snapshot));
                self.updates.fetch_add(1, Ordering::Relaxed);
                self.last_update_ms.store(now_ms(), Ordering::Relaxed);
                self.loaded.store(true, Ordering::Release);
                Ok(())
            }
            Err(e) => {
                self.record_reject(e.to_string());
                Err(e)
            }
        }
    }

    /// Counts an update that was refused before it reached the snapshot.
    pub fn record_reject(&self, message: String) {
        self.rejects.fetch_add(1, Ordering::Relaxed);
        *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(message);
    }

    /// Budget leases by campaign.
    pub fn budgets(&self) -> &Budgets {
        &self.budgets
    }

    /// Whether the bidder wants traffic: campaigns loaded, leases taken (the
    /// budget service's first round done), the source not stale, and not shutting
    /// down.
    pub fn is_ready(&self) -> bool {
        self.loaded.load(Ordering::Acquire)
            && self.budgets_synced()
            && !self.draining.load(Ordering::Acquire)
            && self.sync.is_fresh()
    }

    /// Whether a first set of campaigns has been applied.
    pub fn is_loaded(&self) -> bool {
        self.loaded.load(Ordering::Acquire)
    }

    /// Records that the budget service has settled every campaign once.
    pub fn set_budgets_synced(&self) {
        self.budgets_synced.store(true, Ordering::Release);
    }

    /// Whether the budget service has settled every campaign once.
    pub fn budgets_synced(&self) -> bool {
        self.budgets_synced.load(Ordering::Acquire)
    }

    /// Freshness and counters of a remote campaign source.
    pub fn sync(&self) -> &SyncHealth {
        &self.sync
    }

    /// The exchange-rate table campaigns are priced with.
    pub fn fx(&self) -> &Arc<FxTable> {
        &self.fx
    }

    /// Starts shutting down: readiness turns false for good.
    pub fn begin_drain(&self) {
        self.draining.store(true, Ordering::Release);
    }

    /// Whether shutdown has begun.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }

    /// A summary of the state now.
    pub fn summary(&self) -> StateSummary {
        let snapshot = self.snapshot();
        let last = self.last_update_ms.load(Ordering::Relaxed);
        StateSummary {
            campaigns_active: snapshot.campaigns().len(),
            campaigns_paused: snapshot.paused(),
            updates: self.updates.load(Ordering::Relaxed),
            rejects: self.rejects.load(Ordering::Relaxed),
            age_s: if last == 0 {
                0.0
            } else {
                now_ms().saturating_sub(last) as f64 / 1e3
            },
            last_error: self
                .last_error
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
            ready: self.is_ready(),
            draining: self.is_draining(),
        }
    }
}
