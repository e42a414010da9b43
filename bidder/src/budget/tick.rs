//! One campaign's settlement with the ledger, once per `budget.flush_interval_ms`:
//! 1. read the record again if the last call's outcome is unknown;
//! 2. start a new budget day (give back what the old day's lease holds free, keep
//!    the rest until its bids' holds time out), and time out holds;
//! 3. flush spend from the journal, absorb spend others billed for this
//!    process's bids, renew its leases;
//! 4. take a slice before the lease runs low, or give back what it will not use;
//! 5. reclaim one lapsed lease of a dead bidder;
//! 6. pace, send alerts due, and report.

use tern_engine::budget::{BudgetZone, Budgets, Pacing, PacingInput, TrafficProfile};
use tern_engine::snapshot::{CompiledCampaign, Snapshot};

use super::alerts::{self, AlertSink};
use super::book::{Book, SliceInput, needs_slice, should_give_back, slice_size};
use super::ledger::{AnyLedger, LeaseKey, Ledger, LedgerError, Update, bidder_key};
use super::{BudgetService, CampaignBudgetStatus, SyncOp};

/// Seconds after a refused slice during which an idle lease is given back.
const IDLE_RETURN_WINDOW_S: u64 = 10;
/// Impressions at the campaign's highest price the smallest slice pays for.
const MIN_SLICE_IMPRESSIONS: u64 = 4;

/// What every campaign's tick shares.
pub(super) struct Tick<'a> {
    pub(super) service: &'a BudgetService,
    pub(super) ledger: &'a AnyLedger,
    pub(super) alerts: &'a AlertSink,
    pub(super) snapshot: &'a Snapshot,
    pub(super) budgets: &'a Budgets,
    pub(super) profile: &'a TrafficProfile,
    pub(super) now_s: u64,
    /// The bidder is stopping: flush, give back, take nothing.
    pub(super) stopping: bool,
}

impl Tick<'_> {
    fn key(&self, day: u32) -> LeaseKey {
        LeaseKey {
            bidder: self.service.origin.bidder,
            process: self.service.origin.process,
            date: BudgetZone::date(day),
        }
    }

    fn ttl_s(&self) -> u64 {
        self.service.config.lease_ttl_s
    }

    /// Applies `update`, taking in the record on success; on failure counts it
    /// under `op` and marks the view for a fresh read. Returns whether it applied.
    async fn apply(&self, book: &mut Book, update: &Update, own: &[&LeaseKey], op: SyncOp) -> bool {
        match self.ledger.apply(&book.campaign_id, update).await {
            Ok(item) => {
                book.applied(item, own);
                true
            }
            Err(LedgerError::Conflict) => {
                book.fresh = false;
                false
            }
            Err(LedgerError::Unavailable(e)) => {
                self.service.count_error(op);
                tracing::warn!(campaign = %book.campaign_id, op = op.as_str(), error = %e, "spend ledger call failed");
                book.fresh = false;
                false
            }
        }
    }
}

