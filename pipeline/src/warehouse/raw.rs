//! `raw.visiteurs` and `raw.transactions`: rows as they arrived, with
//! `timestamp_insertion` (when they landed), `lot` (which partition or file brought them)
//! and, for imported rows, `line` (their line in the file). A collected hour's lot is
//! always replaced whole, in one transaction; an imported file's lot is named after its
//! content (`import:<feed>:sha256:<hex>`, registered in `raw.imports`) and written once.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, Postgres, Sqlite, SqliteConnection};

use super::{insert_chunks_sqlite, Warehouse, WarehouseError};
use crate::cleaning::{DayInput, History};
use crate::records::{TransactionRow, VisitorRow};

/// SQLite binds at most 32,766 values per statement: 8 per row, 2,000 rows per insert.
const SQLITE_CHUNK: usize = 2000;

/// An imported file, as `raw.imports` records it (one row, read by column name).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ImportRecord {
    /// Order of the imports (a newer import wins over an older one).
    pub seq: i64,
    pub lot: String,
    pub feed: String,
    pub sha256: String,
    pub file_name: String,
    pub file_path: String,
    pub rows_loaded: i64,
    pub lines_bad: i64,
    pub rows_outside_range: i64,
    pub imported_at: DateTime<Utc>,
}

/// One day's raw rows in precedence order (collected hours first, then imports from the
/// newest to the oldest, each in line order), with the source of each row.
#[derive(Debug, Clone, Default)]
pub struct RawDay {
    pub visitors: Vec<VisitorRow>,
    pub visitor_sources: Vec<u32>,
    pub transactions: Vec<TransactionRow>,
    pub transaction_sources: Vec<u32>,
}

impl RawDay {
    /// The cleaning's input for this day: its rows and sources, with the recent weeks'
    /// `history` and the day's `last_hour` (see [`DayInput`]).
    pub fn input<'a>(&'a self, history: &'a History, last_hour: Option<u32>) -> DayInput<'a> {
        DayInput {
            visitors: &self.visitors,
            visitor_sources: &self.visitor_sources,
            transactions: &self.transactions,
            transaction_sources: &self.transaction_sources,
            history,
            last_hour,
        }
    }
}

/// A write transaction on the raw tables, on either backend.
enum RawTx {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

/// Raw rows to insert, each with its line in its file (`None` for collected rows).
type Lined<'a, R> = [(Option<i64>, &'a R)];

impl RawTx {
    /// Inserts rows of `lot`, landed `at`, through the backend's bulk writer.
    async fn insert(
        &mut self,
        lot: &str,
        at: DateTime<Utc>,
        visitors: &Lined<'_, VisitorRow>,
        transactions: &Lined<'_, TransactionRow>,
    ) -> Result<(), WarehouseError> {
        match self {
            RawTx::Sqlite(tx) => insert_sqlite(tx, lot, at, visitors, transactions).await,
            RawTx::Postgres(tx) => insert_postgres(tx, lot, at, visitors, transactions).await,
        }
    }

