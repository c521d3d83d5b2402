//! Server side of the pipeline page: the partition grid of the last days, what is missing
//! from the pipeline's first day on, failures grouped by error, recent runs and the daily
//! quality figures.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use pipeline::clean_rows::Rule;
use pipeline::clock::HourSlot;
use pipeline::ledger::{
    due_partitions, transform_due_at, LedgerEntry, LedgerStates, Partition, PartitionState,
};
use pipeline::runs::{Job, RunStatus};

use crate::services::{paris_time as paris, unavailable, Services};
use crate::wire::{
    CellState, LoadError, PartitionGrid, PipelineView, QualityRow, RunRow, SilentSensor,
};

/// Days shown in the grid and checked for missing partitions.
pub const CHECK_DAYS: i64 = 14;
/// Recent runs listed.
const RECENT_RUNS: i64 = 40;
/// Failure groups listed.
const FAILURE_GROUPS: i64 = 20;
/// Missing partitions listed by name; the rest is counted.
const MISSING_LISTED: usize = 40;

fn row(e: LedgerEntry) -> RunRow {
    RunRow {
        job: e.job,
        partition: e.partition.key(),
        status: e.status,
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

/// What the grid and the missing list need: the days shown, the pipeline's first day,
/// "now" and the ledger states of those days.
pub struct Window<'a> {
    pub days: Vec<NaiveDate>,
    pub first_day: Option<NaiveDate>,
    pub now: DateTime<Utc>,
    pub states: &'a LedgerStates,
}

/// The grid and the due-and-not-done partitions (all of them, oldest first).
pub fn grid_and_gaps(w: &Window<'_>) -> (PartitionGrid, Vec<(Job, String)>) {
    let latest = HourSlot::latest_available(w.now);
    let mut hours: Vec<Vec<CellState>> =
        (0..24).map(|_| Vec::with_capacity(w.days.len())).collect();
    let mut transform = Vec::with_capacity(w.days.len());
    for &d in &w.days {
        let before_start = w.first_day.is_none_or(|f| d < f);
        let slots: Vec<HourSlot> = HourSlot::hours_of_day(d).collect();
        for (h, row) in hours.iter_mut().enumerate() {
            let Some(slot) = slots.iter().find(|s| s.hour as usize == h) else {
                row.push(CellState::NoSuchHour);
                continue;
            };
            let partition = Partition::Hour(*slot);
            let c = w.states.get(Job::Collect, &partition);
            let i = w.states.get(Job::Ingest, &partition);
            row.push(if *slot > latest {
                CellState::NotDue
            } else if before_start && c.is_none() && i.is_none() {
                CellState::BeforeStart
            } else {
                hour_state(c, i)
            });
        }
        let t = w.states.get(Job::Transform, &Partition::Day(d));
        transform.push(if w.now < transform_due_at(d) {
            CellState::NotDue
        } else if before_start && t.is_none() {
            CellState::BeforeStart
        } else {
            ledger_state(t)
        });
    }
    // Due and not done, from the pipeline's first day on; one entry per hour, naming the
    // first step that is not done.
    let gaps = match (w.first_day, w.days.first(), w.days.last()) {
        (Some(first), Some(&from), Some(&to)) => {
            due_partitions(from.max(first), to, w.now, w.states)
                .into_iter()
                .filter(|p| {
                    let collected = || {
                        ledger_state(w.states.get(Job::Collect, &p.partition)) == CellState::Done
                    };
                    ledger_state(p.state.as_ref()).is_gap() && (p.job != Job::Ingest || collected())
                })
                .map(|p| (p.job, p.partition.key()))
                .collect()
        }
        _ => Vec::new(),
    };
    let grid = PartitionGrid {
        days: w.days.iter().map(NaiveDate::to_string).collect(),
        hours,
        transform,
    };
    (grid, gaps)
}

/// Daily quality figures, both feeds together, newest day first.
pub fn quality_rows(figures: Vec<(NaiveDate, String, Rule, i64)>) -> Vec<QualityRow> {
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
        match r {
            Rule::RowsIn => q.rows_in += count,
            Rule::ClosedDay | Rule::ClosedHour => q.closed += count,
            Rule::NullDropped => q.nulls += count,
            Rule::OutlierHigh | Rule::OutlierLow => q.outliers += count,
            Rule::SlotsFilled => q.filled += count,
            Rule::Unfillable => q.unfillable += count,
            Rule::RowsOut => q.rows_out += count,
            Rule::UnparseableDate
            | Rule::UnparseableHour
            | Rule::UnknownId
            | Rule::Duplicate
            | Rule::SourceConflict
            | Rule::OutOfRange
            | Rule::OutsideServiceRange => q.rejected += count,
        }
    }
    by_day.into_values().rev().collect()
}

/// The page's name in the server's log.
const PAGE: &str = "pipeline";

