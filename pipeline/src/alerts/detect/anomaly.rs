//! Anomalies of one cleaned day against the store's own robust baseline: the median and
//! MAD of the same weekday-hour over its last open weeks (closed days excluded), per store
//! and per sensor.
//!
//! - **store closed**: the day's visitors are (almost) none of the usual, and the zeros
//!   were really counted, not missing;
//! - **traffic high / low**: the day total is beyond both k·MAD and a relative change from
//!   the median, and at least a minimum absolute change; short of that, runs of
//!   consecutive hours that are each beyond those bounds are reported on their own;
//! - **sensor degraded**: over the day's genuine hours, a sensor reads a fraction of its
//!   usual counts that is far below the store's other sensors' (so a whole-store change,
//!   an event or a quiet day, is not a sensor fault); a sensor reading (almost) nothing
//!   is left to the silent and stuck rules.

use std::collections::{BTreeMap, HashMap};

use chrono::{Duration, NaiveDate};

use crate::alerts::{BandPoint, Finding, Rule, Severity};
use crate::calendar::{is_open_day, OPENING_HOURS};
use crate::clock::HourSlot;
use crate::warehouse::detection::{SensorDayRow, StoreDayRow, DAY_HOURS};

use super::params::DetectParams;
use super::robust::{median, median_mad};

/// The same weekday in the `search_weeks` weeks before `date`, newest first.
pub fn history_dates(date: NaiveDate, search_weeks: u32) -> Vec<NaiveDate> {
    (1..=i64::from(search_weeks))
        .filter_map(|w| date.checked_sub_signed(Duration::weeks(w)))
        .collect()
}

fn total(hours: &[i64; DAY_HOURS]) -> f64 {
    hours.iter().sum::<i64>() as f64
}

/// The baseline days of one store: among its history days (newest first), those with data
/// and not closed (a day total at most `closed_ratio` of the history's median), at most
/// `baseline_weeks` of them.
pub fn baseline_days<'a>(
    history: &[&'a StoreDayRow],
    params: &DetectParams,
) -> Vec<&'a StoreDayRow> {
    let mut totals: Vec<f64> = history.iter().map(|d| total(&d.hours)).collect();
    let Some(typical) = median(&mut totals) else {
        return Vec::new();
    };
    history
        .iter()
        .filter(|d| total(&d.hours) > params.closed_ratio * typical)
        .take(params.baseline_weeks as usize)
        .copied()
        .collect()
}

/// Median and (scaled) MAD of each opening hour and of the day total over `days`.
#[derive(Debug, Clone)]
pub struct Baseline {
    pub hours: [(f64, f64); DAY_HOURS],
    pub day: (f64, f64),
    pub weeks: u32,
}

pub fn baseline(days: &[&StoreDayRow]) -> Option<Baseline> {
    let mut hours = [(0.0, 0.0); DAY_HOURS];
    for (i, slot) in hours.iter_mut().enumerate() {
        let values: Vec<f64> = days.iter().map(|d| d.hours[i] as f64).collect();
        *slot = median_mad(&values)?;
    }
    let totals: Vec<f64> = days.iter().map(|d| total(&d.hours)).collect();
    Some(Baseline {
        hours,
        day: median_mad(&totals)?,
        weeks: days.len() as u32,
    })
}

/// How far from the median a value is still ordinary: max(k·MAD, the minimum change).
fn tolerance(mad: f64, min_change: f64, params: &DetectParams) -> f64 {
    (params.mad_k * mad).max(min_change)
}

/// The UTC range of the opening hours `first..=last` of `date`.
fn hours_range(
    date: NaiveDate,
    first: u32,
    last: u32,
) -> (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) {
    let start = HourSlot { date, hour: first }.start_utc();
    let end = HourSlot {
        date,
        hour: last + 1,
    }
    .start_utc();
    (start, end)
}

