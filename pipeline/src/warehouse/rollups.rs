//! The dashboard's day-level rollups (`analytics.sensor_days`, `.store_days`,
//! `.store_months`, `.chain_hours`, `.sensors`, `.sensor_months`; see migrations 0004, 0005
//! for revenue in integer cents, and 0006): how they are derived from the analytics
//! rows, and how a query reads an hour range out of their cumulative hour columns.
//!
//! They are rebuilt for a date range by SQL over `analytics.visiteurs` and
//! `analytics.store_hours`, inside the transaction that writes those rows (the nightly
//! transform). When a warehouse is opened, days that have analytics rows but no rollups
//! (written before the rollups existed, or by an older binary) get theirs, a day per
//! transaction. They live in the analytics database, beside the rows they summarise.

use chrono::{Datelike, Months, NaiveDate};
use std::collections::BTreeMap;
use std::fmt::Write;

use super::pg_binary::CopyRows;
use super::{sqlite, Backend, Warehouse, WarehouseError};
use crate::calendar::OPENING_HOURS;
use crate::clean_rows::{CleanVisitor, StoreHourRollup};

/// PostgreSQL transaction lock serialising the analytics day writes and the rollup
/// rebuilds ("DM360ROL"; see [`lock_writes_postgres`]).
const PG_LOCK_KEY: i64 = 0x444D_3336_3052_4F4C;

fn hours() -> impl Iterator<Item = u32> {
    OPENING_HOURS
}

/// The SQL expression for the sum of a cumulative hour family (`v`, `t` or `c`: visitors,
/// transactions, revenue in cents) over the
/// hours [h0, h1] of one row: `v19`, or `(v19 - v11)` when the range starts after opening.
/// The hours are clamped to the opening hours; the caller checks h0 <= h1.
pub(crate) fn range_expr(family: char, h0: u32, h1: u32) -> String {
    let first = *OPENING_HOURS.start();
    let h1 = h1.min(*OPENING_HOURS.end());
    if h0 <= first {
        format!("{family}{h1:02}")
    } else {
        format!("({family}{h1:02} - {family}{:02})", h0 - 1)
    }
}

/// The `genuine` bits of the hours [h0, h1].
pub(crate) fn genuine_mask(h0: u32, h1: u32) -> i32 {
    hours()
        .filter(|h| (h0..=h1).contains(h))
        .fold(0, |m, h| m | (1 << (h - OPENING_HOURS.start())))
}

/// `SUM(CASE WHEN hour <= 09 THEN x ELSE 0 END) AS v09, …` for each opening hour.
fn cumulative_columns(out: &mut String, family: char, hour: &str, value: &str) {
    for h in hours() {
        let _ = write!(
            out,
            ", SUM(CASE WHEN {hour} <= {h} THEN {value} ELSE 0 END) AS {family}{h:02}"
        );
    }
}

/// `(MAX(g & 1) | MAX(g & 2) | …)` over the opening hours' bits: the bitwise OR of the
/// `genuine` expression `g` over a group (the engines share no bitwise-OR aggregate).
fn genuine_or(g: &str) -> String {
    let bits: Vec<String> = (0..HOURS)
        .map(|i| format!("MAX({g} & {})", 1 << i))
        .collect();
    format!("({})", bits.join(" | "))
}

fn column_list(family: char) -> String {
    hours().map(|h| format!(", {family}{h:02}")).collect()
}

/// What a refresh statement binds: the dates [from, to], or the months around them
/// (first day of from's month, last day of to's month).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bounds {
    Days,
    Months,
}

/// What a refresh statement does: clear the dates' day rollups, derive them from the
/// stored analytics rows (the transform computes these itself, see [`day_rollups`]),
/// derive what follows from the day rollups (`sensors`, `store_months`), or rebuild what
/// the transform keeps up to date itself (`sensor_months`, see [`write_sensor_months`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Clear,
    Derive,
    Follow,
    Rebuild,
}

