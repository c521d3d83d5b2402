//! Detection: the conditions an alert is opened for, found in the warehouse.
//!
//! - [`hourly`], after each hourly ingest: data health (silent sensors, sensors stuck at
//!   zero, a till feed down) from what the collected hours brought to raw against what was
//!   expected (every sensor and store of the chain, each open hour; see [`health`]).
//! - [`nightly`], after the nightly transform of a day: anomalies of that day (closure,
//!   unusually high or low traffic, a degraded sensor) against each store's and sensor's
//!   robust baseline (see [`anomaly`]).
//! - [`expected_band`]: the band the dashboard draws behind one store's visitors.
//!
//! Each returns every condition current over its window. A condition that lasts keeps its
//! `start` from run to run, so the alerts store opens it once (by [`Finding::dedupe_key`])
//! and resolves it when a run no longer returns it, or returns it with an `end`.
//!
//! Detection never looks at the simulator's truth: it reads only the warehouse.

pub mod anomaly;
pub mod health;
pub mod params;
pub mod robust;

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::alerts::{BandPoint, Finding, Rule, Severity};
use crate::calendar::{is_open_day, is_open_hour};
use crate::clock::HourSlot;
use crate::reference::Reference;
use crate::warehouse::detection::{SensorDayRow, StoreDayRow};
use crate::warehouse::raw::lot_of;
use crate::warehouse::{Warehouse, WarehouseError};
use health::HourState;
use params::DetectParams;

#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    #[error(transparent)]
    Warehouse(#[from] WarehouseError),
}

/// The open hours (open day, opening hour) before `upto`, newest first, at most `n`.
fn open_hours_before(upto: DateTime<Utc>, n: u32) -> Vec<HourSlot> {
    let mut out = Vec::with_capacity(n as usize);
    let mut slot = HourSlot::containing(upto - Duration::seconds(1));
    // A slot that begins at or after `upto` is not over (the autumn's repeated hour).
    let mut guard = 0;
    while out.len() < n as usize && guard < 24 * 400 {
        guard += 1;
        if is_open_day(slot.date) && is_open_hour(slot.hour) && slot.start_utc() < upto {
            out.push(slot);
        }
        slot = if slot.hour == 0 {
            match slot.date.pred_opt() {
                Some(date) => HourSlot { date, hour: 23 },
                None => break,
            }
        } else {
            HourSlot {
                date: slot.date,
                hour: slot.hour - 1,
            }
        };
    }
    out
}

/// Reads the raw rows of `slots` into hour states.
async fn read_hours(
    wh: &Warehouse,
    reference: &Reference,
    slots: &[HourSlot],
) -> Result<Vec<HourState>, DetectError> {
    let lots: Vec<String> = slots.iter().map(|s| lot_of(*s)).collect();
    let counts = wh.lot_row_counts(&lots).await?;
    let bad = wh.bad_readings(&lots).await?;
    let no_sale = wh.bad_sales(&lots).await?;
    let index: HashMap<&str, usize> = lots
        .iter()
        .enumerate()
        .map(|(i, l)| (l.as_str(), i))
        .collect();
    let mut states: Vec<HourState> = slots
        .iter()
        .zip(&lots)
        .map(|(slot, lot)| {
            let (v, t) = counts.get(lot).copied().unwrap_or((0, 0));
            HourState {
                slot: Some(*slot),
                visitors_arrived: v > 0,
                sales_arrived: t > 0,
                ..HourState::default()
            }
        })
        .collect();
    for r in bad {
        if let Some(&i) = index.get(r.lot.as_str()) {
            let key = (r.store_id, r.sensor_id);
            if r.value.is_none() {
                states[i].silent.insert(key);
            } else {
                states[i].zero.insert(key);
            }
        }
    }
    for s in no_sale {
        if let Some(&i) = index.get(s.lot.as_str()) {
            states[i].no_sale.insert(s.store_id);
        }
    }
    // An hour that arrived short of rows: the sensors or stores without one are missing.
    let sensors = reference.sensor_count() as i64;
    let stores = reference.stores().len() as i64;
    for (i, lot) in lots.iter().enumerate() {
        let (v, t) = counts.get(lot).copied().unwrap_or((0, 0));
        if v > 0 && v < sensors {
            let present: HashSet<(i64, i64)> = wh.lot_sensors(lot).await?.into_iter().collect();
            for (store, sensor) in reference.all_sensors() {
                let key = (i64::from(store.store_id), i64::from(sensor.sensor_id));
                if !present.contains(&key) {
                    states[i].silent.insert(key);
                }
            }
        }
        if t > 0 && t < stores {
            let present: HashSet<i64> = wh.lot_stores(lot).await?.into_iter().collect();
            for store in reference.stores() {
                if !present.contains(&i64::from(store.store_id)) {
                    states[i].no_sale.insert(i64::from(store.store_id));
                }
            }
        }
    }
    Ok(states)
}

