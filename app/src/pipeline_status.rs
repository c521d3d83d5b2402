//! Server side of the pipeline page: the partition grid of the last days, what is missing
//! from the pipeline's first day on, failures grouped by error, recent runs and the daily
//! quality figures.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use pipeline::clock::HourSlot;
use pipeline::jobs::reconcile::{transform_due_at, START_SETTING};
use pipeline::warehouse::ledger::{Job, LedgerEntry, PartitionState, RunStatus};
use pipeline::warehouse::WarehouseError;

use crate::pipeline_page::{
    CellState, FailureGroupRow, PartitionGrid, PipelineView, QualityRow, MISSING_LISTED,
};
use crate::services::Services;
use crate::wire::RunRow;

/// Days shown in the grid and checked for missing partitions.
pub const CHECK_DAYS: i64 = 14;
/// Recent runs listed.
const RECENT_RUNS: i64 = 40;
/// Failure groups listed.
const FAILURE_GROUPS: i64 = 20;

fn paris(t: DateTime<Utc>, fmt: &str) -> String {
    t.with_timezone(&pipeline::PARIS).format(fmt).to_string()
}

fn row(e: LedgerEntry) -> RunRow {
    RunRow {
        job: e.job,
        partition: e.partition,
        status: e.status.name().to_string(),
        attempts: e.attempts,
        rows: e.rows_out,
        duration_ms: e.duration_ms,
        started_at: e.started_at.map(|t| paris(t, "%Y-%m-%d %H:%M:%S")),
        error: e.error,
        next_attempt_at: e.next_attempt_at.map(|t| paris(t, "%Y-%m-%d %H:%M")),
    }
}

/// The state of a partition from its ledger row, for a partition that is due.
fn ledger_state(state: Option<&PartitionState>) -> CellState {
    match state {
        None => CellState::Missing,
        Some(s) => match s.status {
            RunStatus::Done => CellState::Done,
            RunStatus::Running => CellState::Running,
            RunStatus::Failed if s.next_attempt_at.is_some() => CellState::Retrying,
            RunStatus::Failed => CellState::Failed,
        },
    }
}

/// One hour: collect then ingest. Done only when both are; otherwise the first step that
/// is not done tells the state.
fn hour_state(collect: Option<&PartitionState>, ingest: Option<&PartitionState>) -> CellState {
    match ledger_state(collect) {
        CellState::Done => ledger_state(ingest),
        other => other,
    }
}

/// What the grid and the missing list need: the ledger of the window, the first day,
/// the latest due hour and "now".
pub struct Window<'a> {
    pub days: Vec<NaiveDate>,
    pub first_day: Option<NaiveDate>,
    pub latest: HourSlot,
    pub now: DateTime<Utc>,
    pub collect: &'a HashMap<String, PartitionState>,
    pub ingest: &'a HashMap<String, PartitionState>,
    pub transform: &'a HashMap<String, PartitionState>,
}

/// The grid and the due-and-not-done partitions (all of them, oldest first).
pub fn grid_and_gaps(w: &Window<'_>) -> (PartitionGrid, Vec<String>) {
    let mut hours: Vec<Vec<CellState>> =
        (0..24).map(|_| Vec::with_capacity(w.days.len())).collect();
    let mut transform = Vec::with_capacity(w.days.len());
    let mut gaps = Vec::new();
    for &d in &w.days {
        let before_start = w.first_day.is_none_or(|f| d < f);
        let slots: Vec<HourSlot> = HourSlot::hours_of_day(d).collect();
        for (h, row) in hours.iter_mut().enumerate() {
            let Some(slot) = slots.iter().find(|s| s.hour as usize == h) else {
                row.push(CellState::NoSuchHour);
                continue;
            };
            let key = slot.key();
            let (c, i) = (w.collect.get(&key), w.ingest.get(&key));
            let state = if *slot > w.latest {
                CellState::NotDue
            } else if before_start && c.is_none() && i.is_none() {
                CellState::BeforeStart
            } else {
                hour_state(c, i)
            };
            if state.is_gap() && !before_start {
                let job = if ledger_state(c) == CellState::Done {
                    "ingest"
                } else {
                    "collect"
                };
                gaps.push(format!("{job} {key}"));
            }
            row.push(state);
        }
        let key = d.to_string();
        let t = w.transform.get(&key);
        let state = if w.now < transform_due_at(d) {
            CellState::NotDue
        } else if before_start && t.is_none() {
            CellState::BeforeStart
        } else {
            ledger_state(t)
        };
        if state.is_gap() && !before_start {
            gaps.push(format!("transform {key}"));
        }
        transform.push(state);
    }
    let grid = PartitionGrid {
        days: w.days.iter().map(NaiveDate::to_string).collect(),
        hours,
        transform,
    };
    (grid, gaps)
}

