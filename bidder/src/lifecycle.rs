//! One shape for every background service (the campaign file watcher, the DynamoDB
//! sync, the event shipper, the Redis resolver), after pingora's background
//! services: a named thread started with a [`StopSignal`] it watches, and stopped
//! through [`Background::stop`] with a deadline, never by being dropped here and
//! shut down there.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::error::StartError;

/// How often a stopping service is checked on while it finishes.
const JOIN_POLL: Duration = Duration::from_millis(2);
/// The longest sleep between looks at the signal.
const SLEEP_SLICE: Duration = Duration::from_millis(20);
/// How long past its deadline a stopping service is waited for: long enough to
/// notice the deadline and account for what it had left (the event shipper counts
/// what it could not send).
const GRACE: Duration = Duration::from_millis(100);

/// What a background thread watches: whether to stop, and by when it must have
/// finished what it is doing.
#[derive(Debug, Clone)]
pub struct StopSignal {
    inner: Arc<SignalState>,
}

#[derive(Debug)]
struct SignalState {
    stopping: AtomicBool,
    /// The deadline, in milliseconds after `epoch`; `u64::MAX` while running.
    deadline_ms: AtomicU64,
    epoch: Instant,
}

impl StopSignal {
    fn new() -> StopSignal {
        StopSignal {
            inner: Arc::new(SignalState {
                stopping: AtomicBool::new(false),
                deadline_ms: AtomicU64::new(u64::MAX),
                epoch: Instant::now(),
            }),
        }
    }

    /// Whether the service has been asked to stop.
    pub fn is_stopping(&self) -> bool {
        self.inner.stopping.load(Ordering::Acquire)
    }

    /// When a stopping service must be done (`None` while running).
    pub fn deadline(&self) -> Option<Instant> {
        match self.inner.deadline_ms.load(Ordering::Acquire) {
            u64::MAX => None,
            ms => Some(self.inner.epoch + Duration::from_millis(ms)),
        }
    }

    /// Sleeps for `period`, waking early when asked to stop; returns whether the
    /// service should go on.
    pub fn sleep(&self, period: Duration) -> bool {
        let until = Instant::now() + period;
        while !self.is_stopping() {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return true;
            }
            std::thread::sleep(left.min(SLEEP_SLICE));
        }
        false
    }

    fn raise(&self, deadline: Instant) {
        let ms = deadline
            .saturating_duration_since(self.inner.epoch)
            .as_millis()
            .min(u128::from(u64::MAX - 1)) as u64;
        self.inner.deadline_ms.store(ms, Ordering::Release);
        self.inner.stopping.store(true, Ordering::Release);
    }
}

/// A running background service: its thread and the signal it watches.
#[derive(Debug)]
pub struct Background {
    name: &'static str,
    signal: StopSignal,
    thread: Option<JoinHandle<()>>,
}

impl Background {
    /// Starts `run` on a thread named `name`, handing it the stop signal.
    pub fn spawn(
        name: &'static str,
        run: impl FnOnce(StopSignal) + Send + 'static,
    ) -> Result<Background, StartError> {
        let signal = StopSignal::new();
        let for_thread = signal.clone();
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || run(for_thread))
            .map_err(|source| StartError::Thread {
                thread: name,
                source,
            })?;
        Ok(Background {
            name,
            signal,
            thread: Some(thread),
        })
    }

    /// Asks the service to stop and finish by `deadline`, and waits for it until
    /// then (and a short grace to wind up). Returns whether it finished; one still
    /// busy is left to end on its own (it will, at its next look at the signal).
    pub fn stop(mut self, deadline: Instant) -> bool {
        self.signal.raise(deadline);
        let Some(thread) = self.thread.take() else {
            return true;
        };
        while !thread.is_finished() {
            if Instant::now() >= deadline + GRACE {
                tracing::warn!(service = self.name, "still stopping at the deadline");
                return false;
            }
            std::thread::sleep(JOIN_POLL);
        }
        let _ = thread.join();
        true
    }
}

impl Drop for Background {
    /// A service dropped without [`Background::stop`] (a failed start) is asked to
    /// stop at once and not waited for.
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.signal.raise(Instant::now());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_sees_the_signal_and_its_deadline_and_is_waited_for() {
        let (tx, rx) = std::sync::mpsc::channel();
        let service = Background::spawn("test-service", move |signal| {
            while signal.sleep(Duration::from_secs(60)) {}
            tx.send(signal.deadline()).unwrap();
        })
        .unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        let started = Instant::now();
        assert!(service.stop(deadline));
        assert!(started.elapsed() < Duration::from_secs(1), "woke early");
        let seen = rx.recv().unwrap().unwrap();
        assert!(seen.max(deadline) - seen.min(deadline) <= Duration::from_millis(1));
    }

    #[test]
    fn a_service_busy_past_the_deadline_is_left_to_finish() {
        let service = Background::spawn("slow-service", |_| {
            std::thread::sleep(Duration::from_millis(300));
        })
        .unwrap();
        assert!(!service.stop(Instant::now() + Duration::from_millis(20)));
    }
}
