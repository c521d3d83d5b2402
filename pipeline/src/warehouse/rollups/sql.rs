//! The rollups' SQL: the statements that rebuild a date range from the analytics rows,
//! per backend, and the month-mask statements.

use chrono::NaiveDate;
use std::fmt::Write;

use super::derive::*;
use super::query::*;
use crate::calendar::OPENING_HOURS;
use crate::warehouse::{sqlite, Backend};

/// `SUM(CASE WHEN hour <= 09 THEN x ELSE 0 END) AS v09, …` for each opening hour.
pub(super) fn cumulative_columns(out: &mut String, family: char, hour: &str, value: &str) {
    for h in hours() {
        let _ = write!(
            out,
            ", SUM(CASE WHEN {hour} <= {h} THEN {value} ELSE 0 END) AS {family}{h:02}"
        );
    }
}

/// `(MAX(g & 1) | MAX(g & 2) | …)` over the opening hours' bits: the bitwise OR of the
/// `genuine` expression `g` over a group (the engines share no bitwise-OR aggregate).
pub(super) fn genuine_or(g: &str) -> String {
    let bits: Vec<String> = (0..HOURS)
        .map(|i| format!("MAX({g} & {})", 1 << i))
        .collect();
    format!("({})", bits.join(" | "))
}

pub(super) fn column_list(family: char) -> String {
    hours().map(|h| format!(", {family}{h:02}")).collect()
}

/// What a refresh statement binds: the dates [from, to], or the months around them
/// (first day of from's month, last day of to's month).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Bounds {
    Days,
    Months,
}

/// What a refresh statement does: clear the dates' day rollups, derive them from the
/// stored analytics rows (the transform computes these itself, see [`day_rollups`]),
/// derive what follows from the day rollups (`sensors`, `store_months`), or rebuild what
/// the transform keeps up to date itself (`sensor_months`, see [`write_sensor_months`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    Clear,
    Derive,
    Follow,
    Rebuild,
}

/// The statements that rebuild the rollups of the dates [$1, $2], in order.
pub(super) fn refresh_statements(backend: Backend) -> Vec<(Step, Bounds, String)> {
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

pub(super) fn bounds(b: Bounds, from: NaiveDate, to: NaiveDate) -> (NaiveDate, NaiveDate) {
    match b {
        Bounds::Days => (from, to),
        Bounds::Months => (month_start(from), month_end(to)),
    }
}

/// The statements of one step, with their bounds for the day `date`.
pub(super) fn statements_of(
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

/// The conflict clause of the month-mask upserts: OR the day's bits into the month's, and
/// leave the row alone (no new row version) when the month already has them all, as
/// nearly every sensor's month does after its first day.
pub(super) const MONTH_MASK_UPSERT: &str = " ON CONFLICT (store_id, sensor_id, month) DO UPDATE \
     SET genuine = sensor_months.genuine | excluded.genuine \
     WHERE (sensor_months.genuine | excluded.genuine) <> sensor_months.genuine";

/// The day's `genuine` masks as stored before it is written again (none on a first write).
pub(super) const OLD_MASKS_SQL: &str =
    "SELECT store_id, sensor_id, genuine FROM analytics.sensor_days WHERE date = $1";

/// The month masks of `change.recompute`'s sensors computed again from their days, in one
/// statement: $1 and $2 the month's first and last days (`None` when there are none).
pub(super) fn recompute_month_masks_sql(change: &MonthMaskChange) -> Option<String> {
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
pub(super) fn month_query<'q, DB: sqlx::Database>(
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
