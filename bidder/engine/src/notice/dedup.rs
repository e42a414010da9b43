//! Counting each billing notice once, in bounded memory.
//!
//! Notices are grouped by the minute their token was issued. A token older than the
//! accepted age is refused before it gets here, so a minute's group can be dropped
//! once it falls out of that window: memory holds at most one window of notices.

use std::collections::HashSet;
use std::sync::Mutex;

use super::NoticeId;

/// Seconds covered by one group.
const BUCKET_S: u64 = 60;

/// Remembers which notices were already counted, for `max_age_s` seconds.
#[derive(Debug)]
pub struct NoticeDedup {
    buckets: Vec<Mutex<Bucket>>,
}

#[derive(Debug, Default)]
struct Bucket {
    minute: u64,
    seen: HashSet<NoticeId>,
}

impl NoticeDedup {
    /// A dedup window matching tokens accepted up to `max_age_s` old.
    pub fn new(max_age_s: u64) -> NoticeDedup {
        // One group per minute of the window, plus the current one and clock skew.
        let count = (max_age_s.div_ceil(BUCKET_S) + 3) as usize;
        NoticeDedup {
            buckets: (0..count).map(|_| Mutex::default()).collect(),
        }
    }

    /// Records the notice; true only the first time it is seen.
    pub fn first_time(&self, id: &NoticeId, issued_at_s: u64) -> bool {
        let minute = issued_at_s / BUCKET_S;
        let slot = (minute % self.buckets.len() as u64) as usize;
        let mut bucket = self.buckets[slot].lock().unwrap_or_else(|e| e.into_inner());
        if bucket.minute != minute {
            if bucket.minute > minute {
                // A newer minute owns the slot: this token is older than the window.
                return false;
            }
            bucket.minute = minute;
            bucket.seen.clear();
        }
        bucket.seen.insert(*id)
    }

    /// Notices currently remembered.
    pub fn len(&self) -> usize {
        self.buckets
            .iter()
            .map(|b| b.lock().unwrap_or_else(|e| e.into_inner()).seen.len())
            .sum()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_each_notice_once() {
        let dedup = NoticeDedup::new(3600);
        assert!(dedup.first_time(&[1; 16], 1000));
        assert!(!dedup.first_time(&[1; 16], 1000));
        assert!(dedup.first_time(&[2; 16], 1000));
    }

    #[test]
    fn memory_is_bounded_by_the_window() {
        let dedup = NoticeDedup::new(120);
        for minute in 0..1000u64 {
            for n in 0..10u8 {
                let mut id = [n; 16];
                id[..8].copy_from_slice(&minute.to_le_bytes());
                assert!(dedup.first_time(&id, minute * 60));
            }
        }
        assert!(dedup.len() <= 10 * 5, "remembered {}", dedup.len());
    }
}