/// Data health over the hours up to `upto` (exclusive, UTC): silent sensors, sensors stuck
/// at zero, till feeds down (see [`health`]). Reads the latest open hours' raw rows (the
/// rule's minimum first, then further back only while a run's start is not yet placed).
pub async fn hourly(
    wh: &Warehouse,
    reference: &Reference,
    upto: DateTime<Utc>,
    params: &DetectParams,
) -> Result<Vec<Finding>, DetectError> {
    hourly_continuing(wh, reference, upto, &[], params).await
}

/// [`hourly`], told which data-health conditions are still open (the alerts a previous
/// run found and that are not resolved): a condition that fills every hour read so far and
/// that `open` already knows keeps the start `open` gives, instead of reading older hours
/// to find it again. On a large chain, where some sensor is always silent somewhere, this
/// is what keeps a run to the latest few hours' rows. The findings are the same as
/// [`hourly`]'s as long as `open` comes from the run before (a condition that ended in
/// between shows a good hour in the window, and restarts from there).
pub async fn hourly_continuing(
    wh: &Warehouse,
    reference: &Reference,
    upto: DateTime<Utc>,
    open: &[Finding],
    params: &DetectParams,
) -> Result<Vec<Finding>, DetectError> {
    let known: health::Known = open
        .iter()
        .filter(|f| f.rule.is_data_health() && f.end.is_none_or(|end| end >= upto))
        .map(|f| ((f.rule, f.store_id, f.sensor_id), f.start))
        .collect();
    let slots = open_hours_before(upto, params.max_lookback_open_hours.max(1));
    // One hour beyond the rules' minimum: a condition that has just reached it shows the
    // good hour before it, so its start is placed without reading further back (only a
    // longer one that the store does not know yet, e.g. after a restart, reads more).
    let first = params
        .silent_min_hours
        .max(params.stuck_min_hours)
        .max(params.till_min_hours)
        .max(1) as usize
        + 1;
    let mut read = first.min(slots.len());
    let mut hours = read_hours(wh, reference, &slots[..read]).await?;
    loop {
        let outcome = health::evaluate(reference, &hours, &known, params);
        if !outcome.needs_more || read >= slots.len() {
            tracing::debug!(
                findings = outcome.findings.len(),
                hours_read = read,
                %upto,
                "hourly detection"
            );
            return Ok(outcome.findings);
        }
        // One more open day's hours at a time.
        let next = (read + 11).min(slots.len());
        hours.extend(read_hours(wh, reference, &slots[read..next]).await?);
        read = next;
    }
}

