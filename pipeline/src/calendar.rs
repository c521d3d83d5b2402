//! The stores' calendar: the days they open and the hours they are open. Everything that
//! asks "is the store open?" (the simulator, the API, the cleaning, the rollups, the
//! dashboard's hour filters) reads it here.
//!
//! Plain data, compiled for the browser too (the pipeline crate without its `runtime`
//! feature).

use std::ops::RangeInclusive;

use chrono::{Datelike, NaiveDate, Weekday};

/// Opening hours: 09:00 to 20:00, i.e. the hours starting 9..=19.
pub const OPENING_HOURS: RangeInclusive<u32> = 9..=19;

/// True on the days the stores open (Monday to Friday).
pub fn is_open_day(date: NaiveDate) -> bool {
    !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// True for the local hours the stores are open (see [`OPENING_HOURS`]).
pub fn is_open_hour(hour: u32) -> bool {
    OPENING_HOURS.contains(&hour)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekdays_open_from_nine_to_twenty() {
        let monday = NaiveDate::from_ymd_opt(2025, 3, 10).expect("date");
        let open: Vec<bool> = (0..7)
            .map(|i| is_open_day(monday + chrono::Duration::days(i)))
            .collect();
        assert_eq!(open, [true, true, true, true, true, false, false]);
        assert!(!is_open_hour(8) && is_open_hour(9) && is_open_hour(19) && !is_open_hour(20));
    }
}
