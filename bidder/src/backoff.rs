//! Capped exponential backoff with jitter: the one retry pace of every loop that
//! waits for an outside service to recover (the DynamoDB sync, the event shipper,
//! a failing Redis, seeding a table).

use std::time::Duration;

/// Delays that double from `initial` up to `max`, each drawn between half and all
/// of its step so a fleet that failed together does not retry together.
#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    step: Duration,
    seed: u64,
}

impl Backoff {
    /// A backoff starting at `initial` and capped at `max` (`max` below `initial`
    /// counts as `initial`).
    pub fn new(initial: Duration, max: Duration) -> Backoff {
        // Seeded from the clock and this value's address: different per process
        // and per loop, which is all jitter needs.
        let seed = (tern_engine::clock::now_ms() ^ (&initial as *const _ as u64)) | 1;
        Backoff {
            initial,
            max: max.max(initial),
            step: initial,
            seed,
        }
    }

    /// The next delay: half the current step plus up to half again at random; then
    /// the step doubles, up to the cap.
    pub fn next_delay(&mut self) -> Duration {
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        let half = self.step / 2;
        let jitter_us = self.seed % (half.as_micros() as u64 + 1);
        let delay = (half + Duration::from_micros(jitter_us)).max(Duration::from_micros(1));
        self.step = (self.step * 2).min(self.max);
        delay
    }

    /// Back to the first step, after a success.
    pub fn reset(&mut self) {
        self.step = self.initial;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_to_the_cap_with_jitter_and_reset() {
        let ms = Duration::from_millis;
        let mut backoff = Backoff::new(ms(100), ms(1_000));
        let delays: Vec<Duration> = (0..6).map(|_| backoff.next_delay()).collect();
        for (delay, step) in delays.iter().zip([100, 200, 400, 800, 1000, 1000]) {
            assert!((ms(step / 2)..=ms(step)).contains(delay), "{delays:?}");
        }
        assert!(
            delays.windows(2).any(|w| w[0] != w[1] / 2),
            "jittered: {delays:?}"
        );
        backoff.reset();
        assert!(backoff.next_delay() <= ms(100));
    }
}
