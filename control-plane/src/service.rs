//! The running service: the AWS client, the API listener, the admin listener
//! (`/health`, `/ready`, `/metrics`, kept off the load balancer), and a graceful
//! shutdown that answers every request already received.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::api::{self, AppState};
use crate::auth::KeyHasher;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::store::Store;

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// No AWS region is configured.
    #[error(transparent)]
    Aws(#[from] tern_tables::sdk::NoRegion),
    /// A listener could not be bound.
    #[error("cannot listen on {addr}: {error}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        error: std::io::Error,
    },
}

/// The DynamoDB client the standard AWS configuration gives, with
/// `server.request_timeout_ms` per call.
pub async fn dynamodb_client(config: &Config) -> Result<aws_sdk_dynamodb::Client, StartError> {
    let timeout = Duration::from_millis(config.server.request_timeout_ms);
    let sdk = tern_tables::sdk::load_config(timeout, 3).await?;
    Ok(aws_sdk_dynamodb::Client::new(&sdk))
}

/// A started service.
#[derive(Debug)]
pub struct Running {
    /// Where the API listens.
    pub api_addr: SocketAddr,
    /// Where the admin routes listen.
    pub admin_addr: SocketAddr,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<std::io::Result<()>>>,
    drain: Duration,
}

impl Running {
    /// Stops accepting, finishes the requests in flight (up to
    /// `shutdown.drain_timeout_ms`), and returns whether all finished in time.
    pub async fn shutdown(self) -> bool {
        let _ = self.stop.send(true);
        let all = futures_join(self.tasks);
        tokio::time::timeout(self.drain, all).await.is_ok()
    }
}

async fn futures_join(tasks: Vec<tokio::task::JoinHandle<std::io::Result<()>>>) {
    for task in tasks {
        match task.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "listener failed"),
            Err(e) => tracing::warn!(error = %e, "listener task failed"),
        }
    }
}

/// Binds both listeners and serves until [`Running::shutdown`].
pub async fn start(
    config: &Config,
    client: aws_sdk_dynamodb::Client,
) -> Result<Running, StartError> {
    let state = AppState {
        store: Store::new(client, config.tables.clone()),
        hasher: KeyHasher::new(&config.auth.pepper, &config.auth.bootstrap_operator_key),
        max_page_size: config.server.max_page_size,
        currencies: config.campaigns.currency_codes().into(),
        metrics: Arc::new(Metrics::default()),
        openapi: Arc::default(),
    };
    if config.auth.bootstrap_operator_key.is_empty() {
        tracing::info!("no bootstrap operator key configured: only stored keys are accepted");
    }
    let bind = |addr: SocketAddr| async move {
        TcpListener::bind(addr)
            .await
            .map_err(|error| StartError::Listen { addr, error })
    };
    let api_listener = bind(config.server.listen).await?;
    let admin_listener = bind(config.server.admin_listen).await?;
    let api_addr = api_listener
        .local_addr()
        .expect("a bound listener has an address");
    let admin_addr = admin_listener
        .local_addr()
        .expect("a bound listener has an address");
    let (stop, stopped) = watch::channel(false);
    let serve = |listener: TcpListener, router: Router| {
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = stopped.wait_for(|s| *s).await;
                })
                .await
        })
    };
    let tasks = vec![
        serve(
            api_listener,
            api::router(state.clone(), config.server.body_bytes),
        ),
        serve(admin_listener, admin_router(state)),
    ];
    Ok(Running {
        api_addr,
        admin_addr,
        stop,
        tasks,
        drain: Duration::from_millis(config.shutdown.drain_timeout_ms),
    })
}

/// `/health` (the process runs), `/ready` (both tables answer), `/metrics`.
fn admin_router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/ready", get(ready))
        .route(
            "/metrics",
            get(|State(state): State<AppState>| async move { state.metrics.render() }),
        )
        .with_state(state)
}

async fn ready(State(state): State<AppState>) -> (StatusCode, String) {
    match state.store.ready().await {
        Ok(()) => (StatusCode::OK, "ready".to_owned()),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {e}")),
    }
}
