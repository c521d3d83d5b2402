//! `raw.visiteurs` and `raw.transactions`: rows as they arrived, with
//! `timestamp_insertion` (when they landed), `lot` (which partition or file brought them)
//! and, for imported rows, `line` (their line in the file). A collected hour's lot is
//! always replaced whole, in one transaction; an imported file's lot is named after its
//! content (`import:<feed>:sha256:<hex>`, registered in `raw.imports`) and written once.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, Postgres, Sqlite, SqliteConnection};

use super::pg_binary;
use super::sqlite_direct::{insert_statement, with_direct};
use super::{Warehouse, WarehouseError};
use crate::cleaning::history::History;
use crate::cleaning::rules::DayInput;
use crate::records::{TransactionRow, VisitorRow};
use crate::spelling::date_spellings;

/// The raw `lot` of a collected hour (what ingest writes it under).
pub fn lot_of(slot: crate::clock::HourSlot) -> String {
    format!("collect:{}", slot.key())
}

/// An imported file, as `raw.imports` records it (one row, read by column name).
/// Also what the lake keeps beside the file (`import.json`, see `jobs::import`).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize, serde::Deserialize)]
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

/// One raw row to insert: the lot that brings it, its line in its file (`None` for
/// collected rows) and the row.
struct RawRow<'a, R> {
    lot: &'a str,
    line: Option<i64>,
    row: &'a R,
}

/// One collected hour's raw rows, replaced whole under its `lot` (see
/// [`Warehouse::replace_raw_lots`]).
#[derive(Debug, Clone, Default)]
pub struct RawLot {
    pub lot: String,
    pub visitors: Vec<VisitorRow>,
    pub transactions: Vec<TransactionRow>,
}

/// A lot's rows as the raw writer takes them (borrowed from a [`RawLot`] or a caller's
/// slices: nothing is copied to write them).
struct LotRows<'a> {
    lot: &'a str,
    visitors: &'a [VisitorRow],
    transactions: &'a [TransactionRow],
}

