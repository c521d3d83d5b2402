//! `analytics.visiteurs`, `analytics.transactions` and `analytics.quality`: clean, typed
//! rows. A day is always replaced whole, with its rollups (`store_hours` here, the day-level
//! ones in `rollups`), in one transaction, so a re-run never duplicates.

use std::fmt::Write as _;

use chrono::{NaiveDate, NaiveTime};
use sqlx::{QueryBuilder, Sqlite};

use super::{rollups, Warehouse, WarehouseError};
// The clean rows are domain types (the cleaning's output); re-exported where they used to live.
pub use crate::clean_rows::{
    AnalyticsTotals, CleanTransaction, CleanVisitor, QualityFigure, StoreHourRollup,
};
use crate::cleaning::History;
use crate::simulator::OPENING_HOURS;

/// The store-hour rollup of a cleaned day (store-hours without transactions count 0).
pub fn rollup(
    visitors: &[CleanVisitor],
    transactions: &[CleanTransaction],
) -> Vec<StoreHourRollup> {
    let mut map: std::collections::BTreeMap<(i32, NaiveDate, u32), StoreHourRollup> =
        std::collections::BTreeMap::new();
    for v in visitors {
        map.entry((v.store_id, v.date, v.hour))
            .or_insert_with(|| StoreHourRollup {
                store_id: v.store_id,
                date: v.date,
                hour: v.hour,
                visitors: 0,
                transactions: 0,
                revenue_cents: 0,
            })
            .visitors += v.nb_visiteurs as i64;
    }
    for t in transactions {
        let e = map
            .entry((t.store_id, t.date, t.hour))
            .or_insert_with(|| StoreHourRollup {
                store_id: t.store_id,
                date: t.date,
                hour: t.hour,
                visitors: 0,
                transactions: 0,
                revenue_cents: 0,
            });
        e.transactions += t.nb_transactions as i64;
        e.revenue_cents += t.chiffre_affaires_centimes;
    }
    map.into_values().collect()
}

const SQLITE_CHUNK: usize = 4000;

fn time_of(hour: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(hour, 0, 0).unwrap_or(NaiveTime::MIN)
}

fn heure_text(hour: u32) -> String {
    format!("{hour:02}:00:00")
}

