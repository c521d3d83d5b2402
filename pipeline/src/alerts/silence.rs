//! Silences: a store, a sensor or the whole chain whose alerts are kept but not delivered
//! over a time range, optionally only on some weekdays and hours (a planned closure). Plain
//! data, compiled for the browser too; whether a silence covers an instant needs Paris time
//! and lives in the server build.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A weekly recurrence: only these weekdays, only these Paris local hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recurrence {
    /// Bit 0 = Monday … bit 6 = Sunday.
    pub weekdays: u8,
    /// First local hour covered (0..=23).
    pub hour_from: u32,
    /// First local hour no longer covered (1..=24), after `hour_from`.
    pub hour_to: u32,
}

impl Recurrence {
    /// Every weekday of `days` (0 = Monday) from `hour_from` to `hour_to`.
    pub fn new(days: impl IntoIterator<Item = u32>, hour_from: u32, hour_to: u32) -> Self {
        let weekdays = days
            .into_iter()
            .filter(|d| *d < 7)
            .fold(0u8, |m, d| m | (1 << d));
        Recurrence {
            weekdays,
            hour_from,
            hour_to,
        }
    }

    /// True when the weekdays and hours make sense (at least one day, hours in order).
    pub fn is_valid(&self) -> bool {
        self.weekdays & 0x7f != 0 && self.hour_from < self.hour_to && self.hour_to <= 24
    }

    /// True on weekday `day` (0 = Monday) at local hour `hour`.
    pub fn covers_local(&self, day: u32, hour: u32) -> bool {
        day < 7 && self.weekdays & (1 << day) != 0 && hour >= self.hour_from && hour < self.hour_to
    }
}

/// A silence as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Silence {
    pub id: i64,
    /// `None`: the whole chain (admins only).
    pub store_id: Option<i64>,
    /// Only this sensor of the store.
    pub sensor_id: Option<i64>,
    pub start: DateTime<Utc>,
    /// Exclusive.
    pub end: DateTime<Utc>,
    pub recurrence: Option<Recurrence>,
    pub reason: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// Ended early, by whom.
    pub lifted_at: Option<DateTime<Utc>>,
    pub lifted_by: Option<String>,
}

impl Silence {
    /// When it stops holding alerts back: its end, or when it was lifted if earlier.
    pub fn effective_end(&self) -> DateTime<Utc> {
        match self.lifted_at {
            Some(l) if l < self.end => l,
            _ => self.end,
        }
    }

    /// True when it concerns this store and sensor (ignoring time).
    pub fn concerns(&self, store_id: i64, sensor_id: Option<i64>) -> bool {
        match (self.store_id, self.sensor_id) {
            (None, _) => true,
            (Some(s), None) => s == store_id,
            (Some(s), Some(sensor)) => s == store_id && sensor_id == Some(sensor),
        }
    }
}

/// What a person asks to silence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewSilence {
    pub store_id: Option<i64>,
    pub sensor_id: Option<i64>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub recurrence: Option<Recurrence>,
    pub reason: String,
}

#[cfg(feature = "runtime")]
impl Silence {
    /// True when it holds back an alert of this store and sensor starting at `at`.
    pub fn covers(&self, store_id: i64, sensor_id: Option<i64>, at: DateTime<Utc>) -> bool {
        use chrono::{Datelike, Timelike};
        if !self.concerns(store_id, sensor_id) || at < self.start || at >= self.effective_end() {
            return false;
        }
        match self.recurrence {
            None => true,
            Some(r) => {
                let local = at.with_timezone(&crate::clock::PARIS);
                r.covers_local(local.weekday().num_days_from_monday(), local.hour())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn silence(store: Option<i64>, sensor: Option<i64>, rec: Option<Recurrence>) -> Silence {
        Silence {
            id: 1,
            store_id: store,
            sensor_id: sensor,
            start: Utc.with_ymd_and_hms(2025, 3, 1, 0, 0, 0).unwrap(),
            end: Utc.with_ymd_and_hms(2025, 4, 1, 0, 0, 0).unwrap(),
            recurrence: rec,
            reason: String::new(),
            created_by: "lea".into(),
            created_at: Utc.with_ymd_and_hms(2025, 3, 1, 0, 0, 0).unwrap(),
            lifted_at: None,
            lifted_by: None,
        }
    }

    #[test]
    fn recurrence_and_scope() {
        let r = Recurrence::new([2], 13, 20); // Wednesdays 13h-20h
        assert!(r.is_valid());
        assert!(r.covers_local(2, 13) && r.covers_local(2, 19));
        assert!(!r.covers_local(2, 20) && !r.covers_local(1, 14));
        assert!(!Recurrence::new([], 1, 2).is_valid());
        assert!(!Recurrence::new([0], 5, 5).is_valid());
        let store = silence(Some(3), None, None);
        assert!(store.concerns(3, Some(1)) && store.concerns(3, None) && !store.concerns(4, None));
        let sensor = silence(Some(3), Some(2), None);
        assert!(sensor.concerns(3, Some(2)) && !sensor.concerns(3, Some(1)));
        assert!(!sensor.concerns(3, None));
        assert!(silence(None, None, None).concerns(9, None));
    }

    #[cfg(feature = "runtime")]
    #[test]
    fn covers_in_paris_time_and_stops_when_lifted() {
        // Wednesday 2025-03-12, 14:00 Paris = 13:00 UTC.
        let wed_14 = Utc.with_ymd_and_hms(2025, 3, 12, 13, 0, 0).unwrap();
        let wed_12 = Utc.with_ymd_and_hms(2025, 3, 12, 11, 0, 0).unwrap();
        let mut s = silence(Some(3), None, Some(Recurrence::new([2], 13, 20)));
        assert!(s.covers(3, None, wed_14));
        assert!(!s.covers(3, None, wed_12), "before 13h Paris");
        assert!(!s.covers(4, None, wed_14));
        s.lifted_at = Some(Utc.with_ymd_and_hms(2025, 3, 10, 0, 0, 0).unwrap());
        assert!(!s.covers(3, None, wed_14), "lifted before");
        let april = Utc.with_ymd_and_hms(2025, 4, 2, 12, 0, 0).unwrap();
        assert!(!silence(None, None, None).covers(1, None, april), "ended");
    }
}