pub async fn load_view(services: &Services) -> Result<PipelineView, LoadError> {
    // The whole chain's processing: admins and analysts, not store managers.
    let viewer = crate::access::viewer()?;
    if !viewer.role.sees_every_store() {
        return Err(crate::access::refuse(LoadError::NotAllowed));
    }
    let w = services.warehouse_for(PAGE)?;
    let e = unavailable(PAGE);
    let now = services.clock.now();
    let to = HourSlot::latest_available(now).date;
    let from = to - Duration::days(CHECK_DAYS - 1);
    let states = w.ledger_window(from, to).await.map_err(e)?;
    let first_day = w.pipeline_first_day().await.map_err(e)?;
    let days: Vec<NaiveDate> = (0..CHECK_DAYS).map(|i| from + Duration::days(i)).collect();
    let (grid, gaps) = grid_and_gaps(&Window {
        days,
        first_day,
        now,
        states: &states,
    });
    let failures = w
        .ledger_failure_groups(FAILURE_GROUPS)
        .await
        .map_err(e)?
        .into_iter()
        .map(|g| g.map_retry(|t| paris(t, "%Y-%m-%d %H:%M")))
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
        silent_sensors: silent_sensors(services, w, &viewer.scope, now).await?,
    })
}

/// The sensors with an unresolved `sensor_silent` or `sensor_stuck_zero` alert within
/// `scope`, oldest first.
async fn silent_sensors(
    services: &Services,
    w: &pipeline::Warehouse,
    scope: &pipeline::access::StoreScope,
    now: DateTime<Utc>,
) -> Result<Vec<SilentSensor>, LoadError> {
    use pipeline::alerts::lifecycle::{AlertQuery, AlertStatus};
    use pipeline::alerts::Rule as AlertRule;
    let mut out = Vec::new();
    for rule in [AlertRule::SensorSilent, AlertRule::SensorStuckZero] {
        let query = AlertQuery {
            // Those not over by now.
            since: Some(now),
            rule: Some(rule),
            ..AlertQuery::default()
        };
        let alerts = w.alerts(&query, scope).await.map_err(unavailable(PAGE))?;
        let reference = services.simulator.reference();
        out.extend(
            alerts
                .into_iter()
                .filter(|a| a.status != AlertStatus::Resolved)
                .filter_map(|a| {
                    let store_id = u32::try_from(a.store_id).ok()?;
                    Some(SilentSensor {
                        alert_id: a.id,
                        rule: a.rule,
                        store_id,
                        store_name: reference
                            .store(store_id)
                            .map(|s| s.city_store.clone())
                            .unwrap_or_else(|| store_id.to_string()),
                        sensor_id: u32::try_from(a.sensor_id?).ok()?,
                        since: paris(a.start, "%Y-%m-%d %H:%M"),
                        acknowledged: a.status == AlertStatus::Acknowledged,
                    })
                }),
        );
    }
    out.sort_by(|a, b| a.since.cmp(&b.since).then(a.store_id.cmp(&b.store_id)));
    Ok(out)
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
        let mut states = LedgerStates::default();
        for slot in HourSlot::hours_of_day(d("2025-03-11")) {
            states
                .collect
                .insert(slot.key(), state(RunStatus::Done, false));
            states
                .ingest
                .insert(slot.key(), state(RunStatus::Done, false));
        }
        // 10h of the 11th: collected, ingest failed with a retry; 11h: collect failed for good.
        states
            .ingest
            .insert("2025-03-11T10".into(), state(RunStatus::Failed, true));
        states
            .collect
            .insert("2025-03-11T11".into(), state(RunStatus::Failed, false));
        states
            .transform
            .insert("2025-03-11".into(), state(RunStatus::Done, false));
        let (grid, gaps) = grid_and_gaps(&Window {
            days: vec![d("2025-03-10"), d("2025-03-11"), d("2025-03-12")],
            first_day: Some(d("2025-03-11")),
            now,
            states: &states,
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
        assert_eq!(gaps[0], (Job::Ingest, "2025-03-11T10".into()));
        assert_eq!(gaps[1], (Job::Collect, "2025-03-11T11".into()));
        assert_eq!(gaps[2], (Job::Collect, "2025-03-12T00".into()));
    }

    #[test]
    fn the_spring_change_day_has_no_2h() {
        let now: DateTime<Utc> = "2025-04-01T10:00:00Z".parse().expect("now");
        let empty = LedgerStates::default();
        let (grid, gaps) = grid_and_gaps(&Window {
            days: vec![d("2025-03-30")],
            first_day: Some(d("2025-03-01")),
            now,
            states: &empty,
        });
        assert_eq!(grid.hours[2][0], CellState::NoSuchHour);
        assert_eq!(gaps.len(), 23 + 1, "23 hours and the transform");
    }

    #[test]
    fn closed_hours_are_counted_apart_from_rejections() {
        let day = d("2025-03-11");
        let rows = quality_rows(vec![
            (day, "visiteurs".into(), Rule::RowsIn, 100),
            (day, "transactions".into(), Rule::RowsIn, 20),
            (day, "visiteurs".into(), Rule::ClosedHour, 50),
            (day, "visiteurs".into(), Rule::Duplicate, 2),
            (day, "visiteurs".into(), Rule::UnknownId, 1),
            (day, "visiteurs".into(), Rule::OutlierLow, 3),
            (day, "visiteurs".into(), Rule::RowsOut, 60),
        ]);
        assert_eq!(rows.len(), 1);
        let q = &rows[0];
        assert_eq!(
            (q.rows_in, q.closed, q.rejected, q.outliers, q.rows_out),
            (120, 50, 3, 3, 60)
        );
    }
}
