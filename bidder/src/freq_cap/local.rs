//! The in-process frequency-cap store of the embedded default: one bidder, no Redis.

use std::sync::atomic::{AtomicU64, Ordering};

use dashmap::DashMap;
use tern_engine::clock::now_ms;
use tern_engine::user::UserKey;

/// How often expired counters are swept, milliseconds: by time, so a notice never
/// pays for counting every shard.
const SWEEP_EVERY_MS: u64 = 60_000;

/// Counters in memory, expiring like their Redis counterparts. Keyed by the user
/// and a 128-bit hash of the campaign id, so a lookup on the bid path allocates
/// nothing.
#[derive(Debug, Default)]
pub(crate) struct LocalCaps {
    counters: DashMap<(UserKey, u128), Counter>,
    /// When expired counters were last swept, milliseconds since the epoch.
    swept_at_ms: AtomicU64,
}

/// The key of one user's counter for one campaign.
fn key(user: &UserKey, campaign_id: &str) -> (UserKey, u128) {
    (*user, xxhash_rust::xxh3::xxh3_128(campaign_id.as_bytes()))
}

#[derive(Debug, Clone, Copy)]
struct Counter {
    count: u32,
    expires_at_ms: u64,
}

impl LocalCaps {
    /// Impressions in the current window.
    pub(crate) fn count(&self, user: &UserKey, campaign_id: &str) -> u32 {
        let now = now_ms();
        self.counters
            .get(&key(user, campaign_id))
            .filter(|c| c.expires_at_ms > now)
            .map_or(0, |c| c.count)
    }

    /// Counts one impression; the window starts with the first.
    pub(crate) fn record(&self, user: &UserKey, campaign_id: &str, window_secs: u64) {
        let now = now_ms();
        let swept = self.swept_at_ms.load(Ordering::Relaxed);
        if now.saturating_sub(swept) >= SWEEP_EVERY_MS
            && self
                .swept_at_ms
                .compare_exchange(swept, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            // One notice a minute, on one core, sweeps for everyone.
            self.counters.retain(|_, c| c.expires_at_ms > now);
        }
        let mut counter = self
            .counters
            .entry(key(user, campaign_id))
            .or_insert(Counter {
                count: 0,
                expires_at_ms: 0,
            });
        if counter.expires_at_ms <= now {
            *counter = Counter {
                count: 0,
                expires_at_ms: now.saturating_add(window_secs.saturating_mul(1000)),
            };
        }
        counter.count += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_user_and_campaign_until_the_window_ends() {
        let caps = LocalCaps::default();
        let (alice, bob) = (UserKey([1; 16]), UserKey([2; 16]));
        caps.record(&alice, "c", 60);
        caps.record(&alice, "c", 60);
        assert_eq!(caps.count(&alice, "c"), 2);
        assert_eq!(caps.count(&alice, "d"), 0);
        assert_eq!(caps.count(&bob, "c"), 0);
        caps.record(&bob, "c", 0);
        assert_eq!(
            caps.count(&bob, "c"),
            0,
            "a zero-length window has already ended"
        );
    }
}