/// Anomalies of one Paris-local day (closure, event/high, low, degraded sensor) from
/// robust baselines of the cleaned days before it (see [`anomaly`]). Nothing for a closed
/// day or a day not transformed yet.
pub async fn nightly(
    wh: &Warehouse,
    reference: &Reference,
    day: NaiveDate,
    params: &DetectParams,
) -> Result<Vec<Finding>, DetectError> {
    if !is_open_day(day) {
        return Ok(Vec::new());
    }
    let history = anomaly::history_dates(day, params.baseline_search_weeks);
    let mut dates = vec![day];
    dates.extend(&history);
    let store_rows = wh.store_day_rows(&dates, None).await?;
    let mut by_store: HashMap<i64, HashMap<NaiveDate, &StoreDayRow>> = HashMap::new();
    for r in &store_rows {
        by_store.entry(r.store_id).or_default().insert(r.date, r);
    }
    // The baseline days of each store (closed days left out).
    let mut baseline_of: HashMap<i64, Vec<NaiveDate>> = HashMap::new();
    for (store, days) in &by_store {
        let hist: Vec<&StoreDayRow> = history
            .iter()
            .filter_map(|d| days.get(d).copied())
            .collect();
        let chosen = anomaly::baseline_days(&hist, params);
        if chosen.len() >= params.min_baseline_weeks as usize {
            baseline_of.insert(*store, chosen.iter().map(|d| d.date).collect());
        }
    }
    let mut needed: Vec<NaiveDate> = vec![day];
    needed.extend(baseline_of.values().flatten().copied());
    needed.sort_unstable();
    needed.dedup();
    let stores: Vec<i64> = reference
        .stores()
        .iter()
        .map(|s| i64::from(s.store_id))
        .collect();
    let mut sensor_ids: Vec<i64> = reference
        .all_sensors()
        .map(|(_, s)| i64::from(s.sensor_id))
        .collect();
    sensor_ids.sort_unstable();
    sensor_ids.dedup();
    let sensor_rows = wh.sensor_day_rows(&needed, &stores, &sensor_ids).await?;
    let today: Vec<&SensorDayRow> = sensor_rows.iter().filter(|r| r.date == day).collect();
    let past: Vec<&SensorDayRow> = sensor_rows.iter().filter(|r| r.date != day).collect();
    let sensor_base = anomaly::sensor_baselines(&past, &baseline_of, params);
    let mut today_of: BTreeMap<i64, Vec<&SensorDayRow>> = BTreeMap::new();
    for r in today {
        today_of.entry(r.store_id).or_default().push(r);
    }

    let mut findings = Vec::new();
    let mut degraded: Vec<(i64, i64, f64, f64)> = Vec::new();
    for store in reference.stores() {
        let s = i64::from(store.store_id);
        let Some(days) = baseline_of.get(&s) else {
            continue;
        };
        let Some(row) = by_store.get(&s).and_then(|d| d.get(&day)) else {
            continue;
        };
        let base_rows: Vec<&StoreDayRow> = days
            .iter()
            .filter_map(|d| by_store.get(&s).and_then(|m| m.get(d)).copied())
            .collect();
        let Some(base) = anomaly::baseline(&base_rows) else {
            continue;
        };
        let sensors_today = today_of.get(&s).cloned().unwrap_or_default();
        // The store's zeros were counted, not missing: its sensors have cleaned rows that
        // day (a sensor that sent nothing all day has none: it cannot be filled).
        let zeros_counted = !sensors_today.is_empty();
        let level = anomaly::store_level(&sensors_today, &sensor_base, params);
        let store_findings = anomaly::store_day(row, &base, zeros_counted, &level, params);
        let closed = store_findings.iter().any(|f| f.rule == Rule::StoreClosed);
        findings.extend(store_findings);
        if closed {
            continue;
        }
        for (sensor, counted, expected) in
            anomaly::degraded_sensors(&sensors_today, &sensor_base, params)
        {
            degraded.push((s, sensor, counted, expected));
        }
    }

    // Where each degradation began: the open days before, for those stores only.
    if !degraded.is_empty() {
        let mut stores: Vec<i64> = degraded.iter().map(|d| d.0).collect();
        stores.dedup();
        let from = day - Duration::days(params.degraded_lookback_days);
        let earlier_rows = wh.store_sensor_days(&stores, from, day).await?;
        let mut earlier: HashMap<i64, BTreeMap<NaiveDate, Vec<&SensorDayRow>>> = HashMap::new();
        for r in &earlier_rows {
            earlier
                .entry(r.store_id)
                .or_default()
                .entry(r.date)
                .or_default()
                .push(r);
        }
        let empty = BTreeMap::new();
        for (store, sensor, counted, expected) in degraded {
            let since = anomaly::degraded_since(
                day,
                sensor,
                earlier.get(&store).unwrap_or(&empty),
                &sensor_base,
                params,
            );
            findings.push(Finding {
                rule: Rule::SensorDegraded,
                severity: Severity::Warning,
                store_id: store,
                sensor_id: Some(sensor),
                start: HourSlot {
                    date: since,
                    hour: *crate::calendar::OPENING_HOURS.start(),
                }
                .start_utc(),
                end: None,
                observed: Some(counted),
                expected: Some(expected),
            });
        }
    }
    tracing::debug!(%day, findings = findings.len(), "nightly detection");
    Ok(findings)
}

/// The expected visitors band per opening hour of one store's open days `from..=to`, for
/// the dashboard's chart: median ± max(k·MAD, the minimum hourly change) of the same
/// weekday-hour over its baseline weeks (see [`anomaly::band`]).
pub async fn expected_band(
    wh: &Warehouse,
    store_id: i64,
    from: NaiveDate,
    to: NaiveDate,
    params: &DetectParams,
) -> Result<Vec<BandPoint>, DetectError> {
    if to < from {
        return Ok(Vec::new());
    }
    let start = from - Duration::weeks(i64::from(params.baseline_search_weeks));
    let dates: Vec<NaiveDate> = start
        .iter_days()
        .take_while(|d| *d <= to)
        .filter(|d| is_open_day(*d))
        .collect();
    let rows = wh.store_day_rows(&dates, Some(store_id)).await?;
    Ok(anomaly::band(
        &rows,
        from.iter_days().take_while(|d| *d <= to),
        params,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_hours_are_listed_newest_first_across_nights_and_weekends() {
        // Monday 2024-10-14 10:00 Paris = 08:00 UTC.
        let upto = chrono::DateTime::parse_from_rfc3339("2024-10-14T08:00:00Z")
            .expect("time")
            .with_timezone(&Utc);
        let hours = open_hours_before(upto, 3);
        let got: Vec<(String, u32)> = hours.iter().map(|s| (s.date.to_string(), s.hour)).collect();
        assert_eq!(
            got,
            vec![
                ("2024-10-14".to_string(), 9),
                ("2024-10-11".to_string(), 19),
                ("2024-10-11".to_string(), 18)
            ]
        );
    }
}
