//! The admin listener: `/health`, `/ready`, `/metrics` and `/state`, on its own port
//! so health checks and scrapes never queue behind bid traffic.

use std::sync::Arc;

use serde::Serialize;

use crate::budget::{BudgetService, CampaignBudgetStatus};
use crate::events::EventQueues;
use crate::http::{Method, Reply, Request, Router, Status};
use crate::metrics::catalog::*;
use crate::metrics::render::render_workers;
use crate::metrics::{Exposition, MetricsRegistry};
use crate::screening::{ScreeningState, ScreeningSummary};
use crate::server::RunningListener;
use crate::state::BidderState;
use tern_engine::clock;

/// Answers the admin endpoints.
pub(crate) struct AdminRouter {
    pub(crate) state: Arc<BidderState>,
    pub(crate) registry: Arc<MetricsRegistry>,
    pub(crate) drivers: Arc<dyn Fn() -> (usize, usize) + Send + Sync>,
    /// Whether a remote source feeds the state (sync figures are shown then).
    pub(crate) remote_source: bool,
    /// The event pipeline, when events are on.
    pub(crate) events: Option<EventQueues>,
    /// Budgets, leases and pacing.
    pub(crate) budget: Arc<BudgetService>,
    /// The screening lists.
    pub(crate) screening: Arc<ScreeningState>,
}

/// The `/state` document.
#[derive(Serialize)]
struct StateDocument<'a> {
    ready: bool,
    draining: bool,
    campaigns_active: usize,
    campaigns_paused: usize,
    campaigns_budget_exhausted: usize,
    state_updates: u64,
    state_rejects: u64,
    state_age_s: f64,
    last_error: Option<&'a str>,
    workers: usize,
    io_uring_workers: usize,
    epoll_workers: usize,
    /// Connections accepted by each bid worker, in worker order.
    worker_connections_accepted: Vec<u64>,
    /// The remote source's figures, when campaigns come from DynamoDB.
    sync: Option<SyncDocument>,
    /// This bidder in the spend ledger.
    budget_bidder_id: &'a str,
    /// Each campaign with a budget, as of the last sync with the ledger.
    budgets: Vec<CampaignBudgetStatus>,
    /// The screening lists: what they hold and how reloads went.
    screening: ScreeningSummary,
}

/// The `sync` part of `/state`.
#[derive(Serialize)]
struct SyncDocument {
    lag_s: f64,
    last_poll_age_s: f64,
    records_applied: u64,
    records_rejected: u64,
    bootstraps: u64,
}

impl AdminRouter {
    /// Reports the bid listener's drivers through `listener`'s shared counters.
    pub(crate) fn drivers_of(
        listener: &RunningListener,
    ) -> Arc<dyn Fn() -> (usize, usize) + Send + Sync> {
        let shared = listener.shared();
        Arc::new(move || shared.drivers())
    }

    /// Ready for traffic: campaigns loaded, not draining, and the screening
    /// lists from S3 read once.
    fn is_ready(&self) -> bool {
        self.state.is_ready() && self.screening.is_ready()
    }

    fn metrics(&self, body: &mut Vec<u8>) -> Reply {
        let now = clock::now_unix_s();
        let mut out = Exposition::default();
        render_workers(&mut out, &self.registry.merge(now));
        let summary = self.state.summary();
        let budgets = self.budget.status();
        out.value(&READY, u8::from(self.is_ready()));
        out.value(&CAMPAIGNS_ACTIVE, summary.campaigns_active);
        out.value(&CAMPAIGNS_PAUSED, summary.campaigns_paused);
        out.value(&CAMPAIGNS_BUDGET_EXHAUSTED, exhausted(&budgets));
        out.value(&STATE_UPDATES_TOTAL, summary.updates);
        out.value(&STATE_REJECTS_TOTAL, summary.rejects);
        out.value(&STATE_AGE_SECONDS, summary.age_s);
        out.value(&WORKERS, self.registry.workers.len());
        if let Some(events) = &self.events {
            render_events(&mut out, events);
        }
        if self.remote_source {
            let sync = self.state.sync().report();
            out.value(&SYNC_LAG_SECONDS, sync.lag_s);
            out.value(&SYNC_LAST_POLL_AGE_SECONDS, sync.last_poll_age_s);
            out.value(&SYNC_RECORDS_APPLIED_TOTAL, sync.applied);
            out.value(&SYNC_RECORDS_REJECTED_TOTAL, sync.rejected);
            out.value(&SYNC_BOOTSTRAPS_TOTAL, sync.bootstraps);
        }
        render_budget(&mut out, &self.budget, &budgets);
        let screening = self.screening.summary();
        out.value(&IVT_LISTS_GENERATION, screening.generation);
        out.value(&IVT_LIST_REJECTS_TOTAL, screening.rejects);
        body.extend_from_slice(out.into_text().as_bytes());
        Reply::new(Status::OK, "text/plain; version=0.0.4; charset=utf-8")
    }

