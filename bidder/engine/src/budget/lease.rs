//! One campaign's budget as one bidder sees it: the part of the fleet's budget it
//! holds (its lease), what bids in flight hold of it, and the pacing throttle.
//!
//! The bidder's budget service grants this bidder slices of a campaign's budget
//! from the fleet's spend ledger; the decision spends only from them. The
//! **balance** is what is left to commit: the slices granted for the lease's budget
//! day, minus the holds of bids in flight, minus spend their holds did not cover.
//! A bid is made only when the balance covers what it would cost, and the bid
//! **holds** that much until its billing notice converts the hold into spend at the
//! clearing price, or until the hold times out (the bid lost, or its notice never
//! came). Holds are kept per time bucket in a small ring, so placing and releasing
//! one is a few atomic operations, with no record per bid: the notice names the
//! bucket (its issue time) and the amount held.
//!
//! A lease is usable until a deadline the service sets: the end of its budget day,
//! or sooner when the service could not renew it (a bidder cut off from the ledger
//! stops spending before the rest of the fleet may reclaim its lease).

use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, Ordering::Relaxed};

/// Hold buckets in the ring. A hold lives at most `HOLD_SLOTS - 1` buckets, so a
/// bucket is never reused while a hold in it may be live.
pub const HOLD_SLOTS: u64 = 16;
/// Bits of a slot word holding the amount; the rest hold the bucket's number.
const AMOUNT_BITS: u32 = 44;
const AMOUNT_MASK: u64 = (1 << AMOUNT_BITS) - 1;
/// Bucket numbers are kept modulo 2^20 (at least 12 days of buckets).
const TAG_MASK: u64 = (1 << (64 - AMOUNT_BITS)) - 1;
/// Bucket widths divide 15 minutes, so no bucket straddles a local midnight of
/// any time zone in use (every offset is a multiple of 15 minutes).
const BUCKET_WIDTHS_S: [u64; 19] = [
    1, 2, 3, 4, 5, 6, 9, 10, 12, 15, 18, 20, 30, 36, 45, 60, 90, 180, 900,
];

/// The throttle value that lets every bid through.
const ALWAYS: u32 = u32::MAX;

/// What settling a billing notice for one of this process's bids did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// Its hold was live: released, and the clearing price spent in its place.
    Converted,
    /// Its hold had timed out: the clearing price was spent from the balance.
    Late,
    /// The bid was made on an earlier budget day than the lease's: the lease is
    /// untouched (the service books the spend on that day).
    OtherDay,
}

/// One campaign's lease, holds and throttle in this bidder (see the module).
/// Shared by every snapshot and every core; all lock-free.
#[derive(Debug)]
pub struct CampaignBudget {
    /// Micros left to commit; negative after spend beyond the lease.
    balance: AtomicI64,
    /// The lease may be used before this instant, seconds since the epoch.
    usable_until_s: AtomicU64,
    /// Probability of letting a bid through, in units of 2^-32 (`ALWAYS`: all).
    throttle: AtomicU32,
    /// The budget day the balance belongs to (days since 1970-01-01, local).
    lease_day: AtomicU32,
    /// Micros held by live holds.
    held: AtomicU64,
    /// Micros ever held (only grows): the service measures spend rates by it.
    held_ever: AtomicU64,
    /// Hold buckets: `(bucket number << AMOUNT_BITS) | micros held`.
    holds: [AtomicU64; HOLD_SLOTS as usize],
    /// Seconds one bucket covers.
    bucket_s: u64,
    /// Buckets a hold lives: a hold placed in bucket `b` expires once the current
    /// bucket is `b + live_buckets` or later.
    live_buckets: u64,
}

impl Default for CampaignBudget {
    /// An empty lease with the default hold timeout.
    fn default() -> Self {
        CampaignBudget::new(super::DEFAULT_HOLD_TIMEOUT_S)
    }
}

impl CampaignBudget {
    /// An empty lease (nothing may be spent until the service grants a slice) whose
    /// holds live at least `hold_timeout_s` and less than two buckets longer.
    pub fn new(hold_timeout_s: u64) -> CampaignBudget {
        let timeout = hold_timeout_s.max(1);
        let bucket_s = BUCKET_WIDTHS_S
            .iter()
            .copied()
            .find(|w| w * (HOLD_SLOTS - 2) >= timeout)
            .unwrap_or(900);
        CampaignBudget {
            balance: AtomicI64::new(0),
            usable_until_s: AtomicU64::new(0),
            throttle: AtomicU32::new(ALWAYS),
            lease_day: AtomicU32::new(0),
            held: AtomicU64::new(0),
            held_ever: AtomicU64::new(0),
            holds: Default::default(),
            bucket_s,
            // One more than the timeout spans: a hold placed late in its bucket
            // still lives the whole timeout.
            live_buckets: timeout.div_ceil(bucket_s) + 1,
        }
    }

