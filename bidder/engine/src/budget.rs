//! Spend counters that outlive snapshots.
//!
//! A snapshot is rebuilt whenever campaigns change, but money already spent must not
//! be forgotten: counters live in a [`BudgetLedger`] keyed by campaign id, and each
//! compiled campaign holds an `Arc` to its counter. Counters are lock-free atomics.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use dashmap::DashMap;

use crate::clock;
use crate::money::{Currency, FxTable, Micros, impression_cost};

/// Bits of the packed daily word that hold the spend; the rest hold the day number.
const SPEND_BITS: u32 = 44;
const SPEND_MASK: u64 = (1 << SPEND_BITS) - 1;

/// Limits of one campaign, in micros of its currency; `None` is unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BudgetLimits {
    /// Spend allowed per UTC day.
    pub daily: Option<Micros>,
    /// Spend allowed in total.
    pub total: Option<Micros>,
}

/// What one campaign has spent, in micros of its currency.
///
/// The daily figure is packed with its UTC day number in one word, so a day rollover
/// and a concurrent debit can never lose each other. Daily spend saturates at 2^44
/// micros (17.6 million currency units).
#[derive(Debug, Default)]
pub struct SpendCounter {
    total: AtomicU64,
    day_and_spend: AtomicU64,
}

impl SpendCounter {
    /// Adds spend made on `day` (days since the Unix epoch, UTC).
    pub fn record(&self, amount: Micros, day: u64) {
        self.total.fetch_add(amount, Ordering::Relaxed);
        let _ = self
            .day_and_spend
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |word| {
                let spent = if word >> SPEND_BITS == day {
                    word & SPEND_MASK
                } else {
                    0
                };
                let spent = (spent + amount).min(SPEND_MASK);
                Some((day << SPEND_BITS) | spent)
            });
    }

    /// Spend on `day`.
    pub fn spent_on(&self, day: u64) -> Micros {
        let word = self.day_and_spend.load(Ordering::Relaxed);
        if word >> SPEND_BITS == day {
            word & SPEND_MASK
        } else {
            0
        }
    }

    /// Spend over the campaign's life.
    pub fn spent_total(&self) -> Micros {
        self.total.load(Ordering::Relaxed)
    }

    /// Whether `amount` more may be spent on `day` under `limits`.
    pub fn allows(&self, amount: Micros, limits: &BudgetLimits, day: u64) -> bool {
        let fits = |limit: Option<Micros>, spent: Micros| {
            limit.is_none_or(|limit| spent.saturating_add(amount) <= limit)
        };
        fits(limits.total, self.spent_total()) && fits(limits.daily, self.spent_on(day))
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

impl SpendCounter {
    /// Debits one billed impression at `cpm` (micros of `currency`) to a campaign
    /// priced in `campaign_currency`, on the budget day of `now_unix_s`. Returns the
    /// micros debited (0 when the table does not know a currency).
    pub fn debit_impression(
        &self,
        fx: &FxTable,
        cpm: Micros,
        currency: Currency,
        campaign_currency: Currency,
        now_unix_s: u64,
    ) -> Micros {
        let Some(cost) = impression_cost_in(fx, cpm, currency, campaign_currency) else {
            return 0;
        };
        self.record(cost, clock::budget_day(now_unix_s));
        cost
    }
}

/// Every campaign's spend counter, shared by all snapshots and all cores.
#[derive(Debug, Default)]
pub struct BudgetLedger {
    counters: DashMap<String, Arc<SpendCounter>>,
}

impl BudgetLedger {
    /// The counter of `campaign_id`, created at zero on first use.
    pub fn counter(&self, campaign_id: &str) -> Arc<SpendCounter> {
        if let Some(counter) = self.counters.get(campaign_id) {
            return Arc::clone(&counter);
        }
        Arc::clone(&self.counters.entry(campaign_id.to_owned()).or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daily_spend_resets_on_a_new_day_but_total_does_not() {
        let c = SpendCounter::default();
        c.record(700, 100);
        c.record(200, 100);
        assert_eq!(c.spent_on(100), 900);
        c.record(50, 101);
        assert_eq!(c.spent_on(101), 50);
        assert_eq!(c.spent_on(100), 0);
        assert_eq!(c.spent_total(), 950);
    }

    #[test]
    fn limits_allow_up_to_the_exact_amount() {
        let c = SpendCounter::default();
        let limits = BudgetLimits {
            daily: Some(1_000),
            total: Some(5_000),
        };
        c.record(600, 7);
        assert!(c.allows(400, &limits, 7));
        assert!(!c.allows(401, &limits, 7));
        assert!(
            c.allows(1_000, &limits, 8),
            "a new day has a fresh daily budget"
        );
        c.record(4_000, 8);
        assert!(!c.allows(401, &limits, 9), "the total binds across days");
        assert!(c.allows(u64::MAX, &BudgetLimits::default(), 9));
    }

    #[test]
    fn counters_survive_lookups_by_id() {
        let ledger = BudgetLedger::default();
        ledger.counter("c1").record(10, 1);
        assert_eq!(ledger.counter("c1").spent_total(), 10);
        assert_eq!(ledger.counter("c2").spent_total(), 0);
    }

    #[test]
    fn concurrent_debits_are_all_counted() {
        let c = Arc::new(SpendCounter::default());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let c = Arc::clone(&c);
                std::thread::spawn(move || (0..10_000).for_each(|_| c.record(3, 42)))
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(c.spent_on(42), 120_000);
        assert_eq!(c.spent_total(), 120_000);
    }
}
