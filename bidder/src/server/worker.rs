//! One worker: a thread pinned to a core, running its own monoio executor with its
//! own `SO_REUSEPORT` listener. Connections it accepts live and die on it.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::FutureExt;
use monoio::net::TcpListener;

use super::ServerShared;
use super::config::IoDriver;
use super::connection::{ConnectionLimits, serve};
use super::drain::Drain;
use crate::http::Router;
use crate::metrics::WorkerMetrics;

/// How often a worker looks at the process-wide drain flag.
const DRAIN_POLL: Duration = Duration::from_millis(20);
/// How long a worker waits after an accept error (e.g. out of file descriptors).
const ACCEPT_ERROR_BACKOFF: Duration = Duration::from_millis(10);

/// What a worker needs; moved onto its thread.
pub(crate) struct WorkerSetup<R> {
    pub(crate) listener: std::net::TcpListener,
    pub(crate) core: Option<core_affinity::CoreId>,
    pub(crate) driver: IoDriver,
    pub(crate) limits: ConnectionLimits,
    pub(crate) max_connections: usize,
    pub(crate) metrics: Option<Arc<WorkerMetrics>>,
    pub(crate) make_router: Box<dyn FnOnce() -> R + Send>,
    pub(crate) shared: Arc<ServerShared>,
}

/// Runs a worker to completion: serve until the drain, then until its connections close.
pub(crate) fn run<R: Router + 'static>(setup: WorkerSetup<R>) -> std::io::Result<()> {
    if let Some(core) = setup.core
        && !core_affinity::set_for_current(core)
    {
        tracing::warn!(core = core.id, "could not pin worker to its core");
    }
    setup.driver.block_on(worker_main(setup))?
}

async fn worker_main<R: Router + 'static>(setup: WorkerSetup<R>) -> std::io::Result<()> {
    let WorkerSetup {
        listener,
        limits,
        max_connections,
        metrics,
        make_router,
        shared,
        ..
    } = setup;
    let listener = TcpListener::from_std(listener)?;
    let router = Rc::new(make_router());
    let limits = Rc::new(limits);
    let drain = Rc::new(Drain::new());
    // Open connections; a task of this worker's executor changes it.
    let open = Rc::new(Cell::new(0usize));
    shared.note_driver(monoio::utils::is_legacy());

    let watcher_drain = Rc::clone(&drain);
    let watcher_shared = Arc::clone(&shared);
    monoio::spawn(async move {
        while !watcher_shared.draining.load(Ordering::Acquire) {
            monoio::time::sleep(DRAIN_POLL).await;
        }
        watcher_drain.begin();
    });

    while !drain.is_draining() {
        let (stream, _peer) = match listener.cancelable_accept(drain.cancel_handle()).await {
            Ok(accepted) => accepted,
            Err(_) if drain.is_draining() => break,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                monoio::time::sleep(ACCEPT_ERROR_BACKOFF).await;
                continue;
            }
        };
        if open.get() >= max_connections {
            if let Some(m) = &metrics {
                m.connection_accepted(false);
            }
            drop(stream);
            continue;
        }
        let _ = stream.set_nodelay(true);
        open.set(open.get() + 1);
        if let Some(m) = &metrics {
            m.connection_accepted(true);
        }
        let connection = serve(
            stream,
            Rc::clone(&router),
            Rc::clone(&limits),
            Rc::clone(&drain),
        );
        let task_open = Rc::clone(&open);
        let task_metrics = metrics.clone();
        let task_router = Rc::clone(&router);
        monoio::spawn(async move {
            // A panic in one connection ends that connection only.
            if std::panic::AssertUnwindSafe(connection)
                .catch_unwind()
                .await
                .is_err()
            {
                task_router.on_panic();
            }
            task_open.set(task_open.get() - 1);
            if let Some(m) = task_metrics {
                m.connection_closed();
            }
        });
    }
    drop(listener);
    while open.get() > 0 {
        monoio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}
