//! `analytics.visiteurs`, `analytics.transactions` and `analytics.quality`: clean, typed
//! rows. A day is always replaced whole, with its rollups (`store_hours` here, the day-level
//! ones in `rollups`), in one transaction, so a re-run never duplicates.

use chrono::NaiveDate;

use super::pg_binary::{self, CopyRows};
use super::sqlite_direct::{insert_statement, with_direct};
use super::{rollups, Warehouse, WarehouseError};
use crate::calendar::OPENING_HOURS;
use crate::clean_rows::{
    AnalyticsTotals, CleanTransaction, CleanVisitor, QualityFigure, Rule, StoreHourRollup,
};
use crate::cleaning::history::History;
use crate::spelling::heure_text;

/// The rule of a stored name.
fn rule_of(key: &str) -> Result<Rule, WarehouseError> {
    Rule::from_key(key).ok_or_else(|| WarehouseError::UnknownKey {
        what: "quality rule",
        key: key.to_string(),
    })
}

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

/// The writer's stages, at debug level (the transform's profile: BENCHMARKS.md, nightly transform).
fn log_write_timing(
    date: NaiveDate,
    computed: std::time::Duration,
    rows_written: std::time::Duration,
    rollups_written: std::time::Duration,
    started: std::time::Instant,
) {
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    tracing::debug!(
        %date,
        rollups_computed_ms = ms(computed),
        rows_ms = ms(rows_written - computed),
        rollups_ms = ms(rollups_written - rows_written),
        commit_ms = ms(started.elapsed() - rollups_written),
        "analytics day written"
    );
}

/// One day's analytics write: the cleaned rows, their rollups and the writer's clock.
struct DayWrite<'a> {
    date: NaiveDate,
    visitors: &'a [CleanVisitor],
    transactions: &'a [CleanTransaction],
    store_hours: &'a [StoreHourRollup],
    quality: &'a [QualityFigure],
    rollups: &'a rollups::derive::DayRollups,
    started: std::time::Instant,
    computed: std::time::Duration,
}

/// The tables a day's write replaces (the day rollups are `rollups`').
const DAY_TABLES: [&str; 4] = [
    "analytics.visiteurs",
    "analytics.transactions",
    "analytics.quality",
    "analytics.store_hours",
];

/// The day's quality figures in one statement: `$1` the date, then (feed, rule, count)
/// per figure (about 25 of them, 76 parameters: within both engines' limits).
fn quality_insert(figures: usize) -> String {
    let rows: Vec<String> = (0..figures)
        .map(|i| format!("($1, ${}, ${}, ${})", 3 * i + 2, 3 * i + 3, 3 * i + 4))
        .collect();
    format!(
        "INSERT INTO analytics.quality (date, feed, rule, count) VALUES {}",
        rows.join(", ")
    )
}

/// The day's write, the same statements on both engines (`$dialect` turns the SQL into the
/// engine's) but for the bulk rows and the rollups, which each engine writes its own way:
/// `$rows` (chunked inserts or COPY) and `$rollups`. One transaction, under the engine's
/// write lock from its start (`$open` takes it): the day's rows stay unique.
macro_rules! write_day {
    ($pool:expr, $dialect:expr, $open:path, $rows:path, $rollups:path, $day:expr) => {{
        let day: &DayWrite<'_> = $day;
        let mut tx = $pool.begin().await?;
        $open(&mut tx).await?;
        for table in DAY_TABLES {
            sqlx::query(&$dialect(&format!("DELETE FROM {table} WHERE date = $1")))
                .bind(day.date)
                .execute(&mut *tx)
                .await?;
        }
        $rows(&mut tx, day).await?;
        if !day.quality.is_empty() {
            let quality_sql = $dialect(&quality_insert(day.quality.len()));
            let mut insert = sqlx::query(&quality_sql).bind(day.date);
            for q in day.quality {
                insert = insert.bind(&q.feed).bind(q.rule.key()).bind(q.count);
            }
            insert.execute(&mut *tx).await?;
        }
        let rows_written = day.started.elapsed();
        $rollups(&mut tx, day.date, day.rollups).await?;
        let rollups_written = day.started.elapsed();
        tx.commit().await?;
        log_write_timing(
            day.date,
            day.computed,
            rows_written,
            rollups_written,
            day.started,
        );
    }};
}

