//! What alert detection reads (`alerts::detect`): the collected hours' raw rows that
//! say something is wrong (a `null` or a zero count, no sale), how many rows each hour
//! brought, and the cleaned days' rollups (`sensor_days`, `store_days`) the baselines are
//! computed from.
//!
//! The raw reads go through the `lot` index (one collected hour is one lot): an hourly run
//! reads the few latest hours, never whole days. The rollup reads are one row per
//! sensor-day or store-day; the bulk one (every sensor of the chain over the baseline's
//! days) is read on the connection's own handle on SQLite and by binary COPY on PostgreSQL,
//! as the transform's history is.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};

use super::pg_binary;
use super::sqlite_direct::with_direct;
use super::{placeholders, rollups, Warehouse, WarehouseError};
use crate::calendar::OPENING_HOURS;

/// How many opening hours a day has (the rollups' columns v09 … v19).
pub const DAY_HOURS: usize = rollups::derive::HOURS;

/// One raw visitor row that reports nothing or nobody: `value` is `None` (null) or ≤ 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadReading {
    pub lot: String,
    pub store_id: i64,
    pub sensor_id: i64,
    pub value: Option<i64>,
}

/// One raw sales row without a sale: `transactions` is `None` (null) or ≤ 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadSale {
    pub lot: String,
    pub store_id: i64,
}

/// One `analytics.sensor_days` row, its cumulative columns turned back into hours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SensorDayRow {
    pub store_id: i64,
    pub sensor_id: i64,
    pub date: NaiveDate,
    /// Visitors per opening hour (9 … 19), cleaned (imputed slots included).
    pub hours: [i64; DAY_HOURS],
    /// Bit h − 9 set when hour h is a genuine (not imputed) count.
    pub genuine: i64,
}

impl SensorDayRow {
    pub fn is_genuine(&self, index: usize) -> bool {
        self.genuine & (1 << index) != 0
    }
}

/// One `analytics.store_days` row: visitors per opening hour (all the store's sensors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreDayRow {
    pub store_id: i64,
    pub date: NaiveDate,
    pub hours: [i64; DAY_HOURS],
}

/// Cumulative columns (`v09`, `v10`, …) back to per-hour values.
fn steps(cumulative: &[i64; DAY_HOURS]) -> [i64; DAY_HOURS] {
    let mut out = [0; DAY_HOURS];
    let mut previous = 0;
    for (o, &c) in out.iter_mut().zip(cumulative) {
        *o = c - previous;
        previous = c;
    }
    out
}

/// PostgreSQL's `date - DATE '2000-01-01'` back to a date.
fn pg_day(offset: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(NaiveDate::MIN) + Duration::days(offset.into())
}

/// The rollup's cumulative hour columns (`v09` … `v19`) of a SQLite row, from column `first`.
fn sqlite_hours(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<[i64; DAY_HOURS]> {
    let mut out = [0i64; DAY_HOURS];
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = row.get(first + i)?;
    }
    Ok(out)
}

