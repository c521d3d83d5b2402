//! The cleaning rules, in one place. Each rule has a name, is counted in the daily quality
//! figures (`analytics.quality`), and can be tested on its own.
//!
//! Row rules (per row): parse the date and the hour in their historical spellings, drop
//! nulls, unknown ids, closed days and hours, hours after the last complete one, rows
//! superseded by a source of higher precedence, duplicates and implausible values.
//! Day rules (per sensor-day or store-day): detect outliers against the sensor's daily
//! median, then fill every missing open slot following the daily shape (see [`History`]).
//!
//! **Precedence of overlapping sources.** The rows of a day arrive sorted by precedence
//! (see `Warehouse::raw_day`): collected hours first, then imports from the newest to the
//! oldest, each file in line order. For every slot (sensor-hour or store-hour) the first
//! valid row wins, whatever the spelling of its date. A later row for a slot already taken
//! by another source is counted as `source_conflict`; one from the same source as
//! `duplicate`.
//!
//! Every figure is computed in a fixed order (ordered maps, no hash-map iteration, no
//! threads), and money is integer cents: the same rows always give the same bits.

use std::collections::{BTreeMap, HashMap};

use chrono::{Duration, NaiveDate};
use polars::prelude::PolarsError;

use crate::calendar::{is_open_day, OPENING_HOURS};
use crate::clean_rows::{CleanTransaction, CleanVisitor, QualityFigure, Rule};
use crate::clock::first_available_date;
use crate::records::{TransactionRow, VisitorRow};
use crate::reference::Reference;

/// A reading above this multiple of its sensor's daily median is a high outlier.
pub const HIGH_OUTLIER_RATIO: f64 = 3.0;
/// A reading below this fraction of its sensor's daily median is a low outlier.
pub const LOW_OUTLIER_RATIO: f64 = 0.25;
/// Plausible store-hour transactions (the original's bounds).
pub const TRANSACTIONS_RANGE: std::ops::RangeInclusive<i64> = 1..=1000;
/// Plausible store-hour revenue in cents (the original's bounds: 1 € to 50,000 €).
pub const REVENUE_CENTS_RANGE: std::ops::RangeInclusive<i64> = 100..=5_000_000;
/// How many weeks back the daily shape is learnt from (same weekday).
pub const HISTORY_WEEKS: i64 = 4;

#[derive(Debug, thiserror::Error)]
pub enum CleaningError {
    #[error("dataframe error: {0}")]
    Polars(#[from] PolarsError),
}

/// Parses an hour written `HH:MM:SS` (or `HH:MM`), `HHhMM` or `HHMM`; minutes must be 00.
pub fn parse_hour(text: &str) -> Option<u32> {
    // On bytes, without allocating: every raw row's hour goes through here.
    let b = text.trim().as_bytes();
    let digits = |s: &[u8]| (1..=2).contains(&s.len()) && s.iter().all(u8::is_ascii_digit);
    let zeros = |s: &[u8]| digits(s) && s.iter().all(|&c| c == b'0');
    let (h, minutes_zero) = if let Some(i) = b.iter().position(|&c| c == b':') {
        // `HH:MM` or `HH:MM:SS`: one or two parts after the hour.
        let mut parts = b[i + 1..].split(|&c| c == b':');
        let (mm, ss, more) = (parts.next(), parts.next(), parts.next());
        (
            &b[..i],
            more.is_none() && mm.is_some_and(zeros) && ss.is_none_or(zeros),
        )
    } else if let Some(i) = b.iter().position(|&c| c == b'h' || c == b'H') {
        (&b[..i], zeros(&b[i + 1..]))
    } else if b.len() == 4 && b.iter().all(u8::is_ascii_digit) {
        (&b[..2], zeros(&b[2..]))
    } else {
        return None;
    };
    if !minutes_zero || !digits(h) {
        return None;
    }
    let hour = h.iter().fold(0, |n, &c| n * 10 + u32::from(c - b'0'));
    (hour < 24).then_some(hour)
}

/// Euros as written (`1534.87`, `1534,87`) to integer cents, rounded to the nearest cent.
pub fn euros_to_cents(euros: f64) -> Option<i64> {
    let cents = (euros * 100.0).round();
    (cents.is_finite() && cents.abs() < 9.0e15).then_some(cents as i64)
}

/// Counts per rule for one feed.
#[derive(Debug, Default, Clone)]
struct Counts(Vec<(Rule, i64)>);

impl Counts {
    fn add(&mut self, rule: Rule, n: i64) {
        match self.0.iter_mut().find(|(r, _)| *r == rule) {
            Some((_, c)) => *c += n,
            None => self.0.push((rule, n)),
        }
    }
    fn into_figures(self, feed: &str) -> Vec<QualityFigure> {
        self.0
            .into_iter()
            .map(|(rule, count)| QualityFigure {
                feed: feed.to_string(),
                rule,
                count,
            })
            .collect()
    }
}

/// The genuine (not imputed) values of the same weekday in the recent weeks: each
/// sensor's and each store's own hourly profile, which the fill follows.
#[derive(Debug, Default, Clone)]
pub struct History {
    /// (store, sensor, hour) → (Σ visitors, weeks).
    sensors: BTreeMap<(i64, i64, u32), (i64, i64)>,
    /// (store, hour) → (Σ transactions, Σ cents, weeks).
    stores: BTreeMap<(i64, u32), (i64, i64, i64)>,
}

impl History {
    /// The days a day's shape is learnt from: the same weekday of the
    /// [`HISTORY_WEEKS`] weeks before, from the service's first day on.
    pub fn dates_for(date: NaiveDate) -> Vec<NaiveDate> {
        (1..=HISTORY_WEEKS)
            .filter_map(|w| date.checked_sub_signed(Duration::weeks(w)))
            .filter(|d| *d >= first_available_date())
            .collect()
    }

