//! The KPI formulas and the queries behind them — the one place that defines them. The
//! dashboard's server functions and the CSV export use this module.
//!
//! Conversion is a store-level figure: transactions are counted per store, so its
//! visitors are all of the store's sensors, whatever the sensor filter shows.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};

use crate::simulator::OPENING_HOURS;
use crate::warehouse::{rollups, sqlite, Warehouse, WarehouseError};

/// What the dashboard looks at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KpiFilter {
    /// One store, or all stores when `None`.
    pub store_id: Option<u32>,
    /// Sensors of the selected store to count visitors on; empty means all.
    pub sensor_ids: Vec<u32>,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Opening hours shown, inclusive (9..=19).
    pub hour_from: u32,
    pub hour_to: u32,
}

impl KpiFilter {
    /// Number of days covered.
    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }

    /// The period of the same length just before this one.
    pub fn previous(&self) -> KpiFilter {
        let len = Duration::days(self.days());
        KpiFilter {
            from: self.from - len,
            to: self.to - len,
            ..self.clone()
        }
    }

    /// The store condition: an equality the indexes can use, or a tautology on `$1` (0)
    /// for all stores (the parameter is bound either way).
    fn store_cond(&self) -> &'static str {
        if self.store_id.is_some() {
            "store_id = $1"
        } else {
            "$1 = 0"
        }
    }

    /// The store-level hourly rollup to read: one store's rows, or the whole chain's.
    fn store_level_table(&self) -> &'static str {
        if self.store_id.is_some() {
            "analytics.store_hours"
        } else {
            "analytics.chain_hours"
        }
    }

    /// True when the filter selects no day or no opening hour.
    fn selects_nothing(&self) -> bool {
        let (h0, h1) = self.hours();
        h0 > h1 || self.from > self.to
    }

    fn store_param(&self) -> i64 {
        self.store_id.map(i64::from).unwrap_or(0)
    }

    fn hours(&self) -> (u32, u32) {
        (
            self.hour_from.max(*OPENING_HOURS.start()),
            self.hour_to.min(*OPENING_HOURS.end()),
        )
    }

    /// The hour range as `heure` values (TIME on PostgreSQL; on SQLite sqlx binds a
    /// NaiveTime as `HH:MM:SS` text, which compares like the stored text).
    fn heure_bounds(&self) -> (NaiveTime, NaiveTime) {
        let (a, b) = self.hours();
        (
            NaiveTime::from_hms_opt(a, 0, 0).unwrap_or(NaiveTime::MIN),
            NaiveTime::from_hms_opt(b, 0, 0).unwrap_or(NaiveTime::MIN),
        )
    }

    fn sensor_selected(&self, sensor_id: u32) -> bool {
        self.sensor_ids.is_empty() || self.sensor_ids.contains(&sensor_id)
    }
}

/// Sums over a filter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    /// Visitors on the selected sensors.
    pub visitors: i64,
    /// Visitors on all sensors of the selected stores (conversion's denominator).
    pub store_visitors: i64,
    /// Sensors with at least one genuine (not imputed) count.
    pub active_sensors: i64,
    pub transactions: i64,
    pub revenue: f64,
}

/// The dashboard's figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Kpis {
    pub visitors: i64,
    pub active_sensors: i64,
    pub transactions: i64,
    pub revenue: f64,
    /// Σ transactions / Σ visitors (store level), in [0, 1].
    pub conversion: Option<f64>,
    /// Revenue / transactions.
    pub average_ticket: Option<f64>,
    /// Revenue / visitors (store level).
    pub revenue_per_visitor: Option<f64>,
}

/// Integer cents as euros (the API's and the dashboard's unit, two decimals). Sums are
/// always taken in cents, so no figure depends on the order of a float summation.
pub fn euros(cents: i64) -> f64 {
    cents as f64 / 100.0
}

/// Σ transactions / Σ visitors; `None` without visitors. Never a mean of ratios.
pub fn conversion(transactions: i64, visitors: i64) -> Option<f64> {
    (visitors > 0).then(|| transactions as f64 / visitors as f64)
}

pub fn average_ticket(revenue: f64, transactions: i64) -> Option<f64> {
    (transactions > 0).then(|| revenue / transactions as f64)
}

pub fn revenue_per_visitor(revenue: f64, visitors: i64) -> Option<f64> {
    (visitors > 0).then(|| revenue / visitors as f64)
}