/// The statements that rebuild the rollups of the dates [$1, $2], in order.
fn refresh_statements(backend: Backend) -> Vec<(Step, Bounds, String)> {
    let first = *OPENING_HOURS.start();
    let last = *OPENING_HOURS.end();
    let hour_of_heure = match backend {
        Backend::Sqlite => "CAST(substr(heure, 1, 2) AS INTEGER)",
        Backend::Postgres => "CAST(EXTRACT(HOUR FROM heure) AS INTEGER)",
    };
    let mut sensor_days = format!(
        "INSERT INTO analytics.sensor_days (store_id, sensor_id, date{}, genuine) \
         SELECT store_id, sensor_id, date",
        column_list('v')
    );
    cumulative_columns(&mut sensor_days, 'v', "h", "nb_visiteurs");
    let _ = write!(
        sensor_days,
        ", SUM(CASE WHEN imputed = FALSE AND nb_visiteurs > 0 THEN 1 << (h - {first}) ELSE 0 END) \
         FROM (SELECT store_id, sensor_id, date, {hour_of_heure} AS h, nb_visiteurs, imputed \
               FROM analytics.visiteurs WHERE date >= $1 AND date <= $2) v \
         WHERE h >= {first} AND h <= {last} GROUP BY store_id, sensor_id, date"
    );
    // The store rollups' value columns: `, v09, …, v19, t09, …, r19`.
    let store_columns: String = ['v', 't', 'c'].into_iter().map(column_list).collect();
    let mut store_days = format!(
        "INSERT INTO analytics.store_days (store_id, date{store_columns}) SELECT store_id, date"
    );
    cumulative_columns(&mut store_days, 'v', "hour", "visitors");
    cumulative_columns(&mut store_days, 't', "hour", "transactions");
    cumulative_columns(&mut store_days, 'c', "hour", "revenue_cents");
    let _ = write!(
        store_days,
        " FROM analytics.store_hours WHERE date >= $1 AND date <= $2 \
          AND hour >= {first} AND hour <= {last} GROUP BY store_id, date"
    );
    // A month's first day: its store-days grouped under it.
    let month_of = match backend {
        Backend::Sqlite => "date(date, 'start of month')",
        Backend::Postgres => "CAST(date_trunc('month', date) AS DATE)",
    };
    let sums: String = ['v', 't', 'c']
        .into_iter()
        .flat_map(|family| hours().map(move |h| format!(", SUM({family}{h:02})")))
        .collect();
    let store_months = format!(
        "INSERT INTO analytics.store_months (store_id, month{store_columns}) \
         SELECT store_id, {month_of}{sums} FROM analytics.store_days \
         WHERE date >= $1 AND date <= $2 GROUP BY store_id, {month_of}"
    );
    let statements = vec![
        (
            Step::Clear,
            Bounds::Days,
            "DELETE FROM analytics.sensor_days WHERE date >= $1 AND date <= $2".to_string(),
        ),
        (
            Step::Clear,
            Bounds::Days,
            "DELETE FROM analytics.store_days WHERE date >= $1 AND date <= $2".to_string(),
        ),
        (
            Step::Clear,
            Bounds::Days,
            "DELETE FROM analytics.chain_hours WHERE date >= $1 AND date <= $2".to_string(),
        ),
        (Step::Derive, Bounds::Days, sensor_days),
        (Step::Derive, Bounds::Days, store_days),
        (
            Step::Derive,
            Bounds::Days,
            "INSERT INTO analytics.chain_hours (date, hour, visitors, transactions, revenue_cents) \
             SELECT date, hour, SUM(visitors), SUM(transactions), SUM(revenue_cents) \
             FROM analytics.store_hours WHERE date >= $1 AND date <= $2 GROUP BY date, hour"
                .to_string(),
        ),
        (
            Step::Follow,
            Bounds::Days,
            // Only the sensors not known yet (an anti-join, not one conflict per sensor).
            "INSERT INTO analytics.sensors (store_id, sensor_id) \
             SELECT DISTINCT store_id, sensor_id FROM analytics.sensor_days d \
             WHERE date >= $1 AND date <= $2 AND NOT EXISTS (SELECT 1 FROM analytics.sensors s \
               WHERE s.store_id = d.store_id AND s.sensor_id = d.sensor_id) \
             ON CONFLICT (store_id, sensor_id) DO NOTHING"
                .to_string(),
        ),
        (
            Step::Follow,
            Bounds::Months,
            "DELETE FROM analytics.store_months WHERE month >= $1 AND month <= $2".to_string(),
        ),
        (Step::Follow, Bounds::Months, store_months),
        (
            Step::Rebuild,
            Bounds::Months,
            "DELETE FROM analytics.sensor_months WHERE month >= $1 AND month <= $2".to_string(),
        ),
        (
            Step::Rebuild,
            Bounds::Months,
            format!(
                "INSERT INTO analytics.sensor_months (store_id, sensor_id, month, genuine) \
                 SELECT store_id, sensor_id, {month_of}, {} FROM analytics.sensor_days \
                 WHERE date >= $1 AND date <= $2 GROUP BY store_id, sensor_id, {month_of}",
                genuine_or("genuine")
            ),
        ),
    ];
    match backend {
        Backend::Sqlite => statements
            .into_iter()
            .map(|(step, b, s)| (step, b, sqlite(&s)))
            .collect(),
        Backend::Postgres => statements,
    }
}

