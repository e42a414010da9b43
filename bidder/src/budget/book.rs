//! One campaign's books in the budget service: the last ledger record seen, the
//! spend flush in flight, this process's leases, and the arithmetic that decides
//! what to flush, how big a slice to take and what to give back. No I/O here, so
//! every rule is tested directly.

use std::collections::BTreeMap;

use tern_engine::budget::{BudgetZone, PacingController};
use tern_engine::notice::BidOrigin;

use super::journal::{LeaseOwner, SpendDelta};
use super::ledger::{Flush, LeaseKey, LedgerItem, OwnFlush};

/// Seconds the consumption rate's average spans.
const RATE_WINDOW_S: f64 = 30.0;

/// One campaign's books (see the module).
#[derive(Debug)]
pub(super) struct Book {
    /// The campaign.
    pub(super) campaign_id: String,
    /// The record as last read or written.
    pub(super) view: LedgerItem,
    /// Whether `view` is known current (not after a call of unknown outcome).
    pub(super) fresh: bool,
    /// Spend sent in a flush whose outcome is unknown, resent alone until the
    /// ledger shows it applied.
    pub(super) in_flight: Option<SpendDelta>,
    /// This process's lease `seq` by key text, as its own last update left it: a
    /// different one in the ledger means another bidder reclaimed the lease.
    pub(super) seqs: BTreeMap<String, u64>,
    /// When this process's leases were last renewed.
    pub(super) renewed_s: u64,
    /// An earlier day's lease kept (its bids' holds) until this instant.
    pub(super) draining: Option<(u32, u64)>,
    /// Pacing of the daily budget.
    pub(super) pacing: PacingController,
    /// Micros per second this bidder commits (holds placed), averaged.
    pub(super) rate: f64,
    /// `held_ever` and the time at the last tick.
    pub(super) last_held: Option<(u64, u64)>,
    /// When the ledger last refused a slice for want of budget.
    pub(super) refused_s: Option<u64>,
    /// When this bidder last placed a hold on the campaign.
    pub(super) last_hold_s: u64,
}

impl Book {
    /// Books for `campaign_id` with nothing read yet.
    pub(super) fn new(campaign_id: String) -> Book {
        Book {
            campaign_id,
            view: LedgerItem::default(),
            fresh: false,
            in_flight: None,
            seqs: BTreeMap::new(),
            renewed_s: 0,
            draining: None,
            pacing: PacingController::default(),
            rate: 0.0,
            last_held: None,
            refused_s: None,
            last_hold_s: 0,
        }
    }

    /// Takes in the record returned by this process's own update.
    pub(super) fn applied(&mut self, item: LedgerItem, own: &[&LeaseKey]) {
        for key in own {
            if let Some(lease) = item.lease(key) {
                self.seqs.insert(key.to_string(), lease.seq);
            }
        }
        self.view = item;
        self.fresh = true;
    }

