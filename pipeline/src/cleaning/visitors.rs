//! The visitors' day rules: outliers against the sensor's daily median, then every
//! missing open slot filled following the daily shape; split in parts for large days.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;

use super::history::scaled;
use super::rules::*;
use crate::clean_rows::{CleanVisitor, Rule};
use crate::reference::Reference;

/// The median as polars computes it (mean of the two middle values for an even count).
pub(super) fn median(values: &mut [i64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2] as f64
    } else {
        (values[n / 2 - 1] as f64 + values[n / 2] as f64) / 2.0
    })
}

/// A store's day as a fit: each sensor's level and the hours' shape.
pub(super) type StoreShape = (BTreeMap<i64, f64>, BTreeMap<u32, f64>);

/// A multiplicative fit `value ≈ level(sensor) × shape(hour)` of one store's genuine counts
/// of the day: the store's own daily shape, for sensors without history.
pub(super) fn store_day_shape(cells: &BTreeMap<i64, BTreeMap<u32, i64>>) -> StoreShape {
    let mut shape: BTreeMap<u32, f64> = BTreeMap::new();
    for hours in cells.values() {
        for &h in hours.keys() {
            shape.insert(h, 1.0);
        }
    }
    let mut level: BTreeMap<i64, f64> = BTreeMap::new();
    for _ in 0..8 {
        level.clear();
        for (&sensor, hours) in cells {
            let (num, den) = hours.iter().fold((0.0, 0.0), |(n, d), (h, v)| {
                (n + *v as f64, d + shape.get(h).copied().unwrap_or(0.0))
            });
            if den > 0.0 {
                level.insert(sensor, num / den);
            }
        }
        for (h, b) in shape.iter_mut() {
            let (num, den) = cells.iter().fold((0.0, 0.0), |(n, d), (sensor, hours)| {
                match (hours.get(h), level.get(sensor)) {
                    (Some(v), Some(a)) => (n + *v as f64, d + a),
                    _ => (n, d),
                }
            });
            if den > 0.0 {
                *b = num / den;
            }
        }
    }
    (level, shape)
}

pub(super) type VisitorsOutcome = (Vec<CleanVisitor>, Vec<(i64, i64, u32)>, Counts);

/// A day with fewer raw visitor rows is cleaned on one thread (a 1,000-store day has
/// about 230,000, a 40-store one 8,000: the fingerprint test's day is split too).
pub(super) const SPLIT_FROM_ROWS: usize = 4_000;

pub(super) fn clean_visitors(
    reference: &Reference,
    date: NaiveDate,
    input: &DayInput<'_>,
) -> VisitorsOutcome {
    let halves = if input.visitors.len() < SPLIT_FROM_ROWS {
        1
    } else {
        2
    };
    clean_visitors_in_parts(reference, date, input, halves)
}

/// Cleans the visitors in `parts` groups of stores at once, one thread each. Every rule
/// works within one store (a slot is a store's sensor-hour, a fill follows the sensor's or
/// its store's day), so a group is cleaned from its own rows, in their order, and the
/// groups, split at store ids, join in store order: the same rows, outliers and counts as
/// one pass over all of them (the counts' order aside, which no reader relies on).
pub(super) fn clean_visitors_in_parts(
    reference: &Reference,
    date: NaiveDate,
    input: &DayInput<'_>,
    parts: usize,
) -> VisitorsOutcome {
    let stores = reference.stores();
    let parts = parts.clamp(1, stores.len().max(1));
    // Part k holds the stores with ids in [bounds[k], bounds[k + 1]); the first and last
    // parts also take the rows of ids outside the chain, which the rules refuse.
    let bounds: Vec<i64> = (1..parts)
        .map(|k| i64::from(stores[k * stores.len() / parts].store_id))
        .collect();
    let part_of = |store_id: i64| bounds.partition_point(|&b| b <= store_id);
    let mut rows_of: Vec<Vec<usize>> = vec![Vec::new(); parts];
    if parts == 1 {
        rows_of[0] = (0..input.visitors.len()).collect();
    } else {
        for (i, r) in input.visitors.iter().enumerate() {
            rows_of[part_of(r.store_id)].push(i);
        }
    }
    let part_of = &part_of;
    let clean = |k: usize, rows: &[usize]| {
        clean_visitor_rows(reference, date, input, rows, move |store_id| {
            part_of(store_id) == k
        })
    };
    let outcomes: Vec<VisitorsOutcome> = std::thread::scope(|scope| {
        // Every part but the last on a thread of its own (or here, when the system gives
        // no thread), the last on the calling thread.
        let parts: Vec<Part<'_>> = rows_of
            .iter()
            .enumerate()
            .map(|(k, rows)| {
                if k + 1 == rows_of.len() {
                    return Part::Done(clean(k, rows));
                }
                let thread = std::thread::Builder::new().name(format!("clean-visitors-{k}"));
                match thread.spawn_scoped(scope, move || clean(k, rows)) {
                    Ok(handle) => Part::Running(handle),
                    Err(error) => {
                        tracing::warn!(%error, part = k, "no thread for a part of the clean: cleaning it here");
                        Part::Done(clean(k, rows))
                    }
                }
            })
            .collect();
        parts
            .into_iter()
            .map(|part| match part {
                Part::Running(handle) => handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                Part::Done(outcome) => outcome,
            })
            .collect()
    });
    let mut joined: VisitorsOutcome = Default::default();
    joined.0.reserve(outcomes.iter().map(|o| o.0.len()).sum());
    for (visitors, outliers, counts) in outcomes {
        joined.0.extend(visitors);
        joined.1.extend(outliers);
        for (rule, n) in counts.0 {
            joined.2.add(rule, n);
        }
    }
    joined
}

