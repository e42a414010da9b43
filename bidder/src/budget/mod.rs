//! Fleet budgets: the bidder's side of the spend ledger (see `docs/budgets.md`).
//!
//! The engine decides within leases (`tern_engine::budget`); this module keeps them
//! filled and honest. [`BudgetService`] is shared by every worker and the
//! `budget-sync` thread:
//! - a billing notice settles its bid's hold in the engine and is written to the
//!   [`journal`] before it is answered;
//! - every `budget.flush_interval_ms` the sync thread ([`sync`]) flushes the
//!   journal's spend to the [`ledger`], renews this bidder's leases, takes new
//!   slices before the current ones run out and gives back what it does not need,
//!   reclaims lapsed leases of dead bidders, paces, and sends budget alerts once
//!   per fleet.
//!
//! Two ledgers: `local` (a file in `budget.state_dir`, the embedded default, so a
//! restart never re-spends a budget) and `dynamodb` (a table shared by the fleet).

mod alerts;
mod book;
pub mod config;
pub mod journal;
pub mod ledger;
mod status;
mod sync;
mod tick;

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use tern_engine::budget::impression_cost_in;
use tern_engine::money::{FxTable, Micros};
use tern_engine::notice::{BidOrigin, Notice};
use tern_engine::snapshot::CompiledCampaign;

use self::config::BudgetConfig;
use self::journal::{LeaseOwner, SpendJournal, SpendRecord};
use crate::error::StartError;
use crate::local_state::LocalState;

pub use self::status::{CampaignBudgetStatus, SyncOp};
pub use self::sync::start;

/// The bidder's budget state shared by workers and the sync thread.
#[derive(Debug)]
pub struct BudgetService {
    config: BudgetConfig,
    bidder_id: String,
    origin: BidOrigin,
    journal: SpendJournal,
    /// Per-campaign figures for `/state` and `/metrics`, as of the last sync.
    status: Mutex<Vec<CampaignBudgetStatus>>,
    /// Failed ledger calls (and journal writes), by [`SyncOp`].
    errors: [AtomicU64; SyncOp::ALL.len()],
    /// Alerts this bidder sent, by threshold percent.
    alerts_sent: Mutex<Vec<(u8, u64)>>,
}

/// Spend the journal held when the bidder started, to count again and flush.
#[derive(Debug, Default)]
pub struct Replay {
    /// Every record on disk with its position, oldest first.
    pub records: Vec<(SpendRecord, u64)>,
}

/// The digest naming a bidder in tokens and lease keys.
pub fn bidder_digest(bidder_id: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(bidder_id.as_bytes())
}

impl BudgetService {
    /// The budget state of the bidder in `local` (its id, its directory): opens
    /// the journal there and draws this process's number. Returns the journal's
    /// records for the caller to count again (notice de-duplication) and for the
    /// sync thread to flush what the ledger lacks.
    pub fn open(
        config: &BudgetConfig,
        local: &LocalState,
    ) -> Result<(BudgetService, Replay), StartError> {
        let (journal, records) = SpendJournal::open(local.dir()).map_err(|e| {
            StartError::Budget(format!(
                "cannot open the spend journal in {}: {e}",
                local.dir().display()
            ))
        })?;
        let bidder_id = local.bidder_id().to_owned();
        let origin = BidOrigin {
            bidder: bidder_digest(&bidder_id),
            process: fastrand::u32(..),
        };
        let service = BudgetService {
            config: config.clone(),
            bidder_id,
            origin,
            journal,
            status: Mutex::default(),
            errors: Default::default(),
            alerts_sent: Mutex::default(),
        };
        Ok((service, Replay { records }))
    }

    /// This process, as named in the tokens of its bids.
    pub fn origin(&self) -> BidOrigin {
        self.origin
    }

    /// This bidder's id in the ledger.
    pub fn bidder_id(&self) -> &str {
        &self.bidder_id
    }

    /// Books one billed impression, counted once already: settles its bid's hold
    /// when this process made it, and journals the spend. `campaign` is the
    /// campaign as the current snapshot has it (`None` once deleted). The cost is
    /// the clearing price `cpm` (micros of the notice's currency) for one
    /// impression in the campaign's currency, rounded up; for a deleted campaign
    /// (its currency gone with it) what the bid held. Returns the micros booked.
    pub fn record_billed(
        &self,
        notice: &Notice<'_>,
        cpm: Micros,
        campaign: Option<&CompiledCampaign>,
        fx: &FxTable,
    ) -> Micros {
        let cost = match campaign {
            Some(c) => impression_cost_in(fx, cpm, notice.currency, c.currency).unwrap_or(0),
            None => notice.held,
        };
        let day = match campaign {
            Some(c) => c.budget.zone.day_of(notice.issued_at_s),
            None => tern_engine::budget::BudgetZone::default().day_of(notice.issued_at_s),
        };
        let owner = match notice.origin {
            Some(origin) => LeaseOwner::Lease(origin.bidder, origin.process),
            None => LeaseOwner::Unknown,
        };
        if notice.origin == Some(self.origin)
            && let Some(c) = campaign.filter(|c| c.budget.is_limited())
        {
            c.lease.settle(notice.issued_at_s, day, notice.held, cost);
        }
        let record = SpendRecord {
            notice_id: notice.id(),
            issued_at_s: notice.issued_at_s,
            day,
            cost_micros: cost,
            owner,
            campaign_id: notice.campaign_id.to_owned(),
        };
        if let Err(e) = self.journal.record(&record) {
            self.count_error(SyncOp::Journal);
            tracing::error!(error = %e, "spend journal write failed; the spend is flushed from memory");
        }
        cost
    }

    fn count_error(&self, op: SyncOp) {
        self.errors[op as usize].fetch_add(1, Relaxed);
    }

    fn count_alert(&self, percent: u8) {
        let mut sent = self.alerts_sent.lock().unwrap_or_else(|e| e.into_inner());
        match sent.iter_mut().find(|(p, _)| *p == percent) {
            Some((_, count)) => *count += 1,
            None => {
                sent.push((percent, 1));
                sent.sort_unstable();
            }
        }
    }

    /// Failed ledger calls and journal writes since start, by operation.
    pub fn errors(&self) -> [(SyncOp, u64); SyncOp::ALL.len()] {
        SyncOp::ALL.map(|op| (op, self.errors[op as usize].load(Relaxed)))
    }

    /// Alerts this bidder sent since start, by threshold percent.
    pub fn alerts_sent(&self) -> Vec<(u8, u64)> {
        self.alerts_sent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Each campaign's budget figures as of the last sync.
    pub fn status(&self) -> Vec<CampaignBudgetStatus> {
        self.status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}
