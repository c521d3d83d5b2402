//! Which dates and hours can be asked for: from 2021-01-01 up to the hour before now
//! (Paris time), as the original API had it.

use chrono::{DateTime, NaiveDate, Utc};

use crate::calendar::{is_open_day, OPENING_HOURS};
use crate::clock::{first_available_date, HourSlot};

/// Why a date or an hour cannot be served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Unavailable {
    #[error("data starts on {first}")]
    BeforeFirstDate { first: NaiveDate },
    #[error("the date is in the future")]
    InFuture,
    #[error("not available yet: the latest available hour is {latest}")]
    NotYet { latest: HourSlot },
}

/// Checks one hour (`Some(h)`) or a whole day's opening hours (`None`) against `now`.
pub fn check(date: NaiveDate, hour: Option<u32>, now: DateTime<Utc>) -> Result<(), Unavailable> {
    let first = first_available_date();
    if date < first {
        return Err(Unavailable::BeforeFirstDate { first });
    }
    let latest = HourSlot::latest_available(now);
    let today = HourSlot::containing(now).date;
    if date > today {
        return Err(Unavailable::InFuture);
    }
    let needed = HourSlot {
        date,
        hour: hour.unwrap_or(*OPENING_HOURS.end()),
    };
    if needed > latest {
        return Err(Unavailable::NotYet { latest });
    }
    Ok(())
}

/// Why a range of days cannot be run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    #[error("--from ({from}) is after --to ({to})")]
    Reversed { from: NaiveDate, to: NaiveDate },
    #[error(
        "{from} → {to} is outside the service's range: data exists from {first} to the last \
         complete hour ({latest}); nothing was written"
    )]
    OutsideService {
        from: NaiveDate,
        to: NaiveDate,
        first: NaiveDate,
        latest: HourSlot,
    },
}

/// The one date range of the whole service: from 2021-01-01 to the last complete hour
/// (Paris), the same for the API, `backfill`, `import` and the admin API.
pub fn service_range(now: DateTime<Utc>) -> (HourSlot, HourSlot) {
    (
        HourSlot {
            date: first_available_date(),
            hour: 0,
        },
        HourSlot::latest_available(now),
    )
}

/// True when the hour (or the date, with `hour = None`) lies inside [`service_range`].
pub fn in_service_range(date: NaiveDate, hour: Option<u32>, now: DateTime<Utc>) -> bool {
    let (first, latest) = service_range(now);
    date >= first.date
        && match hour {
            Some(h) => HourSlot { date, hour: h } <= latest,
            None => date <= latest.date,
        }
}

/// Checks a range of days for `backfill`: refused when it starts before 2021-01-01 or
/// after the last complete hour (days after now at its end are skipped by the run).
pub fn check_range(from: NaiveDate, to: NaiveDate, now: DateTime<Utc>) -> Result<(), RangeError> {
    if from > to {
        return Err(RangeError::Reversed { from, to });
    }
    let (first, latest) = service_range(now);
    if from < first.date || from > latest.date {
        return Err(RangeError::OutsideService {
            from,
            to,
            first: first.date,
            latest,
        });
    }
    Ok(())
}

/// The most recent open day whose opening hours are all available at `now`.
pub fn latest_complete_open_day(now: DateTime<Utc>) -> NaiveDate {
    let mut date = HourSlot::latest_available(now).date;
    let first = first_available_date();
    while date > first && (!is_open_day(date) || check(date, None, now).is_err()) {
        date = date.pred_opt().unwrap_or(first);
    }
    date
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("timestamp")
            .with_timezone(&Utc)
    }
    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    #[test]
    fn window_is_first_date_to_an_hour_ago() {
        let now = utc("2025-01-15T10:30:00Z"); // Wednesday 11:30 Paris
        assert_eq!(
            check(d("2020-12-31"), Some(12), now),
            Err(Unavailable::BeforeFirstDate {
                first: d("2021-01-01")
            })
        );
        assert_eq!(check(d("2021-01-01"), Some(12), now), Ok(()));
        assert_eq!(check(d("2025-01-15"), Some(10), now), Ok(()));
        assert!(matches!(
            check(d("2025-01-15"), Some(11), now),
            Err(Unavailable::NotYet { .. })
        ));
        assert!(matches!(
            check(d("2025-01-15"), None, now),
            Err(Unavailable::NotYet { .. })
        ));
        assert_eq!(
            check(d("2025-01-16"), Some(3), now),
            Err(Unavailable::InFuture)
        );
        assert_eq!(check(d("2025-01-14"), None, now), Ok(()));
    }

    #[test]
    fn one_range_for_backfill_and_import() {
        let now = utc("2025-01-15T10:30:00Z"); // Wednesday 11:30 Paris
        assert!(check_range(d("2019-12-30"), d("2020-01-02"), now).is_err());
        assert!(check_range(d("2020-12-31"), d("2021-01-02"), now).is_err());
        assert!(check_range(d("0000-01-01"), d("0000-12-31"), now).is_err());
        assert!(check_range(d("2025-01-16"), d("2025-01-17"), now).is_err());
        assert!(matches!(
            check_range(d("2025-01-10"), d("2025-01-09"), now),
            Err(RangeError::Reversed { .. })
        ));
        assert_eq!(check_range(d("2021-01-01"), d("2025-01-20"), now), Ok(()));
        assert!(in_service_range(d("2025-01-15"), Some(10), now));
        assert!(!in_service_range(d("2025-01-15"), Some(11), now));
        assert!(in_service_range(d("2025-01-15"), None, now));
        assert!(!in_service_range(d("2099-12-31"), None, now));
        assert!(!in_service_range(d("2020-12-31"), Some(12), now));
    }

    #[test]
    fn latest_complete_open_day_skips_weekends_and_today() {
        // Monday 2025-01-13 11:30 Paris: today incomplete, weekend closed → Friday.
        let now = utc("2025-01-13T10:30:00Z");
        assert_eq!(latest_complete_open_day(now), d("2025-01-10"));
        // Monday 21:30 Paris: Monday is complete.
        let now = utc("2025-01-13T20:30:00Z");
        assert_eq!(latest_complete_open_day(now), d("2025-01-13"));
    }
}
