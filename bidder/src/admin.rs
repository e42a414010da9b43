//! The admin listener: `/health`, `/ready`, `/metrics` and `/state`, on its own port
//! so health checks and scrapes never queue behind bid traffic.

use std::sync::Arc;

use serde::Serialize;

use crate::http::{Method, Reply, Request, Router};
use crate::metrics::render::StateGauges;
use crate::metrics::{MetricsRegistry, render};
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
    pub(crate) events: Option<crate::events::EventQueues>,
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

    fn metrics(&self, body: &mut Vec<u8>) -> Reply {
        let now = clock::now_unix_s();
        let merged = self.registry.merge(now);
        let summary = self.state.summary(now);
        let gauges = StateGauges {
            ready: summary.ready,
            campaigns_active: summary.campaigns_active,
            campaigns_paused: summary.campaigns_paused,
            budget_exhausted: summary.budget_exhausted,
            state_updates: summary.updates,
            state_rejects: summary.rejects,
            state_age_s: summary.age_s,
            workers: self.registry.workers.len(),
            sync: self.remote_source.then(|| self.state.sync().report()),
            events: self.events.clone(),
        };
        let mut text = String::with_capacity(8192);
        render(&mut text, &merged, &gauges);
        body.extend_from_slice(text.as_bytes());
        Reply::new(200, "text/plain; version=0.0.4; charset=utf-8")
    }

    fn state_document(&self, body: &mut Vec<u8>) -> Reply {
        let summary = self.state.summary(clock::now_unix_s());
        let (io_uring_workers, epoll_workers) = (self.drivers)();
        let document = StateDocument {
            ready: summary.ready,
            draining: summary.draining,
            campaigns_active: summary.campaigns_active,
            campaigns_paused: summary.campaigns_paused,
            campaigns_budget_exhausted: summary.budget_exhausted,
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
                .map(|w| w.connections_accepted.get())
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
        };
        serde_json::to_writer(&mut *body, &document).expect("serializing to a Vec");
        body.push(b'\n');
        Reply::new(200, "application/json")
    }
}

fn text(body: &mut Vec<u8>, status: u16, message: &str) -> Reply {
    body.extend_from_slice(message.as_bytes());
    body.push(b'\n');
    Reply::text(status)
}

impl Router for AdminRouter {
    async fn route(&self, req: &Request<'_>, body: &mut Vec<u8>) -> Reply {
        if !matches!(req.method, Method::Get | Method::Head) {
            return text(body, 405, "use GET").with_header("Allow", "GET, HEAD");
        }
        match req.path {
            "/health" => text(body, 200, "ok"),
            "/ready" if self.state.is_ready() => text(body, 200, "ready"),
            "/ready" => text(body, 503, "not ready"),
            "/metrics" => self.metrics(body),
            "/state" => self.state_document(body),
            _ => text(body, 404, "not found"),
        }
    }
}