impl Warehouse {
    /// Replaces the analytics rows and quality figures of `date`, atomically.
    pub async fn replace_analytics_day(
        &self,
        date: NaiveDate,
        visitors: &[CleanVisitor],
        transactions: &[CleanTransaction],
        quality: &[QualityFigure],
    ) -> Result<(), WarehouseError> {
        let rollup = rollup(visitors, transactions);
        match self {
            Warehouse::Sqlite(pool) => {
                let mut tx = pool.begin().await?;
                for table in [
                    "analytics.visiteurs",
                    "analytics.transactions",
                    "analytics.quality",
                    "analytics.store_hours",
                ] {
                    sqlx::query(&format!("DELETE FROM {table} WHERE date = ?1"))
                        .bind(date)
                        .execute(&mut *tx)
                        .await?;
                }
                for chunk in visitors.chunks(SQLITE_CHUNK) {
                    let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
                        "INSERT INTO analytics.visiteurs (store_id, sensor_id, date, heure, nb_visiteurs, imputed) ",
                    );
                    qb.push_values(chunk, |mut b, r| {
                        b.push_bind(r.store_id)
                            .push_bind(r.sensor_id)
                            .push_bind(r.date)
                            .push_bind(heure_text(r.hour))
                            .push_bind(r.nb_visiteurs)
                            .push_bind(r.imputed);
                    });
                    qb.build().execute(&mut *tx).await?;
                }
                for chunk in transactions.chunks(SQLITE_CHUNK) {
                    let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
                        "INSERT INTO analytics.transactions (store_id, date, heure, nb_transactions, chiffre_affaires_centimes, imputed) ",
                    );
                    qb.push_values(chunk, |mut b, r| {
                        b.push_bind(r.store_id)
                            .push_bind(r.date)
                            .push_bind(heure_text(r.hour))
                            .push_bind(r.nb_transactions)
                            .push_bind(r.chiffre_affaires_centimes)
                            .push_bind(r.imputed);
                    });
                    qb.build().execute(&mut *tx).await?;
                }
                for chunk in rollup.chunks(SQLITE_CHUNK) {
                    let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
                        "INSERT INTO analytics.store_hours (store_id, date, hour, visitors, transactions, revenue_cents) ",
                    );
                    qb.push_values(chunk, |mut b, r| {
                        b.push_bind(r.store_id)
                            .push_bind(r.date)
                            .push_bind(r.hour as i64)
                            .push_bind(r.visitors)
                            .push_bind(r.transactions)
                            .push_bind(r.revenue_cents);
                    });
                    qb.build().execute(&mut *tx).await?;
                }
                for q in quality {
                    sqlx::query("INSERT INTO analytics.quality (date, feed, rule, count) VALUES (?1, ?2, ?3, ?4)")
                        .bind(date)
                        .bind(&q.feed)
                        .bind(&q.rule)
                        .bind(q.count)
                        .execute(&mut *tx)
                        .await?;
                }
                rollups::refresh_sqlite(&mut tx, date, date).await?;
                tx.commit().await?;
            }
            Warehouse::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                for table in [
                    "analytics.visiteurs",
                    "analytics.transactions",
                    "analytics.quality",
                    "analytics.store_hours",
                ] {
                    sqlx::query(&format!("DELETE FROM {table} WHERE date = $1"))
                        .bind(date)
                        .execute(&mut *tx)
                        .await?;
                }
                if !visitors.is_empty() {
                    sqlx::query(
                        "INSERT INTO analytics.visiteurs (store_id, sensor_id, date, heure, nb_visiteurs, imputed) \
                         SELECT * FROM UNNEST($1::int[], $2::int[], $3::date[], $4::time[], $5::int[], $6::bool[])",
                    )
                    .bind(visitors.iter().map(|r| r.store_id).collect::<Vec<_>>())
                    .bind(visitors.iter().map(|r| r.sensor_id).collect::<Vec<_>>())
                    .bind(visitors.iter().map(|r| r.date).collect::<Vec<_>>())
                    .bind(visitors.iter().map(|r| time_of(r.hour)).collect::<Vec<_>>())
                    .bind(visitors.iter().map(|r| r.nb_visiteurs).collect::<Vec<_>>())
                    .bind(visitors.iter().map(|r| r.imputed).collect::<Vec<_>>())
                    .execute(&mut *tx)
                    .await?;
                }
                if !transactions.is_empty() {
                    sqlx::query(
                        "INSERT INTO analytics.transactions (store_id, date, heure, nb_transactions, chiffre_affaires_centimes, imputed) \
                         SELECT * FROM UNNEST($1::int[], $2::date[], $3::time[], $4::int[], $5::bigint[], $6::bool[])",
                    )
                    .bind(transactions.iter().map(|r| r.store_id).collect::<Vec<_>>())
                    .bind(transactions.iter().map(|r| r.date).collect::<Vec<_>>())
                    .bind(transactions.iter().map(|r| time_of(r.hour)).collect::<Vec<_>>())
                    .bind(transactions.iter().map(|r| r.nb_transactions).collect::<Vec<_>>())
                    .bind(transactions.iter().map(|r| r.chiffre_affaires_centimes).collect::<Vec<_>>())
                    .bind(transactions.iter().map(|r| r.imputed).collect::<Vec<_>>())
                    .execute(&mut *tx)
                    .await?;
                }
                if !rollup.is_empty() {
                    sqlx::query(
                        "INSERT INTO analytics.store_hours (store_id, date, hour, visitors, transactions, revenue_cents) \
                         SELECT * FROM UNNEST($1::int[], $2::date[], $3::smallint[], $4::bigint[], $5::bigint[], $6::bigint[])",
                    )
                    .bind(rollup.iter().map(|r| r.store_id).collect::<Vec<_>>())
                    .bind(rollup.iter().map(|r| r.date).collect::<Vec<_>>())
                    .bind(rollup.iter().map(|r| r.hour as i16).collect::<Vec<_>>())
                    .bind(rollup.iter().map(|r| r.visitors).collect::<Vec<_>>())
                    .bind(rollup.iter().map(|r| r.transactions).collect::<Vec<_>>())
                    .bind(rollup.iter().map(|r| r.revenue_cents).collect::<Vec<_>>())
                    .execute(&mut *tx)
                    .await?;
                }
                for q in quality {
                    sqlx::query("INSERT INTO analytics.quality (date, feed, rule, count) VALUES ($1, $2, $3, $4)")
                        .bind(date)
                        .bind(&q.feed)
                        .bind(&q.rule)
                        .bind(q.count)
                        .execute(&mut *tx)
                        .await?;
                }
                rollups::refresh_postgres(&mut tx, date, date).await?;
                tx.commit().await?;
            }
        }
        Ok(())
    }

    /// Row counts and sums of the analytics tables.
    pub async fn analytics_fingerprint(&self) -> Result<AnalyticsTotals, WarehouseError> {
        let v = "SELECT COUNT(*), COALESCE(SUM(nb_visiteurs), 0) FROM analytics.visiteurs";
        let t = "SELECT COUNT(*), COALESCE(SUM(nb_transactions), 0), \
                 COALESCE(SUM(chiffre_affaires_centimes), 0) FROM analytics.transactions";
        let ((a, b), (c, d, e)): ((i64, i64), (i64, i64, i64)) = match self {
            Warehouse::Sqlite(p) => (
                sqlx::query_as(v).fetch_one(p).await?,
                sqlx::query_as(t).fetch_one(p).await?,
            ),
            Warehouse::Postgres(p) => (
                sqlx::query_as("SELECT COUNT(*), COALESCE(SUM(nb_visiteurs), 0)::BIGINT FROM analytics.visiteurs")
                    .fetch_one(p)
                    .await?,
                sqlx::query_as(
                    "SELECT COUNT(*), COALESCE(SUM(nb_transactions), 0)::BIGINT, \
                     COALESCE(SUM(chiffre_affaires_centimes), 0)::BIGINT FROM analytics.transactions",
                )
                .fetch_one(p)
                .await?,
            ),
        };
        Ok(AnalyticsTotals {
            visitor_rows: a,
            visitors: b,
            transaction_rows: c,
            transactions: d,
            revenue_cents: e,
        })
    }

    /// The quality figures of one day.
    pub async fn quality_for(&self, date: NaiveDate) -> Result<Vec<QualityFigure>, WarehouseError> {
        let sql =
            "SELECT feed, rule, count FROM analytics.quality WHERE date = $1 ORDER BY feed, rule";
        let rows: Vec<(String, String, i64)> = match self {
            Warehouse::Sqlite(p) => {
                sqlx::query_as(&super::sqlite(sql))
                    .bind(date)
                    .fetch_all(p)
                    .await?
            }
            Warehouse::Postgres(p) => sqlx::query_as(sql).bind(date).fetch_all(p).await?,
        };
        Ok(rows
            .into_iter()
            .map(|(feed, rule, count)| QualityFigure { feed, rule, count })
            .collect())
    }
}