/// One part of a split clean: running on its thread, or done.
pub(super) enum Part<'scope> {
    Running(std::thread::ScopedJoinHandle<'scope, VisitorsOutcome>),
    Done(VisitorsOutcome),
}

/// The visitor rules over the raw rows at `row_indices` (in that order), for the
/// chain's sensors of the stores `in_part` accepts.
pub(super) fn clean_visitor_rows(
    reference: &Reference,
    date: NaiveDate,
    input: &DayInput<'_>,
    row_indices: &[usize],
    in_part: impl Fn(i64) -> bool,
) -> VisitorsOutcome {
    let mut counts = Counts::default();
    counts.add(Rule::RowsIn, row_indices.len() as i64);
    let mut taken = HashMap::with_capacity(row_indices.len());
    // (store, sensor) → hour → value, in order.
    let mut valid: BTreeMap<(i64, i64), BTreeMap<u32, i64>> = BTreeMap::new();
    for &i in row_indices {
        let r = &input.visitors[i];
        let Some(hour) = row_rules(date, &r.date, &r.heure, input.last_hour, &mut counts) else {
            continue;
        };
        let Some(value) = r.nb_visiteurs else {
            counts.add(Rule::NullDropped, 1);
            continue;
        };
        let known = u32::try_from(r.store_id)
            .ok()
            .zip(u32::try_from(r.sensor_id).ok())
            .and_then(|(s, c)| reference.sensor(s, c));
        if known.is_none() {
            counts.add(Rule::UnknownId, 1);
            continue;
        }
        let source = input.visitor_sources.get(i).copied().unwrap_or(0);
        if !claim(
            &mut taken,
            (r.store_id, r.sensor_id, hour),
            source,
            &mut counts,
        ) {
            continue;
        }
        if value < 0 {
            counts.add(Rule::OutOfRange, 1);
            continue;
        }
        valid
            .entry((r.store_id, r.sensor_id))
            .or_default()
            .insert(hour, value);
    }

    // Outliers against the sensor's daily median.
    let mut outliers = Vec::new();
    for (&(store, sensor), hours) in valid.iter_mut() {
        let mut values: Vec<i64> = hours.values().copied().collect();
        let Some(med) = median(&mut values) else {
            continue;
        };
        hours.retain(|&hour, value| {
            let ratio = *value as f64 / med;
            let verdict = if ratio > HIGH_OUTLIER_RATIO {
                Some(Rule::OutlierHigh)
            } else if ratio < LOW_OUTLIER_RATIO {
                Some(Rule::OutlierLow)
            } else {
                None
            };
            if let Some(rule) = verdict {
                counts.add(rule, 1);
                outliers.push((store, sensor, hour));
            }
            verdict.is_none()
        });
    }

    // Every open slot of every known sensor: its genuine count, or a fill following the
    // sensor's own profile, else the store's shape of the day, else the sensor's mean.
    let grid = grid_hours(date, input.last_hour);
    let mut out = Vec::with_capacity(row_indices.len());
    let mut store_shapes: BTreeMap<i64, StoreShape> = BTreeMap::new();
    let empty = BTreeMap::new();
    if !grid.is_empty() {
        let sensors = reference
            .all_sensors()
            .filter(|(store, _)| in_part(i64::from(store.store_id)));
        for (store, sensor) in sensors {
            let (s, c) = (store.store_id as i64, sensor.sensor_id as i64);
            let present = valid.get(&(s, c)).unwrap_or(&empty);
            for &hour in &grid {
                let (value, imputed) = match present.get(&hour) {
                    Some(v) => (*v, false),
                    None if present.is_empty() => {
                        counts.add(Rule::Unfillable, 1);
                        continue;
                    }
                    None => {
                        let h = input.history;
                        let from_profile = scaled(
                            h.sensor_mean(s, c, hour),
                            present
                                .iter()
                                .map(|(p, v)| (*v as f64, h.sensor_mean(s, c, *p))),
                        );
                        let fill = from_profile
                            .or_else(|| {
                                let (level, shape) = store_shapes.entry(s).or_insert_with(|| {
                                    let cells: BTreeMap<i64, BTreeMap<u32, i64>> = valid
                                        .range((s, i64::MIN)..=(s, i64::MAX))
                                        .map(|(&(_, c), hours)| (c, hours.clone()))
                                        .collect();
                                    store_day_shape(&cells)
                                });
                                level.get(&c).zip(shape.get(&hour)).map(|(a, b)| a * b)
                            })
                            .unwrap_or_else(|| {
                                present.values().sum::<i64>() as f64 / present.len() as f64
                            });
                        counts.add(Rule::SlotsFilled, 1);
                        (fill.round().max(0.0) as i64, true)
                    }
                };
                out.push(CleanVisitor {
                    store_id: s as i32,
                    sensor_id: c as i32,
                    date,
                    hour,
                    nb_visiteurs: value.clamp(0, i32::MAX as i64) as i32,
                    imputed,
                });
            }
        }
    }
    counts.add(Rule::RowsOut, out.len() as i64);
    (out, outliers, counts)
}