impl Kpis {
    pub fn from_totals(t: &Totals) -> Self {
        Kpis {
            visitors: t.visitors,
            active_sensors: t.active_sensors,
            transactions: t.transactions,
            revenue: t.revenue,
            conversion: conversion(t.transactions, t.store_visitors),
            average_ticket: average_ticket(t.revenue, t.transactions),
            revenue_per_visitor: revenue_per_visitor(t.revenue, t.store_visitors),
        }
    }
}

/// Store-level sums for one (date, hour) or one store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct StoreSums {
    pub visitors: i64,
    pub transactions: i64,
    /// Revenue in euros (`revenue_cents / 100`, for display).
    pub revenue: f64,
    /// Revenue in integer cents: what is summed.
    #[serde(default)]
    pub revenue_cents: i64,
}

impl StoreSums {
    /// From a query row: (visitors, transactions, revenue in cents).
    fn from_row(visitors: i64, transactions: i64, revenue_cents: i64) -> Self {
        StoreSums {
            visitors,
            transactions,
            revenue: euros(revenue_cents),
            revenue_cents,
        }
    }

    fn add(&mut self, o: &StoreSums) {
        self.visitors += o.visitors;
        self.transactions += o.transactions;
        self.revenue_cents += o.revenue_cents;
        self.revenue = euros(self.revenue_cents);
    }

    pub fn conversion(&self) -> Option<f64> {
        conversion(self.transactions, self.visitors)
    }
}

/// The all-stores chart draws this many stores (the busiest): one line per store of a
/// 1,000-store chain would be unreadable (and megabytes of SVG).
pub const STORE_SERIES_CAP: usize = 10;

/// Everything the dashboard draws for one filter.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DashboardFigures {
    pub totals: Totals,
    /// Daily visitors per series: per sensor for one store; for all stores, per store for
    /// the [`STORE_SERIES_CAP`] busiest stores of the period.
    pub daily_series: BTreeMap<u32, BTreeMap<NaiveDate, i64>>,
    /// How many series there were before the cap (stores with data, or sensors shown).
    pub series_of: usize,
    /// Store-level sums per (date, hour).
    pub by_date_hour: BTreeMap<(NaiveDate, u32), StoreSums>,
    /// Store-level sums per store (all stores, for the ranking).
    pub by_store: BTreeMap<u32, StoreSums>,
}

impl DashboardFigures {
    pub fn by_date(&self) -> BTreeMap<NaiveDate, StoreSums> {
        let mut m: BTreeMap<NaiveDate, StoreSums> = BTreeMap::new();
        for ((d, _), s) in &self.by_date_hour {
            m.entry(*d).or_default().add(s);
        }
        m
    }

    pub fn by_hour(&self) -> BTreeMap<u32, StoreSums> {
        let mut m: BTreeMap<u32, StoreSums> = BTreeMap::new();
        for ((_, h), s) in &self.by_date_hour {
            m.entry(*h).or_default().add(s);
        }
        m
    }
}

/// Hourly visitor rows for export: (date, hour, store, sensor, visitors, imputed).
pub type ExportRow = (NaiveDate, u32, u32, u32, i64, bool);

