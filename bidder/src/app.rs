//! Wiring: from a [`Config`] to a running bidder (state, campaign source, bid and
//! admin listeners), and its orderly shutdown.

use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tern_engine::notice::NoticeKind;

use crate::admin::AdminRouter;
use crate::bid_api::{BidApi, BidRouter};
use crate::budget::BudgetService;
use crate::budget::ledger::local::LocalLedger;
use crate::config::{
    CapStoreKind, Config, EventSinkKind, FrequencyCapConfig, RedisConfig, SegmentsConfig,
    SourceKind,
};
use crate::error::StartError;
use crate::events::{EventLog, EventQueues, ShipperReport, check_sink, start_shipper};
use crate::freq_cap::{CapStore, LocalCaps, LocalSegments, RedisCaps, RedisEndpoint, RedisTls};
use crate::lifecycle::Background;
use crate::local_state::LocalState;
use crate::metrics::{MetricsRegistry, WorkerMetrics};
use crate::screening::{self, ScreeningState};
use crate::server::{BoundSockets, ConnectionLimits, ListenerPlan, RouterFactory, RunningListener};
use crate::state::dynamodb::start_sync;
use crate::state::{BidderState, CampaignSource, watch_file};

/// Connections the admin listener holds at once.
const ADMIN_MAX_CONNECTIONS: usize = 256;
/// How long start-up waits for workers to report their I/O driver.
const WORKER_START_TIMEOUT: Duration = Duration::from_secs(5);
/// How long start-up waits for the budget service's first round (leases taken)
/// before reporting; readiness waits for it regardless.
const BUDGET_START_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the admin listener gets to finish after the bid listener drained.
const ADMIN_DRAIN: Duration = Duration::from_millis(500);

/// What the workers' frequency-cap stores share.
#[derive(Clone)]
enum SharedCaps {
    /// One in-process store for all workers, with the segments loaded at start.
    Local(Arc<LocalCaps>, Arc<LocalSegments>),
    /// The Redis endpoint and TLS settings; each worker opens its own connections.
    Redis(Arc<RedisEndpoint>, RedisConfig, Option<Arc<RedisTls>>),
}

impl SharedCaps {
    /// The shared part of the configured store, and the background service it
    /// needs (Redis's resolver), if any.
    fn start(
        config: &FrequencyCapConfig,
        segments: &SegmentsConfig,
    ) -> Result<(SharedCaps, Option<Background>), StartError> {
        Ok(match config.store {
            CapStoreKind::Local => {
                let segments = crate::segments::load_local(segments)?;
                (SharedCaps::Local(Arc::default(), Arc::new(segments)), None)
            }
            CapStoreKind::Redis => {
                let (endpoint, resolver) = RedisEndpoint::start(&config.redis.addr)?;
                let tls = RedisTls::from_config(&config.redis)?.map(Arc::new);
                let shared = SharedCaps::Redis(endpoint, config.redis.clone(), tls);
                (shared, Some(resolver))
            }
        })
    }

    /// The store of one worker (built on that worker's thread).
    fn for_worker(&self) -> CapStore {
        match self {
            SharedCaps::Local(caps, segments) => {
                CapStore::Local(Arc::clone(caps), Arc::clone(segments))
            }
            SharedCaps::Redis(endpoint, config, tls) => CapStore::Redis(Rc::new(RedisCaps::new(
                Arc::clone(endpoint),
                config.clone(),
                tls.clone(),
            ))),
        }
    }
}

/// What was loaded at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CampaignCount {
    /// This many campaigns from a file or the bundled examples.
    Loaded(usize),
    /// Campaigns arrive from this DynamoDB table after start.
    Table(String),
}

impl std::fmt::Display for CampaignCount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CampaignCount::Loaded(n) => write!(f, "{n}"),
            CampaignCount::Table(table) => write!(f, "dynamodb:{table}"),
        }
    }
}

/// A running bidder.
#[derive(Debug)]
pub struct Bidder {
    bid: RunningListener,
    admin: RunningListener,
    state: Arc<BidderState>,
    /// The campaign source, the cap store's resolver and the event shipper, in the
    /// order they started.
    services: Vec<Background>,
    /// The event pipeline, for the final counts.
    events: Option<EventQueues>,
    /// The state directory, locked while the bidder runs.
    _local: LocalState,
    workers: usize,
    campaigns: CampaignCount,
    drain_timeout: Duration,
    unready_delay: Duration,
}

/// How a shutdown went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Every connection finished before the drain timeout.
    pub clean: bool,
    /// Time from the start of the shutdown to its end.
    pub took: Duration,
    /// The event pipeline's final counts, when events are on.
    pub events: Option<ShipperReport>,
}

