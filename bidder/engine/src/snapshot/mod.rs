//! Immutable, indexed campaign state.
//!
//! A [`Snapshot`] is built off the hot path from a full set of campaigns and then
//! only read; the bidder swaps whole snapshots atomically. Budget counters are not
//! part of the snapshot's value: each compiled campaign points at its counter in the
//! shared [`BudgetLedger`], so spend survives every rebuild.

mod compiled;
mod index;

use std::sync::Arc;

use rustc_hash::FxHashMap;

pub use compiled::{CompiledCampaign, CompiledCreative, CreativeKind};
pub(crate) use index::Index;

use crate::budget::BudgetLedger;
use crate::campaign::{Campaign, CampaignError, CampaignStatus};
use crate::money::FxTable;

/// Every active campaign, compiled and indexed.
#[derive(Debug)]
pub struct Snapshot {
    campaigns: Vec<CompiledCampaign>,
    by_id: FxHashMap<String, u32>,
    pub(crate) index: Index,
    paused: usize,
    fx: Arc<FxTable>,
}

impl Snapshot {
    /// Compiles `campaigns` (validated already) into a snapshot. Paused campaigns are
    /// counted but not indexed. Fails, naming the campaign, when one cannot be priced.
    pub fn build(
        campaigns: &[Campaign],
        fx: Arc<FxTable>,
        ledger: &BudgetLedger,
    ) -> Result<Snapshot, CampaignError> {
        let mut snapshot = Snapshot::empty(Arc::clone(&fx));
        for campaign in campaigns {
            if campaign.status == CampaignStatus::Paused {
                snapshot.paused += 1;
                continue;
            }
            let compiled = CompiledCampaign::compile(campaign, &fx, ledger.counter(&campaign.id))?;
            let position = u32::try_from(snapshot.campaigns.len()).map_err(|_| CampaignError {
                campaign: campaign.id.clone(),
                field: "id".to_owned(),
                reason: "more than 4 billion campaigns".to_owned(),
            })?;
            snapshot.index.add(position, &compiled);
            snapshot.by_id.insert(compiled.id.clone(), position);
            snapshot.campaigns.push(compiled);
        }
        Ok(snapshot)
    }

    /// A snapshot with no campaigns: bids nothing.
    pub fn empty(fx: Arc<FxTable>) -> Snapshot {
        Snapshot {
            campaigns: Vec::new(),
            by_id: FxHashMap::default(),
            index: Index::default(),
            paused: 0,
            fx,
        }
    }

    /// The active campaigns, by position.
    pub fn campaigns(&self) -> &[CompiledCampaign] {
        &self.campaigns
    }

    /// An active campaign by id.
    pub fn campaign(&self, id: &str) -> Option<&CompiledCampaign> {
        self.by_id.get(id).map(|&p| &self.campaigns[p as usize])
    }

    /// How many campaigns are paused.
    pub fn paused(&self) -> usize {
        self.paused
    }

    /// The exchange-rate table prices are converted with.
    pub fn fx(&self) -> &FxTable {
        &self.fx
    }
}