fn sqlite_day(text: &str) -> rusqlite::Result<NaiveDate> {
    text.parse::<NaiveDate>().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

impl Warehouse {
    /// Rows per lot in `raw.visiteurs` and `raw.transactions` (lots absent: not arrived).
    /// Counted on the `lot` index alone.
    pub async fn lot_row_counts(
        &self,
        lots: &[String],
    ) -> Result<HashMap<String, (i64, i64)>, WarehouseError> {
        let mut out: HashMap<String, (i64, i64)> = HashMap::new();
        if lots.is_empty() {
            return Ok(out);
        }
        let list = placeholders(lots.len());
        for (table, visitors) in [("raw.visiteurs", true), ("raw.transactions", false)] {
            let sql = format!(
                "SELECT lot, CAST(COUNT(*) AS BIGINT) FROM {table} WHERE lot IN ({list}) GROUP BY lot"
            );
            let rows: Vec<(String, i64)> = per_backend!(self, &sql, |q, p| {
                let mut query = sqlx::query_as(q);
                for lot in lots {
                    query = query.bind(lot);
                }
                query.fetch_all(p).await?
            });
            for (lot, n) in rows {
                let e = out.entry(lot).or_default();
                if visitors {
                    e.0 = n;
                } else {
                    e.1 = n;
                }
            }
        }
        Ok(out)
    }

    /// The visitor rows of `lots` whose count is `null` or ≤ 0.
    pub async fn bad_readings(&self, lots: &[String]) -> Result<Vec<BadReading>, WarehouseError> {
        if lots.is_empty() {
            return Ok(Vec::new());
        }
        // The predicate repeats the partial index's (migration 0012) word for word.
        let sql = format!(
            "SELECT lot, store_id, sensor_id, nb_visiteurs FROM raw.visiteurs \
             WHERE lot IN ({}) AND (nb_visiteurs IS NULL OR nb_visiteurs <= 0)",
            placeholders(lots.len())
        );
        // Hundreds of rows an hour on a large chain: on SQLite, read on the connection's
        // own handle (sqlx hands rows over one by one between threads).
        let rows: Vec<(String, i64, i64, Option<i64>)> = match self {
            Warehouse::Sqlite(p) => {
                let sql = super::sqlite(&sql);
                let mut conn = p.acquire().await?;
                with_direct(&mut conn, |db| {
                    let mut st = db.prepare(&sql)?;
                    let rows = st.query_map(rusqlite::params_from_iter(lots), |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                    })?;
                    rows.collect()
                })
                .await?
            }
            Warehouse::Postgres(p) => {
                let mut query = sqlx::query_as(&sql);
                for lot in lots {
                    query = query.bind(lot);
                }
                query.fetch_all(p).await?
            }
        };
        Ok(rows
            .into_iter()
            .map(|(lot, store_id, sensor_id, value)| BadReading {
                lot,
                store_id,
                sensor_id,
                value,
            })
            .collect())
    }

    /// The (store, sensor) pairs that have a visitor row in `lot` (to tell which sensors
    /// an hour that arrived short of rows lacks).
    pub async fn lot_sensors(&self, lot: &str) -> Result<Vec<(i64, i64)>, WarehouseError> {
        let sql = "SELECT store_id, sensor_id FROM raw.visiteurs WHERE lot = $1";
        Ok(per_backend!(self, sql, |q, p| sqlx::query_as(q)
            .bind(lot)
            .fetch_all(p)
            .await?))
    }

    /// The stores that have a sales row in `lot`.
    pub async fn lot_stores(&self, lot: &str) -> Result<Vec<i64>, WarehouseError> {
        let sql = "SELECT store_id FROM raw.transactions WHERE lot = $1";
        Ok(per_backend!(self, sql, |q, p| sqlx::query_scalar(q)
            .bind(lot)
            .fetch_all(p)
            .await?))
    }

    /// The sales rows of `lots` with `null` or no transactions.
    pub async fn bad_sales(&self, lots: &[String]) -> Result<Vec<BadSale>, WarehouseError> {
        if lots.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT lot, store_id FROM raw.transactions \
             WHERE lot IN ({}) AND (transactions IS NULL OR transactions <= 0)",
            placeholders(lots.len())
        );
        let rows: Vec<(String, i64)> = per_backend!(self, &sql, |q, p| {
            let mut query = sqlx::query_as(q);
            for lot in lots {
                query = query.bind(lot);
            }
            query.fetch_all(p).await?
        });
        Ok(rows
            .into_iter()
            .map(|(lot, store_id)| BadSale { lot, store_id })
            .collect())
    }

    /// Every `sensor_days` row of `dates` (the whole chain), in bulk. `stores` and
    /// `sensor_ids` are the chain's store ids and the sensor ids its stores use: on SQLite
    /// the rows are looked up in primary-key order (store, sensor, date), each table page
    /// read once, rather than date by date through the date index, which visits every
    /// sensor's page once per date (4× slower on the 1,000-store chain, and worse as
    /// history grows).
    pub async fn sensor_day_rows(
        &self,
        dates: &[NaiveDate],
        stores: &[i64],
        sensor_ids: &[i64],
    ) -> Result<Vec<SensorDayRow>, WarehouseError> {
        if dates.is_empty() || stores.is_empty() || sensor_ids.is_empty() {
            return Ok(Vec::new());
        }
        let columns: String = OPENING_HOURS.map(|h| format!(", v{h:02}")).collect();
        const WIDTH: usize = DAY_HOURS + 4;
        let ints = |v: &[i64]| v.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        match self {
            Warehouse::Sqlite(p) => {
                // Ids are integers (listed inline: thousands of them would pass SQLite's
                // bound-parameter limit); dates are bound.
                let sql = super::sqlite(&format!(
                    "SELECT store_id, sensor_id, date{columns}, genuine FROM analytics.sensor_days \
                     INDEXED BY sqlite_autoindex_sensor_days_1 \
                     WHERE store_id IN ({}) AND sensor_id IN ({}) AND date IN ({})",
                    ints(stores),
                    ints(sensor_ids),
                    placeholders(dates.len())
                ));
                let days: Vec<String> = dates.iter().map(NaiveDate::to_string).collect();
                let mut conn = p.acquire().await?;
                with_direct(&mut conn, |db| {
                    let mut st = db.prepare(&sql)?;
                    let mut rows = st.query(rusqlite::params_from_iter(&days))?;
                    let mut out = Vec::new();
                    while let Some(r) = rows.next()? {
                        let date: String = r.get(2)?;
                        out.push(SensorDayRow {
                            store_id: r.get(0)?,
                            sensor_id: r.get(1)?,
                            date: sqlite_day(&date)?,
                            hours: steps(&sqlite_hours(r, 3)?),
                            genuine: r.get(WIDTH - 1)?,
                        });
                    }
                    Ok(out)
                })
                .await
            }
            Warehouse::Postgres(p) => {
                let list: Vec<String> = dates
                    .iter()
                    .map(|d| pg_binary::literal(&d.to_string()))
                    .collect();
                let sql = format!(
                    "SELECT store_id, sensor_id, (date - DATE '2000-01-01'){columns}, genuine \
                     FROM analytics.sensor_days WHERE date IN ({})",
                    list.join(", ")
                );
                pg_binary::copy_out(p, &sql, WIDTH, |f| {
                    let mut v = [0i64; DAY_HOURS];
                    for (i, slot) in v.iter_mut().enumerate() {
                        *slot = pg_binary::int8(f[3 + i])?;
                    }
                    Ok(SensorDayRow {
                        store_id: pg_binary::int4(f[0])?.into(),
                        sensor_id: pg_binary::int4(f[1])?.into(),
                        date: pg_day(pg_binary::int4(f[2])?),
                        hours: steps(&v),
                        genuine: pg_binary::int4(f[WIDTH - 1])?.into(),
                    })
                })
                .await
            }
        }
    }

    /// The `sensor_days` rows of some stores over `from..to` (exclusive), by the primary
    /// key (store, sensor, date): cheap for a few stores whatever the chain's size.
    pub async fn store_sensor_days(
        &self,
        stores: &[i64],
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<SensorDayRow>, WarehouseError> {
        let columns: String = OPENING_HOURS.map(|h| format!(", v{h:02}")).collect();
        let sql = format!(
            "SELECT CAST(store_id AS BIGINT), CAST(sensor_id AS BIGINT), date{columns}, \
             CAST(genuine AS BIGINT) FROM analytics.sensor_days \
             WHERE store_id = $1 AND date >= $2 AND date < $3"
        );
        let mut out = Vec::new();
        for &store in stores {
            let fetched: Vec<(i64, i64, NaiveDate, [i64; DAY_HOURS], i64)> =
                per_backend!(self, &sql, |q, p| {
                    use sqlx::Row;
                    let rows = sqlx::query(q)
                        .bind(store)
                        .bind(from)
                        .bind(to)
                        .fetch_all(p)
                        .await?;
                    let mut v = Vec::with_capacity(rows.len());
                    for r in rows {
                        let mut c = [0i64; DAY_HOURS];
                        for (i, slot) in c.iter_mut().enumerate() {
                            *slot = r.try_get(3 + i)?;
                        }
                        v.push((
                            r.try_get(0)?,
                            r.try_get(1)?,
                            r.try_get(2)?,
                            c,
                            r.try_get(3 + DAY_HOURS)?,
                        ));
                    }
                    v
                });
            out.extend(
                fetched
                    .into_iter()
                    .map(|(store_id, sensor_id, date, c, genuine)| SensorDayRow {
                        store_id,
                        sensor_id,
                        date,
                        hours: steps(&c),
                        genuine,
                    }),
            );
        }
        Ok(out)
    }

    /// The `store_days` visitor rows of `dates` (the whole chain), or of one store. Read
    /// on the connection's own handle on SQLite (thousands of rows for the chain: sqlx's
    /// row-by-row hand-over between threads cost more than the query).
    pub async fn store_day_rows(
        &self,
        dates: &[NaiveDate],
        store: Option<i64>,
    ) -> Result<Vec<StoreDayRow>, WarehouseError> {
        if dates.is_empty() {
            return Ok(Vec::new());
        }
        let columns: String = OPENING_HOURS.map(|h| format!(", v{h:02}")).collect();
        let n = dates.len();
        let store_filter = if store.is_some() {
            format!(" AND store_id = ${}", n + 1)
        } else {
            String::new()
        };
        let sql = format!(
            "SELECT CAST(store_id AS BIGINT), date{columns} FROM analytics.store_days \
             WHERE date IN ({}){store_filter}",
            placeholders(n)
        );
        let rows: Vec<(i64, NaiveDate, [i64; DAY_HOURS])> = match self {
            Warehouse::Sqlite(p) => {
                let sql = super::sqlite(&sql);
                let mut params: Vec<rusqlite::types::Value> = dates
                    .iter()
                    .map(|d| rusqlite::types::Value::Text(d.to_string()))
                    .collect();
                params.extend(store.map(rusqlite::types::Value::Integer));
                let mut conn = p.acquire().await?;
                with_direct(&mut conn, |db| {
                    let mut st = db.prepare(&sql)?;
                    let mut rows = st.query(rusqlite::params_from_iter(&params))?;
                    let mut out = Vec::new();
                    while let Some(r) = rows.next()? {
                        let date: String = r.get(1)?;
                        out.push((r.get(0)?, sqlite_day(&date)?, sqlite_hours(r, 2)?));
                    }
                    Ok(out)
                })
                .await?
            }
            Warehouse::Postgres(p) => {
                use sqlx::Row;
                let mut query = sqlx::query(&sql);
                for d in dates {
                    query = query.bind(*d);
                }
                if let Some(s) = store {
                    query = query.bind(s);
                }
                let rows = query.fetch_all(p).await?;
                let mut v = Vec::with_capacity(rows.len());
                for r in rows {
                    let mut c = [0i64; DAY_HOURS];
                    for (i, slot) in c.iter_mut().enumerate() {
                        *slot = r.try_get(2 + i)?;
                    }
                    v.push((r.try_get(0)?, r.try_get(1)?, c));
                }
                v
            }
        };
        Ok(rows
            .into_iter()
            .map(|(store_id, date, c)| StoreDayRow {
                store_id,
                date,
                hours: steps(&c),
            })
            .collect())
    }
}