/// How many opening hours a day rollup row has columns for (v09 … v19).
pub(crate) const HOURS: usize = (*OPENING_HOURS.end() - *OPENING_HOURS.start() + 1) as usize;

/// One `analytics.sensor_days` row: visitors cumulative from opening, `genuine` bits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SensorDay {
    pub store_id: i32,
    pub sensor_id: i32,
    pub v: [i64; HOURS],
    pub genuine: i32,
}

/// One `analytics.store_days` row: visitors, transactions and cents, cumulative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoreDay {
    pub store_id: i32,
    pub v: [i64; HOURS],
    pub t: [i64; HOURS],
    pub c: [i64; HOURS],
}

/// One `analytics.chain_hours` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChainHour {
    pub hour: u32,
    pub visitors: i64,
    pub transactions: i64,
    pub revenue_cents: i64,
}

/// The day rollups of one date, computed from the rows the transform writes: the same
/// figures as [`refresh_statements`] derives by SQL from the stored rows (a test compares
/// both), without reading those rows back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DayRollups {
    pub sensor_days: Vec<SensorDay>,
    pub store_days: Vec<StoreDay>,
    pub chain_hours: Vec<ChainHour>,
}

/// Running sums in place: `[a, b, c]` → `[a, a + b, a + b + c]`.
fn cumulate(values: &mut [i64; HOURS]) {
    for i in 1..HOURS {
        values[i] += values[i - 1];
    }
}

/// The opening-hour column index of `hour`, if it is an opening hour.
fn hour_index(hour: u32) -> Option<usize> {
    OPENING_HOURS
        .contains(&hour)
        .then(|| (hour - OPENING_HOURS.start()) as usize)
}

