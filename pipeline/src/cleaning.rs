//! The cleaning rules, in one place. Each rule has a name, is counted in the daily quality
//! figures (`analytics.quality`), and can be tested on its own.
//!
//! Row rules (plain Rust, per row): parse the date and the hour in their historical
//! spellings, drop nulls, unknown ids, closed days and hours, duplicates and implausible
//! values. Day rules (polars, per sensor-day or store-day): detect outliers against the
//! sensor's daily median, then fill every missing open slot with the day's mean.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use polars::prelude::*;

use crate::records::{TransactionRow, VisitorRow};
use crate::reference::Reference;
use crate::simulator::{is_open_day, OPENING_HOURS};
use crate::warehouse::analytics::{CleanTransaction, CleanVisitor, QualityFigure};

/// A reading above this multiple of its sensor's daily median is a high outlier.
pub const HIGH_OUTLIER_RATIO: f64 = 3.0;
/// A reading below this fraction of its sensor's daily median is a low outlier.
pub const LOW_OUTLIER_RATIO: f64 = 0.25;
/// Plausible store-hour transactions (the original's bounds).
pub const TRANSACTIONS_RANGE: std::ops::RangeInclusive<i64> = 1..=1000;
/// Plausible store-hour revenue in euros (the original's bounds).
pub const REVENUE_RANGE: std::ops::RangeInclusive<f64> = 1.0..=50_000.0;

/// Names of the rules, as stored in `analytics.quality.rule`.
pub mod rule {
    pub const ROWS_IN: &str = "rows_in";
    pub const UNPARSEABLE_DATE: &str = "unparseable_date";
    pub const UNPARSEABLE_HOUR: &str = "unparseable_hour";
    pub const NULL_DROPPED: &str = "null_dropped";
    pub const UNKNOWN_ID: &str = "unknown_id";
    pub const CLOSED_DAY: &str = "closed_day";
    pub const CLOSED_HOUR: &str = "closed_hour";
    pub const DUPLICATE: &str = "duplicate";
    pub const OUT_OF_RANGE: &str = "out_of_range";
    pub const OUTLIER_HIGH: &str = "outlier_high";
    pub const OUTLIER_LOW: &str = "outlier_low";
    pub const SLOTS_FILLED: &str = "slots_filled";
    pub const UNFILLABLE: &str = "unfillable";
    pub const ROWS_OUT: &str = "rows_out";
}

#[derive(Debug, thiserror::Error)]
pub enum CleaningError {
    #[error("dataframe error: {0}")]
    Polars(#[from] PolarsError),
}

/// Parses a date written `yyyy-MM-dd`, `yyyy/MM/dd` or `dd/MM/yyyy`.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    ["%Y-%m-%d", "%Y/%m/%d", "%d/%m/%Y"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(t, f).ok())
}

/// Parses an hour written `HH:MM:SS` (or `HH:MM`), `HHhMM` or `HHMM`; minutes must be 00.
pub fn parse_hour(text: &str) -> Option<u32> {
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
    let digits = |s: &str| !s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(h) || rest.is_empty() || rest.len() > 2 || !rest.iter().all(|p| digits(p)) {
        return None;
    }
    let hour: u32 = h.parse().ok()?;
    let all_zero = rest.iter().all(|p| p.bytes().all(|b| b == b'0'));
    (hour < 24 && all_zero).then_some(hour)
}