    fn state_document(&self, body: &mut Vec<u8>) -> Reply {
        let summary = self.state.summary();
        let budgets = self.budget.status();
        let (io_uring_workers, epoll_workers) = (self.drivers)();
        let document = StateDocument {
            ready: self.is_ready(),
            draining: summary.draining,
            campaigns_active: summary.campaigns_active,
            campaigns_paused: summary.campaigns_paused,
            campaigns_budget_exhausted: exhausted(&budgets),
            state_updates: summary.updates,
            state_rejects: summary.rejects,
            state_age_s: summary.age_s,
            last_error: summary.last_error.as_deref(),
            workers: self.registry.workers.len(),
            io_uring_workers,
            epoll_workers,
            worker_connections_accepted: self
                .registry
                .workers
                .iter()
                .map(|w| w.connections_accepted())
                .collect(),
            sync: self.remote_source.then(|| {
                let report = self.state.sync().report();
                SyncDocument {
                    lag_s: report.lag_s,
                    last_poll_age_s: report.last_poll_age_s,
                    records_applied: report.applied,
                    records_rejected: report.rejected,
                    bootstraps: report.bootstraps,
                }
            }),
            budget_bidder_id: self.budget.bidder_id(),
            budgets,
            screening: self.screening.summary(),
        };
        serde_json::to_writer(&mut *body, &document).expect("serializing to a Vec");
        body.push(b'\n');
        Reply::new(Status::OK, "application/json")
    }
}

impl Router for AdminRouter {
    async fn route(&self, req: &Request<'_>, body: &mut Vec<u8>) -> Reply {
        if !matches!(req.method, Method::Get | Method::Head) {
            return Reply::plain(body, Status::METHOD_NOT_ALLOWED, "use GET")
                .with_header("Allow", "GET, HEAD");
        }
        match req.path {
            "/health" => Reply::plain(body, Status::OK, "ok"),
            "/ready" if self.is_ready() => Reply::plain(body, Status::OK, "ready"),
            "/ready" => Reply::plain(body, Status::SERVICE_UNAVAILABLE, "not ready"),
            "/metrics" => self.metrics(body),
            "/state" => self.state_document(body),
            _ => Reply::plain(body, Status::NOT_FOUND, "not found"),
        }
    }
}

/// Campaigns whose fleet may commit no more of their budget today.
fn exhausted(budgets: &[CampaignBudgetStatus]) -> usize {
    budgets.iter().filter(|b| b.exhausted).count()
}

/// The budget service's figures: its errors and alerts, and per campaign its
/// spend, lease and pacing.
fn render_budget(out: &mut Exposition, service: &BudgetService, budgets: &[CampaignBudgetStatus]) {
    out.samples(
        &BUDGET_SYNC_ERRORS_TOTAL,
        service.errors().map(|(op, n)| ([op.as_str()], n)),
    );
    out.value(&BUDGET_LATE_NOTICES_TOTAL, service.late_notices());
    let alerts = service.alerts_sent();
    let thresholds: Vec<String> = alerts.iter().map(|(p, _)| p.to_string()).collect();
    out.samples(
        &BUDGET_ALERTS_TOTAL,
        thresholds
            .iter()
            .zip(&alerts)
            .map(|(p, (_, n))| ([p.as_str()], *n)),
    );
    let each = |f: fn(&CampaignBudgetStatus) -> f64| {
        budgets
            .iter()
            .map(move |b| ([b.campaign_id.as_str()], f(b)))
    };
    out.samples(&CAMPAIGN_SPEND_TODAY, each(|b| b.spent_today_micros as f64));
    out.samples(&CAMPAIGN_SPEND_TOTAL, each(|b| b.spent_total_micros as f64));
    out.samples(
        &CAMPAIGN_LEASE_BALANCE,
        each(|b| b.lease_balance_micros as f64),
    );
    out.samples(&CAMPAIGN_HELD, each(|b| b.held_micros as f64));
    out.samples(
        &CAMPAIGN_PACING_TARGET_RATE,
        each(|b| b.target_rate_micros_per_s),
    );
    out.samples(&CAMPAIGN_PACING_THROTTLE, each(|b| b.throttle));
}

/// The event pipeline's figures.
fn render_events(out: &mut Exposition, events: &EventQueues) {
    use std::sync::atomic::Ordering::Relaxed;
    let stats = events.stats();
    out.value(&EVENTS_ACCEPTED_TOTAL, stats.accepted());
    out.samples(
        &EVENTS_DROPPED_TOTAL,
        [
            (["queue_full"], stats.dropped_queue_full()),
            (["sink"], stats.dropped_sink.load(Relaxed)),
        ],
    );
    out.value(&EVENTS_SENT_TOTAL, stats.sent.load(Relaxed));
    out.value(&EVENTS_RETRIED_TOTAL, stats.retried.load(Relaxed));
    out.value(&EVENTS_QUEUE_DEPTH, events.depth());
    out.value(&EVENTS_PENDING, stats.pending.load(Relaxed));
    let mut batches = crate::latency::Snapshot::default();
    stats.batch_latency.add_since_start(&mut batches);
    out.histogram(&EVENTS_BATCH_DURATION_SECONDS, &batches);
}