    /// Adds one genuine sensor-hour (imputed or zero counts are ignored).
    pub fn add_visitor(&mut self, store_id: i64, sensor_id: i64, hour: u32, value: i64) {
        if value > 0 {
            let e = self.sensors.entry((store_id, sensor_id, hour)).or_default();
            e.0 += value;
            e.1 += 1;
        }
    }

    /// Adds one genuine store-hour of sales.
    pub fn add_sales(&mut self, store_id: i64, hour: u32, transactions: i64, cents: i64) {
        if transactions > 0 {
            let e = self.stores.entry((store_id, hour)).or_default();
            e.0 += transactions;
            e.1 += cents;
            e.2 += 1;
        }
    }

    /// Adds `weeks` genuine counts of one sensor-hour summing to `sum`.
    pub fn add_visitor_sum(
        &mut self,
        store_id: i64,
        sensor_id: i64,
        hour: u32,
        sum: i64,
        weeks: i64,
    ) {
        if weeks > 0 {
            let e = self.sensors.entry((store_id, sensor_id, hour)).or_default();
            e.0 += sum;
            e.1 += weeks;
        }
    }

    /// Adds `weeks` genuine store-hours of sales summing to `transactions` and `cents`.
    pub fn add_sales_sum(
        &mut self,
        store_id: i64,
        hour: u32,
        transactions: i64,
        cents: i64,
        weeks: i64,
    ) {
        if weeks > 0 {
            let e = self.stores.entry((store_id, hour)).or_default();
            e.0 += transactions;
            e.1 += cents;
            e.2 += weeks;
        }
    }

    /// Adds a cleaned day's genuine rows (tests, simulations).
    pub fn add_day(&mut self, day: &CleanDay) {
        for v in day.visitors.iter().filter(|v| !v.imputed) {
            self.add_visitor(
                v.store_id as i64,
                v.sensor_id as i64,
                v.hour,
                v.nb_visiteurs as i64,
            );
        }
        for t in day.transactions.iter().filter(|t| !t.imputed) {
            self.add_sales(
                t.store_id as i64,
                t.hour,
                t.nb_transactions as i64,
                t.chiffre_affaires_centimes,
            );
        }
    }

    pub fn is_empty(&self) -> bool {
        self.sensors.is_empty() && self.stores.is_empty()
    }

    fn sensor_mean(&self, store: i64, sensor: i64, hour: u32) -> Option<f64> {
        self.sensors
            .get(&(store, sensor, hour))
            .map(|&(sum, n)| sum as f64 / n as f64)
    }

    fn store_means(&self, store: i64, hour: u32) -> Option<(f64, f64)> {
        self.stores
            .get(&(store, hour))
            .map(|&(t, c, n)| (t as f64 / n as f64, c as f64 / n as f64))
    }
}

/// False when every open store-hour of `date` has a plausible sales row: then no sale is
/// filled and the sales history need not be read. (True also when unsure.)
pub fn sales_may_need_filling(
    reference: &Reference,
    date: NaiveDate,
    rows: &[TransactionRow],
    last_hour: Option<u32>,
) -> bool {
    let grid = grid_hours(date, last_hour);
    if grid.is_empty() {
        return false;
    }
    let mut covered = std::collections::HashSet::with_capacity(rows.len());
    for r in rows {
        let (Some(tx), Some(ca)) = (r.transactions, r.chiffre_affaires) else {
            continue;
        };
        let plausible = TRANSACTIONS_RANGE.contains(&tx)
            && euros_to_cents(ca).is_some_and(|c| REVENUE_CENTS_RANGE.contains(&c));
        if !plausible || !crate::spelling::spells_date(&r.date, date) {
            continue;
        }
        if let Some(hour) = parse_hour(&r.heure).filter(|h| grid.contains(h)) {
            covered.insert((r.store_id, hour));
        }
    }
    let known = reference
        .stores()
        .iter()
        .flat_map(|s| grid.iter().map(move |h| (s.store_id as i64, *h)))
        .filter(|k| covered.contains(k))
        .count();
    known < reference.stores().len() * grid.len()
}

/// One day's raw rows, sorted by precedence, and what the cleaning needs besides.
#[derive(Debug, Clone, Copy)]
pub struct DayInput<'a> {
    pub visitors: &'a [VisitorRow],
    /// The source (lot) of each visitor row, same length; empty when all come from one.
    pub visitor_sources: &'a [u32],
    pub transactions: &'a [TransactionRow],
    pub transaction_sources: &'a [u32],
    /// The genuine values of the recent weeks (the daily shape).
    pub history: &'a History,
    /// The last hour of the day inside the service's range (today: the last complete
    /// hour); `None` for a whole past day. No slot after it is kept or filled.
    pub last_hour: Option<u32>,
}