/// Settles one campaign (see the module); returns its status when it has a budget.
pub(super) async fn tick(ctx: &Tick<'_>, book: &mut Book) -> Option<CampaignBudgetStatus> {
    let now = ctx.now_s;
    let campaign = ctx.snapshot.campaign(&book.campaign_id);
    let limited = campaign.filter(|c| c.budget.is_limited());
    let bidding = limited.filter(|c| ctx.snapshot.is_active(&c.id) && !ctx.stopping);
    let lease = ctx.budgets.lease(&book.campaign_id);
    let zone = campaign.map(|c| c.budget.zone.clone()).unwrap_or_default();
    let today = zone.day_of(now);
    let today_key = ctx.key(today);

    if !book.fresh {
        match ctx.ledger.read(&book.campaign_id).await {
            Ok(item) => {
                book.view = item;
                book.fresh = true;
            }
            Err(e) => {
                ctx.service.count_error(SyncOp::Flush);
                tracing::warn!(campaign = %book.campaign_id, error = %e, "cannot read the spend ledger");
                return limited.map(|c| status(book, c, &lease, today));
            }
        }
    }
    if book.lost(&today_key) {
        tracing::warn!(campaign = %book.campaign_id, "this bidder's lease was reclaimed while it was cut off; starting afresh");
        lease.start_day(today);
        book.seqs.remove(&today_key.to_string());
    }

    // 2. A new budget day, and holds that timed out.
    let lease_day = lease.lease_day();
    if lease_day != 0 && lease_day != today {
        let free = lease.start_day(today);
        give_back(ctx, book, &ctx.key(lease_day), free).await;
        let holds_end =
            zone.day_start(today) + ctx.service.config.hold_timeout_s + 2 * lease.bucket_s();
        book.draining = Some((lease_day, holds_end));
    }
    lease.expire(now);
    book.measure(lease.held_ever(), now);

    // 3. Spend, absorption and renewal.
    if bidding.is_some() && book.view.lease(&today_key).is_none() {
        open(ctx, book, &today_key).await;
    }
    flush(ctx, book, today).await;

    // 4. Slices in and out.
    // A lease may serve new bids only while every hold it places would time out
    // before the lease could lapse and be reclaimed by others.
    let flush_s = ctx.service.config.flush_interval_ms.div_ceil(1_000);
    let until = zone.day_end(today).min(
        (book.renewed_s + ctx.ttl_s()).saturating_sub(ctx.service.config.hold_timeout_s + flush_s),
    );
    let mut exhausted = false;
    match bidding {
        Some(c) if book.view.lease(&today_key).is_some() => {
            lease.set_usable_until(until);
            exhausted = refill(ctx, book, c, &lease, today, until).await;
        }
        _ => {
            lease.set_usable_until(0);
            let free = lease.withdraw();
            give_back(ctx, book, &today_key, free).await;
        }
    }
    if let Some((day, holds_end)) = book.draining
        && now >= holds_end
    {
        let old = ctx.key(day);
        let left = book.view.lease(&old).map_or(0, |l| l.reserved);
        if left == 0 || give_back(ctx, book, &old, left).await {
            book.draining = None;
        }
    }

    // 5. One lapsed lease of another bidder process.
    reclaim_one(ctx, book).await;

    // 6. Pacing, alerts, status.
    let c = limited?;
    let throttle = match (bidding, c.budget.pacing, c.budget.daily) {
        (Some(_), Pacing::Even, Some(daily)) => book.pacing.update(&PacingInput {
            now_s: now,
            day_end_s: zone.day_end(today),
            daily_budget: daily,
            spent_today: book.view.day(&today_key.date).spent,
            traffic: ctx.profile,
        }),
        _ => 1.0,
    };
    lease.set_throttle(throttle);
    send_alerts(ctx, book, c, &today_key.date).await;
    let mut report = status(book, c, &lease, today);
    report.exhausted = exhausted;
    Some(report)
}

/// Creates the record's maps, `key`'s day and the lease.
async fn open(ctx: &Tick<'_>, book: &mut Book, key: &LeaseKey) -> bool {
    let update = Update::Open {
        lease: key.clone(),
        bidder_id: ctx.service.bidder_id.clone(),
    };
    ctx.apply(book, &update, &[key], SyncOp::Flush).await
}