/// The day rules for one store: closed, high, low (the day, else runs of hours).
/// `level` is the store's level that day and each hour as its sensors see it (see
/// [`store_level`]): a day or an hour is high or low only when the store's sensors agree,
/// not because one sensor stopped or went wild.
pub fn store_day(
    day: &StoreDayRow,
    base: &Baseline,
    zeros_counted: bool,
    level: &StoreLevel,
    params: &DetectParams,
) -> Vec<Finding> {
    let first = *OPENING_HOURS.start();
    let last = *OPENING_HOURS.end();
    let t = total(&day.hours);
    let (m, mad) = base.day;
    let finding = |rule: Rule, severity, from: u32, to: u32, observed: f64, expected: f64| {
        let (start, end) = hours_range(day.date, from, to);
        Finding {
            rule,
            severity,
            store_id: day.store_id,
            sensor_id: None,
            start,
            end: Some(end),
            observed: Some(observed),
            expected: Some(expected),
        }
    };
    if m <= 0.0 {
        return Vec::new();
    }
    if t <= params.closed_ratio * m && m - t >= params.min_change_day {
        // Nobody counted: a closure when the zeros arrived, else missing data (the
        // silent rule's business).
        return if zeros_counted {
            vec![finding(
                Rule::StoreClosed,
                Severity::Critical,
                first,
                last,
                t,
                m,
            )]
        } else {
            Vec::new()
        };
    }
    let tol = tolerance(mad, params.min_change_day, params);
    if t >= m * params.high_ratio
        && t - m >= tol
        && level.day.is_none_or(|l| l >= params.high_ratio)
    {
        return vec![finding(
            Rule::TrafficHigh,
            Severity::Info,
            first,
            last,
            t,
            m,
        )];
    }
    if t <= m * params.low_ratio && m - t >= tol && level.day.is_none_or(|l| l <= params.low_ratio)
    {
        return vec![finding(
            Rule::TrafficLow,
            Severity::Warning,
            first,
            last,
            t,
            m,
        )];
    }
    // The hours: runs of consecutive hours beyond their own bounds, in one direction.
    let mut out = Vec::new();
    let mut run: Option<(Rule, usize, f64, f64)> = None;
    let flush = |run: &mut Option<(Rule, usize, f64, f64)>, end: usize, out: &mut Vec<Finding>| {
        if let Some((rule, from, obs, exp)) = run.take() {
            if end - from >= params.min_anomalous_hours as usize {
                let severity = if rule == Rule::TrafficHigh {
                    Severity::Info
                } else {
                    Severity::Warning
                };
                out.push(finding(
                    rule,
                    severity,
                    first + from as u32,
                    first + end as u32 - 1,
                    obs,
                    exp,
                ));
            }
        }
    };
    for i in 0..DAY_HOURS {
        let v = day.hours[i] as f64;
        let (hm, hmad) = base.hours[i];
        let tol = tolerance(hmad, params.min_change_hour, params);
        let agrees = |beyond: fn(f64, f64) -> bool, bound: f64| {
            level.hours[i].is_none_or(|l| beyond(l, bound))
        };
        let rule = if hm > 0.0
            && v >= hm * params.high_ratio
            && v - hm >= tol
            && agrees(|l, b| l >= b, params.high_ratio)
        {
            Some(Rule::TrafficHigh)
        } else if hm > 0.0
            && v <= hm * params.low_ratio
            && hm - v >= tol
            && agrees(|l, b| l <= b, params.low_ratio)
        {
            Some(Rule::TrafficLow)
        } else {
            None
        };
        match (rule, run.as_mut()) {
            (Some(r), Some((current, _, obs, exp))) if *current == r => {
                *obs += v;
                *exp += hm;
            }
            (Some(r), _) => {
                flush(&mut run, i, &mut out);
                run = Some((r, i, v, hm));
            }
            (None, _) => flush(&mut run, i, &mut out),
        }
    }
    flush(&mut run, DAY_HOURS, &mut out);
    out
}

/// Each sensor's usual count per opening hour: the median of its genuine counts over the
/// baseline days (`None` for an hour with fewer than `min_baseline_weeks` of them).
pub type SensorBaseline = HashMap<(i64, i64), [Option<f64>; DAY_HOURS]>;

pub fn sensor_baselines(
    rows: &[&SensorDayRow],
    days_of_store: &HashMap<i64, Vec<NaiveDate>>,
    params: &DetectParams,
) -> SensorBaseline {
    let mut values: HashMap<(i64, i64), [Vec<f64>; DAY_HOURS]> = HashMap::new();
    for r in rows {
        let Some(days) = days_of_store.get(&r.store_id) else {
            continue;
        };
        if !days.contains(&r.date) {
            continue;
        }
        let e = values
            .entry((r.store_id, r.sensor_id))
            .or_insert_with(|| std::array::from_fn(|_| Vec::new()));
        for (i, v) in e.iter_mut().enumerate() {
            if r.is_genuine(i) {
                v.push(r.hours[i] as f64);
            }
        }
    }
    values
        .into_iter()
        .map(|(key, mut hours)| {
            let base = std::array::from_fn(|i| {
                if hours[i].len() >= params.min_baseline_weeks as usize {
                    median(&mut hours[i])
                } else {
                    None
                }
            });
            (key, base)
        })
        .collect()
}