/// One value of a day's bulk row, as both engines take it.
#[derive(Clone, Copy)]
enum Cell {
    /// `SMALLINT` on PostgreSQL (binary COPY needs each column's exact width).
    I16(i16),
    /// `INTEGER`.
    I32(i32),
    /// `BIGINT`.
    I64(i64),
    Date(NaiveDate),
    /// An hour, stored as `HH:00:00`.
    Heure(u32),
    Bool(bool),
}

/// A table a day's write fills in bulk: its name, its columns and each row's values in
/// their order, written once for both engines' bulk writers.
struct DayTable<'a> {
    table: &'static str,
    columns: &'static str,
    rows: Box<dyn Iterator<Item = [Cell; 6]> + Send + 'a>,
}

fn day_tables<'a>(d: &'a DayWrite<'_>) -> [DayTable<'a>; 3] {
    use Cell::{Bool, Date, Heure, I16, I32, I64};
    [
        DayTable {
            table: "analytics.visiteurs",
            columns: "store_id, sensor_id, date, heure, nb_visiteurs, imputed",
            rows: Box::new(d.visitors.iter().map(|r| {
                [
                    I32(r.store_id),
                    I32(r.sensor_id),
                    Date(r.date),
                    Heure(r.hour),
                    I32(r.nb_visiteurs),
                    Bool(r.imputed),
                ]
            })),
        },
        DayTable {
            table: "analytics.transactions",
            columns: "store_id, date, heure, nb_transactions, chiffre_affaires_centimes, imputed",
            rows: Box::new(d.transactions.iter().map(|r| {
                [
                    I32(r.store_id),
                    Date(r.date),
                    Heure(r.hour),
                    I32(r.nb_transactions),
                    I64(r.chiffre_affaires_centimes),
                    Bool(r.imputed),
                ]
            })),
        },
        DayTable {
            table: "analytics.store_hours",
            columns: "store_id, date, hour, visitors, transactions, revenue_cents",
            rows: Box::new(d.store_hours.iter().map(|r| {
                [
                    I32(r.store_id),
                    Date(r.date),
                    // Opening hours (9–19) fit a SMALLINT.
                    I16(r.hour as i16),
                    I64(r.visitors),
                    I64(r.transactions),
                    I64(r.revenue_cents),
                ]
            })),
        },
    ]
}

/// The day's bulk rows on SQLite: one prepared `INSERT` per table, stepped per row on the
/// connection's own handle (see `sqlite_direct`).
async fn insert_day_rows_sqlite(
    tx: &mut sqlx::SqliteConnection,
    d: &DayWrite<'_>,
) -> Result<(), WarehouseError> {
    // The day's date as text once: no string formatted per row.
    let date_text = d.date.to_string();
    with_direct(tx, |db| {
        for DayTable {
            table,
            columns,
            rows,
        } in day_tables(d)
        {
            let mut st = db.prepare(&insert_statement(table, columns))?;
            for cells in rows {
                for (i, cell) in cells.into_iter().enumerate() {
                    match cell {
                        Cell::I16(v) => st.raw_bind_parameter(i + 1, v)?,
                        Cell::I32(v) => st.raw_bind_parameter(i + 1, v)?,
                        Cell::I64(v) => st.raw_bind_parameter(i + 1, v)?,
                        Cell::Date(day) if day == d.date => {
                            st.raw_bind_parameter(i + 1, date_text.as_str())?
                        }
                        Cell::Date(day) => st.raw_bind_parameter(i + 1, day.to_string())?,
                        Cell::Heure(h) => st.raw_bind_parameter(i + 1, heure_text(h).as_ref())?,
                        Cell::Bool(b) => st.raw_bind_parameter(i + 1, b)?,
                    }
                }
                st.raw_execute()?;
            }
        }
        Ok(())
    })
    .await
}

/// Opens a day's write on PostgreSQL: the write lock ([`rollups::write::lock_writes_postgres`]),
/// and a commit that does not wait for the disk (`synchronous_commit = off`, this
/// transaction only): the flush of the day's WAL (every row and index entry the day
/// wrote) leaves the transform's time. On a 1,000-store day the commit's median went from
/// 5.3 ms to 1.2 ms (BENCHMARKS, session 8).
///
/// No day is lost for it. A crash of the server before the WAL writer reaches the commit
/// (a fraction of a second) loses the whole day write, never part of it. And the job
/// ledger records the transform's end afterwards in a synchronous commit, which flushes
/// the WAL up to itself and so the day's write with it: a day the ledger calls done is on
/// disk, and a day lost in a crash is one the ledger never saw finish, which the
/// reconciler runs again.
async fn open_day_write_postgres(tx: &mut sqlx::PgConnection) -> Result<(), WarehouseError> {
    sqlx::query("SET LOCAL synchronous_commit = off")
        .execute(&mut *tx)
        .await?;
    rollups::write::lock_writes_postgres(tx).await
}

