//! Writing the rollups: a day's rows with its analytics write (prepared statements on
//! SQLite, binary COPY and UNNEST on PostgreSQL), the write lock, and the rebuild of a
//! range or of the days that have none.

use chrono::NaiveDate;

use super::derive::*;
use super::sql::*;
use crate::warehouse::pg_binary::CopyRows;
use crate::warehouse::{sqlite, Backend, Warehouse, WarehouseError};

/// PostgreSQL transaction lock serialising the analytics day writes and the rollup
/// rebuilds ("DM360ROL"; see [`lock_writes_postgres`]).
pub(super) const PG_LOCK_KEY: i64 = 0x444D_3336_3052_4F4C;

/// Rebuilds the rollups of [from, to] inside an open SQLite transaction.
pub(crate) async fn refresh_sqlite(
    tx: &mut sqlx::SqliteConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<(), WarehouseError> {
    for (_, b, sql) in refresh_statements(Backend::Sqlite) {
        let (a, z) = bounds(b, from, to);
        sqlx::query(&sql).bind(a).bind(z).execute(&mut *tx).await?;
    }
    Ok(())
}

/// Rebuilds the rollups of [from, to] inside an open PostgreSQL transaction (which then
/// holds the rollup lock until it ends).
pub(crate) async fn refresh_postgres(
    tx: &mut sqlx::PgConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<(), WarehouseError> {
    lock_writes_postgres(&mut *tx).await?;
    for (_, b, sql) in refresh_statements(Backend::Postgres) {
        let (a, z) = bounds(b, from, to);
        sqlx::query(&sql).bind(a).bind(z).execute(&mut *tx).await?;
    }
    Ok(())
}

/// The value columns of a store rollup row, in the tables' order (v…, t…, c…).
pub(super) fn store_values(d: &StoreDay) -> impl Iterator<Item = i64> + '_ {
    d.v.iter().chain(d.t.iter()).chain(d.c.iter()).copied()
}

/// Writes the rollups of `date` computed by the transform ([`day_rollups`]) inside an
/// open SQLite transaction, replacing the day's, then what follows from them.
pub(crate) async fn write_day_sqlite(
    tx: &mut sqlx::SqliteConnection,
    date: NaiveDate,
    rollups: &DayRollups,
) -> Result<(), WarehouseError> {
    use sqlx::{QueryBuilder, Sqlite};
    let old: Vec<(i32, i32, i32)> = sqlx::query_as(&sqlite(OLD_MASKS_SQL))
        .bind(date)
        .fetch_all(&mut *tx)
        .await?;
    for (a, z, sql) in statements_of(Backend::Sqlite, Step::Clear, date) {
        sqlx::query(&sql).bind(a).bind(z).execute(&mut *tx).await?;
    }
    let v_columns = column_list('v');
    let store_columns: String = ['v', 't', 'c'].into_iter().map(column_list).collect();
    let day = date.to_string();
    let day = day.as_str();
    // SQLite binds at most 32,766 values per statement.
    for chunk in rollups.sensor_days.chunks(32_000 / (HOURS + 4)) {
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
            "INSERT INTO analytics.sensor_days (store_id, sensor_id, date{v_columns}, genuine) "
        ));
        qb.push_values(chunk, |mut b, r| {
            b.push_bind(r.store_id)
                .push_bind(r.sensor_id)
                .push_bind(day);
            for v in r.v {
                b.push_bind(v);
            }
            b.push_bind(r.genuine);
        });
        qb.build().execute(&mut *tx).await?;
    }
    for chunk in rollups.store_days.chunks(32_000 / (3 * HOURS + 2)) {
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
            "INSERT INTO analytics.store_days (store_id, date{store_columns}) "
        ));
        qb.push_values(chunk, |mut b, r| {
            b.push_bind(r.store_id).push_bind(day);
            for v in store_values(r) {
                b.push_bind(v);
            }
        });
        qb.build().execute(&mut *tx).await?;
    }
    if !rollups.chain_hours.is_empty() {
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT INTO analytics.chain_hours (date, hour, visitors, transactions, revenue_cents) ",
        );
        qb.push_values(&rollups.chain_hours, |mut b, r| {
            b.push_bind(day)
                .push_bind(r.hour as i64)
                .push_bind(r.visitors)
                .push_bind(r.transactions)
                .push_bind(r.revenue_cents);
        });
        qb.build().execute(&mut *tx).await?;
    }
    for (a, z, sql) in statements_of(Backend::Sqlite, Step::Follow, date) {
        sqlx::query(&sql).bind(a).bind(z).execute(&mut *tx).await?;
    }
    // The month's active-sensor masks: OR in the day's new bits, recompute lost ones.
    let change = month_mask_change(&old, &rollups.sensor_days);
    let month = month_start(date);
    for chunk in change.add.chunks(8_000) {
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT INTO analytics.sensor_months (store_id, sensor_id, month, genuine) ",
        );
        qb.push_values(chunk, |mut b, &(store, sensor, genuine)| {
            b.push_bind(store)
                .push_bind(sensor)
                .push_bind(month)
                .push_bind(genuine);
        });
        qb.push(MONTH_MASK_UPSERT);
        qb.build().execute(&mut *tx).await?;
    }
    if let Some(sql) = recompute_month_masks_sql(&change) {
        month_query(&sqlite(&sql), date).execute(&mut *tx).await?;
    }
    Ok(())
}

