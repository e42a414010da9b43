//! The `budget-sync` thread: every `budget.flush_interval_ms`, each campaign's
//! books are settled with the ledger (see [`tick`]), on a tokio runtime of its
//! own so nothing here touches a bid worker. At start it first puts back the
//! journal's spend the ledger lacks; at stop it flushes everything and gives back
//! what the leases hold free.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;
use tern_engine::budget::TrafficProfile;
use tern_engine::clock;

use super::alerts::AlertSink;
use super::book::Book;
use super::config::{BudgetConfig, LedgerKind};
use super::ledger::dynamodb::DynamoLedger;
use super::ledger::local::LocalLedger;
use super::ledger::{AnyLedger, Ledger, bidder_key};
use super::tick::{Tick, tick};
use super::{BudgetService, Replay, SyncOp};
use crate::error::StartError;
use crate::lifecycle::{Background, StopSignal};
use crate::state::BidderState;

/// Campaigns settled at once.
const CONCURRENT_CAMPAIGNS: usize = 16;

/// Starts the `budget-sync` service. The local ledger is opened here, so a
/// broken ledger file stops the start; AWS clients are made on the thread.
/// `requests` reads the bidder's request count, for pacing's traffic profile.
pub fn start(
    service: Arc<BudgetService>,
    replay: Replay,
    state: Arc<BidderState>,
    requests: impl Fn() -> u64 + Send + 'static,
) -> Result<Background, StartError> {
    let config = service.config.clone();
    let local = match config.ledger {
        LedgerKind::Local => Some(
            LocalLedger::open(&config.state_dir.join("ledger.json")).map_err(StartError::Budget)?,
        ),
        LedgerKind::Dynamodb => None,
    };
    Background::spawn(
        "budget-sync",
        move |stop| match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime.block_on(async move {
                let Some((ledger, alerts)) = connect(&config, local, &stop).await else {
                    return;
                };
                let mut sync = SyncLoop {
                    service,
                    state,
                    ledger,
                    alerts,
                    books: HashMap::new(),
                    profile: TrafficProfile::default(),
                    requests: Box::new(requests),
                    last_requests: 0,
                };
                sync.run(replay, stop).await;
            }),
            Err(e) => {
                tracing::error!(error = %e, "cannot build the budget runtime; no budget sync")
            }
        },
    )
}

/// The ledger and alert sink as configured; `None` when stopped before AWS
/// could be configured.
async fn connect(
    config: &BudgetConfig,
    local: Option<LocalLedger>,
    stop: &StopSignal,
) -> Option<(AnyLedger, AlertSink)> {
    let timeout = Duration::from_millis(config.dynamodb.request_timeout_ms);
    let needs_aws = local.is_none() || !config.alerts.sns_topic_arn.is_empty();
    let aws = if needs_aws {
        loop {
            match crate::aws::load_config(timeout, 2).await {
                Ok(aws) => break Some(aws),
                Err(e) => {
                    tracing::error!(error = %e, "cannot configure AWS for budgets; retrying");
                    if !stop.sleep(Duration::from_secs(1)) {
                        return None;
                    }
                }
            }
        }
    } else {
        None
    };
    let ledger = match (local, &aws) {
        (Some(local), _) => AnyLedger::Local(local),
        (None, Some(aws)) => AnyLedger::Dynamo(DynamoLedger::new(
            aws_sdk_dynamodb::Client::new(aws),
            config.dynamodb.table.clone(),
        )),
        (None, None) => return None,
    };
    let alerts = match &aws {
        Some(aws) if !config.alerts.sns_topic_arn.is_empty() => AlertSink::Sns {
            client: aws_sdk_sns::Client::new(aws),
            topic_arn: config.alerts.sns_topic_arn.clone(),
        },
        _ => AlertSink::LogOnly,
    };
    Some((ledger, alerts))
}

/// The service's state on its thread.
struct SyncLoop {
    service: Arc<BudgetService>,
    state: Arc<BidderState>,
    ledger: AnyLedger,
    alerts: AlertSink,
    books: HashMap<String, Book>,
    profile: TrafficProfile,
    requests: Box<dyn Fn() -> u64 + Send>,
    last_requests: u64,
}