/// The day's bulk rows on PostgreSQL: `COPY … FROM STDIN` per table in the binary format
/// (see `pg_binary`: the server parses no text), sent in pieces of about 1 MiB.
async fn insert_day_rows_postgres(
    tx: &mut sqlx::PgConnection,
    d: &DayWrite<'_>,
) -> Result<(), WarehouseError> {
    const PIECE: usize = 1 << 20;
    for DayTable {
        table,
        columns,
        rows,
    } in day_tables(d)
    {
        let mut rows = rows.peekable();
        if rows.peek().is_none() {
            continue;
        }
        let mut copy = tx
            .copy_in_raw(&format!(
                "COPY {table} ({columns}) FROM STDIN (FORMAT binary)"
            ))
            .await?;
        let mut out = CopyRows::with_capacity(PIECE + 256);
        for cells in rows {
            out.row(cells.len() as i16);
            for cell in cells {
                match cell {
                    Cell::I16(v) => out.int2(v),
                    Cell::I32(v) => out.int4(v),
                    Cell::I64(v) => out.int8(v),
                    Cell::Date(day) => out.date(day),
                    Cell::Heure(h) => out.hour_time(h),
                    Cell::Bool(b) => out.bool(b),
                }
            }
            if out.len() >= PIECE {
                copy.send(out.take()).await?;
            }
        }
        copy.send(out.finish()).await?;
        copy.finish().await?;
    }
    Ok(())
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
        let started = std::time::Instant::now();
        let store_hours = rollup(visitors, transactions);
        let day_rollups = rollups::derive::day_rollups(date, visitors, &store_hours);
        let day = DayWrite {
            date,
            visitors,
            transactions,
            store_hours: &store_hours,
            quality,
            rollups: &day_rollups,
            started,
            computed: started.elapsed(),
        };
        match self {
            Warehouse::Sqlite(pool) => write_day!(
                pool,
                super::sqlite,
                rollups::write::lock_writes_sqlite,
                insert_day_rows_sqlite,
                rollups::write::write_day_sqlite,
                &day
            ),
            Warehouse::Postgres(pool) => write_day!(
                pool,
                str::to_string,
                open_day_write_postgres,
                insert_day_rows_postgres,
                rollups::write::write_day_postgres,
                &day
            ),
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
        let rows: Vec<(String, String, i64)> = per_backend!(self, sql, |q, p| sqlx::query_as(q)
            .bind(date)
            .fetch_all(p)
            .await?);
        rows.into_iter()
            .map(|(feed, rule, count)| {
                Ok(QualityFigure {
                    feed,
                    rule: rule_of(&rule)?,
                    count,
                })
            })
            .collect()
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
        let mut history = self.sensor_history(dates).await?;
        if with_sales {
            self.add_sales_history(dates, &mut history).await?;
        }
        Ok(history)
    }

    /// The visitor part of [`Warehouse::history`] (the transform reads it while it reads
    /// the day's raw rows): the `sensor_days` rows of `dates`, summed here per sensor-hour
    /// (see [`SensorWeeks`]). Up to 35,000 rows on a 1,000-store chain, read in bulk (on
    /// the connection's own handle on SQLite, by binary COPY on PostgreSQL): summing them
    /// in SQL cost 22 `CASE` sums per row, about 100 ms a fortnight on SQLite and the
    /// nightly transform's longest read with four weeks of history (BENCHMARKS, session 7).
    pub async fn sensor_history(&self, dates: &[NaiveDate]) -> Result<History, WarehouseError> {
        let mut weeks = SensorWeeks::default();
        if dates.is_empty() {
            return Ok(History::default());
        }
        let columns: String = OPENING_HOURS.map(|h| format!(", v{h:02}")).collect();
        let select = |list: &str| {
            format!(
                "SELECT store_id, sensor_id{columns}, genuine FROM analytics.sensor_days \
                 WHERE date IN ({list})"
            )
        };
        const WIDTH: usize = rollups::derive::HOURS + 3;
        match self {
            Warehouse::Sqlite(p) => {
                let sql = super::sqlite(&select(&super::placeholders(dates.len())));
                let days: Vec<String> = dates.iter().map(NaiveDate::to_string).collect();
                let mut conn = p.acquire().await?;
                with_direct(&mut conn, |db| {
                    let mut st = db.prepare(&sql)?;
                    let mut rows = st.query(rusqlite::params_from_iter(&days))?;
                    while let Some(r) = rows.next()? {
                        let mut v = [0i64; rollups::derive::HOURS];
                        for (i, slot) in v.iter_mut().enumerate() {
                            *slot = r.get(2 + i)?;
                        }
                        weeks.add(r.get(0)?, r.get(1)?, &v, r.get(WIDTH - 1)?);
                    }
                    Ok(())
                })
                .await?;
            }
            Warehouse::Postgres(p) => {
                let list: Vec<String> = dates
                    .iter()
                    .map(|d| pg_binary::literal(&d.to_string()))
                    .collect();
                let rows = pg_binary::copy_out(p, &select(&list.join(", ")), WIDTH, |f| {
                    let mut v = [0i64; rollups::derive::HOURS];
                    for (i, slot) in v.iter_mut().enumerate() {
                        *slot = pg_binary::int8(f[2 + i])?;
                    }
                    Ok((
                        pg_binary::int4(f[0])?,
                        pg_binary::int4(f[1])?,
                        v,
                        pg_binary::int4(f[WIDTH - 1])?,
                    ))
                })
                .await?;
                for (store, sensor, v, genuine) in rows {
                    weeks.add(store.into(), sensor.into(), &v, genuine.into());
                }
            }
        }
        Ok(weeks.into_history())
    }

    /// The sales part of [`Warehouse::history`], added to `history`.
    pub async fn add_sales_history(
        &self,
        dates: &[NaiveDate],
        history: &mut History,
    ) -> Result<(), WarehouseError> {
        if dates.is_empty() {
            return Ok(());
        }
        let list = super::placeholders(dates.len());
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
            ($pool:expr, $sales:expr, $db:ty) => {{
                let mut q = sqlx::query_as::<$db, (i64, i64, i64, i64, i64)>($sales);
                for d in dates {
                    q = q.bind(*d);
                }
                for (store, hour, tx, cents, weeks) in q.fetch_all($pool).await? {
                    history.add_sales_sum(store, hour as u32, tx, cents, weeks);
                }
            }};
        }
        match self {
            Warehouse::Sqlite(p) => {
                let sql = super::sqlite(&sales_sql);
                fetch!(p, &sql, sqlx::Sqlite)
            }
            Warehouse::Postgres(p) => fetch!(p, &sales_sql, sqlx::Postgres),
        }
        Ok(())
    }

    /// Quality figures of a range of days: (date, feed, rule, count).
    pub async fn quality_range(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<(NaiveDate, String, Rule, i64)>, WarehouseError> {
        let sql = "SELECT date, feed, rule, count FROM analytics.quality WHERE date >= $1 AND date <= $2 \
                   ORDER BY date DESC, feed, rule";
        let rows: Vec<(NaiveDate, String, String, i64)> =
            per_backend!(self, sql, |q, p| sqlx::query_as(q)
                .bind(from)
                .bind(to)
                .fetch_all(p)
                .await?);
        rows.into_iter()
            .map(|(date, feed, rule, count)| Ok((date, feed, rule_of(&rule)?, count)))
            .collect()
    }
}