/// One day, cleaned.
#[derive(Debug, Clone, Default)]
pub struct CleanDay {
    pub visitors: Vec<CleanVisitor>,
    pub transactions: Vec<CleanTransaction>,
    pub quality: Vec<QualityFigure>,
    /// (store, sensor, hour) of the readings judged outliers.
    pub outliers: Vec<(i64, i64, u32)>,
}

/// Cleans the raw rows of `date`, all from one source, without history.
pub fn clean_day(
    reference: &Reference,
    date: NaiveDate,
    visitors: &[VisitorRow],
    transactions: &[TransactionRow],
) -> Result<CleanDay, CleaningError> {
    let history = History::default();
    clean_day_with(
        reference,
        date,
        &DayInput {
            visitors,
            visitor_sources: &[],
            transactions,
            transaction_sources: &[],
            history: &history,
            last_hour: None,
        },
    )
}

/// Cleans the raw rows of `date` (see the module documentation).
pub fn clean_day_with(
    reference: &Reference,
    date: NaiveDate,
    input: &DayInput<'_>,
) -> Result<CleanDay, CleaningError> {
    let (clean_visitors, outliers, v_counts) = clean_visitors(reference, date, input);
    let (clean_transactions, t_counts) =
        clean_transactions(reference, date, input, &clean_visitors);
    let mut quality = v_counts.into_figures("visiteurs");
    quality.extend(t_counts.into_figures("transactions"));
    Ok(CleanDay {
        visitors: clean_visitors,
        transactions: clean_transactions,
        quality,
        outliers,
    })
}

/// The hours of `date` that get a row: opening hours of an open day inside the service's
/// range, up to `last_hour`.
fn grid_hours(date: NaiveDate, last_hour: Option<u32>) -> Vec<u32> {
    if !is_open_day(date) || date < first_available_date() {
        return Vec::new();
    }
    OPENING_HOURS
        .filter(|h| last_hour.is_none_or(|last| *h <= last))
        .collect()
}

/// Row rules shared by both feeds: date, hour, closed day and hour, service range.
/// Returns the hour.
fn row_rules(
    date: NaiveDate,
    date_text: &str,
    heure: &str,
    last_hour: Option<u32>,
    counts: &mut Counts,
) -> Option<u32> {
    if !crate::spelling::spells_date(date_text, date) {
        counts.add(Rule::UnparseableDate, 1);
        return None;
    }
    let Some(hour) = parse_hour(heure) else {
        counts.add(Rule::UnparseableHour, 1);
        return None;
    };
    if date < first_available_date() || last_hour.is_some_and(|last| hour > last) {
        counts.add(Rule::OutsideServiceRange, 1);
        return None;
    }
    if !is_open_day(date) {
        counts.add(Rule::ClosedDay, 1);
        return None;
    }
    if !OPENING_HOURS.contains(&hour) {
        counts.add(Rule::ClosedHour, 1);
        return None;
    }
    Some(hour)
}

/// Claims a slot for a row of `source`; counts and refuses it when the slot is taken.
fn claim<K: std::hash::Hash + Eq>(
    taken: &mut HashMap<K, u32>,
    key: K,
    source: u32,
    counts: &mut Counts,
) -> bool {
    match taken.get(&key) {
        Some(&owner) => {
            counts.add(
                if owner == source {
                    Rule::Duplicate
                } else {
                    Rule::SourceConflict
                },
                1,
            );
            false
        }
        None => {
            taken.insert(key, source);
            true
        }
    }
}