    /// Seconds one hold bucket covers: holds live from the hold timeout to less
    /// than two buckets more.
    pub fn bucket_s(&self) -> u64 {
        self.bucket_s
    }

    /// Whether the lease can pay `cost_micros` more at `now_s`.
    #[inline]
    pub fn can_spend(&self, cost_micros: u64, now_s: u64) -> bool {
        now_s < self.usable_until_s.load(Relaxed)
            && self.balance.load(Relaxed) >= cost_micros.min(i64::MAX as u64) as i64
    }

    /// Whether pacing lets this bid through, drawing from the caller's generator
    /// only when the campaign is throttled.
    #[inline]
    pub fn admits(&self, rng: &mut fastrand::Rng) -> bool {
        let throttle = self.throttle.load(Relaxed);
        throttle == ALWAYS || rng.u32(..) < throttle
    }

    /// Places a hold of `cost_micros` made at `now_s` if the lease still covers it
    /// (another core may have spent it since [`CampaignBudget::can_spend`]).
    pub fn try_hold(&self, cost_micros: u64, now_s: u64) -> bool {
        if cost_micros > AMOUNT_MASK || now_s >= self.usable_until_s.load(Relaxed) {
            return false;
        }
        let cost = cost_micros as i64;
        let took = self
            .balance
            .fetch_update(Relaxed, Relaxed, |b| (b >= cost).then_some(b - cost));
        if took.is_err() {
            return false;
        }
        self.held.fetch_add(cost_micros, Relaxed);
        self.held_ever.fetch_add(cost_micros, Relaxed);
        let bucket = now_s / self.bucket_s;
        let slot = &self.holds[(bucket % HOLD_SLOTS) as usize];
        let tag = bucket & TAG_MASK;
        let mut word = slot.load(Relaxed);
        loop {
            let (new, stale) = if word >> AMOUNT_BITS == tag {
                let amount = ((word & AMOUNT_MASK) + cost_micros).min(AMOUNT_MASK);
                ((tag << AMOUNT_BITS) | amount, 0)
            } else {
                // A bucket from a ring ago the sweep has not reached: its holds
                // have timed out.
                ((tag << AMOUNT_BITS) | cost_micros, word & AMOUNT_MASK)
            };
            match slot.compare_exchange_weak(word, new, Relaxed, Relaxed) {
                Ok(_) => {
                    self.release_to_balance(stale);
                    return true;
                }
                Err(current) => word = current,
            }
        }
    }

    /// Settles the billing notice of a bid this process made at `issued_at_s`
    /// (budget day `bid_day`) holding `held_micros`, billed `cost_micros`.
    pub fn settle(
        &self,
        issued_at_s: u64,
        bid_day: u32,
        held_micros: u64,
        cost_micros: u64,
    ) -> Settled {
        if bid_day != self.lease_day.load(Relaxed) {
            return Settled::OtherDay;
        }
        let bucket = issued_at_s / self.bucket_s;
        let slot = &self.holds[(bucket % HOLD_SLOTS) as usize];
        let tag = bucket & TAG_MASK;
        let taken = slot.fetch_update(Relaxed, Relaxed, |word| {
            (word >> AMOUNT_BITS == tag && word & AMOUNT_MASK > 0)
                .then(|| word - (word & AMOUNT_MASK).min(held_micros))
        });
        let cost = cost_micros.min(i64::MAX as u64) as i64;
        match taken {
            Ok(word) => {
                let released = (word & AMOUNT_MASK).min(held_micros);
                self.held.fetch_sub(released, Relaxed);
                self.balance.fetch_add(released as i64 - cost, Relaxed);
                Settled::Converted
            }
            Err(_) => {
                self.balance.fetch_sub(cost, Relaxed);
                Settled::Late
            }
        }
    }

    /// Releases a hold of `held_micros` placed at `issued_at_s` by this process
    /// for a bid that was never sent.
    pub fn cancel_hold(&self, issued_at_s: u64, held_micros: u64) {
        self.settle(issued_at_s, self.lease_day.load(Relaxed), held_micros, 0);
    }

