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
