//! What the budget service reports: per-campaign figures for `/state` and
//! `/metrics`, and the operations whose failures it counts.

use serde::Serialize;

/// One campaign's budget as this bidder sees it after its last sync, in micros of
/// the campaign's currency.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CampaignBudgetStatus {
    /// The campaign.
    pub campaign_id: String,
    /// Its currency.
    pub currency: String,
    /// The budget day (`YYYY-MM-DD` in `timezone`).
    pub budget_day: String,
    /// The zone budget days are counted in.
    pub timezone: String,
    /// `even` or `asap`.
    pub pacing: &'static str,
    /// The daily budget, if any.
    pub daily_budget_micros: Option<u64>,
    /// The total budget, if any.
    pub total_budget_micros: Option<u64>,
    /// The fleet's spend on this budget day, as the ledger has it.
    pub spent_today_micros: u64,
    /// The fleet's spend in all, as the ledger has it.
    pub spent_total_micros: u64,
    /// What this bidder may still commit of its lease.
    pub lease_balance_micros: i64,
    /// What this bidder's bids in flight hold.
    pub held_micros: u64,
    /// The spend rate pacing aims at, micros per second (0 when not pacing).
    pub target_rate_micros_per_s: f64,
    /// The share of bids pacing lets through, 0 to 1.
    pub throttle: f64,
    /// The fleet may not commit more of the budget today.
    pub exhausted: bool,
}

/// A budget service operation whose failures are counted
/// (`tern_budget_sync_errors_total{op}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncOp {
    /// Flushing spend and renewing leases (and reading records).
    Flush,
    /// Taking a lease slice.
    Lease,
    /// Giving a lease back.
    Release,
    /// Reclaiming a lapsed lease.
    Reclaim,
    /// Sending a budget alert.
    Alert,
    /// Writing the spend journal.
    Journal,
}

impl SyncOp {
    /// Every operation, in label order.
    pub const ALL: [SyncOp; 6] = [
        SyncOp::Flush,
        SyncOp::Lease,
        SyncOp::Release,
        SyncOp::Reclaim,
        SyncOp::Alert,
        SyncOp::Journal,
    ];

    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncOp::Flush => "flush",
            SyncOp::Lease => "lease",
            SyncOp::Release => "release",
            SyncOp::Reclaim => "reclaim",
            SyncOp::Alert => "alert",
            SyncOp::Journal => "journal",
        }
    }
}