/// Checks `config` as a start would, without binding or starting anything: the
/// exchange rates, the campaigns (a file or the bundled ones; a DynamoDB table is
/// only named), the Redis address and TLS settings, the event sink, and the local
/// spend ledger when there is one. Returns what was loaded.
pub fn check(config: &Config) -> Result<CampaignCount, StartError> {
    let state = BidderState::new(config.bidding.fx_table()?, config.budget.hold_timeout_s);
    let campaigns = match config.campaigns.source {
        SourceKind::File => {
            CampaignCount::Loaded(CampaignSource::from_config(&config.campaigns).load_into(&state)?)
        }
        SourceKind::Dynamodb => CampaignCount::Table(config.campaigns.dynamodb.table.clone()),
    };
    if config.frequency_cap.store == CapStoreKind::Redis {
        RedisEndpoint::resolve(&config.frequency_cap.redis.addr)?;
        RedisTls::from_config(&config.frequency_cap.redis)?;
    } else {
        crate::segments::load_local(&config.segments)?;
    }
    check_sink(&config.events)?;
    ScreeningState::load(&config.screening)?;
    let ledger = config.budget.state_dir.join("ledger.json");
    if config.budget.ledger == crate::config::LedgerKind::Local && ledger.exists() {
        LocalLedger::open(&ledger).map_err(StartError::Budget)?;
    }
    Ok(campaigns)
}

