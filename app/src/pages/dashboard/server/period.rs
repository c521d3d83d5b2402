//! Which days a filter's period covers: its open days, and whether the data holds them.

use chrono::NaiveDate;
use pipeline::calendar::is_open_day;
use pipeline::kpi::KpiFilter;

/// The open days of the filter's period, in order.
pub(super) fn open_days(f: &KpiFilter) -> impl Iterator<Item = NaiveDate> + '_ {
    f.from
        .iter_days()
        .take_while(move |d| *d <= f.to)
        .filter(|d| is_open_day(*d))
}

/// True when the period holds at least one open day.
pub(super) fn has_open_day(f: &KpiFilter) -> bool {
    open_days(f).next().is_some()
}

/// True when every open day of the period lies within the data's range.
pub(super) fn covered(f: &KpiFilter, range: Option<(NaiveDate, NaiveDate)>) -> bool {
    let Some((a, b)) = range else {
        return false;
    };
    open_days(f).all(|d| d >= a && d <= b)
}

/// Test support for the loader's parts: a day, and a filter over opening hours.
#[cfg(test)]
pub(super) mod test_support {
    use chrono::NaiveDate;
    use pipeline::kpi::KpiFilter;

    pub fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    /// `store` (or all stores) from `from` to `to`, hours 9–19, every sensor.
    pub fn period(store: Option<u32>, from: &str, to: &str) -> KpiFilter {
        KpiFilter {
            store_id: store,
            sensor_ids: Vec::new(),
            within_stores: None,
            from: d(from),
            to: d(to),
            hour_from: 9,
            hour_to: 19,
        }
    }
}
