//! The dashboard's and the export's queries ([`crate::kpi`]'s figures), read from the
//! rollups beside this module: store-hours, chain-hours, sensor-days, store-days and
//! store-months.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::calendar::OPENING_HOURS;
use crate::kpi::{
    euros, DashboardFigures, ExportHour, KpiFilter, StoreSums, Totals, STORE_SERIES_CAP,
};
use crate::warehouse::{rollups, sqlite, Warehouse, WarehouseError};

/// How a filter reads in SQL.
trait FilterSql {
    fn store_cond(&self) -> String;
    fn store_level_table(&self) -> &'static str;
    fn store_param(&self) -> i64;
    fn within_cond(&self, column: &str) -> String;
}

impl FilterSql for KpiFilter {
    /// The store condition: an equality the indexes can use, or a tautology on `$1` (0)
    /// for all stores (the parameter is bound either way), limited to the person's stores
    /// when "all stores" means only theirs.
    fn store_cond(&self) -> String {
        if self.store_id.is_some() {
            "store_id = $1".to_string()
        } else {
            format!("$1 = 0{}", self.within_cond("store_id"))
        }
    }

    /// The store-level hourly rollup to read: one store's rows (or a person's stores'),
    /// or the whole chain's.
    fn store_level_table(&self) -> &'static str {
        if self.store_id.is_some() || self.within_stores.is_some() {
            "analytics.store_hours"
        } else {
            "analytics.chain_hours"
        }
    }

    fn store_param(&self) -> i64 {
        self.store_id.map(i64::from).unwrap_or(0)
    }

    /// ` AND <column> IN (…)` when the person is limited to some stores, else nothing
    /// (the ranking lists only their stores even when one store is selected).
    /// (An empty list never reaches SQL: such a filter [`KpiFilter::selects_nothing`].)
    fn within_cond(&self, column: &str) -> String {
        match &self.within_stores {
            Some(ids) => format!(" AND {column} IN ({})", id_list(ids)),
            None => String::new(),
        }
    }
}