/// Store or sensor ids listed inline in SQL (integers: nothing to escape).
fn id_list(ids: &[u32]) -> String {
    ids.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

macro_rules! per_backend {
    ($wh:expr, $sql:expr, |$q:ident, $pool:ident| $body:expr) => {
        match $wh {
            Warehouse::Sqlite($pool) => {
                let owned = sqlite($sql);
                let $q: &str = &owned;
                $body
            }
            Warehouse::Postgres($pool) => {
                let $q: &str = $sql;
                $body
            }
        }
    };
}

impl Warehouse {
    /// The figures of `f` and the totals of the period before it, queried concurrently
    /// (two pool connections): what the dashboard shows.
    pub async fn dashboard_with_previous(
        &self,
        f: &KpiFilter,
    ) -> Result<(DashboardFigures, Totals), WarehouseError> {
        let previous = f.previous();
        let (current, previous) =
            tokio::join!(self.dashboard_figures(f), self.period_totals(&previous));
        Ok((current?, previous?))
    }

    /// The totals of `f` alone (for the previous period's KPIs): the same sums as
    /// [`Warehouse::dashboard_figures`]'s totals, each fetched as one row.
    pub async fn period_totals(&self, f: &KpiFilter) -> Result<Totals, WarehouseError> {
        let mut t = Totals::default();
        if f.selects_nothing() {
            return Ok(t);
        }
        let (h0, h1) = f.hours();
        let table = f.store_level_table();
        let store_cond = f.store_cond();
        let sql = &format!(
            "SELECT CAST(COALESCE(SUM(visitors), 0) AS BIGINT), \
             CAST(COALESCE(SUM(transactions), 0) AS BIGINT), \
             CAST(COALESCE(SUM(revenue_cents), 0) AS BIGINT) \
             FROM {table} WHERE {store_cond} AND date >= $2 AND date <= $3 \
             AND hour >= $4 AND hour <= $5"
        );
        let (v, tx, r): (i64, i64, i64) = per_backend!(self, sql, |q, p| sqlx::query_as(q)
            .bind(f.store_param())
            .bind(f.from)
            .bind(f.to)
            .bind(h0 as i64)
            .bind(h1 as i64)
            .fetch_one(p)
            .await?);
        t.store_visitors = v;
        t.transactions = tx;
        t.revenue = euros(r);
        t.visitors = match f.store_id {
            Some(store_id) if !f.sensor_ids.is_empty() => {
                let v = rollups::range_expr('v', h0, h1);
                let sql = &format!(
                    "SELECT CAST(COALESCE(SUM({v}), 0) AS BIGINT) FROM analytics.sensor_days \
                     WHERE store_id = $1 AND date >= $2 AND date <= $3 AND sensor_id IN ({})",
                    id_list(&f.sensor_ids)
                );
                per_backend!(self, sql, |q, p| sqlx::query_scalar(q)
                    .bind(store_id as i64)
                    .bind(f.from)
                    .bind(f.to)
                    .fetch_one(p)
                    .await?)
            }
            _ => v,
        };
        t.active_sensors = self.active_sensors(f).await?;
        Ok(t)
    }

    /// Everything the dashboard draws for `f`, from the rollups: store-hours (one store)
    /// or chain-hours (all stores) for the store-level figures, sensor-days for visitors
    /// per sensor and active sensors, store-months and store-days for the ranking and the
    /// per-store lines.
    pub async fn dashboard_figures(
        &self,
        f: &KpiFilter,
    ) -> Result<DashboardFigures, WarehouseError> {
        let mut out = DashboardFigures::default();
        if f.selects_nothing() {
            return Ok(out);
        }
        out.by_date_hour = self.store_sums_by_date_hour(f).await?;
        let mut revenue_cents = 0i64;
        for s in out.by_date_hour.values() {
            out.totals.store_visitors += s.visitors;
            out.totals.transactions += s.transactions;
            revenue_cents += s.revenue_cents;
        }
        out.totals.revenue = euros(revenue_cents);
        match f.store_id {
            Some(store_id) => {
                out.daily_series = self.sensor_daily_visitors(f, store_id).await?;
                out.totals.visitors = out.daily_series.values().flat_map(|d| d.values()).sum();
            }
            None => out.totals.visitors = out.totals.store_visitors,
        }
        out.totals.active_sensors = self.active_sensors(f).await?;
        out.by_store = self.store_ranking(f).await?;
        if f.store_id.is_none() {
            out.series_of = out.by_store.len();
            let mut busiest: Vec<(u32, i64)> =
                out.by_store.iter().map(|(s, x)| (*s, x.visitors)).collect();
            busiest.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            busiest.truncate(STORE_SERIES_CAP);
            let ids: Vec<u32> = busiest.into_iter().map(|(s, _)| s).collect();
            out.daily_series = self.store_daily_visitors(f, &ids).await?;
        } else {
            out.series_of = out.daily_series.len();
        }
        Ok(out)
    }

    /// Store-level sums per (date, hour): `store_hours` for one store, `chain_hours` for all.
    async fn store_sums_by_date_hour(
        &self,
        f: &KpiFilter,
    ) -> Result<BTreeMap<(NaiveDate, u32), StoreSums>, WarehouseError> {
        let (h0, h1) = f.hours();
        let table = f.store_level_table();
        let store_cond = f.store_cond();
        let sql = &format!(
            "SELECT date, CAST(hour AS BIGINT), CAST(SUM(visitors) AS BIGINT), \
             CAST(SUM(transactions) AS BIGINT), CAST(SUM(revenue_cents) AS BIGINT) \
             FROM {table} WHERE {store_cond} AND date >= $2 AND date <= $3 \
             AND hour >= $4 AND hour <= $5 GROUP BY date, hour"
        );
        let rows: Vec<(NaiveDate, i64, i64, i64, i64)> =
            per_backend!(self, sql, |q, p| sqlx::query_as(q)
                .bind(f.store_param())
                .bind(f.from)
                .bind(f.to)
                .bind(h0 as i64)
                .bind(h1 as i64)
                .fetch_all(p)
                .await?);
        Ok(rows
            .into_iter()
            .map(|(d, h, v, t, r)| ((d, h as u32), StoreSums::from_row(v, t, r)))
            .collect())
    }

    /// Daily visitors of the selected sensors of one store.
    async fn sensor_daily_visitors(
        &self,
        f: &KpiFilter,
        store_id: u32,
    ) -> Result<BTreeMap<u32, BTreeMap<NaiveDate, i64>>, WarehouseError> {
        let (h0, h1) = f.hours();
        let v = rollups::range_expr('v', h0, h1);
        let sql = &format!(
            "SELECT date, CAST(sensor_id AS BIGINT), CAST({v} AS BIGINT) FROM analytics.sensor_days \
             WHERE store_id = $1 AND date >= $2 AND date <= $3"
        );
        let rows: Vec<(NaiveDate, i64, i64)> = per_backend!(self, sql, |q, p| sqlx::query_as(q)
            .bind(store_id as i64)
            .bind(f.from)
            .bind(f.to)
            .fetch_all(p)
            .await?);
        let mut out: BTreeMap<u32, BTreeMap<NaiveDate, i64>> = BTreeMap::new();
        for (d, sensor, v) in rows {
            let sensor = sensor as u32;
            if f.sensor_selected(sensor) {
                out.entry(sensor).or_default().insert(d, v);
            }
        }
        Ok(out)
    }

    /// Daily visitors of the given stores (all their sensors).
    async fn store_daily_visitors(
        &self,
        f: &KpiFilter,
        stores: &[u32],
    ) -> Result<BTreeMap<u32, BTreeMap<NaiveDate, i64>>, WarehouseError> {
        if stores.is_empty() {
            return Ok(BTreeMap::new());
        }
        let (h0, h1) = f.hours();
        let v = rollups::range_expr('v', h0, h1);
        let ids = id_list(stores);
        let sql = &format!(
            "SELECT date, CAST(store_id AS BIGINT), CAST({v} AS BIGINT) FROM analytics.store_days \
             WHERE store_id IN ({ids}) AND date >= $1 AND date <= $2"
        );
        let rows: Vec<(NaiveDate, i64, i64)> = per_backend!(self, sql, |q, p| sqlx::query_as(q)
            .bind(f.from)
            .bind(f.to)
            .fetch_all(p)
            .await?);
        let mut out: BTreeMap<u32, BTreeMap<NaiveDate, i64>> = BTreeMap::new();
        for (d, s, v) in rows {
            out.entry(s as u32).or_default().insert(d, v);
        }
        Ok(out)
    }

    /// Store-level sums per store over the period, for every store (the ranking): whole
    /// months from `store_months`, the days around them from `store_days`.
    async fn store_ranking(
        &self,
        f: &KpiFilter,
    ) -> Result<BTreeMap<u32, StoreSums>, WarehouseError> {
        let (h0, h1) = f.hours();
        let cols = format!(
            "store_id, {} AS v, {} AS t, {} AS r",
            rollups::range_expr('v', h0, h1),
            rollups::range_expr('t', h0, h1),
            rollups::range_expr('c', h0, h1),
        );
        let split = rollups::split_months(f.from, f.to);
        // Bound in this order: months (first, last), then each edge range.
        let mut dates: Vec<NaiveDate> = Vec::new();
        let mut parts: Vec<String> = Vec::new();
        if let Some((m0, m1)) = split.months {
            parts.push(format!(
                "SELECT {cols} FROM analytics.store_months WHERE month >= ${} AND month <= ${}",
                dates.len() + 1,
                dates.len() + 2
            ));
            dates.extend([m0, m1]);
        }
        for (a, b) in &split.edge_days {
            parts.push(format!(
                "SELECT {cols} FROM analytics.store_days WHERE date >= ${} AND date <= ${}",
                dates.len() + 1,
                dates.len() + 2
            ));
            dates.extend([*a, *b]);
        }
        let sql = &format!(
            "SELECT CAST(store_id AS BIGINT), CAST(SUM(v) AS BIGINT), CAST(SUM(t) AS BIGINT), \
             CAST(SUM(r) AS BIGINT) FROM ({}) AS periods GROUP BY store_id",
            parts.join(" UNION ALL ")
        );
        let rows: Vec<(i64, i64, i64, i64)> = per_backend!(self, sql, |q, p| {
            let mut query = sqlx::query_as(q);
            for d in &dates {
                query = query.bind(*d);
            }
            query.fetch_all(p).await?
        });
        Ok(rows
            .into_iter()
            .map(|(s, v, t, r)| (s as u32, StoreSums::from_row(v, t, r)))
            .collect())
    }

    /// Sensors (of the selection) with at least one genuine, non-zero count in the period
    /// and hours: one probe of `sensor_days` per known sensor, counted in SQL.
    async fn active_sensors(&self, f: &KpiFilter) -> Result<i64, WarehouseError> {
        let (h0, h1) = f.hours();
        let store_cond = f.store_cond();
        let sensor_cond = if f.store_id.is_some() && !f.sensor_ids.is_empty() {
            format!("AND sensor_id IN ({})", id_list(&f.sensor_ids))
        } else {
            String::new()
        };
        let sql = &format!(
            "SELECT COUNT(*) FROM analytics.sensors s WHERE {store_cond} {sensor_cond} \
             AND EXISTS (SELECT 1 FROM analytics.sensor_days d \
               WHERE d.store_id = s.store_id AND d.sensor_id = s.sensor_id \
               AND d.date >= $2 AND d.date <= $3 AND (d.genuine & $4) <> 0)"
        );
        Ok(per_backend!(self, sql, |q, p| sqlx::query_scalar(q)
            .bind(f.store_param())
            .bind(f.from)
            .bind(f.to)
            .bind(rollups::genuine_mask(h0, h1))
            .fetch_one(p)
            .await?))
    }

    /// The filtered hourly visitor rows, for export, in (date, hour, store, sensor) order.
    pub async fn export_rows(&self, f: &KpiFilter) -> Result<Vec<ExportRow>, WarehouseError> {
        let (t0, t1) = f.heure_bounds();
        let store_cond = f.store_cond();
        let sql = &format!("SELECT date, heure, CAST(store_id AS BIGINT), CAST(sensor_id AS BIGINT), CAST(nb_visiteurs AS BIGINT), imputed \
                   FROM analytics.visiteurs WHERE {store_cond} AND date >= $2 AND date <= $3 \
                   AND heure >= $4 AND heure <= $5 ORDER BY date, heure, store_id, sensor_id");
        let rows: Vec<(NaiveDate, NaiveTime, i64, i64, i64, bool)> =
            per_backend!(self, sql, |q, p| sqlx::query_as(q)
                .bind(f.store_param())
                .bind(f.from)
                .bind(f.to)
                .bind(t0)
                .bind(t1)
                .fetch_all(p)
                .await?);
        use chrono::Timelike;
        Ok(rows
            .into_iter()
            .filter(|r| f.store_id.is_none() || f.sensor_selected(r.3 as u32))
            .map(|(d, t, s, c, v, i)| (d, t.hour(), s as u32, c as u32, v, i))
            .collect())
    }

    /// First and last day present in analytics.
    pub async fn analytics_range(&self) -> Result<Option<(NaiveDate, NaiveDate)>, WarehouseError> {
        // Two subqueries: each is a single index probe (MIN and MAX together scan).
        let sql = "SELECT (SELECT MIN(date) FROM analytics.store_hours), \
                   (SELECT MAX(date) FROM analytics.store_hours)";
        let row: (Option<NaiveDate>, Option<NaiveDate>) =
            per_backend!(self, sql, |q, p| sqlx::query_as(q).fetch_one(p).await?);
        Ok(row.0.zip(row.1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversion_is_a_ratio_of_sums_not_a_mean_of_ratios() {
        // Hour A: 10 tx / 100 visitors (10 %); hour B: 90 tx / 300 visitors (30 %).
        // Mean of ratios = 20 %; the right figure is 100 / 400 = 25 %.
        assert_eq!(conversion(10 + 90, 100 + 300), Some(0.25));
        assert_eq!(conversion(5, 0), None);
        let k = Kpis::from_totals(&Totals {
            visitors: 150,
            store_visitors: 400,
            active_sensors: 3,
            transactions: 100,
            revenue: 5000.0,
        });
        assert_eq!(
            k.conversion,
            Some(0.25),
            "store-level visitors, not the sensor filter's"
        );
        assert_eq!(k.average_ticket, Some(50.0));
        assert_eq!(k.revenue_per_visitor, Some(12.5));
    }

    #[test]
    fn previous_period_has_the_same_length_just_before() {
        let f = KpiFilter {
            store_id: None,
            sensor_ids: vec![],
            from: "2025-03-10".parse().expect("date"),
            to: "2025-03-16".parse().expect("date"),
            hour_from: 9,
            hour_to: 19,
        };
        let p = f.previous();
        assert_eq!(
            (p.from.to_string(), p.to.to_string()),
            ("2025-03-03".into(), "2025-03-09".into())
        );
        assert_eq!(p.days(), 7);
    }
}
