//! The rollup rows of one cleaned day, derived in memory from its visitors and
//! store-hours (sensor-days, store-days, chain-hours), and the month mask changes.

use chrono::{Datelike, Months, NaiveDate};
use std::collections::BTreeMap;

use crate::calendar::OPENING_HOURS;
use crate::clean_rows::{CleanVisitor, StoreHourRollup};

/// How many opening hours a day rollup row has columns for (v09 … v19).
pub(crate) const HOURS: usize = (*OPENING_HOURS.end() - *OPENING_HOURS.start() + 1) as usize;

/// One `analytics.sensor_days` row: visitors cumulative from opening, `genuine` bits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SensorDay {
    pub store_id: i32,
    pub sensor_id: i32,
    pub v: [i64; HOURS],
    pub genuine: i32,
}

/// One `analytics.store_days` row: visitors, transactions and cents, cumulative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoreDay {
    pub store_id: i32,
    pub v: [i64; HOURS],
    pub t: [i64; HOURS],
    pub c: [i64; HOURS],
}

/// One `analytics.chain_hours` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChainHour {
    pub hour: u32,
    pub visitors: i64,
    pub transactions: i64,
    pub revenue_cents: i64,
}

/// The day rollups of one date, computed from the rows the transform writes: the same
/// figures as [`refresh_statements`] derives by SQL from the stored rows (a test compares
/// both), without reading those rows back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DayRollups {
    pub sensor_days: Vec<SensorDay>,
    pub store_days: Vec<StoreDay>,
    pub chain_hours: Vec<ChainHour>,
}

/// Running sums in place: `[a, b, c]` → `[a, a + b, a + b + c]`.
pub(super) fn cumulate(values: &mut [i64; HOURS]) {
    for i in 1..HOURS {
        values[i] += values[i - 1];
    }
}

/// The opening-hour column index of `hour`, if it is an opening hour.
pub(super) fn hour_index(hour: u32) -> Option<usize> {
    OPENING_HOURS
        .contains(&hour)
        .then(|| (hour - OPENING_HOURS.start()) as usize)
}

/// The rollups of `date` from its analytics visitor rows and store-hours (rows of other
/// dates are left out, as the SQL refresh of that date would).
pub(crate) fn day_rollups(
    date: NaiveDate,
    visitors: &[CleanVisitor],
    store_hours: &[StoreHourRollup],
) -> DayRollups {
    let mut sensors: BTreeMap<(i32, i32), ([i64; HOURS], i32)> = BTreeMap::new();
    for r in visitors.iter().filter(|r| r.date == date) {
        let Some(i) = hour_index(r.hour) else {
            continue;
        };
        let e = sensors
            .entry((r.store_id, r.sensor_id))
            .or_insert(([0; HOURS], 0));
        e.0[i] += r.nb_visiteurs as i64;
        if !r.imputed && r.nb_visiteurs > 0 {
            // One row per sensor-hour (the table's unique key): the SQL's SUM of bits.
            e.1 += 1 << i;
        }
    }
    let sensor_days = sensors
        .into_iter()
        .map(|((store_id, sensor_id), (mut v, genuine))| {
            cumulate(&mut v);
            SensorDay {
                store_id,
                sensor_id,
                v,
                genuine,
            }
        })
        .collect();
    type Sums = ([i64; HOURS], [i64; HOURS], [i64; HOURS]);
    let mut stores: BTreeMap<i32, Sums> = BTreeMap::new();
    let mut chain: BTreeMap<u32, (i64, i64, i64)> = BTreeMap::new();
    for r in store_hours.iter().filter(|r| r.date == date) {
        let e = chain.entry(r.hour).or_default();
        e.0 += r.visitors;
        e.1 += r.transactions;
        e.2 += r.revenue_cents;
        let Some(i) = hour_index(r.hour) else {
            continue;
        };
        let s = stores
            .entry(r.store_id)
            .or_insert(([0; HOURS], [0; HOURS], [0; HOURS]));
        s.0[i] += r.visitors;
        s.1[i] += r.transactions;
        s.2[i] += r.revenue_cents;
    }
    let store_days = stores
        .into_iter()
        .map(|(store_id, (mut v, mut t, mut c))| {
            cumulate(&mut v);
            cumulate(&mut t);
            cumulate(&mut c);
            StoreDay { store_id, v, t, c }
        })
        .collect();
    let chain_hours = chain
        .into_iter()
        .map(
            |(hour, (visitors, transactions, revenue_cents))| ChainHour {
                hour,
                visitors,
                transactions,
                revenue_cents,
            },
        )
        .collect();
    DayRollups {
        sensor_days,
        store_days,
        chain_hours,
    }
}

/// The first day of `d`'s month.
pub(crate) fn month_start(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

/// The last day of `d`'s month.
pub(crate) fn month_end(d: NaiveDate) -> NaiveDate {
    month_start(d)
        .checked_add_months(Months::new(1))
        .and_then(|m| m.pred_opt())
        .unwrap_or(d)
}

/// What writing a day changes in `analytics.sensor_months` (the month's `genuine` bits of
/// each sensor: the OR of its days'), from the day's previous masks `old` (store, sensor,
/// genuine) and its new sensor-days.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct MonthMaskChange {
    /// (store, sensor, genuine): bits the day now has and did not have before, OR-ed into
    /// the month (a month's mask already holds every bit of its days').
    pub add: Vec<(i32, i32, i32)>,
    /// Sensors that lost bits the day had before: their month is computed again from its
    /// days (another day may still have those bits).
    pub recompute: Vec<(i32, i32)>,
}

pub(crate) fn month_mask_change(old: &[(i32, i32, i32)], new: &[SensorDay]) -> MonthMaskChange {
    let before: std::collections::HashMap<(i32, i32), i32> =
        old.iter().map(|&(s, c, g)| ((s, c), g)).collect();
    let after: std::collections::HashMap<(i32, i32), i32> = new
        .iter()
        .map(|d| ((d.store_id, d.sensor_id), d.genuine))
        .collect();
    let add = new
        .iter()
        .filter(|d| d.genuine & !before.get(&(d.store_id, d.sensor_id)).copied().unwrap_or(0) != 0)
        .map(|d| (d.store_id, d.sensor_id, d.genuine))
        .collect();
    let mut recompute: Vec<(i32, i32)> = old
        .iter()
        .filter(|&&(s, c, g)| g & !after.get(&(s, c)).copied().unwrap_or(0) != 0)
        .map(|&(s, c, _)| (s, c))
        .collect();
    recompute.sort_unstable();
    MonthMaskChange { add, recompute }
}
