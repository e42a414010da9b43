//! Budget days in the advertiser's time zone.
//!
//! A daily budget resets at midnight where the advertiser is, not in UTC: a
//! campaign names an IANA zone (`budget.timezone`, e.g. `America/New_York`) and its
//! budget day is the civil date there. Days are numbered like Unix days (days since
//! 1970-01-01, the civil date's own count), so a day is one small integer; its
//! bounds are the instants of the two local midnights, 23 or 25 hours apart across
//! a daylight-saving change. The zone rules come from the IANA database compiled
//! into the binary (jiff's bundled tzdb), so every bidder of a fleet agrees.

use jiff::tz::TimeZone;
use jiff::{Timestamp, civil};

/// Seconds in a day of UTC.
const SECONDS_PER_DAY: i64 = 86_400;

/// The time zone a campaign's days are counted in. `Default` is UTC.
#[derive(Debug, Clone, Default)]
pub struct BudgetZone {
    /// `None` is UTC, computed without a zone lookup.
    zone: Option<(String, TimeZone)>,
}

/// A `budget.timezone` that is not an IANA zone name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown time zone {0:?} (use an IANA name such as \"America/New_York\" or \"UTC\")")]
pub struct UnknownZone(pub String);

impl PartialEq for BudgetZone {
    fn eq(&self, other: &BudgetZone) -> bool {
        self.name() == other.name()
    }
}

impl BudgetZone {
    /// The zone named `name` in the IANA database (`UTC` and `Etc/UTC` are UTC).
    pub fn named(name: &str) -> Result<BudgetZone, UnknownZone> {
        if matches!(name, "UTC" | "Etc/UTC") {
            return Ok(BudgetZone::default());
        }
        let zone = jiff::tz::db()
            .get(name)
            .map_err(|_| UnknownZone(name.to_owned()))?;
        Ok(BudgetZone {
            zone: Some((name.to_owned(), zone)),
        })
    }

    /// The IANA name.
    pub fn name(&self) -> &str {
        self.zone.as_ref().map_or("UTC", |(name, _)| name)
    }

    /// The budget day at `unix_s`: the local civil date, as days since 1970-01-01.
    pub fn day_of(&self, unix_s: u64) -> u32 {
        let s = unix_s as i64;
        let offset = match &self.zone {
            None => 0,
            Some((_, zone)) => {
                Timestamp::from_second(s).map_or(0, |t| i64::from(zone.to_offset(t).seconds()))
            }
        };
        (s + offset).div_euclid(SECONDS_PER_DAY).max(0) as u32
    }

    /// When budget day `day` starts, seconds since the Unix epoch: local midnight,
    /// or the first instant after it when a daylight-saving change skips midnight.
    pub fn day_start(&self, day: u32) -> u64 {
        let utc_midnight = i64::from(day) * SECONDS_PER_DAY;
        let Some((_, zone)) = &self.zone else {
            return utc_midnight as u64;
        };
        let start = Timestamp::from_second(utc_midnight)
            .map(|t| t.to_zoned(TimeZone::UTC).date())
            .and_then(|date| date.to_zoned(zone.clone()))
            .map_or(utc_midnight, |midnight| midnight.timestamp().as_second());
        start.max(0) as u64
    }

    /// When budget day `day` ends (the next day's start), seconds since the epoch.
    pub fn day_end(&self, day: u32) -> u64 {
        self.day_start(day + 1)
    }

    /// Budget day `day` as an ISO date (`2026-11-30`), the ledger's key for a day.
    pub fn date(day: u32) -> String {
        civil::Date::constant(1970, 1, 1)
            .checked_add(jiff::Span::new().days(i64::from(day)))
            .map_or_else(|_| day.to_string(), |date| date.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-03-08T07:00:00Z: 02:00 EST becomes 03:00 EDT in New York.
    const SPRING_FORWARD: u64 = 1_772_953_200;
    /// 2026-11-01T06:00:00Z: 02:00 EDT becomes 01:00 EST in New York.
    const FALL_BACK: u64 = 1_793_512_800;

    #[test]
    fn utc_days_are_unix_days() {
        let utc = BudgetZone::default();
        assert_eq!(utc.day_of(0), 0);
        assert_eq!(utc.day_of(86_399), 0);
        assert_eq!(utc.day_of(86_400), 1);
        assert_eq!(utc.day_start(20_422), 20_422 * 86_400);
        assert_eq!(BudgetZone::named("Etc/UTC").unwrap(), utc);
        assert_eq!(BudgetZone::date(20_422), "2025-11-30");
    }

    #[test]
    fn a_day_runs_from_local_midnight_to_local_midnight() {
        let tokyo = BudgetZone::named("Asia/Tokyo").unwrap();
        // 2026-11-30T15:00:00Z is midnight of 2026-12-01 in Tokyo (UTC+9).
        let midnight = 1_796_050_800;
        let day = tokyo.day_of(midnight);
        assert_eq!(BudgetZone::date(day), "2026-12-01");
        assert_eq!(tokyo.day_of(midnight - 1), day - 1);
        assert_eq!(tokyo.day_start(day), midnight);
        assert_eq!(tokyo.day_end(day), midnight + 86_400);
        let utc_day = BudgetZone::default().day_of(midnight);
        assert_eq!(
            BudgetZone::date(utc_day),
            "2026-11-30",
            "still the 30th in UTC"
        );
    }

    #[test]
    fn daylight_saving_days_are_23_and_25_hours_long() {
        let new_york = BudgetZone::named("America/New_York").unwrap();
        let spring = new_york.day_of(SPRING_FORWARD);
        assert_eq!(BudgetZone::date(spring), "2026-03-08");
        assert_eq!(
            new_york.day_end(spring) - new_york.day_start(spring),
            23 * 3_600
        );
        // Midnight EST is 05:00Z.
        assert_eq!(new_york.day_start(spring), SPRING_FORWARD - 2 * 3_600);
        let fall = new_york.day_of(FALL_BACK);
        assert_eq!(BudgetZone::date(fall), "2026-11-01");
        assert_eq!(
            new_york.day_end(fall) - new_york.day_start(fall),
            25 * 3_600
        );
        // Both 01:30s of the repeated hour are on the same day.
        assert_eq!(new_york.day_of(FALL_BACK - 1_800), fall);
        assert_eq!(new_york.day_of(FALL_BACK + 1_800), fall);
        // And every instant of a day maps back to it.
        let (start, end) = (new_york.day_start(fall), new_york.day_end(fall));
        assert_eq!(new_york.day_of(start), fall);
        assert_eq!(new_york.day_of(end - 1), fall);
        assert_eq!(new_york.day_of(end), fall + 1);
    }

    #[test]
    fn a_day_that_skips_midnight_starts_when_the_clocks_resume() {
        // Santiago moves from -04 to -03 at 24:00 on 2026-09-05: 2026-09-06 starts at
        // 01:00 local, 04:00Z.
        let santiago = BudgetZone::named("America/Santiago").unwrap();
        let start = 1_788_667_200; // 2026-09-06T04:00:00Z
        let day = santiago.day_of(start);
        assert_eq!(BudgetZone::date(day), "2026-09-06");
        assert_eq!(santiago.day_start(day), start);
        assert_eq!(santiago.day_of(start - 1), day - 1);
    }

    #[test]
    fn unknown_zones_are_refused_by_name() {
        let err = BudgetZone::named("Mars/Olympus_Mons").unwrap_err();
        assert!(err.to_string().contains("Mars/Olympus_Mons"), "{err}");
        assert!(BudgetZone::named("").is_err());
    }
}