/// The rollups of `date` from its analytics visitor rows and store-hours (rows of other
/// dates are left out, as the SQL refresh of that date would).
pub(crate) fn day_rollups(
    date: NaiveDate,
    visitors: &[CleanVisitor],
    store_hours: &[StoreHourRollup],
) -> DayRollups {
    let mut sensors: BTreeMap<(i32, i32), ([i64; HOURS], i32)> = BTreeMap::new();
    for r in visitors.iter().filter(|r| r.date == date) {
        let Some(i) = hour_index(r.hour) else {
            continue;
        };
        let e = sensors
            .entry((r.store_id, r.sensor_id))
            .or_insert(([0; HOURS], 0));
        e.0[i] += r.nb_visiteurs as i64;
        if !r.imputed && r.nb_visiteurs > 0 {
            // One row per sensor-hour (the table's unique key): the SQL's SUM of bits.
            e.1 += 1 << i;
        }
    }
    let sensor_days = sensors
        .into_iter()
        .map(|((store_id, sensor_id), (mut v, genuine))| {
            cumulate(&mut v);
            SensorDay {
                store_id,
                sensor_id,
                v,
                genuine,
            }
        })
        .collect();
    type Sums = ([i64; HOURS], [i64; HOURS], [i64; HOURS]);
    let mut stores: BTreeMap<i32, Sums> = BTreeMap::new();
    let mut chain: BTreeMap<u32, (i64, i64, i64)> = BTreeMap::new();
    for r in store_hours.iter().filter(|r| r.date == date) {
        let e = chain.entry(r.hour).or_default();
        e.0 += r.visitors;
        e.1 += r.transactions;
        e.2 += r.revenue_cents;
        let Some(i) = hour_index(r.hour) else {
            continue;
        };
        let s = stores
            .entry(r.store_id)
            .or_insert(([0; HOURS], [0; HOURS], [0; HOURS]));
        s.0[i] += r.visitors;
        s.1[i] += r.transactions;
        s.2[i] += r.revenue_cents;
    }
    let store_days = stores
        .into_iter()
        .map(|(store_id, (mut v, mut t, mut c))| {
            cumulate(&mut v);
            cumulate(&mut t);
            cumulate(&mut c);
            StoreDay { store_id, v, t, c }
        })
        .collect();
    let chain_hours = chain
        .into_iter()
        .map(
            |(hour, (visitors, transactions, revenue_cents))| ChainHour {
                hour,
                visitors,
                transactions,
                revenue_cents,
            },
        )
        .collect();
    DayRollups {
        sensor_days,
        store_days,
        chain_hours,
    }
}

/// The first day of `d`'s month.
pub(crate) fn month_start(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

/// The last day of `d`'s month.
pub(crate) fn month_end(d: NaiveDate) -> NaiveDate {
    month_start(d)
        .checked_add_months(Months::new(1))
        .and_then(|m| m.pred_opt())
        .unwrap_or(d)
}

fn bounds(b: Bounds, from: NaiveDate, to: NaiveDate) -> (NaiveDate, NaiveDate) {
    match b {
        Bounds::Days => (from, to),
        Bounds::Months => (month_start(from), month_end(to)),
    }
}

/// How a period splits for the month rollup: the whole months inside [from, to] (as their
/// first days, inclusive) and the days outside them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MonthSplit {
    pub months: Option<(NaiveDate, NaiveDate)>,
    pub edge_days: Vec<(NaiveDate, NaiveDate)>,
}

pub(crate) fn split_months(from: NaiveDate, to: NaiveDate) -> MonthSplit {
    let first_full = if from == month_start(from) {
        from
    } else {
        month_start(from)
            .checked_add_months(Months::new(1))
            .unwrap_or(from)
    };
    let last_full = if to == month_end(to) {
        month_start(to)
    } else {
        month_start(to)
            .checked_sub_months(Months::new(1))
            .unwrap_or(to)
    };
    if first_full > last_full || month_end(last_full) > to || first_full < from {
        return MonthSplit {
            months: None,
            edge_days: vec![(from, to)],
        };
    }
    let mut edge_days = Vec::new();
    if from < first_full {
        edge_days.push((from, first_full.pred_opt().unwrap_or(from)));
    }
    let after = month_end(last_full).succ_opt().unwrap_or(to);
    if after <= to {
        edge_days.push((after, to));
    }
    MonthSplit {
        months: Some((first_full, last_full)),
        edge_days,
    }
}

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