    async fn commit(self) -> Result<(), WarehouseError> {
        match self {
            RawTx::Sqlite(tx) => tx.commit().await?,
            RawTx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

/// The raw tables' bulk writer on SQLite: multi-row `INSERT`s of [`SQLITE_CHUNK`] rows.
async fn insert_sqlite(
    conn: &mut SqliteConnection,
    lot: &str,
    at: DateTime<Utc>,
    visitors: &Lined<'_, VisitorRow>,
    transactions: &Lined<'_, TransactionRow>,
) -> Result<(), WarehouseError> {
    insert_chunks_sqlite(
        conn,
        &format!("INSERT INTO raw.visiteurs ({VISITOR_COLUMNS}) "),
        visitors,
        SQLITE_CHUNK,
        |mut b, (line, r)| {
            b.push_bind(r.store_id)
                .push_bind(r.sensor_id)
                .push_bind(&r.date)
                .push_bind(&r.heure)
                .push_bind(r.nb_visiteurs)
                .push_bind(at)
                .push_bind(lot)
                .push_bind(*line);
        },
    )
    .await?;
    insert_chunks_sqlite(
        conn,
        &format!("INSERT INTO raw.transactions ({TRANSACTION_COLUMNS}) "),
        transactions,
        SQLITE_CHUNK,
        |mut b, (line, r)| {
            b.push_bind(r.store_id)
                .push_bind(&r.date)
                .push_bind(&r.heure)
                .push_bind(r.transactions)
                .push_bind(r.chiffre_affaires)
                .push_bind(at)
                .push_bind(lot)
                .push_bind(*line);
        },
    )
    .await?;
    Ok(())
}

/// The raw tables' bulk writer on PostgreSQL: one `INSERT … SELECT FROM UNNEST` of
/// arrays per table.
async fn insert_postgres(
    conn: &mut PgConnection,
    lot: &str,
    at: DateTime<Utc>,
    visitors: &Lined<'_, VisitorRow>,
    transactions: &Lined<'_, TransactionRow>,
) -> Result<(), WarehouseError> {
    if !visitors.is_empty() {
        sqlx::query(&format!(
            "INSERT INTO raw.visiteurs ({VISITOR_COLUMNS}) \
             SELECT s, c, d, h, n, $7, $8, l \
             FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::bigint[]) AS t(s, c, d, h, n, l)"
        ))
        .bind(visitors.iter().map(|(_, r)| r.store_id).collect::<Vec<_>>())
        .bind(visitors.iter().map(|(_, r)| r.sensor_id).collect::<Vec<_>>())
        .bind(visitors.iter().map(|(_, r)| r.date.as_str()).collect::<Vec<_>>())
        .bind(visitors.iter().map(|(_, r)| r.heure.as_str()).collect::<Vec<_>>())
        .bind(visitors.iter().map(|(_, r)| r.nb_visiteurs).collect::<Vec<_>>())
        .bind(visitors.iter().map(|(l, _)| *l).collect::<Vec<_>>())
        .bind(at)
        .bind(lot)
        .execute(&mut *conn)
        .await?;
    }
    if !transactions.is_empty() {
        sqlx::query(&format!(
            "INSERT INTO raw.transactions ({TRANSACTION_COLUMNS}) \
             SELECT s, d, h, t, c, $7, $8, l \
             FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::float8[], $6::bigint[]) AS u(s, d, h, t, c, l)"
        ))
        .bind(transactions.iter().map(|(_, r)| r.store_id).collect::<Vec<_>>())
        .bind(transactions.iter().map(|(_, r)| r.date.as_str()).collect::<Vec<_>>())
        .bind(transactions.iter().map(|(_, r)| r.heure.as_str()).collect::<Vec<_>>())
        .bind(transactions.iter().map(|(_, r)| r.transactions).collect::<Vec<_>>())
        .bind(transactions.iter().map(|(_, r)| r.chiffre_affaires).collect::<Vec<_>>())
        .bind(transactions.iter().map(|(l, _)| *l).collect::<Vec<_>>())
        .bind(at)
        .bind(lot)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The columns the bulk writers fill, in their order.
const VISITOR_COLUMNS: &str =
    "store_id, sensor_id, date, heure, nb_visiteurs, timestamp_insertion, lot, line";
const TRANSACTION_COLUMNS: &str =
    "store_id, date, heure, transactions, chiffre_affaires, timestamp_insertion, lot, line";

/// An import being written: one transaction, rows added in batches, committed with the
/// file's record (so an interrupted import leaves nothing).
pub struct ImportWriter(RawTx);

impl std::fmt::Debug for ImportWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ImportWriter")
    }
}

impl ImportWriter {
    /// Adds rows of `lot`, each with its line in the file.
    pub async fn add(
        &mut self,
        lot: &str,
        visitors: &[(u64, VisitorRow)],
        transactions: &[(u64, TransactionRow)],
        at: DateTime<Utc>,
    ) -> Result<(), WarehouseError> {
        let visitors: Vec<_> = visitors.iter().map(|(l, r)| (Some(*l as i64), r)).collect();
        let transactions: Vec<_> = transactions
            .iter()
            .map(|(l, r)| (Some(*l as i64), r))
            .collect();
        self.0.insert(lot, at, &visitors, &transactions).await
    }

    /// Records the file in `raw.imports` and commits everything; returns its `seq`.
    pub async fn commit(self, record: &ImportRecord) -> Result<i64, WarehouseError> {
        let sql = "INSERT INTO raw.imports (lot, feed, sha256, file_name, file_path, rows_loaded, \
                   lines_bad, rows_outside_range, imported_at) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING seq";
        let mut tx = self.0;
        let seq: i64 = per_backend!(RawTx; &mut tx, sql, |q, conn| sqlx::query_scalar(q)
            .bind(&record.lot)
            .bind(&record.feed)
            .bind(&record.sha256)
            .bind(&record.file_name)
            .bind(&record.file_path)
            .bind(record.rows_loaded)
            .bind(record.lines_bad)
            .bind(record.rows_outside_range)
            .bind(record.imported_at)
            .fetch_one(&mut **conn)
            .await?);
        tx.commit().await?;
        Ok(seq)
    }
}

impl Warehouse {
    /// Replaces everything `lot` brought into raw with these rows, atomically.
    pub async fn replace_raw_lot(
        &self,
        lot: &str,
        visitors: &[VisitorRow],
        transactions: &[TransactionRow],
        at: DateTime<Utc>,
    ) -> Result<(), WarehouseError> {
        let mut tx = match self {
            Warehouse::Sqlite(pool) => RawTx::Sqlite(pool.begin().await?),
            Warehouse::Postgres(pool) => RawTx::Postgres(pool.begin().await?),
        };
        for sql in [
            "DELETE FROM raw.visiteurs WHERE lot = $1",
            "DELETE FROM raw.transactions WHERE lot = $1",
        ] {
            per_backend!(RawTx; &mut tx, sql, |q, conn| {
                sqlx::query(q).bind(lot).execute(&mut **conn).await?;
            });
        }
        let visitors: Vec<_> = visitors.iter().map(|r| (None, r)).collect();
        let transactions: Vec<_> = transactions.iter().map(|r| (None, r)).collect();
        tx.insert(lot, at, &visitors, &transactions).await?;
        tx.commit().await
    }

    /// Starts writing an import (see [`ImportWriter`]).
    pub async fn begin_import(&self) -> Result<ImportWriter, WarehouseError> {
        Ok(match self {
            // IMMEDIATE: take the write lock at once, as the transform does.
            Warehouse::Sqlite(p) => {
                ImportWriter(RawTx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?))
            }
            Warehouse::Postgres(p) => ImportWriter(RawTx::Postgres(p.begin().await?)),
        })
    }

    /// The import of this content (lot), if it was imported before.
    pub async fn import_record(&self, lot: &str) -> Result<Option<ImportRecord>, WarehouseError> {
        let sql = "SELECT seq, lot, feed, sha256, file_name, file_path, rows_loaded, lines_bad, \
                   rows_outside_range, imported_at FROM raw.imports WHERE lot = $1";
        Ok(per_backend!(self, sql, |q, p| sqlx::query_as(q)
            .bind(lot)
            .fetch_optional(p)
            .await?))
    }

    /// The raw rows about one day, whichever spelling their `date` uses, in precedence
    /// order with their sources (see [`RawDay`]): collected rows first (one source: the
    /// collected hours never overlap), then imports from the newest to the oldest (older
    /// name-based lots, which `raw.imports` does not know, count as the oldest), each in
    /// line order. Ties inside an import without line numbers break by value, so the order
    /// never depends on the engine. A day without imported rows is read as it comes.
    pub async fn raw_day(&self, date: NaiveDate) -> Result<RawDay, WarehouseError> {
        let spellings = date_spellings(date);
        // The lot only for imported rows: collected rows need no string per row.
        let visitors_sql = "SELECT store_id, sensor_id, date, heure, nb_visiteurs, \
             CASE WHEN lot LIKE 'collect:%' THEN NULL ELSE lot END, COALESCE(line, 0) \
             FROM raw.visiteurs WHERE date IN ($1, $2, $3)";
        let tx_sql = "SELECT store_id, date, heure, transactions, chiffre_affaires, \
             CASE WHEN lot LIKE 'collect:%' THEN NULL ELSE lot END, COALESCE(line, 0) \
             FROM raw.transactions WHERE date IN ($1, $2, $3)";
        let imports_sql = "SELECT lot, seq FROM raw.imports";
        type V = (i64, i64, String, String, Option<i64>, Option<String>, i64);
        type T = (
            i64,
            String,
            String,
            Option<i64>,
            Option<f64>,
            Option<String>,
            i64,
        );
        // The two feeds are read at once, on two of the pool's connections.
        let (v, t): (Vec<V>, Vec<T>) = match self {
            Warehouse::Sqlite(p) => {
                // The visitor rows (9 in 10 of a day's rows) as one JSON array built by
                // SQLite in the same scan, instead of one row at a time through the
                // driver's channel (see BENCHMARKS-pipeline.md, issue 15).
                let visitors = async {
                    let json: String = sqlx::query_scalar(&super::sqlite(VISITORS_JSON_SQL))
                        .bind(&spellings[0])
                        .bind(&spellings[1])
                        .bind(&spellings[2])
                        .fetch_one(p)
                        .await?;
                    tokio::task::spawn_blocking(move || serde_json::from_str::<Vec<V>>(&json))
                        .await
                        .map_err(|e| WarehouseError::Data(format!("raw day decode task: {e}")))?
                        .map_err(|e| WarehouseError::Data(format!("raw visitor rows: {e}")))
                };
                let sales = async {
                    Ok::<_, WarehouseError>(
                        sqlx::query_as::<Sqlite, T>(&super::sqlite(tx_sql))
                            .bind(&spellings[0])
                            .bind(&spellings[1])
                            .bind(&spellings[2])
                            .fetch_all(p)
                            .await?,
                    )
                };
                tokio::try_join!(visitors, sales)?
            }
            Warehouse::Postgres(p) => {
                let visitors = sqlx::query_as::<Postgres, V>(visitors_sql)
                    .bind(&spellings[0])
                    .bind(&spellings[1])
                    .bind(&spellings[2])
                    .fetch_all(p);
                let sales = sqlx::query_as::<Postgres, T>(tx_sql)
                    .bind(&spellings[0])
                    .bind(&spellings[1])
                    .bind(&spellings[2])
                    .fetch_all(p);
                tokio::try_join!(visitors, sales)?
            }
        };
        let imported: BTreeSet<&String> = v
            .iter()
            .filter_map(|r| r.5.as_ref())
            .chain(t.iter().filter_map(|r| r.5.as_ref()))
            .collect();
        // Source 0: collected; then each imported lot in precedence order.
        let mut rank: HashMap<String, u32> = HashMap::new();
        if !imported.is_empty() {
            let rows: Vec<(String, i64)> =
                per_backend!(self, imports_sql, |q, p| sqlx::query_as(q)
                    .fetch_all(p)
                    .await?);
            let seq: HashMap<String, i64> = rows.into_iter().collect();
            let mut lots: Vec<&String> = imported.into_iter().collect();
            lots.sort_by_key(|lot| (Reverse(seq.get(*lot).copied().unwrap_or(0)), *lot));
            rank = lots
                .into_iter()
                .enumerate()
                .map(|(i, lot)| (lot.clone(), i as u32 + 1))
                .collect();
        }
        let source = |lot: &Option<String>| {
            lot.as_ref()
                .map_or(0, |l| rank.get(l).copied().unwrap_or(u32::MAX))
        };
        let mut v: Vec<(u32, V)> = v.into_iter().map(|r| (source(&r.5), r)).collect();
        let mut t: Vec<(u32, T)> = t.into_iter().map(|r| (source(&r.5), r)).collect();
        if !rank.is_empty() {
            v.sort_by(|(sa, a), (sb, b)| {
                (sa, a.6, a.0, a.1, &a.3, &a.2, a.4).cmp(&(sb, b.6, b.0, b.1, &b.3, &b.2, b.4))
            });
            t.sort_by(|(sa, a), (sb, b)| {
                (sa, a.6, a.0, &a.2, &a.1, a.3)
                    .cmp(&(sb, b.6, b.0, &b.2, &b.1, b.3))
                    .then(a.4.partial_cmp(&b.4).unwrap_or(Ordering::Equal))
            });
        }
        let mut day = RawDay::default();
        day.visitors.reserve(v.len());
        day.visitor_sources.reserve(v.len());
        for (src, (store_id, sensor_id, date, heure, nb_visiteurs, _, _)) in v {
            day.visitor_sources.push(src);
            day.visitors.push(VisitorRow {
                store_id,
                sensor_id,
                date,
                heure,
                nb_visiteurs,
            });
        }
        for (src, (store_id, date, heure, transactions, chiffre_affaires, _, _)) in t {
            day.transaction_sources.push(src);
            day.transactions.push(TransactionRow {
                store_id,
                date,
                heure,
                transactions,
                chiffre_affaires,
            });
        }
        Ok(day)
    }

    /// The raw rows about one day, whichever of the historical spellings their `date`
    /// uses (`YYYY-MM-DD`, `YYYY/MM/DD`, `DD/MM/YYYY`), in precedence order (see
    /// [`Warehouse::raw_day`]).
    pub async fn raw_rows_for_date(
        &self,
        date: NaiveDate,
    ) -> Result<(Vec<VisitorRow>, Vec<TransactionRow>), WarehouseError> {
        let day = self.raw_day(date).await?;
        Ok((day.visitors, day.transactions))
    }

    /// Row counts of the raw tables (tests, status).
    pub async fn raw_counts(&self) -> Result<(i64, i64), WarehouseError> {
        let v = "SELECT COUNT(*) FROM raw.visiteurs";
        let t = "SELECT COUNT(*) FROM raw.transactions";
        let visitors: i64 =
            per_backend!(self, v, |q, p| sqlx::query_scalar(q).fetch_one(p).await?);
        let transactions: i64 =
            per_backend!(self, t, |q, p| sqlx::query_scalar(q).fetch_one(p).await?);
        Ok((visitors, transactions))
    }
}

/// `raw_day`'s visitor rows on SQLite, as one JSON array of
/// `[store_id, sensor_id, date, heure, nb_visiteurs, lot or null, line]`, in the order the
/// plain query returns them (same scan).
const VISITORS_JSON_SQL: &str =
    "SELECT json_group_array(json_array(store_id, sensor_id, date, heure, \
     nb_visiteurs, CASE WHEN lot LIKE 'collect:%' THEN NULL ELSE lot END, COALESCE(line, 0))) \
     FROM raw.visiteurs WHERE date IN ($1, $2, $3)";

pub use crate::spelling::date_spellings;
