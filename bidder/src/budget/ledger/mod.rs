//! The spend ledger: one record per campaign that every bidder of a fleet reads
//! and updates, only ever by conditional updates, so the fleet never commits more
//! than a budget (see `docs/budgets.md` for the rules and the bound).
//!
//! A record ([`LedgerItem`]) keeps, in micros of the campaign's currency:
//! - `total_spent` and, per budget day, `spent`: every billed impression;
//! - `total_committed` and, per day, `committed`: spend plus what is leased out
//!   and not yet spent. A lease is granted only while the committed figures stay
//!   within the budgets;
//! - `leases`: per bidder process and budget day, what it holds (`reserved`),
//!   how much spend by others on its bids it has taken off that (`absorbed`), a
//!   sequence number every change bumps (so changes never cross) and when it
//!   lapses unless renewed;
//! - `foreign`: per lease, spend billed at other bidders on its bids;
//! - `flushed`: per bidder, the journal position of the last spend flushed (so a
//!   retried or replayed flush applies once);
//! - `alerts`: per budget alert, the bidder that sent it (so it goes out once).
//!
//! Two stores implement it: [`local`] (a file, for one bidder alone: the embedded
//! default) and [`dynamodb`] (a table shared by a fleet).

pub mod dynamodb;
pub mod local;

pub use tern_tables::spend::{DayFigures, Lease, LeaseKey, LedgerItem, bidder_key};

/// One conditional change to a campaign's record. Each applies whole or not at
/// all; a condition that fails is a [`LedgerError::Conflict`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update {
    /// Makes what the others assume: the record's maps, the day's figures and the
    /// lease (each kept if already there). No condition.
    Open {
        /// The lease (and its day) to create.
        lease: LeaseKey,
        /// The bidder's id, kept in the lease.
        bidder_id: String,
    },
    /// Spend, spend absorbed, and lease renewals (see [`Flush`]).
    Flush(Flush),
    /// Leases `slice` more to `lease`, if the budgets allow. Condition: the
    /// lease's `seq`, and `committed + slice` within each limit.
    Grant {
        /// The lease.
        lease: LeaseKey,
        /// Its expected `seq`.
        seq: u64,
        /// Micros to lease.
        slice: u64,
        /// The total budget, if any.
        total_limit: Option<u64>,
        /// The daily budget, if any.
        daily_limit: Option<u64>,
        /// The lease's new lapse time.
        expires_s: u64,
    },
    /// Gives back `amount` of a lease. Condition: `seq`, and at least `amount`
    /// reserved.
    Return {
        /// The lease.
        lease: LeaseKey,
        /// Its expected `seq`.
        seq: u64,
        /// Micros given back.
        amount: u64,
    },
    /// Takes back all of a lapsed lease of another bidder process, or removes it
    /// once empty and lapsed for a day. Condition: `seq` and lapsed at `now_s`.
    Reclaim {
        /// The lease.
        lease: LeaseKey,
        /// Its expected `seq`.
        seq: u64,
        /// Now, seconds since the epoch.
        now_s: u64,
    },
    /// Records that `bidder_id` sends alert `key`. Condition: nobody has.
    Alert {
        /// The alert, e.g. `daily/2026-11-30/80`.
        key: String,
        /// Who sends it.
        bidder_id: String,
    },
}

/// Spend flushed by one bidder, what it absorbed of others' spend on its bids,
/// and its leases renewed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flush {
    /// The flushing bidder's spend journal (`LocalState::journal_id`): the
    /// record's `flushed` positions are kept per journal.
    pub journal: u64,
    /// Journal position of the last record included; the update applies only if
    /// the record's `flushed` position for this journal is lower. 0: no spend.
    pub position: u64,
    /// This bidder process's leases touched.
    pub own: Vec<OwnFlush>,
    /// Spend on other bidder processes' leases.
    pub foreign: Vec<(LeaseKey, u64)>,
    /// Spend on no known lease, by day.
    pub unattributed: Vec<(String, u64)>,
}

/// One own lease in a [`Flush`]. Condition: `seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnFlush {
    /// The lease.
    pub lease: LeaseKey,
    /// Its expected `seq`.
    pub seq: u64,
    /// Spend on its bids billed here.
    pub spend: u64,
    /// The part of `spend` its `reserved` covers.
    pub covered: u64,
    /// Spend by others on its bids, newly taken into account.
    pub absorb: u64,
    /// The part of `absorb` its `reserved` covers.
    pub absorb_covered: u64,
    /// Its new lapse time.
    pub expires_s: u64,
}

impl Flush {
    /// Whether it carries any spend.
    pub fn has_spend(&self) -> bool {
        self.position > 0
    }
}

/// Why a ledger update did not apply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    /// A condition failed: the record changed, or the budget does not allow it.
    /// Re-read and decide again.
    #[error("ledger record changed or budget does not allow it")]
    Conflict,
    /// The store did not answer (or said it failed); whether the update applied
    /// is unknown.
    #[error("ledger unavailable: {0}")]
    Unavailable(String),
}

/// A spend ledger store.
pub trait Ledger: Send + Sync + 'static {
    /// A campaign's record, read consistently (empty when it has none yet).
    fn read(
        &self,
        campaign_id: &str,
    ) -> impl Future<Output = Result<LedgerItem, LedgerError>> + Send;

    /// Applies `update` to a campaign's record; returns the record after it.
    fn apply(
        &self,
        campaign_id: &str,
        update: &Update,
    ) -> impl Future<Output = Result<LedgerItem, LedgerError>> + Send;

    /// Makes what was applied durable (the file store writes it; a remote store
    /// already has).
    fn checkpoint(&self) -> impl Future<Output = Result<(), LedgerError>> + Send;
}

/// The configured ledger.
#[derive(Debug)]
pub enum AnyLedger {
    /// The file store.
    Local(local::LocalLedger),
    /// The DynamoDB store.
    Dynamo(dynamodb::DynamoLedger),
}

impl Ledger for AnyLedger {
    async fn read(&self, campaign_id: &str) -> Result<LedgerItem, LedgerError> {
        match self {
            AnyLedger::Local(l) => l.read(campaign_id).await,
            AnyLedger::Dynamo(l) => l.read(campaign_id).await,
        }
    }

    async fn apply(&self, campaign_id: &str, update: &Update) -> Result<LedgerItem, LedgerError> {
        match self {
            AnyLedger::Local(l) => l.apply(campaign_id, update).await,
            AnyLedger::Dynamo(l) => l.apply(campaign_id, update).await,
        }
    }

    async fn checkpoint(&self) -> Result<(), LedgerError> {
        match self {
            AnyLedger::Local(l) => l.checkpoint().await,
            AnyLedger::Dynamo(l) => l.checkpoint().await,
        }
    }
}