impl Bidder {
    /// Loads campaigns, binds both listeners and starts every worker.
    pub fn start(config: &Config) -> Result<Bidder, StartError> {
        let state = Arc::new(BidderState::new(
            config.bidding.fx_table()?,
            config.budget.hold_timeout_s,
        ));
        let local = LocalState::open(&config.budget.state_dir, &config.budget.bidder_id)?;
        let (budget, replay) =
            BudgetService::open(&config.budget, &local, config.notice.max_age_s)?;
        let budget = Arc::new(budget);
        let mut services = Vec::new();
        let campaigns = match config.campaigns.source {
            SourceKind::File => {
                let file = CampaignSource::from_config(&config.campaigns);
                let count = file.load_into(&state)?;
                if let CampaignSource::File(path) = file {
                    let interval = Duration::from_millis(config.campaigns.reload_interval_ms);
                    services.push(watch_file(path, interval, Arc::clone(&state))?);
                }
                CampaignCount::Loaded(count)
            }
            SourceKind::Dynamodb => {
                let dynamodb = &config.campaigns.dynamodb;
                services.push(start_sync(dynamodb.clone(), Arc::clone(&state))?);
                CampaignCount::Table(dynamodb.table.clone())
            }
        };
        let remote_source = config.campaigns.source == SourceKind::Dynamodb;

        let workers = config.server.worker_count();
        let bind = |listener, addr, count, backlog| {
            BoundSockets::bind(addr, count, backlog).map_err(|source| StartError::Bind {
                listener,
                addr,
                source,
            })
        };
        let bid_sockets = bind(
            "bid",
            config.server.bid_addr,
            workers,
            config.server.listen_backlog,
        )?;
        let admin_sockets = bind("admin", config.server.admin_addr, 1, 128)?;
        let public_url = match config.server.public_url.as_str() {
            "" => format!("http://{}", bid_sockets.addr()),
            url => url.to_owned(),
        };
        let screening = Arc::new(ScreeningState::load(&config.screening)?);
        services.extend(screening::watch(&config.screening, Arc::clone(&screening))?);
        let api = Arc::new(BidApi::new(
            config.bid_settings(),
            public_url,
            Arc::clone(&state),
            Arc::clone(&budget),
            Arc::clone(&screening),
            local.notice_key(),
        ));
        // Notices booked before a restart still count once.
        let billed = api.dedup(NoticeKind::Impression);
        for (record, _) in &replay.records {
            billed.first_time(&record.notice_id, record.issued_at_s);
        }
        let worker_metrics: Vec<Arc<WorkerMetrics>> = (0..workers)
            .map(|_| Arc::new(WorkerMetrics::default()))
            .collect();
        let registry = Arc::new(MetricsRegistry {
            workers: worker_metrics.clone(),
        });
        let counted = Arc::clone(&registry);
        services.push(crate::budget::start(
            Arc::clone(&budget),
            replay,
            Arc::clone(&state),
            move || counted.requests(),
        )?);
        let limits = ConnectionLimits::from_config(&config.limits);

        let (caps, resolver) = SharedCaps::start(&config.frequency_cap, &config.segments)?;
        services.extend(resolver);
        let events = (config.events.sink != EventSinkKind::None)
            .then(|| EventQueues::new(workers, config.events.queue_capacity));
        if let Some(queues) = &events {
            services.extend(start_shipper(queues, &config.events)?);
        }
        let instance: Arc<str> = config.events.instance_or_host().into();
        let nobid_sample_rate = config.events.nobid_sample_rate;
        let worker_events = events.clone();
        let bid_routers: RouterFactory<BidRouter> = Arc::new(move |index| {
            let api = Arc::clone(&api);
            let metrics = Arc::clone(&worker_metrics[index]);
            let for_router = Arc::clone(&metrics);
            let caps = caps.clone();
            let log = EventLog::new(
                worker_events.as_ref(),
                index,
                Arc::clone(&instance),
                nobid_sample_rate,
            );
            (
                Box::new(move || {
                    let store = caps.for_worker();
                    BidRouter::new(api, for_router, store, log)
                }),
                Some(metrics),
            )
        });
        let bid = RunningListener::start(ListenerPlan {
            name: "bid",
            sockets: bid_sockets,
            pin: config.server.pin_workers,
            driver: config.server.io_driver,
            limits: limits.clone(),
            max_connections: config.server.max_connections_per_worker,
            routers: bid_routers,
        })
        .map_err(|source| StartError::Thread {
            thread: "bid worker",
            source,
        })?;

        let admin_state = Arc::clone(&state);
        let admin_events = events.clone();
        let admin_budget = Arc::clone(&budget);
        let admin_screening = Arc::clone(&screening);
        let drivers = AdminRouter::drivers_of(&bid);
        let admin_routers: RouterFactory<AdminRouter> = Arc::new(move |_| {
            let router = AdminRouter {
                state: Arc::clone(&admin_state),
                registry: Arc::clone(&registry),
                drivers: Arc::clone(&drivers),
                remote_source,
                events: admin_events.clone(),
                budget: Arc::clone(&admin_budget),
                screening: Arc::clone(&admin_screening),
            };
            (Box::new(move || router), None)
        });
        let admin = RunningListener::start(ListenerPlan {
            name: "admin",
            sockets: admin_sockets,
            pin: false,
            driver: config.server.io_driver,
            limits,
            max_connections: ADMIN_MAX_CONNECTIONS,
            routers: admin_routers,
        })
        .map_err(|source| StartError::Thread {
            thread: "admin worker",
            source,
        })?;

        let started = Instant::now();
        loop {
            let (uring, epoll) = bid.shared().drivers();
            if uring + epoll == workers {
                break;
            }
            if bid.all_stopped() || started.elapsed() > WORKER_START_TIMEOUT {
                return Err(StartError::WorkersExited);
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        let loaded = !remote_source;
        while loaded && !state.budgets_synced() && started.elapsed() < BUDGET_START_TIMEOUT {
            std::thread::sleep(Duration::from_millis(2));
        }

        Ok(Bidder {
            bid,
            admin,
            state,
            services,
            events,
            _local: local,
            workers,
            campaigns,
            drain_timeout: Duration::from_millis(config.shutdown.drain_timeout_ms),
            unready_delay: Duration::from_millis(config.shutdown.unready_delay_ms),
        })
    }

    /// Where bids are served (the real port when 0 was configured).
    pub fn bid_addr(&self) -> SocketAddr {
        self.bid.addr()
    }

    /// Where admin endpoints are served.
    pub fn admin_addr(&self) -> SocketAddr {
        self.admin.addr()
    }

    /// The shared state (snapshot, spend, readiness).
    pub fn state(&self) -> &Arc<BidderState> {
        &self.state
    }

    /// Bid workers, and how many run on io_uring (the rest on epoll).
    pub fn workers(&self) -> (usize, usize) {
        (self.workers, self.bid.shared().drivers().0)
    }

    /// Campaigns loaded at start, or the table they come from.
    pub fn campaigns_at_start(&self) -> &CampaignCount {
        &self.campaigns
    }

    /// Reports not-ready, waits `unready_delay`, then stops accepting and lets
    /// in-flight requests finish within the drain timeout.
    pub fn shutdown(self) -> ShutdownReport {
        let started = Instant::now();
        self.state.begin_drain();
        std::thread::sleep(self.unready_delay);
        let deadline = Instant::now() + self.drain_timeout;
        let clean = self.bid.drain(deadline);
        // No worker bids any more: the event shipper (which sends what is queued),
        // the resolver, the budget sync (which flushes spend and gives back what
        // the leases hold free) and the campaign source stop, newest first, by the
        // deadline.
        for service in self.services.into_iter().rev() {
            service.stop(deadline);
        }
        let events = self.events.as_ref().map(|q| ShipperReport::of(q.stats()));
        self.admin.drain(Instant::now() + ADMIN_DRAIN);
        ShutdownReport {
            clean,
            took: started.elapsed(),
            events,
        }
    }
}
