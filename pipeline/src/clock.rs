//! Time, made explicit: every partition is a Paris local (date, hour), computed with the
//! IANA time-zone database (chrono-tz), never with a fixed UTC offset.

use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

/// The stores' time zone.
pub const PARIS: Tz = chrono_tz::Europe::Paris;

/// First date the simulator (and the original API) serves.
pub fn first_available_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2021, 1, 1).unwrap_or(NaiveDate::MIN)
}

/// Where "now" comes from, so tests and the scheduler can move time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
}

/// The machine's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until told otherwise (tests, simulations of downtime).
#[derive(Debug, Clone)]
pub struct FixedClock(Arc<Mutex<DateTime<Utc>>>);

impl FixedClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        Self(Arc::new(Mutex::new(at)))
    }
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = at;
    }
    pub fn advance(&self, by: Duration) {
        let mut guard = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        *guard += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One Paris local hour: the unit of collection and ingestion.
///
/// On the autumn DST change the local hour 02:00 happens twice; both real hours map to
/// the same slot (the data is keyed by local wall time, as the original's was). On the
/// spring change 02:00 does not exist and no real hour maps to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HourSlot {
    pub date: NaiveDate,
    pub hour: u32,
}

impl HourSlot {
    pub fn new(date: NaiveDate, hour: u32) -> Option<Self> {
        (hour < 24).then_some(Self { date, hour })
    }

    /// The Paris local hour that contains the instant `at`.
    pub fn containing(at: DateTime<Utc>) -> Self {
        let local = at.with_timezone(&PARIS);
        Self {
            date: local.date_naive(),
            hour: local.hour(),
        }
    }

    /// The latest hour whose data is available at `now`: the hour containing `now - 1 h`
    /// (the original's rule).
    pub fn latest_available(now: DateTime<Utc>) -> Self {
        Self::containing(now - Duration::hours(1))
    }

    /// True when this local hour exists on the Paris wall clock (false for the hour
    /// skipped on the spring DST change).
    pub fn exists_in_paris(&self) -> bool {
        let naive = NaiveDateTime::new(
            self.date,
            NaiveTime::from_hms_opt(self.hour, 0, 0).unwrap_or(NaiveTime::MIN),
        );
        !matches!(PARIS.from_local_datetime(&naive), chrono::LocalResult::None)
    }

    /// The instant this local hour begins (UTC): the first of the two on the autumn
    /// change; for the hour the spring change skips, the instant the clock jumps (03:00).
    pub fn start_utc(&self) -> DateTime<Utc> {
        let naive = NaiveDateTime::new(
            self.date,
            NaiveTime::from_hms_opt(self.hour, 0, 0).unwrap_or(NaiveTime::MIN),
        );
        match PARIS.from_local_datetime(&naive).earliest() {
            Some(t) => t.with_timezone(&Utc),
            None => PARIS
                .from_local_datetime(&(naive + Duration::hours(1)))
                .earliest()
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_else(|| naive.and_utc()),
        }
    }

    /// The ledger's partition key of this hour: `2025-03-14T10`.
    pub fn key(&self) -> String {
        format!("{}T{:02}", crate::spelling::date_text(self.date), self.hour)
    }

    /// `"HH:00:00"`, the original's `heure` format.
    pub fn heure(&self) -> String {
        crate::spelling::heure(self.hour)
    }

    /// Every local hour of a Paris day that exists on the wall clock, in order
    /// (23 on the spring change, 24 otherwise; the repeated autumn hour appears once).
    pub fn hours_of_day(date: NaiveDate) -> impl Iterator<Item = HourSlot> {
        (0..24)
            .map(move |hour| HourSlot { date, hour })
            .filter(HourSlot::exists_in_paris)
    }
}

impl std::fmt::Display for HourSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {:02}h", self.date, self.hour)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("valid test timestamp")
            .with_timezone(&Utc)
    }

    #[test]
    fn paris_is_utc_plus_one_in_winter_and_plus_two_in_summer() {
        // The original added a fixed 2 hours: right in July, wrong in January.
        let winter = HourSlot::containing(utc("2025-01-15T10:30:00Z"));
        assert_eq!(winter.hour, 11);
        let summer = HourSlot::containing(utc("2025-07-15T10:30:00Z"));
        assert_eq!(summer.hour, 12);
    }

    #[test]
    fn spring_change_skips_two_oclock() {
        let date = NaiveDate::from_ymd_opt(2025, 3, 30).expect("date");
        let hours: Vec<u32> = HourSlot::hours_of_day(date).map(|s| s.hour).collect();
        assert_eq!(hours.len(), 23);
        assert!(!hours.contains(&2));
        // 00:59:59Z is 01:59:59 CET, 01:00Z is 03:00 CEST.
        assert_eq!(HourSlot::containing(utc("2025-03-30T00:59:59Z")).hour, 1);
        assert_eq!(HourSlot::containing(utc("2025-03-30T01:00:00Z")).hour, 3);
    }

    #[test]
    fn autumn_change_repeats_two_oclock_once_as_a_slot() {
        let date = NaiveDate::from_ymd_opt(2025, 10, 26).expect("date");
        assert_eq!(HourSlot::hours_of_day(date).count(), 24);
        assert_eq!(HourSlot::containing(utc("2025-10-26T00:30:00Z")).hour, 2);
        assert_eq!(HourSlot::containing(utc("2025-10-26T01:30:00Z")).hour, 2);
        assert_eq!(HourSlot::containing(utc("2025-10-26T02:30:00Z")).hour, 3);
    }

    #[test]
    fn latest_available_is_the_hour_before_now() {
        let now = utc("2025-01-15T10:30:00Z"); // 11:30 Paris
        let slot = HourSlot::latest_available(now);
        assert_eq!((slot.hour, slot.heure().as_str()), (10, "10:00:00"));
    }
}
