//! The in-process frequency-cap store of the embedded default: one bidder, no Redis.

use std::time::{SystemTime, UNIX_EPOCH};

use dashmap::DashMap;
use tern_engine::user::UserKey;

/// Entries above which expired counters are swept on the next write.
const SWEEP_ABOVE: usize = 100_000;

/// Counters in memory, expiring like their Redis counterparts.
#[derive(Debug, Default)]
pub(crate) struct LocalCaps {
    counters: DashMap<(UserKey, String), Counter>,
}

#[derive(Debug, Clone, Copy)]
struct Counter {
    count: u32,
    expires_at_ms: u64,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl LocalCaps {
    /// Impressions in the current window.
    pub(crate) fn count(&self, user: &UserKey, campaign_id: &str) -> u32 {
        let now = now_ms();
        self.counters
            .get(&(*user, campaign_id.to_owned()))
            .filter(|c| c.expires_at_ms > now)
            .map_or(0, |c| c.count)
    }

    /// Counts one impression; the window starts with the first.
    pub(crate) fn record(&self, user: &UserKey, campaign_id: &str, window_secs: u64) {
        let now = now_ms();
        if self.counters.len() > SWEEP_ABOVE {
            self.counters.retain(|_, c| c.expires_at_ms > now);
        }
        let mut counter = self
            .counters
            .entry((*user, campaign_id.to_owned()))
            .or_insert(Counter {
                count: 0,
                expires_at_ms: 0,
            });
        if counter.expires_at_ms <= now {
            *counter = Counter {
                count: 0,
                expires_at_ms: now + window_secs * 1000,
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
