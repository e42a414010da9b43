//! Budgets: what a campaign may spend, and how much of it this bidder may commit.
//!
//! A campaign limits spend per budget day (midnight to midnight in its own time
//! zone, see [`BudgetZone`]) and over its life. A fleet of bidders shares those
//! limits through a spend ledger: the bidder's budget service leases slices of
//! what is left to this bidder, and the decision bids only within its lease
//! ([`CampaignBudget`]), holding each bid's cost until its billing notice or a
//! timeout. Pacing ([`PacingController`]) sets how many of the bids a campaign
//! could make it makes, so a daily budget lasts the day.
//!
//! Lease state lives in a [`Budgets`] registry keyed by campaign id, so it outlives
//! every snapshot rebuild; each compiled campaign holds an `Arc` to its own.

mod day;
mod lease;
mod pacing;

use std::sync::Arc;

use dashmap::DashMap;

pub use day::{BudgetZone, UnknownZone};
pub use lease::{CampaignBudget, HOLD_SLOTS, Settled};
pub use pacing::{
    MIN_THROTTLE, PROFILE_SLOTS, Pacing, PacingController, PacingInput, TrafficProfile,
};

use crate::money::{Currency, FxTable, Micros, impression_cost};

/// A campaign's limits in micros of its currency; `None` is unlimited.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BudgetLimits {
    /// Spend allowed per budget day.
    pub daily: Option<Micros>,
    /// Spend allowed in total.
    pub total: Option<Micros>,
    /// The zone budget days are counted in.
    pub zone: BudgetZone,
    /// How the daily budget is spread over the day.
    pub pacing: Pacing,
}

impl BudgetLimits {
    /// Whether any limit applies (else the campaign bids without a lease).
    pub fn is_limited(&self) -> bool {
        self.daily.is_some() || self.total.is_some()
    }
}

/// What one impression at `cpm` (micros of `from`) costs in micros of `to`, the
/// campaign's currency: converted and divided by a thousand, both rounding up, so
/// spend is never under-counted. `None` when the table does not know a currency.
pub fn impression_cost_in(
    fx: &FxTable,
    cpm: Micros,
    from: Currency,
    to: Currency,
) -> Option<Micros> {
    fx.convert_up(cpm, from, to).map(impression_cost)
}

/// Every campaign's lease, shared by all snapshots and all cores.
#[derive(Debug)]
pub struct Budgets {
    leases: DashMap<String, Arc<CampaignBudget>>,
    hold_timeout_s: u64,
}

/// Seconds a bid holds its cost when nobody says otherwise.
pub const DEFAULT_HOLD_TIMEOUT_S: u64 = 120;

impl Default for Budgets {
    fn default() -> Self {
        Budgets::new(DEFAULT_HOLD_TIMEOUT_S)
    }
}

impl Budgets {
    /// An empty registry whose leases keep bids' holds `hold_timeout_s`.
    pub fn new(hold_timeout_s: u64) -> Budgets {
        Budgets {
            leases: DashMap::new(),
            hold_timeout_s,
        }
    }

    /// The lease of `campaign_id`, created empty on first use.
    pub fn lease(&self, campaign_id: &str) -> Arc<CampaignBudget> {
        if let Some(lease) = self.leases.get(campaign_id) {
            return Arc::clone(&lease);
        }
        Arc::clone(
            &self
                .leases
                .entry(campaign_id.to_owned())
                .or_insert_with(|| Arc::new(CampaignBudget::new(self.hold_timeout_s))),
        )
    }

    /// Seconds a bid holds its cost.
    pub fn hold_timeout_s(&self) -> u64 {
        self.hold_timeout_s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leases_survive_lookups_by_id() {
        let budgets = Budgets::new(60);
        budgets.lease("c1").grant(10, 1, u64::MAX);
        assert_eq!(budgets.lease("c1").balance(), 10);
        assert_eq!(budgets.lease("c2").balance(), 0);
        assert_eq!(budgets.hold_timeout_s(), 60);
    }
}