impl SyncLoop {
    async fn run(&mut self, replay: Replay, stop: StopSignal) {
        let interval = Duration::from_millis(self.service.config.flush_interval_ms);
        if !self.restore(replay, &stop).await {
            return;
        }
        loop {
            // Loaded before the round: every campaign it settled had its chance.
            let loaded = self.state.is_loaded();
            self.tick_all(false).await;
            if loaded {
                self.state.set_budgets_synced();
            }
            if !stop.sleep(interval) {
                break;
            }
        }
        // Stopping: the workers no longer bid, so flush all and give back what is free.
        self.tick_all(true).await;
    }

    /// Puts back the journal's records the ledger lacks (past each campaign's
    /// flushed position for this bidder), before anything is flushed. Returns
    /// false when stopped first.
    async fn restore(&mut self, replay: Replay, stop: &StopSignal) -> bool {
        let me = bidder_key(self.service.journal_id);
        let mut by_campaign: HashMap<String, Vec<_>> = HashMap::new();
        for (record, position) in replay.records {
            by_campaign
                .entry(record.campaign_id.clone())
                .or_default()
                .push((record, position));
        }
        for (campaign_id, records) in by_campaign {
            let item = loop {
                match self.ledger.read(&campaign_id).await {
                    Ok(item) => break item,
                    Err(e) => {
                        self.service.count_error(SyncOp::Flush);
                        tracing::warn!(error = %e, campaign = %campaign_id, "cannot read the spend ledger to replay the journal; retrying");
                        if !stop.sleep(Duration::from_secs(1)) {
                            return false;
                        }
                    }
                }
            };
            let flushed = item.flushed.get(&me).copied().unwrap_or(0);
            let mut restored = 0;
            for (record, position) in records.iter().filter(|(_, p)| *p > flushed) {
                self.service.journal.restore(record, *position);
                restored += 1;
            }
            if restored > 0 {
                tracing::info!(campaign = %campaign_id, records = restored, "spend from the journal not yet in the ledger; flushing it");
            }
        }
        true
    }

    /// One round over every campaign with a budget, spend to flush, or a lease.
    async fn tick_all(&mut self, stopping: bool) {
        let now_s = clock::now_unix_s();
        let requests = (self.requests)();
        self.profile
            .observe(now_s, requests.saturating_sub(self.last_requests));
        self.last_requests = requests;
        let snapshot = self.state.snapshot();
        let wanted = snapshot
            .campaigns()
            .iter()
            .chain(snapshot.paused_campaigns())
            .filter(|c| c.budget.is_limited())
            .map(|c| c.id.clone())
            .chain(self.service.journal.pending_campaigns());
        for id in wanted {
            self.books
                .entry(id.clone())
                .or_insert_with(|| Book::new(id));
        }
        let ctx = Tick {
            service: &self.service,
            ledger: &self.ledger,
            alerts: &self.alerts,
            snapshot: &snapshot,
            budgets: self.state.budgets(),
            profile: &self.profile,
            now_s,
            stopping,
        };
        let statuses: Vec<_> = futures_util::stream::iter(self.books.values_mut())
            .map(|book| tick(&ctx, book))
            .buffer_unordered(CONCURRENT_CAMPAIGNS)
            .collect()
            .await;
        let mut statuses: Vec<_> = statuses.into_iter().flatten().collect();
        statuses.sort_by(|a, b| a.campaign_id.cmp(&b.campaign_id));
        *self
            .service
            .status
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = statuses;
        self.books.retain(|id, book| {
            snapshot.campaign(id).is_some_and(|c| c.budget.is_limited())
                || book.in_flight.is_some()
                || book.draining.is_some()
        });
        // The ledger first: journal files go only once what they hold is durable there.
        if let Err(e) = self.ledger.checkpoint().await {
            self.service.count_error(SyncOp::Flush);
            tracing::warn!(error = %e, "cannot write the spend ledger");
            return;
        }
        let journal = &self.service.journal;
        let in_flight = self
            .books
            .values()
            .filter_map(|b| b.in_flight.as_ref().map(|d| d.first_position));
        let remembered = Duration::from_secs(self.service.notice_max_age_s);
        let written_before = std::time::SystemTime::now()
            .checked_sub(remembered)
            .unwrap_or(std::time::SystemTime::UNIX_EPOCH);
        if let Err(e) = journal.forget_flushed(journal.unflushed_from(in_flight), written_before) {
            tracing::warn!(error = %e, "cannot delete flushed journal files");
        }
    }
}
