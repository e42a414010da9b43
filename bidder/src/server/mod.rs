//! Listeners and worker threads.
//!
//! The bid listener runs one worker per core, each with its own `SO_REUSEPORT`
//! socket bound to the same address, so the kernel spreads connections over cores
//! and a connection never leaves the core that accepted it. The admin listener runs
//! one small unpinned worker of the same kind. Shutdown is one flag: workers stop
//! accepting, close idle keep-alive connections, answer what is in flight, and exit.

pub mod config;
pub(crate) mod connection;
mod drain;
mod worker;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub(crate) use connection::ConnectionLimits;
use worker::WorkerSetup;

use self::config::IoDriver;
use crate::http::Router;
use crate::metrics::WorkerMetrics;

/// Stack of each worker thread. A worker parses request bodies on it, and JSON
/// parsers recurse once per nesting level; requests nested past
/// `tern_engine::json_depth::MAX_DEPTH` (128) are refused before parsing, so this
/// only has to hold the deepest accepted one. Measured: about 70 KiB in a release
/// build (48 KiB plus 180 bytes a level) and 7 MiB in a debug build (the tests':
/// 54 KiB a level), where the default 2 MiB overflowed at 37 levels. 16 MiB leaves
/// twice what a debug build needs; untouched stack pages cost no memory.
const WORKER_STACK_BYTES: usize = 16 << 20;

/// Flags and counts shared by all workers of one listener and its owner.
#[derive(Debug, Default)]
pub(crate) struct ServerShared {
    draining: AtomicBool,
    running: AtomicUsize,
    uring_workers: AtomicUsize,
    epoll_workers: AtomicUsize,
}