/// The median as polars computes it (mean of the two middle values for an even count).
fn median(values: &mut [i64]) -> Option<f64> {
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
type StoreShape = (BTreeMap<i64, f64>, BTreeMap<u32, f64>);

/// A multiplicative fit `value ≈ level(sensor) × shape(hour)` of one store's genuine counts
/// of the day: the store's own daily shape, for sensors without history.
fn store_day_shape(cells: &BTreeMap<i64, BTreeMap<u32, i64>>) -> StoreShape {
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

/// `profile(hour) × Σ present / Σ profile(present hours)`: a profile scaled to the day's
/// level, over the present hours the profile knows. `None` when it knows none of them.
fn scaled(
    profile_at_hour: Option<f64>,
    present: impl Iterator<Item = (f64, Option<f64>)>,
) -> Option<f64> {
    let at_hour = profile_at_hour?;
    let (sum_v, sum_p) = present.fold((0.0, 0.0), |(sv, sp), (v, p)| match p {
        Some(p) => (sv + v, sp + p),
        None => (sv, sp),
    });
    (sum_p > 0.0).then(|| at_hour * sum_v / sum_p)
}

type VisitorsOutcome = (Vec<CleanVisitor>, Vec<(i64, i64, u32)>, Counts);

/// A day with fewer raw visitor rows is cleaned on one thread (a 1,000-store day has
/// about 230,000, a 40-store one 8,000: the fingerprint test's day is split too).
const SPLIT_FROM_ROWS: usize = 4_000;

fn clean_visitors(reference: &Reference, date: NaiveDate, input: &DayInput<'_>) -> VisitorsOutcome {
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
fn clean_visitors_in_parts(
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
enum Part<'scope> {
    Running(std::thread::ScopedJoinHandle<'scope, VisitorsOutcome>),
    Done(VisitorsOutcome),
}

/// The visitor rules over the raw rows at `row_indices` (in that order), for the
/// chain's sensors of the stores `in_part` accepts.
fn clean_visitor_rows(
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

fn clean_transactions(
    reference: &Reference,
    date: NaiveDate,
    input: &DayInput<'_>,
    visitors: &[CleanVisitor],
) -> (Vec<CleanTransaction>, Counts) {
    let rows = input.transactions;
    let mut counts = Counts::default();
    counts.add(Rule::RowsIn, rows.len() as i64);
    let mut taken = HashMap::with_capacity(rows.len());
    // store → hour → (transactions, cents), in order.
    let mut valid: BTreeMap<i64, BTreeMap<u32, (i64, i64)>> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        let Some(hour) = row_rules(date, &r.date, &r.heure, input.last_hour, &mut counts) else {
            continue;
        };
        let (Some(tx), Some(ca)) = (r.transactions, r.chiffre_affaires) else {
            counts.add(Rule::NullDropped, 1);
            continue;
        };
        if u32::try_from(r.store_id)
            .ok()
            .and_then(|s| reference.store(s))
            .is_none()
        {
            counts.add(Rule::UnknownId, 1);
            continue;
        }
        let cents = euros_to_cents(ca);
        let key = (r.store_id, hour);
        let source = input.transaction_sources.get(i).copied().unwrap_or(0);
        if taken.contains_key(&key) {
            claim(&mut taken, key, source, &mut counts);
            continue;
        }
        // An implausible row does not take the slot: a later valid row may still fill it.
        let plausible = TRANSACTIONS_RANGE.contains(&tx)
            && cents.is_some_and(|c| REVENUE_CENTS_RANGE.contains(&c));
        if !plausible {
            counts.add(Rule::OutOfRange, 1);
            continue;
        }
        claim(&mut taken, key, source, &mut counts);
        valid
            .entry(r.store_id)
            .or_default()
            .insert(hour, (tx, cents.unwrap_or(0)));
    }

    // The store's visitors per hour (after the fill): the day's shape for stores
    // without sales history.
    let mut store_visitors: BTreeMap<(i64, u32), i64> = BTreeMap::new();
    for v in visitors {
        *store_visitors
            .entry((v.store_id as i64, v.hour))
            .or_default() += v.nb_visiteurs as i64;
    }
    let grid = grid_hours(date, input.last_hour);
    let empty = BTreeMap::new();
    let mut out = Vec::with_capacity(reference.stores().len() * grid.len());
    if !grid.is_empty() {
        for store in reference.stores() {
            let s = store.store_id as i64;
            let present = valid.get(&s).unwrap_or(&empty);
            for &hour in &grid {
                let (tx, cents, imputed) = match present.get(&hour) {
                    Some(&(t, c)) => (t, c, false),
                    None if present.is_empty() => {
                        counts.add(Rule::Unfillable, 1);
                        continue;
                    }
                    None => {
                        let h = input.history;
                        let means = |p: u32| h.store_means(s, p);
                        let profile = scaled(
                            means(hour).map(|m| m.0),
                            present
                                .iter()
                                .map(|(p, v)| (v.0 as f64, means(*p).map(|m| m.0))),
                        )
                        .zip(scaled(
                            means(hour).map(|m| m.1),
                            present
                                .iter()
                                .map(|(p, v)| (v.1 as f64, means(*p).map(|m| m.1))),
                        ));
                        let shape = |pick: fn(&(i64, i64)) -> i64| {
                            let at = store_visitors.get(&(s, hour)).map(|v| *v as f64);
                            scaled(
                                at.filter(|v| *v > 0.0),
                                present.iter().map(|(p, v)| {
                                    (
                                        pick(v) as f64,
                                        store_visitors.get(&(s, *p)).map(|x| *x as f64),
                                    )
                                }),
                            )
                        };
                        let (t, c) = profile
                            .or_else(|| shape(|v| v.0).zip(shape(|v| v.1)))
                            .unwrap_or_else(|| {
                                let n = present.len() as f64;
                                let (st, sc) = present
                                    .values()
                                    .fold((0i64, 0i64), |(a, b), v| (a + v.0, b + v.1));
                                (st as f64 / n, sc as f64 / n)
                            });
                        counts.add(Rule::SlotsFilled, 1);
                        (t.round().max(0.0) as i64, c.round().max(0.0) as i64, true)
                    }
                };
                out.push(CleanTransaction {
                    store_id: s as i32,
                    date,
                    hour,
                    nb_transactions: tx.clamp(0, i32::MAX as i64) as i32,
                    chiffre_affaires_centimes: cents,
                    imputed,
                });
            }
        }
    }
    counts.add(Rule::RowsOut, out.len() as i64);
    (out, counts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spelling::{heure, parse_date};

    #[test]
    fn dates_in_every_historical_spelling() {
        let d = NaiveDate::from_ymd_opt(2024, 10, 14);
        assert_eq!(parse_date("2024-10-14"), d);
        assert_eq!(parse_date("2024/10/14"), d);
        assert_eq!(parse_date("14/10/2024"), d);
        assert_eq!(parse_date(" 2024-10-14 "), d);
        for bad in [
            "",
            "2024-13-01",
            "31/02/2024",
            "14-10-2024",
            "yesterday",
            "2024-10-14T10",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn hours_in_every_historical_spelling() {
        for (text, hour) in [
            ("10:00:00", 10),
            ("09:00:00", 9),
            ("9:00:00", 9),
            ("10h00", 10),
            ("10H00", 10),
            ("1000", 10),
            ("0900", 9),
            ("19:00", 19),
        ] {
            assert_eq!(parse_hour(text), Some(hour), "{text}");
        }
        for bad in [
            "",
            "24:00:00",
            "10:30:00",
            "10h30",
            "1030",
            "abc",
            "10",
            "10:00:00:00",
            "1a00",
            "-1:00:00",
        ] {
            assert_eq!(parse_hour(bad), None, "{bad}");
        }
    }

    /// `parse_hour` as first written (split and collect): the byte parser must agree
    /// with it on every short string of the characters that matter.
    fn parse_hour_as_first_written(text: &str) -> Option<u32> {
        let t = text.trim();
        let (h, rest) = if let Some((h, rest)) = t.split_once(':') {
            (h, rest.split(':').collect::<Vec<_>>())
        } else if let Some((h, m)) = t.split_once(['h', 'H']) {
            (h, vec![m])
        } else if t.len() == 4 && t.bytes().all(|b| b.is_ascii_digit()) {
            (&t[..2], vec![&t[2..]])
        } else {
            return None;
        };
        let digits =
            |s: &str| !s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(h) || rest.is_empty() || rest.len() > 2 || !rest.iter().all(|p| digits(p)) {
            return None;
        }
        let hour: u32 = h.parse().ok()?;
        let all_zero = rest.iter().all(|p| p.bytes().all(|b| b == b'0'));
        (hour < 24 && all_zero).then_some(hour)
    }

    #[test]
    fn the_hour_parser_agrees_with_its_first_version_on_every_short_string() {
        let alphabet = ['0', '1', '2', '4', '9', ':', 'h', 'H', ' ', 'x'];
        let mut texts = vec![String::new()];
        let mut checked = 0;
        for _ in 0..6 {
            let mut longer = Vec::with_capacity(texts.len() * alphabet.len());
            for t in &texts {
                for c in alphabet {
                    let s = format!("{t}{c}");
                    assert_eq!(parse_hour(&s), parse_hour_as_first_written(&s), "{s:?}");
                    checked += 1;
                    longer.push(s);
                }
            }
            texts = longer;
        }
        for s in [
            "10:00:00",
            "23:00:00",
            " 09:00:00 ",
            "7:0:00",
            "10:00:00:",
            "\u{a0}10h00",
        ] {
            assert_eq!(parse_hour(s), parse_hour_as_first_written(s), "{s:?}");
        }
        assert_eq!(checked, 1_111_110);
    }

    /// A synthetic chain's day, made messy the ways the rules know: duplicates, a second
    /// source that conflicts, nulls, negatives, unknown ids, outliers, slots to fill from
    /// the history, from the store's shape or not at all.
    fn messy_day(
        reference: &std::sync::Arc<Reference>,
        date: NaiveDate,
    ) -> (Vec<VisitorRow>, Vec<u32>, History) {
        use crate::clock::HourSlot;
        use crate::jobs::collect::simulate_hour;
        let sim = crate::Simulator::new(reference.clone());
        let day_rows = |d: NaiveDate| -> Vec<VisitorRow> {
            HourSlot::hours_of_day(d)
                .flat_map(|slot| simulate_hour(&sim, slot).0)
                .collect()
        };
        let mut history = History::default();
        for week in 1..=2 {
            for r in day_rows(date - Duration::weeks(week)) {
                // Half the stores have no history: their fills follow the day's shape.
                if r.store_id % 2 == 0 {
                    if let (Some(h), Some(v)) = (parse_hour(&r.heure), r.nb_visiteurs) {
                        history.add_visitor(r.store_id, r.sensor_id, h, v);
                    }
                }
            }
        }
        let mut rows = Vec::new();
        let mut sources = Vec::new();
        for (i, mut r) in day_rows(date).into_iter().enumerate() {
            // A sensor silent all day (unfillable), and one heard at noon only, in a
            // store with history and in one without.
            let silent = (r.store_id, r.sensor_id) == (5, 2);
            let noon_only = r.sensor_id == 1 && (r.store_id == 3 || r.store_id == 4);
            if silent || (noon_only && !r.heure.starts_with("12")) {
                continue;
            }
            match i % 97 {
                // A missing slot.
                0..=2 => continue,
                3 => r.nb_visiteurs = None,
                4 => r.nb_visiteurs = Some(-5),
                5 => r.nb_visiteurs = r.nb_visiteurs.map(|v| v * 20 + 100),
                6 => r.store_id = 9_999,
                7 => r.store_id = -1,
                8 => r.heure = "10:30:00".into(),
                _ => {}
            }
            if i % 53 == 0 {
                rows.push(r.clone());
                sources.push(0);
            }
            if i % 71 == 0 {
                let mut other = r.clone();
                other.nb_visiteurs = other.nb_visiteurs.map(|v| v + 1);
                rows.push(other);
                sources.push(1);
            }
            rows.push(r);
            sources.push(0);
        }
        (rows, sources, history)
    }

    #[test]
    fn the_stores_cleaned_in_parts_give_what_one_pass_gives() {
        let reference = std::sync::Arc::new(Reference::synthetic(25, 7).expect("chain"));
        let date = NaiveDate::from_ymd_opt(2024, 3, 13).expect("date");
        let (visitors, visitor_sources, history) = messy_day(&reference, date);
        let input = DayInput {
            visitors: &visitors,
            visitor_sources: &visitor_sources,
            transactions: &[],
            transaction_sources: &[],
            history: &history,
            last_hour: None,
        };
        let sorted = |c: &Counts| {
            let mut c = c.0.clone();
            c.sort();
            c
        };
        let (rows, outliers, counts) = clean_visitors_in_parts(&reference, date, &input, 1);
        let figure = |rule: Rule| counts.0.iter().find(|(r, _)| *r == rule).map(|(_, n)| *n);
        // The day exercises every rule the parts must agree on.
        for rule in [
            Rule::Duplicate,
            Rule::SourceConflict,
            Rule::NullDropped,
            Rule::OutOfRange,
            Rule::UnknownId,
            Rule::ClosedHour,
            Rule::UnparseableHour,
            Rule::OutlierHigh,
            Rule::SlotsFilled,
            Rule::Unfillable,
        ] {
            assert!(
                figure(rule).is_some_and(|n| n > 0),
                "{rule}: {:?}",
                counts.0
            );
        }
        assert!(rows.iter().any(|r| r.imputed) && rows.len() > 1_000);
        for parts in [2, 3, 25, 40] {
            let (p_rows, p_outliers, p_counts) =
                clean_visitors_in_parts(&reference, date, &input, parts);
            assert_eq!(p_rows, rows, "{parts} parts");
            assert_eq!(p_outliers, outliers, "{parts} parts");
            assert_eq!(sorted(&p_counts), sorted(&counts), "{parts} parts");
        }
    }

    fn row(store: i64, sensor: i64, date: &str, heure: &str, v: Option<i64>) -> VisitorRow {
        VisitorRow {
            store_id: store,
            sensor_id: sensor,
            date: date.into(),
            heure: heure.into(),
            nb_visiteurs: v,
        }
    }

    fn count(day: &CleanDay, feed: &str, rule: Rule) -> i64 {
        day.quality
            .iter()
            .find(|q| q.feed == feed && q.rule == rule)
            .map(|q| q.count)
            .unwrap_or(0)
    }

    #[test]
    fn each_row_rule_is_counted_and_the_grid_is_filled() {
        let reference = Reference::embedded();
        let date = NaiveDate::from_ymd_opt(2024, 10, 14).expect("monday");
        let mut rows = Vec::new();
        // Sensor 1 of Paris: a normal day of 50s, one high outlier, one low outlier.
        for hour in OPENING_HOURS {
            let v = match hour {
                12 => 900,
                15 => 1,
                _ => 50,
            };
            rows.push(row(1, 1, "2024-10-14", &heure(hour), Some(v)));
        }
        rows.push(row(1, 2, "14/10/2024", "10h00", Some(40))); // other spellings: kept
        rows.push(row(1, 2, "2024/10/14", "1100", Some(44)));
        rows.push(row(1, 2, "2024-10-14", "11:00:00", Some(45))); // duplicate slot
        rows.push(row(1, 3, "2024-10-14", "10:00:00", None)); // null
        rows.push(row(999, 1, "2024-10-14", "10:00:00", Some(50))); // unknown store
        rows.push(row(1, 898, "2024-10-14", "10:00:00", Some(50))); // unknown sensor
        rows.push(row(1, 4, "2024-10-14", "03:00:00", Some(2))); // closed hour
        rows.push(row(1, 4, "2024-10-14", "25:00:00", Some(2))); // bad hour
        rows.push(row(1, 4, "not a date", "10:00:00", Some(2))); // bad date
        let day = clean_day(&reference, date, &rows, &[]).expect("clean");
        for (rule, n) in [
            (Rule::RowsIn, rows.len() as i64),
            (Rule::Duplicate, 1),
            (Rule::NullDropped, 1),
            (Rule::UnknownId, 2),
            (Rule::ClosedHour, 1),
            (Rule::UnparseableHour, 1),
            (Rule::UnparseableDate, 1),
            (Rule::OutlierHigh, 1),
            (Rule::OutlierLow, 1),
        ] {
            assert_eq!(count(&day, "visiteurs", rule), n, "{rule}");
        }
        assert_eq!(day.outliers.len(), 2);
        // Every open slot of all 83 sensors exists once.
        assert_eq!(
            day.visitors.len(),
            83 * 11 - count(&day, "visiteurs", Rule::Unfillable) as usize
        );
        let s1: Vec<&CleanVisitor> = day
            .visitors
            .iter()
            .filter(|v| v.store_id == 1 && v.sensor_id == 1)
            .collect();
        assert_eq!(s1.len(), 11);
        // The outliers' slots are filled with the mean of the valid values (50).
        assert!(s1
            .iter()
            .filter(|v| v.imputed)
            .all(|v| v.nb_visiteurs == 50));
        assert_eq!(s1.iter().filter(|v| v.imputed).count(), 2);
        // Sensor 2: mean of 40 and 44 fills its 9 other hours.
        let s2: Vec<&CleanVisitor> = day
            .visitors
            .iter()
            .filter(|v| v.store_id == 1 && v.sensor_id == 2)
            .collect();
        assert_eq!(s2.iter().filter(|v| v.imputed).count(), 9);
        assert!(s2
            .iter()
            .filter(|v| v.imputed)
            .all(|v| v.nb_visiteurs == 42));
    }

    #[test]
    fn weekends_produce_no_analytics_rows() {
        let reference = Reference::embedded();
        let date = NaiveDate::from_ymd_opt(2024, 10, 12).expect("saturday");
        let rows = vec![row(1, 1, "2024-10-12", "10:00:00", Some(50))];
        let day = clean_day(&reference, date, &rows, &[]).expect("clean");
        assert!(day.visitors.is_empty() && day.transactions.is_empty());
        assert_eq!(count(&day, "visiteurs", Rule::ClosedDay), 1);
    }

    fn clean_with(
        rows: &[VisitorRow],
        sources: &[u32],
        history: &History,
        last_hour: Option<u32>,
    ) -> CleanDay {
        let reference = Reference::embedded();
        let date = NaiveDate::from_ymd_opt(2024, 10, 14).expect("monday");
        clean_day_with(
            &reference,
            date,
            &DayInput {
                visitors: rows,
                visitor_sources: sources,
                transactions: &[],
                transaction_sources: &[],
                history,
                last_hour,
            },
        )
        .expect("clean")
    }

    fn value(day: &CleanDay, store: i32, sensor: i32, hour: u32) -> Option<(i32, bool)> {
        day.visitors
            .iter()
            .find(|v| v.store_id == store && v.sensor_id == sensor && v.hour == hour)
            .map(|v| (v.nb_visiteurs, v.imputed))
    }

    #[test]
    fn the_first_valid_row_in_precedence_order_wins_whatever_its_spelling() {
        // Source 0 is collected, source 1 an import: rows arrive in precedence order.
        let rows = vec![
            row(1, 1, "2024-10-14", "10:00:00", Some(50)),
            row(1, 2, "2024-10-14", "10:00:00", None),
            row(1, 3, "2024-10-14", "10:00:00", Some(40)),
            row(1, 3, "2024-10-14", "10:00:00", Some(41)),
            row(1, 1, "14/10/2024", "10h00", Some(99)),
            row(1, 1, "2024/10/14", "1000", Some(98)),
            row(1, 2, "14/10/2024", "10:00:00", Some(77)),
        ];
        let day = clean_with(&rows, &[0, 0, 0, 0, 1, 1, 1], &History::default(), None);
        assert_eq!(value(&day, 1, 1, 10), Some((50, false)), "collected wins");
        assert_eq!(
            value(&day, 1, 2, 10),
            Some((77, false)),
            "a null takes no slot"
        );
        assert_eq!(
            value(&day, 1, 3, 10),
            Some((40, false)),
            "first line of a source"
        );
        assert_eq!(count(&day, "visiteurs", Rule::SourceConflict), 2);
        assert_eq!(count(&day, "visiteurs", Rule::Duplicate), 1);
    }

    #[test]
    fn a_gap_follows_the_sensors_own_profile_scaled_to_the_day() {
        let profile = [30, 50, 60, 70, 90, 60, 60, 60, 90, 90, 70];
        let mut history = History::default();
        for (i, hour) in OPENING_HOURS.enumerate() {
            for _ in 0..4 {
                history.add_visitor(1, 1, hour, profile[i]);
            }
        }
        // Today at half the usual level, 13h missing: 90 / 2.
        let rows: Vec<VisitorRow> = OPENING_HOURS
            .enumerate()
            .filter(|(_, h)| *h != 13)
            .map(|(i, h)| row(1, 1, "2024-10-14", &heure(h), Some(profile[i] / 2)))
            .collect();
        let day = clean_with(&rows, &[], &history, None);
        assert_eq!(value(&day, 1, 1, 13), Some((45, true)));
        // Without history, the store's shape of the day, from its other sensors.
        let mut rows2 = rows.clone();
        for (i, h) in OPENING_HOURS.enumerate() {
            rows2.push(row(1, 2, "2024-10-14", &heure(h), Some(profile[i] * 2)));
        }
        let day = clean_with(&rows2, &[], &History::default(), None);
        assert_eq!(value(&day, 1, 1, 13), Some((45, true)));
        // The former rule, the day's mean, would have given 32.
        let mean = rows.iter().filter_map(|r| r.nb_visiteurs).sum::<i64>() / 10;
        assert_eq!(mean, 32);
    }

    #[test]
    fn the_current_day_stops_at_its_last_complete_hour() {
        let rows = vec![
            row(1, 1, "2024-10-14", "09:00:00", Some(30)),
            row(1, 1, "2024-10-14", "10:00:00", Some(50)),
            row(1, 1, "2024-10-14", "15:00:00", Some(60)),
        ];
        let day = clean_with(&rows, &[], &History::default(), Some(12));
        let hours: Vec<u32> = day
            .visitors
            .iter()
            .filter(|v| v.store_id == 1 && v.sensor_id == 1)
            .map(|v| v.hour)
            .collect();
        assert_eq!(hours, vec![9, 10, 11, 12]);
        assert_eq!(count(&day, "visiteurs", Rule::OutsideServiceRange), 1);
        assert!(day.visitors.iter().all(|v| v.hour <= 12));
    }

    #[test]
    fn revenue_is_integer_cents_and_sales_gaps_follow_the_day() {
        assert_eq!(euros_to_cents(1534.87), Some(153_487));
        assert_eq!(euros_to_cents(0.1 + 0.2), Some(30));
        assert_eq!(euros_to_cents(f64::NAN), None);
        let reference = Reference::embedded();
        let date = NaiveDate::from_ymd_opt(2024, 10, 14).expect("monday");
        let visitors: Vec<VisitorRow> = OPENING_HOURS
            .map(|h| row(1, 1, "2024-10-14", &heure(h), Some(h as i64 * 10)))
            .collect();
        let sales: Vec<TransactionRow> = OPENING_HOURS
            .filter(|h| *h != 12)
            .map(|h| TransactionRow {
                store_id: 1,
                date: "2024-10-14".into(),
                heure: heure(h),
                transactions: Some(h as i64),
                chiffre_affaires: Some(h as f64 * 10.005),
            })
            .collect();
        let day = clean_day(&reference, date, &visitors, &sales).expect("clean");
        let noon = day
            .transactions
            .iter()
            .find(|t| t.store_id == 1 && t.hour == 12)
            .expect("filled");
        assert!(noon.imputed);
        // Transactions follow the store's visitors of the day (one sale per 10 visitors).
        assert_eq!(noon.nb_transactions, 12);
        let again = clean_day(&reference, date, &visitors, &sales).expect("clean");
        assert_eq!(
            day.transactions, again.transactions,
            "same rows, same cents"
        );
    }
}
