//! `analytics.visiteurs`, `analytics.transactions` and `analytics.quality`: clean, typed
//! rows. A day is always replaced whole, in one transaction, so a re-run never duplicates.

use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};
use sqlx::{QueryBuilder, Sqlite};

use super::{Warehouse, WarehouseError};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CleanVisitor {
    pub store_id: i32,
    pub sensor_id: i32,
    pub date: NaiveDate,
    pub hour: u32,
    pub nb_visiteurs: i32,
    /// True when the slot had no valid reading and was filled with the day's mean.
    pub imputed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CleanTransaction {
    pub store_id: i32,
    pub date: NaiveDate,
    pub hour: u32,
    pub nb_transactions: i32,
    pub chiffre_affaires: f64,
    pub imputed: bool,
}

/// One daily quality figure: how many rows a cleaning rule touched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QualityFigure {
    pub feed: String,
    pub rule: String,
    pub count: i64,
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
        match self {
            Warehouse::Sqlite(pool) => {
                let mut tx = pool.begin().await?;
                for table in [
                    "analytics.visiteurs",
                    "analytics.transactions",
                    "analytics.quality",
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
                        "INSERT INTO analytics.transactions (store_id, date, heure, nb_transactions, chiffre_affaires, imputed) ",
                    );
                    qb.push_values(chunk, |mut b, r| {
                        b.push_bind(r.store_id)
                            .push_bind(r.date)
                            .push_bind(heure_text(r.hour))
                            .push_bind(r.nb_transactions)
                            .push_bind(r.chiffre_affaires)
                            .push_bind(r.imputed);
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
                tx.commit().await?;
            }
            Warehouse::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                for table in [
                    "analytics.visiteurs",
                    "analytics.transactions",
                    "analytics.quality",
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
                        "INSERT INTO analytics.transactions (store_id, date, heure, nb_transactions, chiffre_affaires, imputed) \
                         SELECT * FROM UNNEST($1::int[], $2::date[], $3::time[], $4::int[], $5::float8[], $6::bool[])",
                    )
                    .bind(transactions.iter().map(|r| r.store_id).collect::<Vec<_>>())
                    .bind(transactions.iter().map(|r| r.date).collect::<Vec<_>>())
                    .bind(transactions.iter().map(|r| time_of(r.hour)).collect::<Vec<_>>())
                    .bind(transactions.iter().map(|r| r.nb_transactions).collect::<Vec<_>>())
                    .bind(transactions.iter().map(|r| r.chiffre_affaires).collect::<Vec<_>>())
                    .bind(transactions.iter().map(|r| r.imputed).collect::<Vec<_>>())
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
                tx.commit().await?;
            }
        }
        Ok(())
    }

    /// Row counts and sums of the analytics tables: (visitor rows, Σ visitors,
    /// transaction rows, Σ transactions, Σ revenue in cents).
    pub async fn analytics_fingerprint(&self) -> Result<(i64, i64, i64, i64, i64), WarehouseError> {
        let v = "SELECT COUNT(*), COALESCE(SUM(nb_visiteurs), 0) FROM analytics.visiteurs";
        let t = "SELECT COUNT(*), COALESCE(SUM(nb_transactions), 0), \
                 COALESCE(SUM(CAST(ROUND(CAST(chiffre_affaires * 100 AS NUMERIC)) AS BIGINT)), 0) \
                 FROM analytics.transactions";
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
                     COALESCE(SUM(ROUND((chiffre_affaires * 100)::NUMERIC)), 0)::BIGINT FROM analytics.transactions",
                )
                .fetch_one(p)
                .await?,
            ),
        };
        Ok((a, b, c, d, e))
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