/// Daily quality figures, both feeds together, newest day first.
pub fn quality_rows(figures: Vec<(NaiveDate, String, String, i64)>) -> Vec<QualityRow> {
    use pipeline::cleaning::rule;
    let mut by_day: BTreeMap<NaiveDate, QualityRow> = BTreeMap::new();
    for (date, _feed, r, count) in figures {
        let q = by_day.entry(date).or_insert_with(|| QualityRow {
            date: date.to_string(),
            rows_in: 0,
            closed: 0,
            nulls: 0,
            outliers: 0,
            filled: 0,
            unfillable: 0,
            rejected: 0,
            rows_out: 0,
        });
        match r.as_str() {
            rule::ROWS_IN => q.rows_in += count,
            rule::CLOSED_DAY | rule::CLOSED_HOUR => q.closed += count,
            rule::NULL_DROPPED => q.nulls += count,
            rule::OUTLIER_HIGH | rule::OUTLIER_LOW => q.outliers += count,
            rule::SLOTS_FILLED => q.filled += count,
            rule::UNFILLABLE => q.unfillable += count,
            rule::ROWS_OUT => q.rows_out += count,
            // unparseable date or hour, unknown id, duplicate, out of range
            _ => q.rejected += count,
        }
    }
    by_day.into_values().rev().collect()
}

/// The pipeline's first day: the setting written on its first run, else its earliest
/// collected hour (a ledger filled by `backfill` before any `serve`).
async fn first_day(services: &Services) -> Result<Option<NaiveDate>, WarehouseError> {
    let Some(w) = services.warehouse.as_ref() else {
        return Ok(None);
    };
    if let Some(d) = w
        .setting(START_SETTING)
        .await?
        .and_then(|v| v.parse::<NaiveDate>().ok())
    {
        return Ok(Some(d));
    }
    Ok(w.ledger_first_partition(Job::Collect)
        .await?
        .and_then(|p| p.get(..10).and_then(|d| d.parse().ok())))
}