    /// Releases the holds that have timed out at `now_s`; returns the micros freed.
    pub fn expire(&self, now_s: u64) -> u64 {
        let current = now_s / self.bucket_s;
        let mut freed = 0;
        for slot in &self.holds {
            let taken = slot.fetch_update(Relaxed, Relaxed, |word| {
                let age = current.wrapping_sub(word >> AMOUNT_BITS) & TAG_MASK;
                (word & AMOUNT_MASK > 0 && age >= self.live_buckets).then_some(word & !AMOUNT_MASK)
            });
            if let Ok(word) = taken {
                let amount = word & AMOUNT_MASK;
                self.release_to_balance(amount);
                freed += amount;
            }
        }
        freed
    }

    fn release_to_balance(&self, micros: u64) {
        if micros > 0 {
            self.held.fetch_sub(micros, Relaxed);
            self.balance.fetch_add(micros as i64, Relaxed);
        }
    }

    /// Adds a slice of `micros` granted for budget day `day`, usable before
    /// `usable_until_s`.
    pub fn grant(&self, micros: u64, day: u32, usable_until_s: u64) {
        self.lease_day.store(day, Relaxed);
        self.balance
            .fetch_add(micros.min(i64::MAX as u64) as i64, Relaxed);
        self.usable_until_s.store(usable_until_s, Relaxed);
    }

    /// Spends `micros` from the balance without a hold to convert: spend by other
    /// bidders on this bidder's bids, as the ledger reports it.
    pub fn charge(&self, micros: u64) {
        self.balance
            .fetch_sub(micros.min(i64::MAX as u64) as i64, Relaxed);
    }

    /// Takes back whatever the balance has free (nothing when it is negative), to
    /// return it to the ledger; returns the micros taken.
    pub fn withdraw(&self) -> u64 {
        self.balance
            .fetch_update(Relaxed, Relaxed, |b| (b > 0).then_some(0))
            .map_or(0, |b| b as u64)
    }

    /// Starts budget day `day` afresh: no balance, no holds (the service keeps the
    /// earlier day's holds reserved in the ledger until they time out), unusable
    /// until a grant. Returns what the balance had free.
    pub fn start_day(&self, day: u32) -> u64 {
        self.usable_until_s.store(0, Relaxed);
        self.lease_day.store(day, Relaxed);
        for slot in &self.holds {
            slot.store(0, Relaxed);
        }
        self.held.store(0, Relaxed);
        let free = self.balance.swap(0, Relaxed);
        free.max(0) as u64
    }

    /// Stops spending from the lease before `usable_until_s` (0: at once).
    pub fn set_usable_until(&self, usable_until_s: u64) {
        self.usable_until_s.store(usable_until_s, Relaxed);
    }

    /// Sets the share of bids pacing lets through (clamped to 0..=1).
    pub fn set_throttle(&self, share: f64) {
        let throttle = if share >= 1.0 {
            ALWAYS
        } else {
            (share.max(0.0) * 4_294_967_296.0) as u32
        };
        self.throttle.store(throttle, Relaxed);
    }

    /// The share of bids pacing lets through, 0 to 1.
    pub fn throttle(&self) -> f64 {
        match self.throttle.load(Relaxed) {
            ALWAYS => 1.0,
            t => f64::from(t) / 4_294_967_296.0,
        }
    }

    /// Micros left to commit (negative after spend beyond the lease).
    pub fn balance(&self) -> i64 {
        self.balance.load(Relaxed)
    }

    /// Micros held by bids in flight.
    pub fn held(&self) -> u64 {
        self.held.load(Relaxed)
    }

    /// Micros ever held by bids (only grows).
    pub fn held_ever(&self) -> u64 {
        self.held_ever.load(Relaxed)
    }

    /// The budget day of the balance.
    pub fn lease_day(&self) -> u32 {
        self.lease_day.load(Relaxed)
    }