impl RawTx {
    /// Inserts rows, landed `at`, through the backend's bulk writer.
    async fn insert(
        &mut self,
        at: DateTime<Utc>,
        visitors: &[RawRow<'_, VisitorRow>],
        transactions: &[RawRow<'_, TransactionRow>],
    ) -> Result<(), WarehouseError> {
        match self {
            RawTx::Sqlite(tx) => insert_sqlite(tx, at, visitors, transactions).await,
            RawTx::Postgres(tx) => insert_postgres(tx, at, visitors, transactions).await,
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

/// The raw tables' bulk writer on SQLite: one prepared `INSERT` stepped per row on the
/// connection's own handle (see `sqlite_direct`).
async fn insert_sqlite(
    conn: &mut SqliteConnection,
    at: DateTime<Utc>,
    visitors: &[RawRow<'_, VisitorRow>],
    transactions: &[RawRow<'_, TransactionRow>],
) -> Result<(), WarehouseError> {
    // Bound as sqlx binds a `DateTime<Utc>` (RFC 3339 text), so both writers store the same.
    let at = at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false);
    let visitors_sql = insert_statement("raw.visiteurs", VISITOR_COLUMNS);
    let tx_sql = insert_statement("raw.transactions", TRANSACTION_COLUMNS);
    with_direct(conn, |db| {
        let mut st = db.prepare(&visitors_sql)?;
        for RawRow { lot, line, row: r } in visitors {
            st.execute((
                r.store_id,
                r.sensor_id,
                &r.date,
                &r.heure,
                r.nb_visiteurs,
                &at,
                lot,
                line,
            ))?;
        }
        let mut st = db.prepare(&tx_sql)?;
        for RawRow { lot, line, row: r } in transactions {
            st.execute((
                r.store_id,
                &r.date,
                &r.heure,
                r.transactions,
                r.chiffre_affaires,
                &at,
                lot,
                line,
            ))?;
        }
        Ok(())
    })
    .await
}

/// The raw tables' bulk writer on PostgreSQL: one `INSERT … SELECT FROM UNNEST` of
/// arrays per table.
async fn insert_postgres(
    conn: &mut PgConnection,
    at: DateTime<Utc>,
    visitors: &[RawRow<'_, VisitorRow>],
    transactions: &[RawRow<'_, TransactionRow>],
) -> Result<(), WarehouseError> {
    if !visitors.is_empty() {
        sqlx::query(&format!(
            "INSERT INTO raw.visiteurs ({VISITOR_COLUMNS}) \
             SELECT s, c, d, h, n, $8, o, l \
             FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::text[]) \
             AS t(s, c, d, h, n, l, o)"
        ))
        .bind(visitors.iter().map(|v| v.row.store_id).collect::<Vec<_>>())
        .bind(visitors.iter().map(|v| v.row.sensor_id).collect::<Vec<_>>())
        .bind(visitors.iter().map(|v| v.row.date.as_str()).collect::<Vec<_>>())
        .bind(visitors.iter().map(|v| v.row.heure.as_str()).collect::<Vec<_>>())
        .bind(visitors.iter().map(|v| v.row.nb_visiteurs).collect::<Vec<_>>())
        .bind(visitors.iter().map(|v| v.line).collect::<Vec<_>>())
        .bind(visitors.iter().map(|v| v.lot).collect::<Vec<_>>())
        .bind(at)
        .execute(&mut *conn)
        .await?;
    }
    if !transactions.is_empty() {
        sqlx::query(&format!(
            "INSERT INTO raw.transactions ({TRANSACTION_COLUMNS}) \
             SELECT s, d, h, t, c, $8, o, l \
             FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::float8[], $6::bigint[], $7::text[]) \
             AS u(s, d, h, t, c, l, o)"
        ))
        .bind(transactions.iter().map(|t| t.row.store_id).collect::<Vec<_>>())
        .bind(transactions.iter().map(|t| t.row.date.as_str()).collect::<Vec<_>>())
        .bind(transactions.iter().map(|t| t.row.heure.as_str()).collect::<Vec<_>>())
        .bind(transactions.iter().map(|t| t.row.transactions).collect::<Vec<_>>())
        .bind(transactions.iter().map(|t| t.row.chiffre_affaires).collect::<Vec<_>>())
        .bind(transactions.iter().map(|t| t.line).collect::<Vec<_>>())
        .bind(transactions.iter().map(|t| t.lot).collect::<Vec<_>>())
        .bind(at)
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
        fn lined<'a, R>(lot: &'a str, rows: &'a [(u64, R)]) -> Vec<RawRow<'a, R>> {
            rows.iter()
                .map(|(line, row)| RawRow {
                    lot,
                    line: Some(*line as i64),
                    row,
                })
                .collect()
        }
        self.0
            .insert(at, &lined(lot, visitors), &lined(lot, transactions))
            .await
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
        let lot = LotRows {
            lot,
            visitors,
            transactions,
        };
        self.replace_lots(&[lot], at).await
    }

    /// Replaces everything each lot brought into raw with its rows, all in one
    /// transaction (a day's collected hours at once: one commit instead of 24).
    pub async fn replace_raw_lots(
        &self,
        lots: &[RawLot],
        at: DateTime<Utc>,
    ) -> Result<(), WarehouseError> {
        let lots: Vec<LotRows<'_>> = lots
            .iter()
            .map(|l| LotRows {
                lot: &l.lot,
                visitors: &l.visitors,
                transactions: &l.transactions,
            })
            .collect();
        self.replace_lots(&lots, at).await
    }

    async fn replace_lots(
        &self,
        lots: &[LotRows<'_>],
        at: DateTime<Utc>,
    ) -> Result<(), WarehouseError> {
        if lots.is_empty() {
            return Ok(());
        }
        let mut tx = match self {
            Warehouse::Sqlite(pool) => RawTx::Sqlite(pool.begin().await?),
            Warehouse::Postgres(pool) => RawTx::Postgres(pool.begin().await?),
        };
        // One DELETE per table for up to 500 lots: `lot IN ($1, …)` on the lot index.
        for part in lots.chunks(500) {
            let marks = super::placeholders(part.len());
            for table in ["raw.visiteurs", "raw.transactions"] {
                let sql = format!("DELETE FROM {table} WHERE lot IN ({marks})");
                per_backend!(RawTx; &mut tx, &sql, |q, conn| {
                    let mut query = sqlx::query(q);
                    for l in part {
                        query = query.bind(l.lot);
                    }
                    query.execute(&mut **conn).await?;
                });
            }
        }
        fn collected<'a, R>(lot: &'a str, rows: &'a [R]) -> impl Iterator<Item = RawRow<'a, R>> {
            rows.iter().map(move |row| RawRow {
                lot,
                line: None,
                row,
            })
        }
        let visitors: Vec<_> = lots
            .iter()
            .flat_map(|l| collected(l.lot, l.visitors))
            .collect();
        let transactions: Vec<_> = lots
            .iter()
            .flat_map(|l| collected(l.lot, l.transactions))
            .collect();
        tx.insert(at, &visitors, &transactions).await?;
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
        // On PostgreSQL the two feeds are read at once, on two of the pool's connections.
        let (v, t): (Vec<V>, Vec<T>) = match self {
            Warehouse::Sqlite(p) => {
                // Both feeds stepped on the connection's own handle: 231,000 rows of a
                // 1,000-store day, without a hand-over per row (see `sqlite_direct`).
                let (visitors_sql, tx_sql) = (super::sqlite(visitors_sql), super::sqlite(tx_sql));
                let mut conn = p.acquire().await?;
                with_direct(&mut conn, |db| {
                    let mut st = db.prepare(&visitors_sql)?;
                    let v = st
                        .query_map(rusqlite::params_from_iter(&spellings), seven_columns)?
                        .collect::<Result<Vec<V>, _>>()?;
                    let mut st = db.prepare(&tx_sql)?;
                    let t = st
                        .query_map(rusqlite::params_from_iter(&spellings), seven_columns)?
                        .collect::<Result<Vec<T>, _>>()?;
                    Ok((v, t))
                })
                .await?
            }
            Warehouse::Postgres(p) => {
                // Binary COPY out (see `pg_binary`): 231,000 rows of a 1,000-store day
                // without a protocol message decoded per row. COPY binds no parameters:
                // the spellings are the date's own digits, quoted as literals.
                let list: Vec<String> = spellings.iter().map(|s| pg_binary::literal(s)).collect();
                let inline = |sql: &str| sql.replace("$1, $2, $3", &list.join(", "));
                let (visitors_sql, tx_sql) = (inline(visitors_sql), inline(tx_sql));
                let visitors = pg_binary::copy_out(p, &visitors_sql, 7, |f| {
                    Ok((
                        pg_binary::int8(f[0])?,
                        pg_binary::int8(f[1])?,
                        pg_binary::text(f[2])?,
                        pg_binary::text(f[3])?,
                        pg_binary::nullable_int8(f[4])?,
                        pg_binary::nullable_text(f[5])?,
                        pg_binary::int8(f[6])?,
                    ))
                });
                let sales = pg_binary::copy_out(p, &tx_sql, 7, |f| {
                    Ok((
                        pg_binary::int8(f[0])?,
                        pg_binary::text(f[1])?,
                        pg_binary::text(f[2])?,
                        pg_binary::nullable_int8(f[3])?,
                        pg_binary::nullable_float8(f[4])?,
                        pg_binary::nullable_text(f[5])?,
                        pg_binary::int8(f[6])?,
                    ))
                });
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

/// A result row of seven columns as a tuple (a raw day's visitor or sales row).
fn seven_columns<A, B, C, D, E, F, G>(
    r: &rusqlite::Row<'_>,
) -> rusqlite::Result<(A, B, C, D, E, F, G)>
where
    A: rusqlite::types::FromSql,
    B: rusqlite::types::FromSql,
    C: rusqlite::types::FromSql,
    D: rusqlite::types::FromSql,
    E: rusqlite::types::FromSql,
    F: rusqlite::types::FromSql,
    G: rusqlite::types::FromSql,
{
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}
