//! Wall-clock time as the bidder counts it: Unix seconds and milliseconds, the
//! UTC hour campaigns target, and the UTC day daily budgets reset on. Read once per
//! request and handed down, so the decision itself never reads the clock.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds in one budget day.
const SECONDS_PER_DAY: u64 = 86_400;

/// Seconds since the Unix epoch; 0 if the clock is set before it.
pub fn now_unix_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Milliseconds since the Unix epoch; 0 if the clock is set before it.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The budget day of `unix_s`: days since the Unix epoch, UTC. Daily budgets
/// count spend per budget day.
pub fn budget_day(unix_s: u64) -> u64 {
    unix_s / SECONDS_PER_DAY
}

/// The UTC hour of `unix_s`, 0 to 23, for `targeting.hours_utc`.
pub fn hour_of_day(unix_s: u64) -> u32 {
    ((unix_s / 3_600) % 24) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_hours_are_utc() {
        // 2023-11-15T00:00:00Z and one second before it.
        let midnight = 1_700_006_400;
        assert_eq!(budget_day(midnight) - budget_day(midnight - 1), 1);
        assert_eq!(hour_of_day(midnight), 0);
        assert_eq!(hour_of_day(midnight - 1), 23);
        assert_eq!(hour_of_day(midnight + 12 * 3_600 + 59), 12);
    }

    #[test]
    fn the_clock_is_after_2020() {
        assert!(now_unix_s() > 1_577_836_800);
        assert!(now_ms() / 1_000 >= now_unix_s() - 1);
    }
}