/// A sensor's genuine counts on a day against its usual ones: (Σ counted, Σ usual) over
/// the hours both know; `None` with fewer than `min_genuine_hours` such hours.
fn sensor_ratio(
    row: &SensorDayRow,
    base: &[Option<f64>; DAY_HOURS],
    params: &DetectParams,
) -> Option<(f64, f64)> {
    let mut counted = 0.0;
    let mut usual = 0.0;
    let mut hours = 0;
    for (i, b) in base.iter().enumerate() {
        if let (true, Some(b)) = (row.is_genuine(i), b) {
            counted += row.hours[i] as f64;
            usual += b;
            hours += 1;
        }
    }
    (hours >= params.min_genuine_hours && usual > 0.0).then_some((counted, usual))
}

/// Each sensor's (Σ counted, Σ usual) over its genuine hours of a day.
fn sensor_ratios(
    rows: &[&SensorDayRow],
    base: &SensorBaseline,
    params: &DetectParams,
) -> Vec<(i64, f64, f64)> {
    rows.iter()
        .filter_map(|r| {
            let b = base.get(&(r.store_id, r.sensor_id))?;
            let (c, u) = sensor_ratio(r, b, params)?;
            Some((r.sensor_id, c, u))
        })
        .collect()
}

/// A store's level as its sensors see it, for the day and each opening hour: the median
/// over its sensors of their genuine counts against their usual ones (1 on an ordinary
/// day, 2 when twice as many people came); `None` with fewer than two sensors to judge.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoreLevel {
    pub day: Option<f64>,
    pub hours: [Option<f64>; DAY_HOURS],
}

fn day_level(rows: &[&SensorDayRow], base: &SensorBaseline, params: &DetectParams) -> Option<f64> {
    let ratios = sensor_ratios(rows, base, params);
    if ratios.len() < 2 {
        return None;
    }
    let mut levels: Vec<f64> = ratios.iter().map(|(_, c, u)| c / u).collect();
    median(&mut levels)
}

pub fn store_level(
    rows: &[&SensorDayRow],
    base: &SensorBaseline,
    params: &DetectParams,
) -> StoreLevel {
    let hours = std::array::from_fn(|i| {
        let mut levels: Vec<f64> = rows
            .iter()
            .filter(|r| r.is_genuine(i))
            .filter_map(|r| {
                let b = base.get(&(r.store_id, r.sensor_id))?[i]?;
                (b > 0.0).then(|| r.hours[i] as f64 / b)
            })
            .collect();
        if levels.len() < 2 {
            None
        } else {
            median(&mut levels)
        }
    });
    StoreLevel {
        day: day_level(rows, base, params),
        hours,
    }
}

/// Each sensor's level relative to its store's on one day: (sensor, rel, Σ counted,
/// Σ expected at the store's level). `rows` are one store's sensor-days of that day.
pub fn relative_levels(
    rows: &[&SensorDayRow],
    base: &SensorBaseline,
    params: &DetectParams,
) -> Vec<(i64, f64, f64, f64)> {
    let ratios = sensor_ratios(rows, base, params);
    let Some(store_level) = day_level(rows, base, params) else {
        return Vec::new();
    };
    if store_level <= 0.0 {
        return Vec::new();
    }
    ratios
        .into_iter()
        .map(|(s, c, u)| (s, c / u / store_level, c, u * store_level))
        .collect()
}

/// The sensors degraded on a day: (sensor, counted, expected).
pub fn degraded_sensors(
    rows: &[&SensorDayRow],
    base: &SensorBaseline,
    params: &DetectParams,
) -> Vec<(i64, f64, f64)> {
    relative_levels(rows, base, params)
        .into_iter()
        .filter(|(_, rel, c, e)| {
            *rel >= params.degraded_floor
                && *rel < params.degraded_ratio
                && e - c >= params.min_change_sensor
        })
        .map(|(s, _, c, e)| (s, c, e))
        .collect()
}

