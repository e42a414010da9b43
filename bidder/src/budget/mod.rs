//! Fleet budgets: the bidder's side of the spend ledger (see `docs/budgets.md`).
//!
//! The engine decides within leases (`tern_engine::budget`); this module keeps them
//! filled and honest. [`BudgetService`] is shared by every worker and the
//! `budget-sync` thread:
//! - a billing notice settles its bid's hold in the engine and is written to the
//!   [`journal`] before it is answered; a loss notice releases its bid's hold
//!   early ([`BudgetService::release_lost`]);
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

use tern_engine::budget::{Settled, impression_cost_in};
use tern_engine::clock;
use tern_engine::money::{Currency, FxTable, Micros};
use tern_engine::notice::{BidOrigin, Notice, NoticeDedup};
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
    /// This bidder's spend journal, as the ledger's flush positions name it.
    journal_id: u64,
    /// How long a notice may be accepted after its bid (`notice.max_age_s`): the
    /// journal keeps what it counted that long.
    notice_max_age_s: u64,
    journal: SpendJournal,
    /// Per-campaign figures for `/state` and `/metrics`, as of the last sync.
    status: Mutex<Vec<CampaignBudgetStatus>>,
    /// Failed ledger calls (and journal writes), by [`SyncOp`].
    errors: [AtomicU64; SyncOp::ALL.len()],
    /// Alerts this bidder sent, by threshold percent.
    alerts_sent: Mutex<Vec<(u8, u64)>>,
    /// Billed impressions whose notice came too late for the bound (see
    /// [`BudgetConfig::late_after_ms`]), or after a loss notice released their
    /// bid's hold.
    late_notices: AtomicU64,
    /// This process's bids whose hold a billing or loss notice has settled or
    /// released: each hold is given back once, by whichever comes first.
    holds_done: NoticeDedup,
}

/// Spend the journal held when the bidder started, to count again and flush.
#[derive(Debug, Default)]
pub struct Replay {
    /// Every record on disk with its position, oldest first.
    pub records: Vec<(SpendRecord, u64)>,
}