/// Takes the warehouse's write lock on PostgreSQL until the transaction ends: a day's
/// analytics write and the rollup rebuilds run one at a time. Taken before the day's rows
/// are deleted, it is also what keeps a day's rows unique (the tables have no unique key
/// since migration 0007): a second writer of the day waits, then deletes the first's rows.
pub(crate) async fn lock_writes_postgres(
    tx: &mut sqlx::PgConnection,
) -> Result<(), WarehouseError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(PG_LOCK_KEY)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// SQLite needs no lock of its own: a transaction's first write takes the database's only
/// write lock, held until it ends.
pub(crate) async fn lock_writes_sqlite(
    _: &mut sqlx::SqliteConnection,
) -> Result<(), WarehouseError> {
    Ok(())
}

/// [`write_day_sqlite`] on PostgreSQL, under the write lock ([`lock_writes_postgres`], taken
/// by the caller): `sensor_days` by binary COPY, `store_days` and `chain_hours` each in
/// one `INSERT … SELECT FROM UNNEST` statement.
pub(crate) async fn write_day_postgres(
    tx: &mut sqlx::PgConnection,
    date: NaiveDate,
    rollups: &DayRollups,
) -> Result<(), WarehouseError> {
    let old: Vec<(i32, i32, i32)> = sqlx::query_as(OLD_MASKS_SQL)
        .bind(date)
        .fetch_all(&mut *tx)
        .await?;
    for (a, z, sql) in statements_of(Backend::Postgres, Step::Clear, date) {
        sqlx::query(&sql).bind(a).bind(z).execute(&mut *tx).await?;
    }
    if !rollups.sensor_days.is_empty() {
        // 8,600 rows of 15 fields on a 1,000-store day: COPY takes them without building
        // one array per column. A row: its field count, each field's length, then three
        // INTEGER-sized fields, the hours' BIGINTs and the INTEGER mask.
        const ROW_BYTES: usize = 2 + (HOURS + 4) * 4 + 3 * 4 + HOURS * 8 + 4;
        let columns = format!("store_id, sensor_id, date{}, genuine", column_list('v'));
        let mut out = CopyRows::with_capacity(rollups.sensor_days.len() * ROW_BYTES);
        for r in &rollups.sensor_days {
            out.row(HOURS as i16 + 4);
            out.int4(r.store_id);
            out.int4(r.sensor_id);
            out.date(date);
            for v in r.v {
                out.int8(v);
            }
            out.int4(r.genuine);
        }
        let mut copy = tx
            .copy_in_raw(&format!(
                "COPY analytics.sensor_days ({columns}) FROM STDIN (FORMAT binary)"
            ))
            .await?;
        copy.send(out.finish()).await?;
        copy.finish().await?;
    }
    if !rollups.store_days.is_empty() {
        // `$1` the date, `$2` the store ids, then one array per value column.
        let columns: String = ['v', 't', 'c'].into_iter().map(column_list).collect();
        let arrays: String = (0..3 * HOURS)
            .map(|i| format!(", ${}::bigint[]", i + 3))
            .collect();
        let sql = format!(
            "INSERT INTO analytics.store_days (date, store_id{columns}) \
             SELECT $1, * FROM UNNEST($2::int[]{arrays})"
        );
        let rows = &rollups.store_days;
        let mut q = sqlx::query(&sql)
            .bind(date)
            .bind(rows.iter().map(|r| r.store_id).collect::<Vec<_>>());
        let families: [fn(&StoreDay) -> [i64; HOURS]; 3] = [|r| r.v, |r| r.t, |r| r.c];
        for family in families {
            for i in 0..HOURS {
                q = q.bind(rows.iter().map(|r| family(r)[i]).collect::<Vec<_>>());
            }
        }
        q.execute(&mut *tx).await?;
    }
    if !rollups.chain_hours.is_empty() {
        let rows = &rollups.chain_hours;
        sqlx::query(
            "INSERT INTO analytics.chain_hours (date, hour, visitors, transactions, revenue_cents) \
             SELECT $1, * FROM UNNEST($2::smallint[], $3::bigint[], $4::bigint[], $5::bigint[])",
        )
        .bind(date)
        .bind(rows.iter().map(|r| r.hour as i16).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.visitors).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.transactions).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.revenue_cents).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await?;
    }
    for (a, z, sql) in statements_of(Backend::Postgres, Step::Follow, date) {
        sqlx::query(&sql).bind(a).bind(z).execute(&mut *tx).await?;
    }
    // The month's active-sensor masks, as on SQLite.
    let change = month_mask_change(&old, &rollups.sensor_days);
    let month = month_start(date);
    if !change.add.is_empty() {
        let sql = format!(
            "INSERT INTO analytics.sensor_months (store_id, sensor_id, month, genuine) \
             SELECT s, c, $1, g FROM UNNEST($2::int[], $3::int[], $4::int[]) AS u(s, c, g)\
             {MONTH_MASK_UPSERT}"
        );
        sqlx::query(&sql)
            .bind(month)
            .bind(change.add.iter().map(|a| a.0).collect::<Vec<_>>())
            .bind(change.add.iter().map(|a| a.1).collect::<Vec<_>>())
            .bind(change.add.iter().map(|a| a.2).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await?;
    }
    if let Some(sql) = recompute_month_masks_sql(&change) {
        month_query(&sql, date).execute(&mut *tx).await?;
    }
    Ok(())
}