/// The first day of a sensor's degradation that is still going on `day`: walks back over
/// the open days of `earlier` (one store's sensor-days before `day`) while the sensor's
/// level stays below `degraded_continue` of its store's.
pub fn degraded_since(
    day: NaiveDate,
    sensor: i64,
    earlier: &BTreeMap<NaiveDate, Vec<&SensorDayRow>>,
    base: &SensorBaseline,
    params: &DetectParams,
) -> NaiveDate {
    let mut since = day;
    for (date, rows) in earlier.range(..day).rev() {
        if !is_open_day(*date) || (day - *date).num_days() > params.degraded_lookback_days {
            break;
        }
        let still = relative_levels(rows, base, params)
            .into_iter()
            .find(|(s, ..)| *s == sensor)
            .is_some_and(|(_, rel, ..)| rel < params.degraded_continue);
        if !still {
            break;
        }
        since = *date;
    }
    since
}

/// The expected band of one store over `dates` from its store-days (`rows`, which must
/// cover the baseline weeks before the first date).
pub fn band(
    rows: &[StoreDayRow],
    dates: impl Iterator<Item = NaiveDate>,
    params: &DetectParams,
) -> Vec<BandPoint> {
    let by_date: HashMap<NaiveDate, &StoreDayRow> = rows.iter().map(|r| (r.date, r)).collect();
    let mut out = Vec::new();
    for date in dates.filter(|d| is_open_day(*d)) {
        let history: Vec<&StoreDayRow> = history_dates(date, params.baseline_search_weeks)
            .into_iter()
            .filter_map(|d| by_date.get(&d).copied())
            .collect();
        let days = baseline_days(&history, params);
        if days.len() < params.min_baseline_weeks as usize {
            continue;
        }
        let Some(base) = baseline(&days) else {
            continue;
        };
        for (i, hour) in OPENING_HOURS.enumerate() {
            let (m, mad) = base.hours[i];
            let tol = tolerance(mad, params.min_change_hour, params);
            out.push(BandPoint {
                date,
                hour,
                median: m,
                low: (m - tol).max(0.0),
                high: m + tol,
                weeks: base.weeks,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    fn store_day_row(date: NaiveDate, per_hour: i64) -> StoreDayRow {
        StoreDayRow {
            store_id: 1,
            date,
            hours: [per_hour; DAY_HOURS],
        }
    }

    fn base_of(values: &[i64]) -> Baseline {
        let rows: Vec<StoreDayRow> = values
            .iter()
            .enumerate()
            .map(|(i, v)| store_day_row(day(2024, 1, 1) + Duration::weeks(i as i64), *v))
            .collect();
        let refs: Vec<&StoreDayRow> = rows.iter().collect();
        baseline(&refs).expect("baseline")
    }

    #[test]
    fn closed_days_leave_the_baseline() {
        let p = DetectParams::default();
        let rows: Vec<StoreDayRow> = [100, 0, 98, 102, 101]
            .iter()
            .enumerate()
            .map(|(i, v)| store_day_row(day(2024, 1, 1) + Duration::weeks(i as i64), *v))
            .collect();
        let refs: Vec<&StoreDayRow> = rows.iter().collect();
        let kept = baseline_days(&refs, &p);
        assert_eq!(kept.len(), 4);
        assert!(kept.iter().all(|d| d.hours[0] > 0));
    }

    #[test]
    fn a_day_is_high_low_or_closed_against_its_baseline() {
        let p = DetectParams::default();
        let base = base_of(&[100, 98, 102, 101, 99, 100, 97, 103]);
        let d = day(2024, 3, 4);
        let rule = |per_hour: i64, counted: bool| {
            store_day(
                &store_day_row(d, per_hour),
                &base,
                counted,
                &StoreLevel::default(),
                &p,
            )
            .iter()
            .map(|f| f.rule)
            .collect::<Vec<_>>()
        };
        assert_eq!(rule(100, true), vec![]);
        assert_eq!(rule(104, true), vec![], "within the usual spread");
        assert_eq!(rule(180, true), vec![Rule::TrafficHigh]);
        assert_eq!(rule(50, true), vec![Rule::TrafficLow]);
        assert_eq!(rule(0, true), vec![Rule::StoreClosed]);
        assert_eq!(rule(0, false), vec![], "missing data is not a closure");
        // The store's sensors say it is an ordinary day (one sensor stopped): not low.
        let ordinary = StoreLevel {
            day: Some(0.98),
            hours: [Some(0.98); DAY_HOURS],
        };
        assert!(store_day(&store_day_row(d, 50), &base, true, &ordinary, &p).is_empty());
        let closed = store_day(
            &store_day_row(d, 0),
            &base,
            true,
            &StoreLevel::default(),
            &p,
        );
        assert_eq!(
            closed[0].end.expect("end") - closed[0].start,
            chrono::Duration::hours(11)
        );
    }

    #[test]
    fn hours_beyond_their_bounds_make_a_run() {
        let p = DetectParams::default();
        let base = base_of(&[100, 98, 102, 101, 99, 100, 97, 103]);
        let mut row = store_day_row(day(2024, 3, 4), 100);
        row.hours[3] = 200;
        row.hours[4] = 190;
        let found = store_day(&row, &base, true, &StoreLevel::default(), &p);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].rule, Rule::TrafficHigh);
        assert_eq!(
            found[0].end.expect("end") - found[0].start,
            chrono::Duration::hours(2)
        );
        // One hour alone is not enough.
        row.hours[4] = 100;
        assert!(store_day(&row, &base, true, &StoreLevel::default(), &p).is_empty());
    }

    fn sensor_row(sensor: i64, date: NaiveDate, per_hour: i64) -> SensorDayRow {
        SensorDayRow {
            store_id: 1,
            sensor_id: sensor,
            date,
            hours: [per_hour; DAY_HOURS],
            genuine: (1 << DAY_HOURS) - 1,
        }
    }

    #[test]
    fn a_sensor_far_below_its_store_is_degraded_and_since_when() {
        let p = DetectParams::default();
        let d = day(2024, 3, 4);
        let mut history = Vec::new();
        for w in 1..=8 {
            for (s, level) in [(1, 40), (2, 80), (3, 60)] {
                history.push(sensor_row(s, d - Duration::weeks(w), level));
            }
        }
        let days: HashMap<i64, Vec<NaiveDate>> =
            [(1, (1..=8).map(|w| d - Duration::weeks(w)).collect())].into();
        let refs: Vec<&SensorDayRow> = history.iter().collect();
        let base = sensor_baselines(&refs, &days, &p);
        // An event day: everyone ×2, nobody degraded.
        let event = [
            sensor_row(1, d, 80),
            sensor_row(2, d, 160),
            sensor_row(3, d, 120),
        ];
        assert!(degraded_sensors(&event.iter().collect::<Vec<_>>(), &base, &p).is_empty());
        // Sensor 2 at 55 %.
        let today = [
            sensor_row(1, d, 40),
            sensor_row(2, d, 44),
            sensor_row(3, d, 60),
        ];
        let found = degraded_sensors(&today.iter().collect::<Vec<_>>(), &base, &p);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, 2);
        // Sensor 2 at zero: stuck, not degraded.
        let zero = [
            sensor_row(1, d, 40),
            sensor_row(2, d, 0),
            sensor_row(3, d, 60),
        ];
        assert!(degraded_sensors(&zero.iter().collect::<Vec<_>>(), &base, &p).is_empty());
        // Degraded since the Thursday before (Friday too; the weekend is skipped).
        let earlier_rows: Vec<SensorDayRow> = [day(2024, 2, 28), day(2024, 2, 29), day(2024, 3, 1)]
            .iter()
            .flat_map(|&date| {
                let degraded = date >= day(2024, 2, 29);
                [
                    sensor_row(1, date, 40),
                    sensor_row(2, date, if degraded { 40 } else { 80 }),
                    sensor_row(3, date, 60),
                ]
            })
            .collect();
        let mut earlier: BTreeMap<NaiveDate, Vec<&SensorDayRow>> = BTreeMap::new();
        for r in &earlier_rows {
            earlier.entry(r.date).or_default().push(r);
        }
        assert_eq!(degraded_since(d, 2, &earlier, &base, &p), day(2024, 2, 29));
    }

    #[test]
    fn the_band_is_the_median_and_its_tolerance() {
        let p = DetectParams::default();
        let d = day(2024, 3, 4);
        let rows: Vec<StoreDayRow> = (1..=8)
            .map(|w| store_day_row(d - Duration::weeks(w), 100 + w))
            .collect();
        let band = band(&rows, [d, d + Duration::days(5)].into_iter(), &p);
        assert_eq!(band.len(), DAY_HOURS, "the Saturday has no band");
        assert_eq!(band[0].median, 104.5);
        assert!(band[0].low < 104.5 && band[0].high > 104.5);
        assert_eq!(band[0].weeks, 8);
    }
}