/// What one billed impression costs the campaign, micros of `campaign_currency`:
/// the clearing price `cpm` (micros of the notice's currency) converted and
/// rounded up, or, when that cannot be done (the campaign deleted, or a currency
/// no longer in the FX table), what the bid held: never less than the bid can
/// cost, so spend is not under-counted.
fn booked_cost(
    fx: &FxTable,
    cpm: Micros,
    notice: &Notice<'_>,
    campaign_currency: Option<Currency>,
) -> Micros {
    campaign_currency
        .and_then(|to| impression_cost_in(fx, cpm, notice.currency, to))
        .unwrap_or(notice.held)
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
        notice_max_age_s: u64,
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
            journal_id: local.journal_id(),
            notice_max_age_s,
            journal,
            status: Mutex::default(),
            errors: Default::default(),
            alerts_sent: Mutex::default(),
            late_notices: AtomicU64::new(0),
            holds_done: NoticeDedup::new(notice_max_age_s),
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
    /// (its currency gone with it, or the notice's currency no longer priced)
    /// what the bid held: never less than the bid can cost. A notice later than
    /// [`BudgetConfig::late_after_ms`], or for a bid whose hold a loss notice
    /// already released ([`BudgetService::release_lost`]; the spend is debited
    /// all the same), is counted in [`BudgetService::late_notices`]. Returns the
    /// micros booked.
    pub fn record_billed(
        &self,
        notice: &Notice<'_>,
        cpm: Micros,
        campaign: Option<&CompiledCampaign>,
        fx: &FxTable,
    ) -> Micros {
        let cost = booked_cost(fx, cpm, notice, campaign.map(|c| c.currency));
        let day = match campaign {
            Some(c) => c.budget.zone.day_of(notice.issued_at_s),
            None => tern_engine::budget::BudgetZone::default().day_of(notice.issued_at_s),
        };
        let owner = match notice.origin {
            Some(origin) => LeaseOwner::Lease(origin.bidder, origin.process),
            None => LeaseOwner::Unknown,
        };
        let delay_ms = clock::now_ms().saturating_sub(notice.issued_at_s.saturating_mul(1_000));
        let mut late = delay_ms > self.config.late_after_ms();
        if notice.origin == Some(self.origin)
            && let Some(c) = campaign.filter(|c| c.budget.is_limited())
        {
            // A hold a loss notice released is not released again (that would
            // free other bids' holds in its bucket): the spend is only debited.
            let released_by_loss = !self.holds_done.first_time(&notice.id(), notice.issued_at_s);
            let held = if released_by_loss { 0 } else { notice.held };
            c.lease.settle(notice.issued_at_s, day, held, cost);
            late |= released_by_loss;
        }
        if late {
            self.late_notices.fetch_add(1, Relaxed);
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

    /// Releases at once the hold of a bid the exchange says it lost (a loss
    /// notice with a loss reason other than 0, "bid won", in OpenRTB 2.6 list
    /// 5.25), counted once already, instead of at the hold's timeout: the lease
    /// can commit that budget again. Only the process that made the bid holds
    /// it (the token names it); anywhere else, or for a campaign without a
    /// budget, or once the bid's billing notice has settled the hold, or after
    /// the hold timed out, nothing changes. Should the exchange bill the
    /// impression anyway, [`BudgetService::record_billed`] still debits the
    /// spend and counts the notice as late: its cost lies outside the hold it
    /// no longer has, like a notice after the timeout. Returns the micros
    /// released, in the campaign's currency.
    pub fn release_lost(&self, notice: &Notice<'_>, campaign: Option<&CompiledCampaign>) -> Micros {
        if notice.origin != Some(self.origin) || notice.held == 0 {
            return 0;
        }
        let Some(c) = campaign.filter(|c| c.budget.is_limited()) else {
            return 0;
        };
        if !self.holds_done.first_time(&notice.id(), notice.issued_at_s) {
            return 0;
        }
        let day = c.budget.zone.day_of(notice.issued_at_s);
        match c.lease.settle(notice.issued_at_s, day, notice.held, 0) {
            Settled::Converted => notice.held,
            Settled::Late | Settled::OtherDay => 0,
        }
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

    /// Billing notices this bidder booked since start that came later than
    /// [`BudgetConfig::late_after_ms`] after their bid: their spend is the
    /// budget-overspend term of `docs/budgets.md`.
    pub fn late_notices(&self) -> u64 {
        self.late_notices.load(Relaxed)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(currency: &str, held: Micros) -> Notice<'static> {
        Notice {
            request_id: "r",
            imp_id: "1",
            campaign_id: "c",
            creative_id: "cr",
            exchange: "",
            price: 2_000_000,
            currency: Currency::parse(currency).unwrap(),
            issued_at_s: 0,
            user: None,
            origin: None,
            held,
        }
    }

    #[test]
    fn spend_is_booked_at_the_clearing_price_rounded_up_or_else_at_the_hold() {
        let fx = FxTable::new([(Currency::parse("EUR").unwrap(), 0.5)]).unwrap();
        let usd = Some(Currency::USD);
        // 1.000001 CPM is 1,000.001 micros an impression: rounded up.
        assert_eq!(booked_cost(&fx, 1_000_001, &notice("USD", 9), usd), 1_001);
        // 1.5 EUR CPM at 0.5 EUR per USD: 3 USD CPM, 3,000 micros.
        assert_eq!(booked_cost(&fx, 1_500_000, &notice("EUR", 9), usd), 3_000);
        // A currency the table no longer knows, or a deleted campaign: the hold.
        assert_eq!(
            booked_cost(&fx, 1_500_000, &notice("GBP", 2_500), usd),
            2_500
        );
        assert_eq!(
            booked_cost(&fx, 1_500_000, &notice("USD", 2_500), None),
            2_500
        );
    }
}