/// Days with store-hours but no chain-hours: one index probe per distinct day (a
/// recursive walk of the dates, since neither engine skip-scans an index).
pub(super) const MISSING_DAYS_SQL: &str = "WITH RECURSIVE days(day) AS ( \
       SELECT MIN(date) FROM analytics.store_hours \
       UNION ALL \
       SELECT (SELECT MIN(date) FROM analytics.store_hours WHERE date > day) FROM days \
       WHERE day IS NOT NULL) \
     SELECT day FROM days WHERE day IS NOT NULL AND NOT EXISTS \
       (SELECT 1 FROM analytics.chain_hours c WHERE c.date = days.day)";

impl Warehouse {
    /// Rebuilds the rollups of [from, to] from the analytics rows, a day per transaction;
    /// returns the number of days rebuilt.
    pub async fn rebuild_rollups(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<usize, WarehouseError> {
        let mut n = 0;
        for day in from.iter_days().take_while(|d| *d <= to) {
            self.rebuild_rollups_of_day(day).await?;
            n += 1;
        }
        Ok(n)
    }

    async fn rebuild_rollups_of_day(&self, day: NaiveDate) -> Result<(), WarehouseError> {
        match self {
            Warehouse::Sqlite(pool) => {
                // IMMEDIATE: take the write lock first, as the transform does.
                let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                refresh_sqlite(&mut tx, day, day).await?;
                tx.commit().await?;
            }
            Warehouse::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                refresh_postgres(&mut tx, day, day).await?;
                tx.commit().await?;
            }
        }
        Ok(())
    }

    /// Builds the rollups of the days that have analytics rows but none (see the module
    /// doc); a new or up-to-date warehouse costs one probe per day.
    pub(crate) async fn build_missing_rollups(&self) -> Result<(), WarehouseError> {
        let missing: Vec<Option<NaiveDate>> = match self {
            Warehouse::Sqlite(p) => sqlx::query_scalar(MISSING_DAYS_SQL).fetch_all(p).await?,
            Warehouse::Postgres(p) => sqlx::query_scalar(MISSING_DAYS_SQL).fetch_all(p).await?,
        };
        let missing: Vec<NaiveDate> = missing.into_iter().flatten().collect();
        if missing.is_empty() {
            return Ok(());
        }
        let started = std::time::Instant::now();
        tracing::info!(
            days = missing.len(),
            "building the dashboard rollups of days written before they existed"
        );
        for (i, day) in missing.iter().enumerate() {
            self.rebuild_rollups_of_day(*day).await?;
            if (i + 1) % 100 == 0 {
                tracing::info!(done = i + 1, of = missing.len(), "dashboard rollups");
            }
        }
        tracing::info!(
            days = missing.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "dashboard rollups built"
        );
        Ok(())
    }
}