/// The statements of one step, with their bounds for the day `date`.
fn statements_of(
    backend: Backend,
    step: Step,
    date: NaiveDate,
) -> Vec<(NaiveDate, NaiveDate, String)> {
    refresh_statements(backend)
        .into_iter()
        .filter(|(s, _, _)| *s == step)
        .map(|(_, b, sql)| {
            let (a, z) = bounds(b, date, date);
            (a, z, sql)
        })
        .collect()
}

/// What writing a day changes in `analytics.sensor_months` (the month's `genuine` bits of
/// each sensor: the OR of its days'), from the day's previous masks `old` (store, sensor,
/// genuine) and its new sensor-days.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct MonthMaskChange {
    /// (store, sensor, genuine): bits the day now has and did not have before, OR-ed into
    /// the month (a month's mask already holds every bit of its days').
    pub add: Vec<(i32, i32, i32)>,
    /// Sensors that lost bits the day had before: their month is computed again from its
    /// days (another day may still have those bits).
    pub recompute: Vec<(i32, i32)>,
}

pub(crate) fn month_mask_change(old: &[(i32, i32, i32)], new: &[SensorDay]) -> MonthMaskChange {
    let before: std::collections::HashMap<(i32, i32), i32> =
        old.iter().map(|&(s, c, g)| ((s, c), g)).collect();
    let after: std::collections::HashMap<(i32, i32), i32> = new
        .iter()
        .map(|d| ((d.store_id, d.sensor_id), d.genuine))
        .collect();
    let add = new
        .iter()
        .filter(|d| d.genuine & !before.get(&(d.store_id, d.sensor_id)).copied().unwrap_or(0) != 0)
        .map(|d| (d.store_id, d.sensor_id, d.genuine))
        .collect();
    let mut recompute: Vec<(i32, i32)> = old
        .iter()
        .filter(|&&(s, c, g)| g & !after.get(&(s, c)).copied().unwrap_or(0) != 0)
        .map(|&(s, c, _)| (s, c))
        .collect();
    recompute.sort_unstable();
    MonthMaskChange { add, recompute }
}

/// The conflict clause of the month-mask upserts: OR the day's bits into the month's, and
/// leave the row alone (no new row version) when the month already has them all, as
/// nearly every sensor's month does after its first day.
const MONTH_MASK_UPSERT: &str = " ON CONFLICT (store_id, sensor_id, month) DO UPDATE \
     SET genuine = sensor_months.genuine | excluded.genuine \
     WHERE (sensor_months.genuine | excluded.genuine) <> sensor_months.genuine";

/// The day's `genuine` masks as stored before it is written again (none on a first write).
const OLD_MASKS_SQL: &str =
    "SELECT store_id, sensor_id, genuine FROM analytics.sensor_days WHERE date = $1";

/// The month masks of `change.recompute`'s sensors computed again from their days, in one
/// statement: $1 and $2 the month's first and last days (`None` when there are none).
fn recompute_month_masks_sql(change: &MonthMaskChange) -> Option<String> {
    if change.recompute.is_empty() {
        return None;
    }
    let sensors: Vec<String> = change
        .recompute
        .iter()
        .map(|(store, sensor)| format!("({store}, {sensor})"))
        .collect();
    Some(format!(
        "UPDATE analytics.sensor_months SET genuine = COALESCE((SELECT {} \
         FROM analytics.sensor_days d WHERE d.store_id = sensor_months.store_id \
         AND d.sensor_id = sensor_months.sensor_id AND d.date >= $1 AND d.date <= $2), 0) \
         WHERE month = $1 AND (store_id, sensor_id) IN (VALUES {})",
        genuine_or("d.genuine"),
        sensors.join(", ")
    ))
}

/// `sql` with `date`'s month bound: its first day as $1, its last as $2 (either engine).
fn month_query<'q, DB: sqlx::Database>(
    sql: &'q str,
    date: NaiveDate,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    NaiveDate: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    sqlx::query(sql)
        .bind(month_start(date))
        .bind(month_end(date))
}