    /// Whether another bidder changed (reclaimed) this process's lease `key`
    /// since this process last did.
    pub(super) fn lost(&self, key: &LeaseKey) -> bool {
        let text = key.to_string();
        match (self.seqs.get(&text), self.view.leases.get(&text)) {
            (Some(mine), Some(lease)) => lease.seq != *mine,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }

    /// Updates the commit rate from the lease's `held_ever` at `now_s`.
    pub(super) fn measure(&mut self, held_ever: u64, now_s: u64) {
        if let Some((held, at)) = self.last_held
            && now_s > at
        {
            let elapsed = (now_s - at) as f64;
            let rate = held_ever.saturating_sub(held) as f64 / elapsed;
            let keep = (-elapsed / RATE_WINDOW_S).exp();
            self.rate = self.rate * keep + rate * (1.0 - keep);
            if held_ever > held {
                self.last_hold_s = now_s;
            }
        }
        self.last_held = Some((held_ever, now_s));
    }

    /// The flush of `delta` (spend of this campaign not yet in the ledger, from
    /// journal `journal`) by process `me`: own spend taken off its leases as far as they cover it,
    /// spend by others on its bids absorbed, the rest committed on top, and the
    /// leases in `renew` (and every own lease touched) renewed to `expires_s`.
    pub(super) fn plan_flush(
        &self,
        delta: Option<&SpendDelta>,
        journal: u64,
        me: BidOrigin,
        renew: &[LeaseKey],
        expires_s: u64,
    ) -> Flush {
        let key = |bidder, process, day| LeaseKey {
            bidder,
            process,
            date: BudgetZone::date(day),
        };
        let mut own: BTreeMap<LeaseKey, u64> = renew
            .iter()
            .filter(|k| self.view.lease(k).is_some())
            .map(|k| (k.clone(), 0))
            .collect();
        let mut flush = Flush {
            journal,
            position: delta.map_or(0, |d| d.last_position),
            ..Flush::default()
        };
        for (&(owner, day), &micros) in delta.iter().flat_map(|d| &d.by_owner) {
            match owner {
                LeaseOwner::Lease(bidder, process)
                    if bidder == me.bidder && process == me.process =>
                {
                    let lease = key(bidder, process, day);
                    if self.view.lease(&lease).is_some() {
                        *own.entry(lease).or_default() += micros;
                    } else {
                        flush.unattributed.push((lease.date, micros));
                    }
                }
                LeaseOwner::Lease(bidder, process) => {
                    flush.foreign.push((key(bidder, process, day), micros));
                }
                LeaseOwner::Unknown => flush.unattributed.push((BudgetZone::date(day), micros)),
            }
        }
        for (lease, spend) in own {
            let entry = self
                .view
                .lease(&lease)
                .expect("kept only leases in the view");
            let covered = spend.min(entry.reserved);
            let billed_elsewhere = self.view.foreign.get(&lease.to_string()).copied();
            let absorb = billed_elsewhere.unwrap_or(0).saturating_sub(entry.absorbed);
            let absorb_covered = absorb.min(entry.reserved - covered);
            flush.own.push(OwnFlush {
                seq: entry.seq,
                lease,
                spend,
                covered,
                absorb,
                absorb_covered,
                expires_s,
            });
        }
        flush
    }

    /// What is left to commit of the budgets on `date`: the smaller of the daily
    /// and the total budget's room (`None` when the campaign has neither).
    pub(super) fn room(&self, daily: Option<u64>, total: Option<u64>, date: &str) -> Option<u64> {
        let day = daily.map(|d| d.saturating_sub(self.view.day(date).committed));
        let all = total.map(|t| t.saturating_sub(self.view.total_committed));
        day.into_iter().chain(all).min()
    }

    /// Bidder processes holding an unlapsed lease on `date`, with this one.
    pub(super) fn live_bidders(&self, date: &str, me: &LeaseKey, now_s: u64) -> u64 {
        let others = self
            .view
            .leases
            .iter()
            .filter(|(key, lease)| {
                lease.expires_s > now_s
                    && key.ends_with(&format!("@{date}"))
                    && **key != me.to_string()
            })
            .count();
        others as u64 + 1
    }
}

/// What decides the size of the next slice, in micros of the campaign's currency.
#[derive(Debug, Clone, Copy)]
pub(super) struct SliceInput {
    /// This bidder's recent commit rate, micros per second.
    pub(super) rate: f64,
    /// Seconds of that rate a slice covers.
    pub(super) slice_s: u64,
    /// The smallest useful slice: a few impressions at the campaign's highest price.
    pub(super) min: u64,
    /// What the fleet may still commit.
    pub(super) room: u64,
    /// Bidder processes sharing it.
    pub(super) bidders: u64,
}

/// The next slice: `slice_s` seconds of this bidder's rate (its whole share
/// while it has no rate yet), but no more than its share of half the room left
/// (so small or nearly spent budgets are not locked up in one bidder's slice),
/// never below `min` while the room allows it, and never past the room. Slice
/// size moves no money past a budget (every slice is a reservation the ledger
/// granted); it decides how evenly the room is spread and how much a dead
/// bidder locks up until its lease is reclaimed.
pub(super) fn slice_size(input: SliceInput) -> u64 {
    let share = (input.room / (2 * input.bidders.max(1))).max(input.min);
    let wanted = if input.rate > 0.0 {
        ((input.rate * input.slice_s as f64) as u64).max(input.min)
    } else {
        share
    };
    wanted.min(share).min(input.room)
}

/// Whether a lease should give back its `balance` while the fleet has no room
/// left: when it cannot pay for one more impression (`smallest`, at the
/// campaign's highest price), or this bidder has not bid for `idle_s` (another
/// bidder with traffic can use it).
pub(super) fn should_give_back(balance: i64, smallest: u64, idle_s: u64) -> bool {
    balance > 0 && (balance < smallest as i64 || idle_s >= IDLE_S)
}

/// Seconds without a bid after which a lease is idle.
const IDLE_S: u64 = 5;

/// Whether a lease with `balance` left should take `slice` more now: when less
/// than half a slice is left (so the next arrives before this one runs out).
pub(super) fn needs_slice(balance: i64, slice: u64) -> bool {
    slice > 0 && balance < (slice / 2) as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budget::ledger::{DayFigures, Lease};

    const ME: BidOrigin = BidOrigin {
        bidder: 0xaa,
        process: 1,
    };
    const DAY: u32 = 20_787;

    fn lease_key(process: u32, day: u32) -> LeaseKey {
        LeaseKey {
            bidder: 0xaa,
            process,
            date: BudgetZone::date(day),
        }
    }

    fn book_with(reserved: u64, foreign: u64, absorbed: u64) -> Book {
        let mut book = Book::new("c1".to_owned());
        let key = lease_key(1, DAY);
        book.view.leases.insert(
            key.to_string(),
            Lease {
                bidder_id: "b".to_owned(),
                reserved,
                absorbed,
                seq: 4,
                expires_s: 100,
            },
        );
        if foreign > 0 {
            book.view.foreign.insert(key.to_string(), foreign);
        }
        book
    }

    fn delta(entries: &[(LeaseOwner, u32, u64)]) -> SpendDelta {
        SpendDelta {
            by_owner: entries.iter().map(|(o, d, m)| ((*o, *d), *m)).collect(),
            first_position: 1,
            last_position: 9,
        }
    }

    #[test]
    fn own_spend_is_covered_by_the_lease_as_far_as_it_goes() {
        let book = book_with(500, 0, 0);
        let d = delta(&[(LeaseOwner::Lease(0xaa, 1), DAY, 800)]);
        let flush = book.plan_flush(Some(&d), 0x10, ME, &[], 200);
        assert_eq!(flush.position, 9);
        let own = &flush.own[0];
        assert_eq!(
            (own.spend, own.covered, own.seq, own.expires_s),
            (800, 500, 4, 200)
        );
    }

    #[test]
    fn others_spend_is_theirs_and_unknown_or_unleased_spend_is_nobodys() {
        let book = book_with(500, 0, 0);
        let d = delta(&[
            (LeaseOwner::Lease(0xbb, 3), DAY, 70),
            (LeaseOwner::Unknown, DAY, 5),
            (LeaseOwner::Lease(0xaa, 1), DAY - 1, 9), // a day this process holds no lease for
        ]);
        let flush = book.plan_flush(Some(&d), 0x10, ME, &[], 200);
        let theirs = LeaseKey {
            bidder: 0xbb,
            ..lease_key(3, DAY)
        };
        assert_eq!(flush.foreign, [(theirs, 70)]);
        assert_eq!(flush.unattributed.len(), 2);
        assert!(flush.own.is_empty());
    }

    #[test]
    fn spend_by_others_on_our_bids_is_absorbed_once() {
        let book = book_with(500, 300, 100);
        let flush = book.plan_flush(None, 0x10, ME, &[lease_key(1, DAY)], 200);
        assert_eq!(flush.position, 0, "no spend of its own");
        let own = &flush.own[0];
        assert_eq!((own.absorb, own.absorb_covered), (200, 200));
        // Never more than the lease still reserves.
        let thin = book_with(50, 300, 100);
        let own = thin
            .plan_flush(None, 0x10, ME, &[lease_key(1, DAY)], 200)
            .own[0]
            .clone();
        assert_eq!((own.absorb, own.absorb_covered), (200, 50));
    }

    #[test]
    fn slices_follow_the_rate_but_never_hog_or_overrun_the_room() {
        let input = SliceInput {
            rate: 1_000.0,
            slice_s: 10,
            min: 50,
            room: 1_000_000,
            bidders: 4,
        };
        assert_eq!(slice_size(input), 10_000, "ten seconds of spend");
        let slow = SliceInput { rate: 1.0, ..input };
        assert_eq!(slice_size(slow), 50, "at least a few impressions");
        let unknown = SliceInput { rate: 0.0, ..input };
        assert_eq!(slice_size(unknown), 125_000, "no rate yet: its whole share");
        let nearly_spent = SliceInput {
            room: 40_000,
            ..input
        };
        assert_eq!(
            slice_size(nearly_spent),
            5_000,
            "an eighth: half the room over four"
        );
        let crumbs = SliceInput { room: 30, ..input };
        assert_eq!(
            slice_size(crumbs),
            30,
            "what is left, even below the minimum"
        );
        assert_eq!(slice_size(SliceInput { room: 0, ..input }), 0);
        assert!(
            should_give_back(1_999, 2_000, 0),
            "a crumb that buys nothing"
        );
        assert!(should_give_back(9_000, 2_000, 5), "idle");
        assert!(!should_give_back(9_000, 2_000, 4));
        assert!(!should_give_back(0, 2_000, 60), "nothing to give");
        assert!(needs_slice(4_999, 10_000));
        assert!(!needs_slice(5_000, 10_000));
        assert!(!needs_slice(-1, 0), "nothing to take");
    }

    #[test]
    fn room_is_the_tighter_budget_and_bidders_count_live_leases() {
        let mut book = book_with(0, 0, 0);
        let date = BudgetZone::date(DAY);
        book.view.days.insert(
            date.clone(),
            DayFigures {
                spent: 0,
                committed: 700,
            },
        );
        book.view.total_committed = 9_500;
        assert_eq!(book.room(Some(1_000), Some(10_000), &date), Some(300));
        assert_eq!(book.room(Some(1_000), Some(9_800), &date), Some(300));
        assert_eq!(book.room(None, Some(9_600), &date), Some(100));
        assert_eq!(book.room(None, None, &date), None);
        let me = lease_key(1, DAY);
        assert_eq!(book.live_bidders(&date, &me, 50), 1, "only this one");
        book.view.leases.insert(
            lease_key(2, DAY).to_string(),
            Lease {
                expires_s: 60,
                ..Lease::default()
            },
        );
        assert_eq!(book.live_bidders(&date, &me, 50), 2);
        assert_eq!(book.live_bidders(&date, &me, 61), 1, "lapsed");
    }

    #[test]
    fn a_changed_seq_means_the_lease_was_lost() {
        let mut book = book_with(500, 0, 0);
        let key = lease_key(1, DAY);
        assert!(!book.lost(&key), "never updated by this process");
        let item = book.view.clone();
        book.applied(item, &[&key]);
        assert!(!book.lost(&key));
        book.view.leases.get_mut(&key.to_string()).unwrap().seq += 1;
        assert!(book.lost(&key));
    }
}