/// Store or sensor ids listed inline in SQL (integers: nothing to escape).
fn id_list(ids: &[u32]) -> String {
    ids.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A value bound to a [`Warehouse::rows`] query.
#[derive(Debug, Clone, Copy)]
enum Param {
    Int(i64),
    Date(NaiveDate),
}

impl Warehouse {
    /// The rows of `sql`, whose `columns` result columns are named `c0`, `c1`, …, decoded as
    /// `T` (a tuple). On SQLite they come back as one JSON array built by SQLite: the driver
    /// hands rows over one at a time through a channel between threads, which cost most of
    /// a year view's CPU (one store's year is ~10,000 rows; see BENCHMARKS.md, issue 9).
    async fn rows<T>(
        &self,
        sql: &str,
        columns: usize,
        params: &[Param],
    ) -> Result<Vec<T>, WarehouseError>
    where
        T: serde::de::DeserializeOwned
            + Send
            + Unpin
            + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
    {
        match self {
            Warehouse::Sqlite(pool) => {
                let cols: Vec<String> = (0..columns).map(|i| format!("c{i}")).collect();
                let wrapped = sqlite(&format!(
                    "SELECT json_group_array(json_array({})) FROM ({sql}) AS q",
                    cols.join(", ")
                ));
                let mut q = sqlx::query_scalar::<_, String>(&wrapped);
                for p in params {
                    q = match *p {
                        Param::Int(i) => q.bind(i),
                        Param::Date(d) => q.bind(d),
                    };
                }
                let json = q.fetch_one(pool).await?;
                serde_json::from_str(&json)
                    .map_err(|e| WarehouseError::Data(format!("dashboard rows: {e}")))
            }
            Warehouse::Postgres(pool) => {
                let mut q = sqlx::query_as::<_, T>(sql);
                for p in params {
                    q = match *p {
                        Param::Int(i) => q.bind(i),
                        Param::Date(d) => q.bind(d),
                    };
                }
                Ok(q.fetch_all(pool).await?)
            }
        }
    }

    /// What the dashboard shows: the figures of `f` and, for the comparison period `cmp`,
    /// its totals, store-level sums per (date, hour) and the same series as `f`'s (so the
    /// charts can draw them dashed beside the current ones).
    pub async fn dashboard_with_comparison(
        &self,
        f: &KpiFilter,
        cmp: Option<&KpiFilter>,
    ) -> Result<(DashboardFigures, Option<DashboardFigures>), WarehouseError> {
        let Some(c) = cmp else {
            return Ok((self.dashboard_figures(f).await?, None));
        };
        let (current, totals, by_date_hour) = tokio::join!(
            self.dashboard_figures(f),
            self.period_totals(c),
            self.store_sums_by_date_hour(c)
        );
        let current = current?;
        let mut other = DashboardFigures {
            totals: totals?,
            by_date_hour: if c.selects_nothing() {
                BTreeMap::new()
            } else {
                by_date_hour?
            },
            ..Default::default()
        };
        if !c.selects_nothing() {
            let ids: Vec<u32> = current.daily_series.keys().copied().collect();
            other.daily_series = match c.store_id {
                Some(store_id) => self.sensor_daily_visitors(c, store_id).await?,
                None => self.store_daily_visitors(c, &ids).await?,
            };
            other.daily_series.retain(|k, _| ids.contains(k));
            if c.is_single_day() {
                other.hourly_series = self.hourly_visitors(c, &ids).await?;
            }
        }
        Ok((current, Some(other)))
    }

    /// Visitors per hour of one day for the given series: sensors of the filter's store,
    /// or stores (all their sensors) for all stores. From the cumulative hour columns.
    async fn hourly_visitors(
        &self,
        f: &KpiFilter,
        ids: &[u32],
    ) -> Result<BTreeMap<u32, BTreeMap<u32, i64>>, WarehouseError> {
        let mut out: BTreeMap<u32, BTreeMap<u32, i64>> = BTreeMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let (h0, h1) = f.hours();
        let first = *OPENING_HOURS.start();
        let cols: Vec<String> = (first..=h1)
            .map(|h| format!("CAST(v{h:02} AS BIGINT)"))
            .collect();
        let (table, key, cond) = match f.store_id {
            Some(_) => (
                "analytics.sensor_days",
                "sensor_id",
                "store_id = $2 AND".to_string(),
            ),
            None => (
                "analytics.store_days",
                "store_id",
                format!("$2 = 0{} AND", f.within_cond("store_id")),
            ),
        };
        let sql = &format!(
            "SELECT CAST({key} AS BIGINT), {} FROM {table} WHERE {cond} date = $1 AND {key} IN ({})",
            cols.join(", "),
            id_list(ids)
        );
        let rows: Vec<Vec<i64>> = per_backend!(self, sql, |q, p| {
            use sqlx::Row;
            let rows = sqlx::query(q)
                .bind(f.from)
                .bind(f.store_param())
                .fetch_all(p)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                let mut v = Vec::with_capacity(cols.len() + 1);
                for i in 0..=cols.len() {
                    v.push(r.try_get::<i64, _>(i)?);
                }
                out.push(v);
            }
            out
        });
        for row in rows {
            let Some((&key, cumulative)) = row.split_first() else {
                continue;
            };
            let series = out.entry(key as u32).or_default();
            let mut before = 0;
            for (i, c) in cumulative.iter().enumerate() {
                let h = first + i as u32;
                if h >= h0 {
                    series.insert(h, c - before);
                }
                before = *c;
            }
        }
        Ok(out)
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
                let v = rollups::query::range_expr('v', h0, h1);
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
        if f.is_single_day() {
            let ids: Vec<u32> = out.daily_series.keys().copied().collect();
            out.hourly_series = self.hourly_visitors(f, &ids).await?;
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
            "SELECT date AS c0, CAST(hour AS BIGINT) AS c1, CAST(SUM(visitors) AS BIGINT) AS c2, \
             CAST(SUM(transactions) AS BIGINT) AS c3, CAST(SUM(revenue_cents) AS BIGINT) AS c4 \
             FROM {table} WHERE {store_cond} AND date >= $2 AND date <= $3 \
             AND hour >= $4 AND hour <= $5 GROUP BY date, hour"
        );
        let rows: Vec<(NaiveDate, i64, i64, i64, i64)> = self
            .rows(
                sql,
                5,
                &[
                    Param::Int(f.store_param()),
                    Param::Date(f.from),
                    Param::Date(f.to),
                    Param::Int(h0 as i64),
                    Param::Int(h1 as i64),
                ],
            )
            .await?;
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
        let v = rollups::query::range_expr('v', h0, h1);
        let sql = &format!(
            "SELECT date AS c0, CAST(sensor_id AS BIGINT) AS c1, CAST({v} AS BIGINT) AS c2 \
             FROM analytics.sensor_days WHERE store_id = $1 AND date >= $2 AND date <= $3"
        );
        let rows: Vec<(NaiveDate, i64, i64)> = self
            .rows(
                sql,
                3,
                &[
                    Param::Int(store_id as i64),
                    Param::Date(f.from),
                    Param::Date(f.to),
                ],
            )
            .await?;
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
        let v = rollups::query::range_expr('v', h0, h1);
        let ids = id_list(stores);
        let sql = &format!(
            "SELECT date AS c0, CAST(store_id AS BIGINT) AS c1, CAST({v} AS BIGINT) AS c2 \
             FROM analytics.store_days WHERE store_id IN ({ids}){} AND date >= $1 AND date <= $2",
            f.within_cond("store_id")
        );
        let rows: Vec<(NaiveDate, i64, i64)> = self
            .rows(sql, 3, &[Param::Date(f.from), Param::Date(f.to)])
            .await?;
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
            rollups::query::range_expr('v', h0, h1),
            rollups::query::range_expr('t', h0, h1),
            rollups::query::range_expr('c', h0, h1),
        );
        let split = rollups::query::split_months(f.from, f.to);
        let within = f.within_cond("store_id");
        // Bound in this order: months (first, last), then each edge range.
        let mut dates: Vec<NaiveDate> = Vec::new();
        let mut parts: Vec<String> = Vec::new();
        if let Some((m0, m1)) = split.months {
            parts.push(format!(
                "SELECT {cols} FROM analytics.store_months WHERE month >= ${} AND month <= ${}{within}",
                dates.len() + 1,
                dates.len() + 2
            ));
            dates.extend([m0, m1]);
        }
        for (a, b) in &split.edge_days {
            parts.push(format!(
                "SELECT {cols} FROM analytics.store_days WHERE date >= ${} AND date <= ${}{within}",
                dates.len() + 1,
                dates.len() + 2
            ));
            dates.extend([*a, *b]);
        }
        let sql = &format!(
            "SELECT CAST(store_id AS BIGINT) AS c0, CAST(SUM(v) AS BIGINT) AS c1, \
             CAST(SUM(t) AS BIGINT) AS c2, CAST(SUM(r) AS BIGINT) AS c3 \
             FROM ({}) AS periods GROUP BY store_id",
            parts.join(" UNION ALL ")
        );
        let params: Vec<Param> = dates.iter().copied().map(Param::Date).collect();
        let rows: Vec<(i64, i64, i64, i64)> = self.rows(sql, 4, &params).await?;
        Ok(rows
            .into_iter()
            .map(|(s, v, t, r)| (s as u32, StoreSums::from_row(v, t, r)))
            .collect())
    }

    /// Sensors (of the selection) with at least one genuine, non-zero count in the period
    /// and hours, counted in SQL: per known sensor, one probe of `sensor_months` for the
    /// period's whole months, then of `sensor_days` for the days around them (a year is
    /// one probe per sensor where it used to be a scan of its days; see BENCHMARKS.md).
    async fn active_sensors(&self, f: &KpiFilter) -> Result<i64, WarehouseError> {
        let (h0, h1) = f.hours();
        let store_cond = f.store_cond();
        let sensor_cond = if f.store_id.is_some() && !f.sensor_ids.is_empty() {
            format!("AND sensor_id IN ({})", id_list(&f.sensor_ids))
        } else {
            String::new()
        };
        // Only the days that hold data are probed: a comparison period before the first
        // day (a year ago, on a year of data) costs nothing instead of three failed probes
        // per sensor.
        let Some((first, last)) = self.analytics_range().await? else {
            return Ok(0);
        };
        let (from, to) = (f.from.max(first), f.to.min(last));
        if from > to {
            return Ok(0);
        }
        // $1 the store (or 0), $2 the hours' bits, then each range's first and last day.
        let split = rollups::query::split_months(from, to);
        let mut dates: Vec<NaiveDate> = Vec::new();
        let mut probes: Vec<String> = Vec::new();
        let mut probe = |table: &str, column: &str, (a, b): (NaiveDate, NaiveDate)| {
            probes.push(format!(
                "EXISTS (SELECT 1 FROM analytics.{table} d \
                 WHERE d.store_id = s.store_id AND d.sensor_id = s.sensor_id \
                 AND d.{column} >= ${} AND d.{column} <= ${} AND (d.genuine & $2) <> 0)",
                dates.len() + 3,
                dates.len() + 4
            ));
            dates.extend([a, b]);
        };
        if let Some(months) = split.months {
            probe("sensor_months", "month", months);
        }
        for edge in split.edge_days {
            probe("sensor_days", "date", edge);
        }
        let sql = &format!(
            "SELECT COUNT(*) FROM analytics.sensors s WHERE {store_cond} {sensor_cond} AND ({})",
            probes.join(" OR ")
        );
        Ok(per_backend!(self, sql, |q, p| {
            let mut q = sqlx::query_scalar(q)
                .bind(f.store_param())
                .bind(rollups::query::genuine_mask(h0, h1));
            for d in &dates {
                q = q.bind(*d);
            }
            q.fetch_one(p).await?
        }))
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

impl Warehouse {
    /// The export's store-hours of `f` in (date, hour, store) order, sent one by one to
    /// `out` as the database returns them (memory does not grow with the range). Stops
    /// early, without error, when `out` is closed. Returns the number of rows sent.
    pub async fn export_hours(
        &self,
        f: &KpiFilter,
        out: &tokio::sync::mpsc::Sender<ExportHour>,
    ) -> Result<u64, WarehouseError> {
        use futures::TryStreamExt;
        if f.selects_nothing() {
            return Ok(0);
        }
        let (h0, h1) = f.hours();
        let store_cond = if f.store_id.is_some() {
            "s.store_id = $1".to_string()
        } else {
            format!("$1 = 0{}", f.within_cond("s.store_id"))
        };
        // With a sensor choice, the selected sensors' visitors per hour join the store's row:
        // each hour's figure is one subtraction of the sensor-days' cumulative columns.
        let (visitors, join) = match f.store_id {
            Some(_) if !f.sensor_ids.is_empty() => {
                let sums: String = OPENING_HOURS
                    .map(|h| {
                        format!(
                            ", SUM({}) AS h{h:02}",
                            rollups::query::range_expr('v', h, h)
                        )
                    })
                    .collect();
                let by_hour: String = OPENING_HOURS
                    .map(|h| format!(" WHEN {h} THEN v.h{h:02}"))
                    .collect();
                (
                    format!("COALESCE(CASE s.hour{by_hour} END, 0)"),
                    format!(
                        "LEFT JOIN (SELECT date{sums} FROM analytics.sensor_days \
                         WHERE store_id = $1 AND date >= $2 AND date <= $3 \
                         AND sensor_id IN ({}) GROUP BY date) v ON v.date = s.date",
                        id_list(&f.sensor_ids)
                    ),
                )
            }
            _ => ("s.visitors".to_string(), String::new()),
        };
        let sql = &format!(
            "SELECT s.date, CAST(s.hour AS BIGINT), CAST(s.store_id AS BIGINT), \
             CAST({visitors} AS BIGINT), CAST(s.visitors AS BIGINT), \
             CAST(s.transactions AS BIGINT), CAST(s.revenue_cents AS BIGINT) \
             FROM analytics.store_hours s {join} \
             WHERE {store_cond} AND s.date >= $2 AND s.date <= $3 AND s.hour >= $4 AND s.hour <= $5 \
             ORDER BY s.date, s.hour, s.store_id"
        );
        type Row = (NaiveDate, i64, i64, i64, i64, i64, i64);
        let mut sent = 0u64;
        per_backend!(self, sql, |q, p| {
            let mut rows = sqlx::query_as::<_, Row>(q)
                .bind(f.store_param())
                .bind(f.from)
                .bind(f.to)
                .bind(h0 as i64)
                .bind(h1 as i64)
                .fetch(p);
            while let Some((date, hour, store, visitors, store_visitors, transactions, cents)) =
                rows.try_next().await?
            {
                let row = ExportHour {
                    date,
                    hour: hour as u32,
                    store_id: store as u32,
                    visitors,
                    store_visitors,
                    transactions,
                    revenue: euros(cents),
                };
                if out.send(row).await.is_err() {
                    break;
                }
                sent += 1;
            }
        });
        Ok(sent)
    }
}