pub async fn load_view(services: &Services) -> Result<PipelineView, String> {
    let w = services.warehouse.as_ref().ok_or("no warehouse")?;
    let e = |e: WarehouseError| {
        tracing::error!(error = %e, "pipeline page: warehouse query failed");
        e.to_string()
    };
    let now = services.clock.now();
    let latest = HourSlot::latest_available(now);
    let to = latest.date;
    let from = to - Duration::days(CHECK_DAYS - 1);
    let (lo, hi) = (format!("{from}T00"), format!("{to}T23"));
    let collect = w.ledger_states(Job::Collect, &lo, &hi).await.map_err(e)?;
    let ingest = w.ledger_states(Job::Ingest, &lo, &hi).await.map_err(e)?;
    let transform = w
        .ledger_states(Job::Transform, &from.to_string(), &to.to_string())
        .await
        .map_err(e)?;
    let first_day = first_day(services).await.map_err(e)?;
    let days: Vec<NaiveDate> = (0..CHECK_DAYS).map(|i| from + Duration::days(i)).collect();
    let (grid, gaps) = grid_and_gaps(&Window {
        days,
        first_day,
        latest,
        now,
        collect: &collect,
        ingest: &ingest,
        transform: &transform,
    });
    let failures = w
        .ledger_failure_groups(FAILURE_GROUPS)
        .await
        .map_err(e)?
        .into_iter()
        .map(|g| FailureGroupRow {
            job: g.job,
            error: g.error,
            partitions: g.partitions,
            first_partition: g.first_partition,
            last_partition: g.last_partition,
            exhausted: g.exhausted,
            next_attempt_at: g.next_attempt_at.map(|t| paris(t, "%Y-%m-%d %H:%M")),
        })
        .collect();
    Ok(PipelineView {
        summary: w.ledger_summary().await.map_err(e)?,
        first_day: first_day.map(|d| d.to_string()),
        checked_from: from.to_string(),
        checked_to: to.to_string(),
        grid,
        missing_total: gaps.len(),
        missing: gaps.into_iter().take(MISSING_LISTED).collect(),
        failures,
        recent: w
            .ledger_recent(None, RECENT_RUNS)
            .await
            .map_err(e)?
            .into_iter()
            .map(row)
            .collect(),
        quality: quality_rows(w.quality_range(from, to).await.map_err(e)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(status: RunStatus, retry: bool) -> PartitionState {
        PartitionState {
            status,
            attempts: 1,
            next_attempt_at: retry.then(Utc::now),
        }
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    #[test]
    fn gaps_count_only_from_the_first_day_and_name_the_step() {
        // Window 2025-03-10..12; the pipeline starts on the 11th; now: the 12th at 12:30
        // Paris (11:30 UTC), so the latest due hour is the 12th 11h.
        let now: DateTime<Utc> = "2025-03-12T11:30:00Z".parse().expect("now");
        let mut collect = HashMap::new();
        let mut ingest = HashMap::new();
        for h in 0..24 {
            collect.insert(format!("2025-03-11T{h:02}"), state(RunStatus::Done, false));
            ingest.insert(format!("2025-03-11T{h:02}"), state(RunStatus::Done, false));
        }
        // 10h of the 11th: collected, ingest failed with a retry; 11h: collect failed for good.
        ingest.insert("2025-03-11T10".into(), state(RunStatus::Failed, true));
        collect.insert("2025-03-11T11".into(), state(RunStatus::Failed, false));
        let mut transform = HashMap::new();
        transform.insert("2025-03-11".into(), state(RunStatus::Done, false));
        let (grid, gaps) = grid_and_gaps(&Window {
            days: vec![d("2025-03-10"), d("2025-03-11"), d("2025-03-12")],
            first_day: Some(d("2025-03-11")),
            latest: HourSlot::latest_available(now),
            now,
            collect: &collect,
            ingest: &ingest,
            transform: &transform,
        });
        // The 10th is before the start: shown, not counted.
        assert!(grid.hours.iter().all(|r| r[0] == CellState::BeforeStart));
        assert_eq!(grid.transform[0], CellState::BeforeStart);
        assert_eq!(grid.hours[10][1], CellState::Retrying);
        assert_eq!(grid.hours[11][1], CellState::Failed);
        assert_eq!(grid.hours[9][1], CellState::Done);
        // The 12th: hours 0..=11 due and missing, 12..23 not due; its transform not due.
        assert_eq!(grid.hours[11][2], CellState::Missing);
        assert_eq!(grid.hours[12][2], CellState::NotDue);
        assert_eq!(grid.transform[2], CellState::NotDue);
        assert_eq!(grid.transform[1], CellState::Done);
        assert_eq!(gaps.len(), 2 + 12, "{gaps:?}");
        assert_eq!(gaps[0], "ingest 2025-03-11T10");
        assert_eq!(gaps[1], "collect 2025-03-11T11");
        assert_eq!(gaps[2], "collect 2025-03-12T00");
    }

    #[test]
    fn the_spring_change_day_has_no_2h() {
        let now: DateTime<Utc> = "2025-04-01T10:00:00Z".parse().expect("now");
        let empty = HashMap::new();
        let (grid, gaps) = grid_and_gaps(&Window {
            days: vec![d("2025-03-30")],
            first_day: Some(d("2025-03-01")),
            latest: HourSlot::latest_available(now),
            now,
            collect: &empty,
            ingest: &empty,
            transform: &empty,
        });
        assert_eq!(grid.hours[2][0], CellState::NoSuchHour);
        assert_eq!(gaps.len(), 23 + 1, "23 hours and the transform");
    }

    #[test]
    fn closed_hours_are_counted_apart_from_rejections() {
        let day = d("2025-03-11");
        let rows = quality_rows(vec![
            (day, "visiteurs".into(), "rows_in".into(), 100),
            (day, "transactions".into(), "rows_in".into(), 20),
            (day, "visiteurs".into(), "closed_hour".into(), 50),
            (day, "visiteurs".into(), "duplicate".into(), 2),
            (day, "visiteurs".into(), "unknown_id".into(), 1),
            (day, "visiteurs".into(), "outlier_low".into(), 3),
            (day, "visiteurs".into(), "rows_out".into(), 60),
        ]);
        assert_eq!(rows.len(), 1);
        let q = &rows[0];
        assert_eq!(
            (q.rows_in, q.closed, q.rejected, q.outliers, q.rows_out),
            (120, 50, 3, 3, 60)
        );
    }
}
