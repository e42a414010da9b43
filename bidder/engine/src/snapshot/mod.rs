//! Immutable, indexed campaign state.
//!
//! A [`Snapshot`] is built off the hot path from a full set of campaigns and then
//! only read; the bidder swaps whole snapshots atomically. Budget leases are not
//! part of the snapshot's value: each compiled campaign points at its lease in the
//! shared [`Budgets`], so what it holds and has in flight survives every rebuild.

mod compiled;
mod creative;
mod index;

use std::sync::Arc;

use rustc_hash::FxHashMap;

pub use compiled::CompiledCampaign;
pub(crate) use compiled::bare_domain;
pub use creative::{BidSize, CompiledCreative, CreativeKind, TimedMedia};
pub(crate) use index::{BidTerms, Index};

use crate::budget::Budgets;
use crate::campaign::{Campaign, CampaignError, CampaignStatus};
use crate::money::FxTable;

/// Every active campaign, compiled and indexed.
#[derive(Debug)]
pub struct Snapshot {
    campaigns: Vec<CompiledCampaign>,
    paused: Vec<CompiledCampaign>,
    by_id: FxHashMap<String, Position>,
    pub(crate) index: Index,
    fx: Arc<FxTable>,
    /// Whether an active campaign has segment rules (else requests' segments are
    /// not even gathered).
    uses_segments: bool,
}

/// Where a campaign sits in a snapshot.
#[derive(Debug, Clone, Copy)]
enum Position {
    Active(u32),
    Paused(u32),
}

impl Snapshot {
    /// Compiles `campaigns` (validated already) into a snapshot. Paused campaigns are
    /// kept (billing notices for their past wins still count) but not indexed.
    /// Fails, naming the campaign, when one cannot be priced.
    pub fn build<'c>(
        campaigns: impl IntoIterator<Item = &'c Campaign>,
        fx: Arc<FxTable>,
        budgets: &Budgets,
    ) -> Result<Snapshot, CampaignError> {
        let mut snapshot = Snapshot::empty(Arc::clone(&fx));
        for campaign in campaigns {
            let compiled = CompiledCampaign::compile(campaign, &fx, budgets.lease(&campaign.id))?;
            let paused = campaign.status == CampaignStatus::Paused;
            let list = if paused {
                &snapshot.paused
            } else {
                &snapshot.campaigns
            };
            let at = u32::try_from(list.len()).map_err(|_| CampaignError {
                campaign: campaign.id.clone(),
                field: "id".to_owned(),
                reason: "more than 4 billion campaigns".to_owned(),
            })?;
            if paused {
                snapshot
                    .by_id
                    .insert(compiled.id.clone(), Position::Paused(at));
                snapshot.paused.push(compiled);
            } else {
                snapshot.index.add(at, &compiled, &fx);
                snapshot.uses_segments |= compiled.segments.is_some();
                snapshot
                    .by_id
                    .insert(compiled.id.clone(), Position::Active(at));
                snapshot.campaigns.push(compiled);
            }
        }
        snapshot.index.finish();
        Ok(snapshot)
    }

    /// Checks that `campaign` (validated already) can be compiled with `fx`, so a
    /// source can refuse one bad record instead of a whole snapshot.
    pub fn check(campaign: &Campaign, fx: &FxTable) -> Result<(), CampaignError> {
        CompiledCampaign::compile(campaign, fx, Arc::default()).map(drop)
    }

    /// Grants each campaign with a budget a lease of its whole limit (the smaller of
    /// daily and total) for the budget day of `now_unix_s`, usable before
    /// `usable_until_s`: what a budget service with the fleet to itself and nothing
    /// spent would grant. For engines that run without one (benchmarks, tests,
    /// tools).
    pub fn grant_whole_budgets(&self, now_unix_s: u64, usable_until_s: u64) {
        for c in self.campaigns() {
            let limit = c.budget.daily.into_iter().chain(c.budget.total).min();
            if let Some(limit) = limit {
                let day = c.budget.zone.day_of(now_unix_s);
                c.lease.grant(limit, day, usable_until_s);
            }
        }
    }

    /// A snapshot with no campaigns: bids nothing.
    pub fn empty(fx: Arc<FxTable>) -> Snapshot {
        Snapshot {
            campaigns: Vec::new(),
            paused: Vec::new(),
            by_id: FxHashMap::default(),
            index: Index::default(),
            fx,
            uses_segments: false,
        }
    }

    /// Whether an active campaign has segment rules.
    pub fn uses_segments(&self) -> bool {
        self.uses_segments
    }

    /// The active campaigns, by position.
    pub fn campaigns(&self) -> &[CompiledCampaign] {
        &self.campaigns
    }

    /// A campaign by id, active or paused.
    pub fn campaign(&self, id: &str) -> Option<&CompiledCampaign> {
        match *self.by_id.get(id)? {
            Position::Active(at) => self.campaigns.get(at as usize),
            Position::Paused(at) => self.paused.get(at as usize),
        }
    }

    /// How many campaigns are paused.
    pub fn paused(&self) -> usize {
        self.paused.len()
    }

    /// The paused campaigns (kept for their notices, never bidding).
    pub fn paused_campaigns(&self) -> &[CompiledCampaign] {
        &self.paused
    }

    /// Whether campaign `id` is here and active.
    pub fn is_active(&self, id: &str) -> bool {
        matches!(self.by_id.get(id), Some(Position::Active(_)))
    }

    /// The exchange-rate table prices are converted with.
    pub fn fx(&self) -> &FxTable {
        &self.fx
    }
}