    /// When the lease stops being usable, seconds since the epoch.
    pub fn usable_until_s(&self) -> u64 {
        self.usable_until_s.load(Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    const NOW: u64 = 1_796_000_000;
    const DAY: u32 = 20_787;

    fn leased(micros: u64) -> CampaignBudget {
        let b = CampaignBudget::new(120);
        b.grant(micros, DAY, NOW + 3_600);
        b
    }

    #[test]
    fn nothing_is_spent_without_a_lease_nor_after_it_lapses() {
        let b = CampaignBudget::new(120);
        assert!(!b.can_spend(1, NOW));
        assert!(!b.try_hold(1, NOW));
        b.grant(1_000, DAY, NOW + 10);
        assert!(b.can_spend(1_000, NOW));
        assert!(!b.can_spend(1_001, NOW));
        assert!(!b.can_spend(1, NOW + 10), "lapsed");
        assert!(!b.try_hold(1, NOW + 10));
    }

    #[test]
    fn holds_take_from_the_balance_and_never_past_it() {
        let b = leased(1_000);
        assert!(b.try_hold(600, NOW));
        assert!(!b.try_hold(401, NOW));
        assert!(b.try_hold(400, NOW));
        assert_eq!((b.balance(), b.held()), (0, 1_000));
    }

    #[test]
    fn a_notice_converts_its_hold_at_the_clearing_price() {
        let b = leased(1_000);
        assert!(b.try_hold(600, NOW));
        assert_eq!(b.settle(NOW, DAY, 600, 250), Settled::Converted);
        assert_eq!((b.balance(), b.held()), (750, 0));
        // A duplicate finds nothing left to convert and would spend again: the
        // caller counts each notice once (`NoticeDedup`) before settling.
        assert_eq!(b.settle(NOW, DAY, 600, 250), Settled::Late);
        assert_eq!(b.balance(), 500);
    }

    #[test]
    fn holds_time_out_between_the_timeout_and_two_buckets_more() {
        let b = leased(1_000);
        let width = b.bucket_s();
        assert_eq!(
            width, 9,
            "120 s over 14 buckets, rounded to a divisor of 15 min"
        );
        let start = NOW - NOW % width; // the start of a bucket
        // Placed at the end of its bucket: still live a whole timeout later.
        assert!(b.try_hold(300, start + width - 1));
        assert_eq!(
            b.expire(start + width - 1 + 120),
            0,
            "not before the timeout"
        );
        assert_eq!(
            b.expire(start + 120 + 2 * width),
            300,
            "within two buckets after"
        );
        let placed = start;
        assert_eq!((b.balance(), b.held()), (1_000, 0));
        // A notice after its hold expired spends without anything to convert.
        assert_eq!(b.settle(placed, DAY, 300, 100), Settled::Late);
        assert_eq!(b.balance(), 900);
    }

    #[test]
    fn a_bucket_reused_a_ring_later_frees_what_it_held() {
        let b = leased(1_000);
        assert!(b.try_hold(300, NOW));
        // Same slot, HOLD_SLOTS buckets later, without a sweep in between.
        let later = NOW + HOLD_SLOTS * b.bucket_s();
        assert!(b.try_hold(100, later));
        assert_eq!((b.balance(), b.held()), (900, 100));
    }

    #[test]
    fn a_notice_for_an_earlier_day_leaves_the_lease_alone() {
        let b = leased(1_000);
        assert!(b.try_hold(300, NOW));
        assert_eq!(b.start_day(DAY + 1), 700);
        assert_eq!((b.balance(), b.held()), (0, 0));
        b.grant(500, DAY + 1, NOW + 3_600);
        assert_eq!(b.settle(NOW, DAY, 300, 200), Settled::OtherDay);
        assert_eq!(b.balance(), 500);
    }

    #[test]
    fn withdraw_takes_only_what_is_free() {
        let b = leased(1_000);
        assert!(b.try_hold(300, NOW));
        assert_eq!(b.withdraw(), 700);
        assert_eq!(b.withdraw(), 0);
        b.charge(50);
        assert_eq!(
            b.withdraw(),
            0,
            "a negative balance has nothing to give back"
        );
        assert_eq!(b.balance(), -50);
    }

    #[test]
    fn the_throttle_lets_through_about_its_share() {
        let b = leased(1_000);
        let mut rng = fastrand::Rng::with_seed(7);
        assert!((0..1_000).all(|_| b.admits(&mut rng)));
        b.set_throttle(0.25);
        let through = (0..100_000).filter(|_| b.admits(&mut rng)).count();
        assert!((24_000..26_000).contains(&through), "{through}");
        b.set_throttle(0.0);
        assert!((0..1_000).all(|_| !b.admits(&mut rng)));
        b.set_throttle(2.0);
        assert_eq!(b.throttle(), 1.0);
    }

    #[test]
    fn concurrent_holds_never_overdraw() {
        let b = Arc::new(leased(100_000));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let b = Arc::clone(&b);
                std::thread::spawn(move || (0..50_000).filter(|_| b.try_hold(3, NOW)).count())
            })
            .collect();
        let placed: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
        assert_eq!(
            placed, 33_333,
            "every micro that fits three at a time, no more"
        );
        assert_eq!(b.balance(), 1);
        assert_eq!(b.held(), 99_999);
    }
}