/// The genuine visitors of recent weeks per sensor-hour, summed from `sensor_days` rows: the
/// genuine bit of hour h is bit h − 9 of `genuine`, its count the step of the cumulative
/// columns (`v09`, `v10 − v09`, …); each genuine hour adds one week.
#[derive(Default)]
struct SensorWeeks {
    sums: std::collections::HashMap<(i64, i64), [(i64, i64); rollups::derive::HOURS]>,
}

impl SensorWeeks {
    fn add(
        &mut self,
        store: i64,
        sensor: i64,
        cumulative: &[i64; rollups::derive::HOURS],
        genuine: i64,
    ) {
        let e = self
            .sums
            .entry((store, sensor))
            .or_insert([(0, 0); rollups::derive::HOURS]);
        let mut previous = 0;
        for (i, (&v, slot)) in cumulative.iter().zip(e.iter_mut()).enumerate() {
            if genuine & (1 << i) != 0 {
                slot.0 += v - previous;
                slot.1 += 1;
            }
            previous = v;
        }
    }

    fn into_history(self) -> History {
        let mut history = History::default();
        for ((store, sensor), hours) in self.sums {
            for (h, (sum, weeks)) in OPENING_HOURS.zip(hours) {
                history.add_visitor_sum(store, sensor, h, sum, weeks);
            }
        }
        history
    }
}