/// The value columns of a store rollup row, in the tables' order (v…, t…, c…).
fn store_values(d: &StoreDay) -> impl Iterator<Item = i64> + '_ {
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
const MISSING_DAYS_SQL: &str = "WITH RECURSIVE days(day) AS ( \
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_hour_range_is_one_subtraction_of_cumulative_columns() {
        assert_eq!(range_expr('v', 9, 19), "v19");
        assert_eq!(range_expr('v', 0, 23), "v19", "clamped to opening hours");
        assert_eq!(range_expr('c', 12, 14), "(c14 - c11)");
        assert_eq!(genuine_mask(9, 19), 0b111_1111_1111);
        assert_eq!(genuine_mask(10, 11), 0b110);
        assert_eq!(genuine_mask(0, 23), 0b111_1111_1111);
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    #[test]
    fn a_period_splits_into_whole_months_and_edge_days() {
        let s = split_months(d("2025-11-27"), d("2026-11-26"));
        assert_eq!(s.months, Some((d("2025-12-01"), d("2026-10-01"))));
        assert_eq!(
            s.edge_days,
            vec![
                (d("2025-11-27"), d("2025-11-30")),
                (d("2026-11-01"), d("2026-11-26"))
            ]
        );
        let s = split_months(d("2025-01-01"), d("2025-02-28"));
        assert_eq!(s.months, Some((d("2025-01-01"), d("2025-02-01"))));
        assert!(s.edge_days.is_empty());
        let s = split_months(d("2025-03-10"), d("2025-03-16"));
        assert_eq!(s.months, None);
        assert_eq!(s.edge_days, vec![(d("2025-03-10"), d("2025-03-16"))]);
        let s = split_months(d("2025-02-15"), d("2025-03-31"));
        assert_eq!(s.months, Some((d("2025-03-01"), d("2025-03-01"))));
        assert_eq!(s.edge_days, vec![(d("2025-02-15"), d("2025-02-28"))]);
        assert_eq!(month_end(d("2024-02-10")), d("2024-02-29"));
    }

    #[test]
    fn a_day_written_again_adds_new_bits_and_recomputes_lost_ones() {
        let day = |store_id, sensor_id, genuine| SensorDay {
            store_id,
            sensor_id,
            v: [0; HOURS],
            genuine,
        };
        // First write: every sensor with bits is OR-ed in; a sensor without any is not.
        let first = month_mask_change(&[], &[day(1, 1, 0b11), day(1, 2, 0)]);
        assert_eq!(first.add, vec![(1, 1, 0b11)]);
        assert!(first.recompute.is_empty());
        // The same day again: nothing to do.
        let same = month_mask_change(&[(1, 1, 0b11), (1, 2, 0)], &[day(1, 1, 0b11), day(1, 2, 0)]);
        assert_eq!(same, MonthMaskChange::default());
        // Sensor 1 gains a bit and loses one; sensor 2 gains; sensor 3 is gone from the day.
        let change = month_mask_change(
            &[(1, 1, 0b11), (1, 2, 0), (1, 3, 0b100)],
            &[day(1, 1, 0b110), day(1, 2, 0b1)],
        );
        assert_eq!(change.add, vec![(1, 1, 0b110), (1, 2, 0b1)]);
        assert_eq!(change.recompute, vec![(1, 1), (1, 3)]);
    }

    #[test]
    fn the_refresh_sql_names_every_opening_hour_column() {
        for backend in [Backend::Sqlite, Backend::Postgres] {
            let all = refresh_statements(backend)
                .into_iter()
                .map(|(_, _, s)| s)
                .collect::<Vec<_>>()
                .join("\n");
            for h in OPENING_HOURS {
                for family in ['v', 't', 'c'] {
                    assert!(all.contains(&format!("{family}{h:02}")), "{family}{h:02}");
                }
            }
        }
    }
}