impl ServerShared {
    fn note_driver(&self, legacy: bool) {
        let counter = if legacy {
            &self.epoll_workers
        } else {
            &self.uring_workers
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Workers running on io_uring and on epoll, once they have started.
    pub(crate) fn drivers(&self) -> (usize, usize) {
        (
            self.uring_workers.load(Ordering::Relaxed),
            self.epoll_workers.load(Ordering::Relaxed),
        )
    }
}

/// A router per worker, built on the worker's own thread (routers hold
/// thread-local scratch space), plus that worker's metrics.
pub(crate) type RouterFactory<R> =
    Arc<dyn Fn(usize) -> (Box<dyn FnOnce() -> R + Send>, Option<Arc<WorkerMetrics>>) + Send + Sync>;

/// How to run one listener.
pub(crate) struct ListenerPlan<R> {
    pub(crate) name: &'static str,
    pub(crate) sockets: BoundSockets,
    pub(crate) pin: bool,
    pub(crate) driver: IoDriver,
    pub(crate) limits: ConnectionLimits,
    pub(crate) max_connections: usize,
    pub(crate) routers: RouterFactory<R>,
}

/// A running listener and its workers.
#[derive(Debug)]
pub(crate) struct RunningListener {
    addr: SocketAddr,
    shared: Arc<ServerShared>,
    threads: Vec<JoinHandle<()>>,
}

/// Listening sockets bound before any worker starts, so bind errors stop the
/// bidder at start and the real address is known before routers are built.
#[derive(Debug)]
pub(crate) struct BoundSockets {
    sockets: Vec<std::net::TcpListener>,
    addr: SocketAddr,
}

impl BoundSockets {
    /// Binds `count` sockets to `addr` with `SO_REUSEPORT`; port 0 is resolved once so
    /// every socket shares the same port.
    /// Refuses an address another process listens on: `SO_REUSEPORT` would
    /// otherwise let a second bidder share the port and silently take part of
    /// its traffic.
    pub(crate) fn bind(addr: SocketAddr, count: usize, backlog: u32) -> std::io::Result<Self> {
        if addr.port() != 0 {
            // Without SO_REUSEPORT this bind fails while anyone listens there.
            let probe = socket2::Socket::new(
                socket2::Domain::for_address(addr),
                socket2::Type::STREAM,
                Some(socket2::Protocol::TCP),
            )?;
            probe.set_reuse_address(true)?;
            probe.bind(&addr.into()).map_err(|e| {
                if e.kind() == std::io::ErrorKind::AddrInUse {
                    std::io::Error::new(
                        e.kind(),
                        "address in use by another process (another bidder?)",
                    )
                } else {
                    e
                }
            })?;
        }
        let mut addr = addr;
        let mut sockets = Vec::with_capacity(count);
        for _ in 0..count.max(1) {
            let socket = socket2::Socket::new(
                socket2::Domain::for_address(addr),
                socket2::Type::STREAM,
                Some(socket2::Protocol::TCP),
            )?;
            socket.set_reuse_address(true)?;
            socket.set_reuse_port(true)?;
            socket.set_nonblocking(true)?;
            socket.set_nodelay(true)?;
            socket.bind(&addr.into())?;
            socket.listen(backlog.min(i32::MAX as u32) as i32)?;
            let listener: std::net::TcpListener = socket.into();
            addr = listener.local_addr()?;
            sockets.push(listener);
        }
        Ok(BoundSockets { sockets, addr })
    }

    /// The bound address (with the real port when 0 was asked for).
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl RunningListener {
    /// Starts one worker per bound socket.
    pub(crate) fn start<R: Router + 'static>(plan: ListenerPlan<R>) -> std::io::Result<Self> {
        let BoundSockets { sockets, addr } = plan.sockets;
        let cores = if plan.pin {
            core_affinity::get_core_ids().unwrap_or_default()
        } else {
            Vec::new()
        };
        let shared = Arc::new(ServerShared::default());
        let mut threads = Vec::with_capacity(sockets.len());
        for (index, listener) in sockets.into_iter().enumerate() {
            let (make_router, metrics) = (plan.routers)(index);
            let setup = WorkerSetup {
                listener,
                core: (!cores.is_empty()).then(|| cores[index % cores.len()]),
                driver: plan.driver,
                limits: plan.limits.clone(),
                max_connections: plan.max_connections,
                metrics,
                make_router,
                shared: Arc::clone(&shared),
            };
            shared.running.fetch_add(1, Ordering::AcqRel);
            let thread_shared = Arc::clone(&shared);
            let thread = std::thread::Builder::new()
                .name(format!("{}-{index}", plan.name))
                .stack_size(WORKER_STACK_BYTES)
                .spawn(move || {
                    if let Err(e) = worker::run(setup) {
                        tracing::error!(error = %e, "worker failed");
                    }
                    thread_shared.running.fetch_sub(1, Ordering::AcqRel);
                })?;
            threads.push(thread);
        }
        Ok(RunningListener {
            addr,
            shared,
            threads,
        })
    }

    /// The bound address (with the real port when 0 was asked for).
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The flags and counts its workers share.
    pub(crate) fn shared(&self) -> Arc<ServerShared> {
        Arc::clone(&self.shared)
    }

    /// Whether every worker thread has exited (e.g. io_uring was required but missing).
    pub(crate) fn all_stopped(&self) -> bool {
        self.shared.running.load(Ordering::Acquire) == 0
    }

    /// Stops accepting, lets in-flight requests finish, and waits up to `deadline`.
    /// Returns whether every connection closed in time.
    pub(crate) fn drain(self, deadline: Instant) -> bool {
        self.shared.draining.store(true, Ordering::Release);
        while self.shared.running.load(Ordering::Acquire) > 0 {
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        for thread in self.threads {
            let _ = thread.join();
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuseport_sockets_share_one_resolved_port() {
        let bound = BoundSockets::bind("127.0.0.1:0".parse().unwrap(), 3, 16).unwrap();
        let ports: Vec<u16> = bound
            .sockets
            .iter()
            .map(|s| s.local_addr().unwrap().port())
            .collect();
        assert_ne!(ports[0], 0);
        assert_eq!(ports[0], bound.addr().port());
        assert!(ports.iter().all(|p| *p == ports[0]), "{ports:?}");
    }
}