/// Flushes pending spend (resending a flush of unknown outcome alone first),
/// absorbs others' spend on this process's bids and renews its leases.
async fn flush(ctx: &Tick<'_>, book: &mut Book, today: u32) {
    let me = ctx.service.origin;
    let flushed = book
        .view
        .flushed
        .get(&bidder_key(ctx.service.journal_id))
        .copied();
    if let Some(sent) = &book.in_flight
        && flushed.is_some_and(|p| p >= sent.last_position)
    {
        book.in_flight = None;
    }
    let delta = match book.in_flight.take() {
        Some(resend) => Some(resend),
        None => ctx.service.journal.take(&book.campaign_id),
    };
    // Spend lands on its budget day's figures, which must exist.
    let days: Vec<u32> = delta
        .iter()
        .flat_map(|d| d.by_owner.keys().map(|(_, day)| *day))
        .collect();
    for day in days {
        if !book.view.days.contains_key(&BudgetZone::date(day))
            && !open(ctx, book, &ctx.key(day)).await
        {
            book.in_flight = delta;
            return;
        }
    }
    let mut renew: Vec<LeaseKey> = vec![ctx.key(today)];
    if let Some((day, _)) = book.draining {
        renew.push(ctx.key(day));
    }
    renew.retain(|k| book.view.lease(k).is_some());
    let absorb_due = renew.iter().any(|k| {
        let billed = book.view.foreign.get(&k.to_string()).copied().unwrap_or(0);
        billed > book.view.lease(k).map_or(0, |l| l.absorbed)
    });
    let renewal_due = !renew.is_empty() && ctx.now_s >= book.renewed_s + ctx.ttl_s() / 4;
    if delta.is_none() && !absorb_due && !renewal_due {
        return;
    }
    let expires_s = ctx.now_s + ctx.ttl_s();
    let plan = book.plan_flush(
        delta.as_ref(),
        ctx.service.journal_id,
        me,
        &renew,
        expires_s,
    );
    book.in_flight = delta;
    let own: Vec<LeaseKey> = plan.own.iter().map(|o| o.lease.clone()).collect();
    let own_refs: Vec<&LeaseKey> = own.iter().collect();
    let applied = ctx
        .apply(book, &Update::Flush(plan.clone()), &own_refs, SyncOp::Flush)
        .await;
    if !applied {
        return;
    }
    book.in_flight = None;
    if !plan.own.is_empty() {
        book.renewed_s = ctx.now_s;
    }
    let lease = ctx.budgets.lease(&book.campaign_id);
    for o in &plan.own {
        // Others billed these bids: the money is spent, though their holds here
        // stay until they time out.
        if o.absorb > 0 && o.lease.date == BudgetZone::date(lease.lease_day()) {
            lease.charge(o.absorb);
        }
    }
}

/// Takes a slice when the lease runs low; gives back an idle lease, or one too
/// small for an impression, when the fleet is out of budget (so a bidder with
/// traffic can use it). Returns whether the room left is too small for an
/// impression: the budget is spent, but for what bids in flight hold.
async fn refill(
    ctx: &Tick<'_>,
    book: &mut Book,
    c: &CompiledCampaign,
    lease: &tern_engine::budget::CampaignBudget,
    today: u32,
    until: u64,
) -> bool {
    let key = ctx.key(today);
    let room = book
        .room(c.budget.daily, c.budget.total, &key.date)
        .unwrap_or(0);
    // What one impression can cost at most: less room than that buys nothing.
    let impression = c.max_cpm.div_ceil(1_000);
    let slice = slice_size(SliceInput {
        rate: book.rate,
        slice_s: ctx.service.config.slice_s,
        min: impression * MIN_SLICE_IMPRESSIONS,
        room,
        bidders: book.live_bidders(&key.date, &key, ctx.now_s),
    });
    if room < impression {
        book.refused_s = Some(ctx.now_s);
    } else if needs_slice(lease.balance(), slice) {
        let seq = book.view.lease(&key).map_or(0, |l| l.seq);
        let grant = Update::Grant {
            lease: key.clone(),
            seq,
            slice,
            total_limit: c.budget.total,
            daily_limit: c.budget.daily,
            expires_s: ctx.now_s + ctx.ttl_s(),
        };
        if ctx.apply(book, &grant, &[&key], SyncOp::Lease).await {
            book.renewed_s = ctx.now_s;
            lease.grant(slice, today, until.max(ctx.now_s + 1));
            book.refused_s = None;
        } else {
            book.refused_s = Some(ctx.now_s);
        }
    }
    let refused_lately = book
        .refused_s
        .is_some_and(|at| ctx.now_s <= at + IDLE_RETURN_WINDOW_S);
    let idle_s = ctx.now_s.saturating_sub(book.last_hold_s);
    if refused_lately && should_give_back(lease.balance(), impression, idle_s) {
        let free = lease.withdraw();
        give_back(ctx, book, &key, free).await;
    }
    room < impression
}