impl Warehouse {
    /// The genuine values of `dates` (the same weekday of the recent weeks), summed per
    /// sensor-hour from `sensor_days` (cumulative columns and the `genuine` bits) and per
    /// store-hour from the sales rows not imputed (only `with_sales`: a day whose sales
    /// have no gap needs none).
    pub async fn history(
        &self,
        dates: &[NaiveDate],
        with_sales: bool,
    ) -> Result<History, WarehouseError> {
        let mut history = History::default();
        if dates.is_empty() {
            return Ok(history);
        }
        let marks: Vec<String> = (1..=dates.len()).map(|i| format!("${i}")).collect();
        let list = marks.join(", ");
        // Summed in SQL per sensor-hour (one row per sensor, not per sensor-day): the
        // genuine bit of hour h is bit h - 9, its count the step of the cumulative columns.
        let mut columns = String::new();
        let mut previous = String::from("0");
        for (i, h) in OPENING_HOURS.enumerate() {
            let bit = 1 << i;
            let _ = write!(
                columns,
                ", CAST(SUM(CASE WHEN (genuine & {bit}) <> 0 THEN v{h:02} - {previous} ELSE 0 END) AS BIGINT), \
                 CAST(SUM(CASE WHEN (genuine & {bit}) <> 0 THEN 1 ELSE 0 END) AS BIGINT)"
            );
            previous = format!("v{h:02}");
        }
        let sensors_sql = format!(
            "SELECT CAST(store_id AS BIGINT), CAST(sensor_id AS BIGINT){columns} \
             FROM analytics.sensor_days WHERE date IN ({list}) GROUP BY store_id, sensor_id"
        );
        let hour_of_heure = match self.backend() {
            super::Backend::Sqlite => "CAST(substr(heure, 1, 2) AS INTEGER)",
            super::Backend::Postgres => "CAST(EXTRACT(HOUR FROM heure) AS BIGINT)",
        };
        let sales_sql = format!(
            "SELECT CAST(store_id AS BIGINT), {hour_of_heure}, CAST(SUM(nb_transactions) AS BIGINT), \
             CAST(SUM(chiffre_affaires_centimes) AS BIGINT), CAST(COUNT(*) AS BIGINT) \
             FROM analytics.transactions \
             WHERE date IN ({list}) AND imputed = FALSE AND nb_transactions > 0 \
             GROUP BY store_id, {hour_of_heure}"
        );
        macro_rules! fetch {
            ($pool:expr, $sensors:expr, $sales:expr, $db:ty) => {{
                let mut q = sqlx::query::<$db>($sensors);
                for d in dates {
                    q = q.bind(*d);
                }
                let rows = q.fetch_all($pool).await?;
                for row in rows {
                    use sqlx::Row;
                    let store: i64 = row.try_get(0)?;
                    let sensor: i64 = row.try_get(1)?;
                    for (i, h) in OPENING_HOURS.enumerate() {
                        let sum: i64 = row.try_get(2 + 2 * i)?;
                        let weeks: i64 = row.try_get(3 + 2 * i)?;
                        history.add_visitor_sum(store, sensor, h, sum, weeks);
                    }
                }
                if with_sales {
                    let mut q = sqlx::query_as::<$db, (i64, i64, i64, i64, i64)>($sales);
                    for d in dates {
                        q = q.bind(*d);
                    }
                    for (store, hour, tx, cents, weeks) in q.fetch_all($pool).await? {
                        history.add_sales_sum(store, hour as u32, tx, cents, weeks);
                    }
                }
            }};
        }
        match self {
            Warehouse::Sqlite(p) => {
                let (sensors_sql, sales_sql) =
                    (super::sqlite(&sensors_sql), super::sqlite(&sales_sql));
                fetch!(p, &sensors_sql, &sales_sql, sqlx::Sqlite)
            }
            Warehouse::Postgres(p) => fetch!(p, &sensors_sql, &sales_sql, sqlx::Postgres),
        }
        Ok(history)
    }

    /// Quality figures of a range of days: (date, feed, rule, count).
    pub async fn quality_range(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<(NaiveDate, String, String, i64)>, WarehouseError> {
        let sql = "SELECT date, feed, rule, count FROM analytics.quality WHERE date >= $1 AND date <= $2 \
                   ORDER BY date DESC, feed, rule";
        Ok(match self {
            Warehouse::Sqlite(p) => {
                sqlx::query_as(&super::sqlite(sql))
                    .bind(from)
                    .bind(to)
                    .fetch_all(p)
                    .await?
            }
            Warehouse::Postgres(p) => sqlx::query_as(sql).bind(from).bind(to).fetch_all(p).await?,
        })
    }
}
