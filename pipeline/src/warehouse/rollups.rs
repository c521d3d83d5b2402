//! The dashboard's day-level rollups (`analytics.sensor_days`, `.store_days`,
//! `.store_months`, `.chain_hours`, `.sensors`; see migrations 0004, and 0005 for revenue in
//! integer cents): how they are derived from the analytics
//! rows, and how a query reads an hour range out of their cumulative hour columns.
//!
//! They are rebuilt for a date range by SQL over `analytics.visiteurs` and
//! `analytics.store_hours`, inside the transaction that writes those rows (the nightly
//! transform). When a warehouse is opened, days that have analytics rows but no rollups
//! (written before the rollups existed, or by an older binary) get theirs, a day per
//! transaction. They live in the analytics database, beside the rows they summarise.

use chrono::{Datelike, Months, NaiveDate};
use std::fmt::Write;

use super::{sqlite, Backend, Warehouse, WarehouseError};
use crate::simulator::OPENING_HOURS;

/// PostgreSQL transaction lock serialising rollup rebuilds ("DM360ROL").
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

/// The statements that rebuild the rollups of the dates [$1, $2], in order.
fn refresh_statements(backend: Backend) -> Vec<(Bounds, String)> {
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
            Bounds::Days,
            "DELETE FROM analytics.sensor_days WHERE date >= $1 AND date <= $2".to_string(),
        ),
        (
            Bounds::Days,
            "DELETE FROM analytics.store_days WHERE date >= $1 AND date <= $2".to_string(),
        ),
        (
            Bounds::Days,
            "DELETE FROM analytics.chain_hours WHERE date >= $1 AND date <= $2".to_string(),
        ),
        (Bounds::Days, sensor_days),
        (Bounds::Days, store_days),
        (
            Bounds::Days,
            "INSERT INTO analytics.chain_hours (date, hour, visitors, transactions, revenue_cents) \
             SELECT date, hour, SUM(visitors), SUM(transactions), SUM(revenue_cents) \
             FROM analytics.store_hours WHERE date >= $1 AND date <= $2 GROUP BY date, hour"
                .to_string(),
        ),
        (
            Bounds::Days,
            "INSERT INTO analytics.sensors (store_id, sensor_id) \
             SELECT DISTINCT store_id, sensor_id FROM analytics.sensor_days \
             WHERE date >= $1 AND date <= $2 ON CONFLICT (store_id, sensor_id) DO NOTHING"
                .to_string(),
        ),
        (
            Bounds::Months,
            "DELETE FROM analytics.store_months WHERE month >= $1 AND month <= $2".to_string(),
        ),
        (Bounds::Months, store_months),
    ];
    match backend {
        Backend::Sqlite => statements
            .into_iter()
            .map(|(b, s)| (b, sqlite(&s)))
            .collect(),
        Backend::Postgres => statements,
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
    for (b, sql) in refresh_statements(Backend::Sqlite) {
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
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(PG_LOCK_KEY)
        .execute(&mut *tx)
        .await?;
    for (b, sql) in refresh_statements(Backend::Postgres) {
        let (a, z) = bounds(b, from, to);
        sqlx::query(&sql).bind(a).bind(z).execute(&mut *tx).await?;
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
    fn the_refresh_sql_names_every_opening_hour_column() {
        for backend in [Backend::Sqlite, Backend::Postgres] {
            let all = refresh_statements(backend)
                .into_iter()
                .map(|(_, s)| s)
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
