//! `raw.visiteurs` and `raw.transactions`: rows as they arrived, with
//! `timestamp_insertion` (when they landed) and `lot` (which partition or file brought
//! them). A lot is always replaced whole, in one transaction.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{Postgres, QueryBuilder, Sqlite};

use super::{Warehouse, WarehouseError};
use crate::records::{TransactionRow, VisitorRow};

/// SQLite binds at most 32,766 values per statement: 7 per row, 2,000 rows per insert.
const SQLITE_CHUNK: usize = 2000;

impl Warehouse {
    /// Replaces everything `lot` brought into raw with these rows, atomically.
    pub async fn replace_raw_lot(
        &self,
        lot: &str,
        visitors: &[VisitorRow],
        transactions: &[TransactionRow],
        at: DateTime<Utc>,
    ) -> Result<(), WarehouseError> {
        match self {
            Warehouse::Sqlite(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query("DELETE FROM raw.visiteurs WHERE lot = ?1")
                    .bind(lot)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM raw.transactions WHERE lot = ?1")
                    .bind(lot)
                    .execute(&mut *tx)
                    .await?;
                for chunk in visitors.chunks(SQLITE_CHUNK) {
                    let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
                        "INSERT INTO raw.visiteurs (store_id, sensor_id, date, heure, nb_visiteurs, timestamp_insertion, lot) ",
                    );
                    qb.push_values(chunk, |mut b, r| {
                        b.push_bind(r.store_id)
                            .push_bind(r.sensor_id)
                            .push_bind(&r.date)
                            .push_bind(&r.heure)
                            .push_bind(r.nb_visiteurs)
                            .push_bind(at)
                            .push_bind(lot);
                    });
                    qb.build().execute(&mut *tx).await?;
                }
                for chunk in transactions.chunks(SQLITE_CHUNK) {
                    let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
                        "INSERT INTO raw.transactions (store_id, date, heure, transactions, chiffre_affaires, timestamp_insertion, lot) ",
                    );
                    qb.push_values(chunk, |mut b, r| {
                        b.push_bind(r.store_id)
                            .push_bind(&r.date)
                            .push_bind(&r.heure)
                            .push_bind(r.transactions)
                            .push_bind(r.chiffre_affaires)
                            .push_bind(at)
                            .push_bind(lot);
                    });
                    qb.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
            }
            Warehouse::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query("DELETE FROM raw.visiteurs WHERE lot = $1")
                    .bind(lot)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM raw.transactions WHERE lot = $1")
                    .bind(lot)
                    .execute(&mut *tx)
                    .await?;
                if !visitors.is_empty() {
                    sqlx::query(
                        "INSERT INTO raw.visiteurs (store_id, sensor_id, date, heure, nb_visiteurs, timestamp_insertion, lot) \
                         SELECT s, c, d, h, n, $6, $7 \
                         FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::bigint[]) AS t(s, c, d, h, n)",
                    )
                    .bind(visitors.iter().map(|r| r.store_id).collect::<Vec<_>>())
                    .bind(visitors.iter().map(|r| r.sensor_id).collect::<Vec<_>>())
                    .bind(visitors.iter().map(|r| r.date.as_str()).collect::<Vec<_>>())
                    .bind(visitors.iter().map(|r| r.heure.as_str()).collect::<Vec<_>>())
                    .bind(visitors.iter().map(|r| r.nb_visiteurs).collect::<Vec<_>>())
                    .bind(at)
                    .bind(lot)
                    .execute(&mut *tx)
                    .await?;
                }
                if !transactions.is_empty() {
                    sqlx::query(
                        "INSERT INTO raw.transactions (store_id, date, heure, transactions, chiffre_affaires, timestamp_insertion, lot) \
                         SELECT s, d, h, t, c, $6, $7 \
                         FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::float8[]) AS u(s, d, h, t, c)",
                    )
                    .bind(transactions.iter().map(|r| r.store_id).collect::<Vec<_>>())
                    .bind(transactions.iter().map(|r| r.date.as_str()).collect::<Vec<_>>())
                    .bind(transactions.iter().map(|r| r.heure.as_str()).collect::<Vec<_>>())
                    .bind(transactions.iter().map(|r| r.transactions).collect::<Vec<_>>())
                    .bind(transactions.iter().map(|r| r.chiffre_affaires).collect::<Vec<_>>())
                    .bind(at)
                    .bind(lot)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
            }
        }
        Ok(())
    }

    /// The raw rows about one day, whichever of the historical spellings their `date`
    /// uses (`YYYY-MM-DD`, `YYYY/MM/DD`, `DD/MM/YYYY`).
    pub async fn raw_rows_for_date(
        &self,
        date: NaiveDate,
    ) -> Result<(Vec<VisitorRow>, Vec<TransactionRow>), WarehouseError> {
        let spellings = date_spellings(date);
        let visitors_sql =
            "SELECT store_id, sensor_id, date, heure, nb_visiteurs FROM raw.visiteurs \
                            WHERE date IN ($1, $2, $3)";
        let tx_sql =
            "SELECT store_id, date, heure, transactions, chiffre_affaires FROM raw.transactions \
                      WHERE date IN ($1, $2, $3)";
        type V = (i64, i64, String, String, Option<i64>);
        type T = (i64, String, String, Option<i64>, Option<f64>);
        let (v, t): (Vec<V>, Vec<T>) = match self {
            Warehouse::Sqlite(p) => {
                let q = super::sqlite(visitors_sql);
                let v = sqlx::query_as::<Sqlite, V>(&q)
                    .bind(&spellings[0])
                    .bind(&spellings[1])
                    .bind(&spellings[2])
                    .fetch_all(p)
                    .await?;
                let q = super::sqlite(tx_sql);
                let t = sqlx::query_as::<Sqlite, T>(&q)
                    .bind(&spellings[0])
                    .bind(&spellings[1])
                    .bind(&spellings[2])
                    .fetch_all(p)
                    .await?;
                (v, t)
            }
            Warehouse::Postgres(p) => {
                let v = sqlx::query_as::<Postgres, V>(visitors_sql)
                    .bind(&spellings[0])
                    .bind(&spellings[1])
                    .bind(&spellings[2])
                    .fetch_all(p)
                    .await?;
                let t = sqlx::query_as::<Postgres, T>(tx_sql)
                    .bind(&spellings[0])
                    .bind(&spellings[1])
                    .bind(&spellings[2])
                    .fetch_all(p)
                    .await?;
                (v, t)
            }
        };
        let visitors = v
            .into_iter()
            .map(
                |(store_id, sensor_id, date, heure, nb_visiteurs)| VisitorRow {
                    store_id,
                    sensor_id,
                    date,
                    heure,
                    nb_visiteurs,
                },
            )
            .collect();
        let transactions = t
            .into_iter()
            .map(
                |(store_id, date, heure, transactions, chiffre_affaires)| TransactionRow {
                    store_id,
                    date,
                    heure,
                    transactions,
                    chiffre_affaires,
                },
            )
            .collect();
        Ok((visitors, transactions))
    }

    /// Row counts of the raw tables (tests, status).
    pub async fn raw_counts(&self) -> Result<(i64, i64), WarehouseError> {
        let v = "SELECT COUNT(*) FROM raw.visiteurs";
        let t = "SELECT COUNT(*) FROM raw.transactions";
        Ok(match self {
            Warehouse::Sqlite(p) => (
                sqlx::query_scalar(v).fetch_one(p).await?,
                sqlx::query_scalar(t).fetch_one(p).await?,
            ),
            Warehouse::Postgres(p) => (
                sqlx::query_scalar(v).fetch_one(p).await?,
                sqlx::query_scalar(t).fetch_one(p).await?,
            ),
        })
    }
}

/// The three spellings of a date found in historical files.
pub fn date_spellings(date: NaiveDate) -> [String; 3] {
    [
        date.format("%Y-%m-%d").to_string(),
        date.format("%Y/%m/%d").to_string(),
        date.format("%d/%m/%Y").to_string(),
    ]
}