/// Counts per rule for one feed.
#[derive(Debug, Default, Clone)]
struct Counts(Vec<(&'static str, i64)>);

impl Counts {
    fn add(&mut self, rule: &'static str, n: i64) {
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
                rule: rule.to_string(),
                count,
            })
            .collect()
    }
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

/// Cleans the raw rows of `date`.
pub fn clean_day(
    reference: &Reference,
    date: NaiveDate,
    visitors: &[VisitorRow],
    transactions: &[TransactionRow],
) -> Result<CleanDay, CleaningError> {
    let (clean_visitors, outliers, v_counts) = clean_visitors(reference, date, visitors)?;
    let (clean_transactions, t_counts) = clean_transactions(reference, date, transactions)?;
    let mut quality = v_counts.into_figures("visiteurs");
    quality.extend(t_counts.into_figures("transactions"));
    Ok(CleanDay {
        visitors: clean_visitors,
        transactions: clean_transactions,
        quality,
        outliers,
    })
}

/// Row rules shared by both feeds: date, hour, closed day and hour. Returns the hour.
fn row_rules(date: NaiveDate, date_text: &str, heure: &str, counts: &mut Counts) -> Option<u32> {
    if parse_date(date_text) != Some(date) {
        counts.add(rule::UNPARSEABLE_DATE, 1);
        return None;
    }
    let Some(hour) = parse_hour(heure) else {
        counts.add(rule::UNPARSEABLE_HOUR, 1);
        return None;
    };
    if !is_open_day(date) {
        counts.add(rule::CLOSED_DAY, 1);
        return None;
    }
    if !OPENING_HOURS.contains(&hour) {
        counts.add(rule::CLOSED_HOUR, 1);
        return None;
    }
    Some(hour)
}

type VisitorsOutcome = (Vec<CleanVisitor>, Vec<(i64, i64, u32)>, Counts);

fn clean_visitors(
    reference: &Reference,
    date: NaiveDate,
    rows: &[VisitorRow],
) -> Result<VisitorsOutcome, CleaningError> {
    let mut counts = Counts::default();
    counts.add(rule::ROWS_IN, rows.len() as i64);
    let mut seen = HashSet::with_capacity(rows.len());
    let (mut stores, mut sensors, mut hours, mut values) = (vec![], vec![], vec![], vec![]);
    for r in rows {
        let Some(hour) = row_rules(date, &r.date, &r.heure, &mut counts) else {
            continue;
        };
        let Some(value) = r.nb_visiteurs else {
            counts.add(rule::NULL_DROPPED, 1);
            continue;
        };
        let known = u32::try_from(r.store_id)
            .ok()
            .zip(u32::try_from(r.sensor_id).ok())
            .and_then(|(s, c)| reference.sensor(s, c));
        if known.is_none() {
            counts.add(rule::UNKNOWN_ID, 1);
            continue;
        }
        if !seen.insert((r.store_id, r.sensor_id, hour)) {
            counts.add(rule::DUPLICATE, 1);
            continue;
        }
        if value < 0 {
            counts.add(rule::OUT_OF_RANGE, 1);
            continue;
        }
        stores.push(r.store_id);
        sensors.push(r.sensor_id);
        hours.push(hour as i64);
        values.push(value);
    }

    // Outliers against the sensor's daily median.
    let df = df!(
        "store_id" => stores,
        "sensor_id" => sensors,
        "hour" => hours,
        "value" => values,
    )?;
    let keys = [col("store_id"), col("sensor_id")];
    let flagged = df
        .lazy()
        .with_column(
            (col("value").cast(DataType::Float64)
                / col("value")
                    .cast(DataType::Float64)
                    .median()
                    .over(keys.clone())?)
            .alias("ratio"),
        )
        .collect()?;
    let ratio = flagged.column("ratio")?.f64()?.clone();
    let mut outliers = Vec::new();
    let mut keep = Vec::with_capacity(flagged.height());
    let s_col = flagged.column("store_id")?.i64()?.clone();
    let c_col = flagged.column("sensor_id")?.i64()?.clone();
    let h_col = flagged.column("hour")?.i64()?.clone();
    for i in 0..flagged.height() {
        let r = ratio.get(i).unwrap_or(1.0);
        let verdict = if r > HIGH_OUTLIER_RATIO {
            Some(rule::OUTLIER_HIGH)
        } else if r < LOW_OUTLIER_RATIO {
            Some(rule::OUTLIER_LOW)
        } else {
            None
        };
        if let Some(rule) = verdict {
            counts.add(rule, 1);
            outliers.push((
                s_col.get(i).unwrap_or(0),
                c_col.get(i).unwrap_or(0),
                h_col.get(i).unwrap_or(0) as u32,
            ));
        }
        keep.push(verdict.is_none());
    }
    let valid = flagged.filter(&BooleanChunked::from_slice("keep".into(), &keep))?;

    // The grid of every open slot of every known sensor, filled with the sensor's mean.
    let (mut gs, mut gc, mut gh) = (vec![], vec![], vec![]);
    if is_open_day(date) {
        for (store, sensor) in reference.all_sensors() {
            for hour in OPENING_HOURS {
                gs.push(store.store_id as i64);
                gc.push(sensor.sensor_id as i64);
                gh.push(hour as i64);
            }
        }
    }
    let grid = df!("store_id" => gs, "sensor_id" => gc, "hour" => gh)?;
    let means = valid
        .clone()
        .lazy()
        .group_by(keys.clone())
        .agg([col("value").cast(DataType::Float64).mean().alias("mean")]);
    let filled = grid
        .lazy()
        .join(
            valid
                .lazy()
                .select([col("store_id"), col("sensor_id"), col("hour"), col("value")]),
            [col("store_id"), col("sensor_id"), col("hour")],
            [col("store_id"), col("sensor_id"), col("hour")],
            JoinArgs::new(JoinType::Left),
        )
        .join(means, keys.clone(), keys, JoinArgs::new(JoinType::Left))
        .with_columns([
            col("value").is_null().alias("imputed"),
            when(col("value").is_null())
                .then((col("mean") + lit(0.5)).cast(DataType::Int64))
                .otherwise(col("value"))
                .alias("value"),
        ])
        .sort(["store_id", "sensor_id", "hour"], Default::default())
        .collect()?;

    let s = filled.column("store_id")?.i64()?;
    let c = filled.column("sensor_id")?.i64()?;
    let h = filled.column("hour")?.i64()?;
    let v = filled.column("value")?.i64()?;
    let imp = filled.column("imputed")?.bool()?;
    let mut out = Vec::with_capacity(filled.height());
    for i in 0..filled.height() {
        let imputed = imp.get(i).unwrap_or(false);
        let Some(value) = v.get(i) else {
            counts.add(rule::UNFILLABLE, 1);
            continue;
        };
        if imputed {
            counts.add(rule::SLOTS_FILLED, 1);
        }
        out.push(CleanVisitor {
            store_id: s.get(i).unwrap_or(0) as i32,
            sensor_id: c.get(i).unwrap_or(0) as i32,
            date,
            hour: h.get(i).unwrap_or(0) as u32,
            nb_visiteurs: value.clamp(0, i32::MAX as i64) as i32,
            imputed,
        });
    }
    counts.add(rule::ROWS_OUT, out.len() as i64);
    Ok((out, outliers, counts))
}

fn clean_transactions(
    reference: &Reference,
    date: NaiveDate,
    rows: &[TransactionRow],
) -> Result<(Vec<CleanTransaction>, Counts), CleaningError> {
    let mut counts = Counts::default();
    counts.add(rule::ROWS_IN, rows.len() as i64);
    let mut valid: HashMap<(i64, u32), (i64, f64)> = HashMap::new();
    for r in rows {
        let Some(hour) = row_rules(date, &r.date, &r.heure, &mut counts) else {
            continue;
        };
        let (Some(tx), Some(ca)) = (r.transactions, r.chiffre_affaires) else {
            counts.add(rule::NULL_DROPPED, 1);
            continue;
        };
        if u32::try_from(r.store_id)
            .ok()
            .and_then(|s| reference.store(s))
            .is_none()
        {
            counts.add(rule::UNKNOWN_ID, 1);
            continue;
        }
        if valid.contains_key(&(r.store_id, hour)) {
            counts.add(rule::DUPLICATE, 1);
            continue;
        }
        if !TRANSACTIONS_RANGE.contains(&tx) || !REVENUE_RANGE.contains(&ca) {
            counts.add(rule::OUT_OF_RANGE, 1);
            continue;
        }
        valid.insert((r.store_id, hour), (tx, ca));
    }
    let (mut vs, mut vh, mut vt, mut vc) = (vec![], vec![], vec![], vec![]);
    for (&(s, h), &(t, c)) in &valid {
        vs.push(s);
        vh.push(h as i64);
        vt.push(t);
        vc.push(c);
    }
    let valid_df = df!("store_id" => vs, "hour" => vh, "tx" => vt, "ca" => vc)?;
    let (mut gs, mut gh) = (vec![], vec![]);
    if is_open_day(date) {
        for store in reference.stores() {
            for hour in OPENING_HOURS {
                gs.push(store.store_id as i64);
                gh.push(hour as i64);
            }
        }
    }
    let grid = df!("store_id" => gs, "hour" => gh)?;
    let means = valid_df.clone().lazy().group_by([col("store_id")]).agg([
        col("tx").cast(DataType::Float64).mean().alias("tx_mean"),
        col("ca").mean().alias("ca_mean"),
    ]);
    let filled = grid
        .lazy()
        .join(
            valid_df.lazy(),
            [col("store_id"), col("hour")],
            [col("store_id"), col("hour")],
            JoinArgs::new(JoinType::Left),
        )
        .join(
            means,
            [col("store_id")],
            [col("store_id")],
            JoinArgs::new(JoinType::Left),
        )
        .with_columns([
            col("tx").is_null().alias("imputed"),
            when(col("tx").is_null())
                .then((col("tx_mean") + lit(0.5)).cast(DataType::Int64))
                .otherwise(col("tx"))
                .alias("tx"),
            when(col("ca").is_null())
                .then(col("ca_mean"))
                .otherwise(col("ca"))
                .alias("ca"),
        ])
        .sort(["store_id", "hour"], Default::default())
        .collect()?;
    let s = filled.column("store_id")?.i64()?;
    let h = filled.column("hour")?.i64()?;
    let t = filled.column("tx")?.i64()?;
    let c = filled.column("ca")?.f64()?;
    let imp = filled.column("imputed")?.bool()?;
    let mut out = Vec::with_capacity(filled.height());
    for i in 0..filled.height() {
        let imputed = imp.get(i).unwrap_or(false);
        let (Some(tx), Some(ca)) = (t.get(i), c.get(i)) else {
            counts.add(rule::UNFILLABLE, 1);
            continue;
        };
        if imputed {
            counts.add(rule::SLOTS_FILLED, 1);
        }
        out.push(CleanTransaction {
            store_id: s.get(i).unwrap_or(0) as i32,
            date,
            hour: h.get(i).unwrap_or(0) as u32,
            nb_transactions: tx.clamp(0, i32::MAX as i64) as i32,
            chiffre_affaires: (ca * 100.0).round() / 100.0,
            imputed,
        });
    }
    counts.add(rule::ROWS_OUT, out.len() as i64);
    Ok((out, counts))
}

#[cfg(test)]
mod tests {
    use super::*;

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

    fn row(store: i64, sensor: i64, date: &str, heure: &str, v: Option<i64>) -> VisitorRow {
        VisitorRow {
            store_id: store,
            sensor_id: sensor,
            date: date.into(),
            heure: heure.into(),
            nb_visiteurs: v,
        }
    }

    fn count(day: &CleanDay, feed: &str, rule: &str) -> i64 {
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
        for hour in 9..=19 {
            let v = match hour {
                12 => 900,
                15 => 1,
                _ => 50,
            };
            rows.push(row(
                1,
                1,
                "2024-10-14",
                &format!("{hour:02}:00:00"),
                Some(v),
            ));
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
            (rule::ROWS_IN, rows.len() as i64),
            (rule::DUPLICATE, 1),
            (rule::NULL_DROPPED, 1),
            (rule::UNKNOWN_ID, 2),
            (rule::CLOSED_HOUR, 1),
            (rule::UNPARSEABLE_HOUR, 1),
            (rule::UNPARSEABLE_DATE, 1),
            (rule::OUTLIER_HIGH, 1),
            (rule::OUTLIER_LOW, 1),
        ] {
            assert_eq!(count(&day, "visiteurs", rule), n, "{rule}");
        }
        assert_eq!(day.outliers.len(), 2);
        // Every open slot of all 83 sensors exists once.
        assert_eq!(
            day.visitors.len(),
            83 * 11 - count(&day, "visiteurs", rule::UNFILLABLE) as usize
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
        assert_eq!(count(&day, "visiteurs", rule::CLOSED_DAY), 1);
    }
}