/// Gives `amount` of lease `key` back (no more than it reserves). Returns
/// whether the ledger took it; what it did not take stays reserved until the
/// lease lapses.
async fn give_back(ctx: &Tick<'_>, book: &mut Book, key: &LeaseKey, amount: u64) -> bool {
    let Some(entry) = book.view.lease(key) else {
        return amount == 0;
    };
    let amount = amount.min(entry.reserved);
    if amount == 0 {
        return true;
    }
    let update = Update::Return {
        lease: key.clone(),
        seq: entry.seq,
        amount,
    };
    ctx.apply(book, &update, &[key], SyncOp::Release).await
}

/// Reclaims the first lapsed lease of another bidder process that still
/// reserves money (or has been empty long enough to forget).
async fn reclaim_one(ctx: &Tick<'_>, book: &mut Book) {
    let me = ctx.service.origin;
    let lapsed = book.view.leases.iter().find_map(|(text, lease)| {
        let key = LeaseKey::parse(text)?;
        let mine = key.bidder == me.bidder && key.process == me.process;
        let forgettable = lease.expires_s + super::ledger::local::FORGET_LEASES_AFTER_S < ctx.now_s;
        let reclaimable = lease.expires_s < ctx.now_s && (lease.reserved > 0 || forgettable);
        (!mine && reclaimable).then_some((key, lease.seq))
    });
    if let Some((key, seq)) = lapsed {
        let update = Update::Reclaim {
            lease: key.clone(),
            seq,
            now_s: ctx.now_s,
        };
        if ctx.apply(book, &update, &[], SyncOp::Reclaim).await {
            tracing::info!(campaign = %book.campaign_id, lease = %key, "reclaimed a lapsed lease");
        }
    }
}

/// Sends each alert due that this bidder wins the right to send.
async fn send_alerts(ctx: &Tick<'_>, book: &mut Book, c: &CompiledCampaign, date: &str) {
    let limits = alerts::Limits {
        campaign_id: &c.id,
        currency: c.currency.as_str(),
        daily: c.budget.daily,
        total: c.budget.total,
        date,
        bidder_id: &ctx.service.bidder_id,
    };
    let due = alerts::due(
        &book.view,
        &limits,
        &ctx.service.config.alert_thresholds_percent,
    );
    for alert in due {
        let claim = Update::Alert {
            key: alert.key.clone(),
            bidder_id: ctx.service.bidder_id.clone(),
        };
        if !ctx.apply(book, &claim, &[], SyncOp::Alert).await {
            continue;
        }
        ctx.service.count_alert(alert.threshold_percent);
        if let Err(e) = ctx.alerts.send(&alert).await {
            ctx.service.count_error(SyncOp::Alert);
            tracing::warn!(campaign = %c.id, error = %e, "cannot publish a budget alert");
        }
    }
}

fn status(
    book: &Book,
    c: &CompiledCampaign,
    lease: &tern_engine::budget::CampaignBudget,
    today: u32,
) -> CampaignBudgetStatus {
    let date = BudgetZone::date(today);
    CampaignBudgetStatus {
        campaign_id: c.id.clone(),
        currency: c.currency.as_str().to_owned(),
        timezone: c.budget.zone.name().to_owned(),
        pacing: c.budget.pacing.as_str(),
        daily_budget_micros: c.budget.daily,
        total_budget_micros: c.budget.total,
        spent_today_micros: book.view.day(&date).spent,
        spent_total_micros: book.view.total_spent,
        lease_balance_micros: lease.balance(),
        held_micros: lease.held(),
        target_rate_micros_per_s: book.pacing.target_rate(),
        throttle: lease.throttle(),
        exhausted: false,
        budget_day: date,
    }
}
