//! Which days of a period are complete, read from the ledger. A day is complete when every
//! partition it should have is done — collect and ingest for each of its hours, then its
//! transform — whether the stores were open or closed that day. Any other day is
//! incomplete for a reason the dashboard says: before the pipeline's first day (not
//! collected), not over yet, being prepared by a running backfill or catch-up, failed, or
//! missing. The warehouse reads the ledger in one aggregated query
//! (`Warehouse::ledger_day_counts`); everything else here is plain computation.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::clock::HourSlot;
use crate::ledger::transform_due_at;
use crate::runs::{Job, RunStatus};

/// A `running` partition started longer ago than this is a run that died (a crash): the
/// next reconciliation redoes it, nothing is preparing it now.
pub const RUNNING_FRESH: Duration = Duration::minutes(10);
/// A partition started this recently counts as activity even if already finished: a run
/// moves from one partition to the next in well under this.
pub const RECENT_START: Duration = Duration::seconds(15);

/// One row of the ledger's aggregate over a period: the partitions of one day and job in
/// one status, and when the latest of them started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayJobCount {
    pub date: NaiveDate,
    pub job: Job,
    pub status: RunStatus,
    pub partitions: u32,
    pub last_started: Option<DateTime<Utc>>,
}

/// Why a day is, or is not, complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DayState {
    /// Every partition of the day is done.
    Complete,
    /// A backfill or catch-up is running for the day.
    Preparing,
    /// A partition of the day failed.
    Failed,
    /// Before the pipeline's first day, and nothing was run for it: only a backfill loads it.
    NotCollected,
    /// The day is not over (hours after the last complete one), or its transform is not due
    /// yet (03:00 Paris the next morning).
    NotYet,
    /// Due partitions that never ran (or whose run died), with nothing running for them.
    Missing,
}

/// A run of consecutive days in the same state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayRange {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub state: DayState,
}

/// The completeness of a period's days.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PeriodCompleteness {
    /// Every day of the period, in order, with its state.
    pub days: Vec<(NaiveDate, DayState)>,
    /// True when some partition of the period is being run now (or was started a moment
    /// ago): the ledger's sign of a running backfill or catch-up.
    pub active: bool,
}

#[derive(Debug, Default, Clone, Copy)]
struct JobCounts {
    done: u32,
    failed: u32,
    running_fresh: u32,
    recent: bool,
}

impl PeriodCompleteness {
    /// The days `from..=to` at `now`, from the ledger's aggregate `counts` of those days.
    /// `first_day` is the pipeline's first day (days before it with no ledger rows are not
    /// collected); `running` says whether a run known to cover the day is in progress
    /// (e.g. in this process), whatever the ledger shows yet.
    pub fn compute(
        from: NaiveDate,
        to: NaiveDate,
        now: DateTime<Utc>,
        first_day: Option<NaiveDate>,
        counts: &[DayJobCount],
        running: &dyn Fn(NaiveDate) -> bool,
    ) -> Self {
        let latest = HourSlot::latest_available(now);
        let mut out = PeriodCompleteness::default();
        let mut by_day: HashMap<NaiveDate, Vec<&DayJobCount>> = HashMap::new();
        for c in counts {
            by_day.entry(c.date).or_default().push(c);
        }
        let mut first_active: Option<NaiveDate> = None;
        let mut date = from;
        while date <= to {
            let mut per_job = [JobCounts::default(); 3];
            let mut any_row = false;
            for c in by_day.get(&date).into_iter().flatten() {
                any_row = true;
                let Some(index) = job_index(c.job) else {
                    continue;
                };
                let j = &mut per_job[index];
                match c.status {
                    RunStatus::Done => j.done += c.partitions,
                    RunStatus::Failed => j.failed += c.partitions,
                    RunStatus::Running => {
                        if c.last_started.is_some_and(|t| now - t < RUNNING_FRESH) {
                            j.running_fresh += c.partitions;
                        }
                    }
                }
                if c.last_started.is_some_and(|t| now - t < RECENT_START) {
                    j.recent = true;
                }
            }
            let hours_due = HourSlot::hours_of_day(date)
                .filter(|s| *s <= latest)
                .count() as u32;
            let whole_day = date < latest.date
                || (date == latest.date && HourSlot::hours_of_day(date).all(|s| s <= latest));
            let transform_due = whole_day && now >= transform_due_at(date);
            let active = per_job.iter().any(|j| j.running_fresh > 0 || j.recent);
            out.active |= active;
            let hours_done = per_job[0].done >= hours_due && per_job[1].done >= hours_due;
            // A failure the ledger holds comes first (a run does not retry a failure out of
            // attempts, and a partition just marked failed may have started seconds ago);
            // then a run at work on the day (ledger); a day not over; a run of this process
            // that will reach the day; and only then what nothing will fetch by itself.
            let not_yet = (!transform_due && hours_done) || date > latest.date;
            let state = if transform_due && hours_done && per_job[2].done >= 1 {
                DayState::Complete
            } else if per_job.iter().any(|j| j.failed > 0) {
                DayState::Failed
            } else if active {
                DayState::Preparing
            } else if not_yet {
                DayState::NotYet
            } else if running(date) {
                DayState::Preparing
            } else if !any_row && first_day.is_none_or(|f| date < f) {
                DayState::NotCollected
            } else {
                DayState::Missing
            };
            if active && first_active.is_none() {
                first_active = Some(date);
            }
            // A run works through its days in order (a backfill in another process, say):
            // the untouched days after the one it is at are ahead of it, not forgotten.
            let state = match (state, first_active) {
                (DayState::NotCollected | DayState::Missing, Some(a)) if !any_row && date > a => {
                    DayState::Preparing
                }
                (s, _) => s,
            };
            out.days.push((date, state));
            date = match date.succ_opt() {
                Some(d) => d,
                None => break,
            };
        }
        out
    }

    /// True when every day of the period is complete.
    pub fn is_complete(&self) -> bool {
        self.days.iter().all(|(_, s)| *s == DayState::Complete)
    }

    /// The incomplete days, as runs of consecutive days in the same state.
    pub fn gaps(&self) -> Vec<DayRange> {
        let mut out: Vec<DayRange> = Vec::new();
        for &(date, state) in &self.days {
            if state == DayState::Complete {
                continue;
            }
            match out.last_mut() {
                Some(r) if r.state == state && r.to.succ_opt() == Some(date) => r.to = date,
                _ => out.push(DayRange {
                    from: date,
                    to: date,
                    state,
                }),
            }
        }
        out
    }

    /// (complete days, days that can be complete by now) of the period: a preparing run's
    /// progress over it.
    pub fn progress(&self) -> (u32, u32) {
        let done = self
            .days
            .iter()
            .filter(|(_, s)| *s == DayState::Complete)
            .count() as u32;
        let total = self
            .days
            .iter()
            .filter(|(_, s)| *s != DayState::NotYet)
            .count() as u32;
        (done, total)
    }

    /// True when a run is preparing some day of the period.
    pub fn is_preparing(&self) -> bool {
        self.days.iter().any(|(_, s)| *s == DayState::Preparing)
    }
}

/// The jobs a day's completeness counts (detection reads the data, it does not make it).
fn job_index(job: Job) -> Option<usize> {
    match job {
        Job::Collect => Some(0),
        Job::Ingest => Some(1),
        Job::Transform => Some(2),
        Job::Detect => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }
    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().expect("instant")
    }

    /// A fully done day: 24 collects, 24 ingests (23 on the spring change day), a transform.
    fn done_day(date: NaiveDate, at: DateTime<Utc>) -> Vec<DayJobCount> {
        let hours = HourSlot::hours_of_day(date).count() as u32;
        [
            (Job::Collect, hours),
            (Job::Ingest, hours),
            (Job::Transform, 1),
        ]
        .into_iter()
        .map(|(job, partitions)| DayJobCount {
            date,
            job,
            status: RunStatus::Done,
            partitions,
            last_started: Some(at),
        })
        .collect()
    }

    fn days(from: &str, to: &str) -> Vec<NaiveDate> {
        d(from).iter_days().take_while(|x| *x <= d(to)).collect()
    }

    const NOTHING_RUNNING: &dyn Fn(NaiveDate) -> bool = &|_| false;

    #[test]
    fn a_backfilled_weekend_is_complete() {
        // Monday 2024-10-21 10:30 Paris; backfilled 2024-10-07 → Sunday 2024-10-20 a day ago.
        let now = utc("2024-10-21T08:30:00Z");
        let then = utc("2024-10-20T08:00:00Z");
        let counts: Vec<_> = days("2024-10-07", "2024-10-20")
            .into_iter()
            .flat_map(|x| done_day(x, then))
            .collect();
        let p = PeriodCompleteness::compute(
            d("2024-10-14"),
            d("2024-10-20"),
            now,
            Some(d("2024-10-07")),
            &counts,
            NOTHING_RUNNING,
        );
        assert!(p.is_complete(), "{:?}", p.gaps());
        assert!(!p.active);
        assert_eq!(p.progress(), (7, 7));
    }

    #[test]
    fn a_failed_partition_names_its_day() {
        let now = utc("2024-10-21T08:30:00Z");
        let then = utc("2024-10-20T08:00:00Z");
        let mut counts: Vec<_> = days("2024-10-14", "2024-10-20")
            .into_iter()
            .flat_map(|x| done_day(x, then))
            .collect();
        // Wednesday: one collect failed, 23 done.
        for c in counts.iter_mut() {
            if c.date == d("2024-10-16") && c.job == Job::Collect {
                c.partitions = 23;
            }
        }
        counts.push(DayJobCount {
            date: d("2024-10-16"),
            job: Job::Collect,
            status: RunStatus::Failed,
            partitions: 1,
            last_started: Some(then),
        });
        let p = PeriodCompleteness::compute(
            d("2024-10-14"),
            d("2024-10-20"),
            now,
            Some(d("2024-10-14")),
            &counts,
            NOTHING_RUNNING,
        );
        assert_eq!(
            p.gaps(),
            vec![DayRange {
                from: d("2024-10-16"),
                to: d("2024-10-16"),
                state: DayState::Failed
            }]
        );
        // The same failure seconds after its start (a backfill just ran): still failed,
        // not "being prepared" (nothing will retry a failure out of attempts).
        for c in counts.iter_mut() {
            c.last_started = Some(now - Duration::seconds(3));
        }
        let p = PeriodCompleteness::compute(
            d("2024-10-14"),
            d("2024-10-20"),
            now,
            Some(d("2024-10-14")),
            &counts,
            NOTHING_RUNNING,
        );
        assert_eq!(
            p.gaps().iter().map(|g| g.state).collect::<Vec<_>>(),
            vec![DayState::Failed],
            "{:?}",
            p.gaps()
        );
    }

    #[test]
    fn days_before_the_first_day_are_not_collected_and_today_is_not_yet() {
        let now = utc("2024-10-18T12:30:00Z"); // Friday 14:30 Paris
        let then = utc("2024-10-17T08:00:00Z");
        let mut counts: Vec<_> = days("2024-10-07", "2024-10-17")
            .into_iter()
            .flat_map(|x| done_day(x, then))
            .collect();
        // Today: hours up to 13h collected and ingested.
        for job in [Job::Collect, Job::Ingest] {
            counts.push(DayJobCount {
                date: d("2024-10-18"),
                job,
                status: RunStatus::Done,
                partitions: 14,
                last_started: Some(then),
            });
        }
        let p = PeriodCompleteness::compute(
            d("2024-09-02"),
            d("2024-10-18"),
            now,
            Some(d("2024-10-07")),
            &counts,
            NOTHING_RUNNING,
        );
        assert_eq!(
            p.gaps(),
            vec![
                DayRange {
                    from: d("2024-09-02"),
                    to: d("2024-10-06"),
                    state: DayState::NotCollected
                },
                DayRange {
                    from: d("2024-10-18"),
                    to: d("2024-10-18"),
                    state: DayState::NotYet
                },
            ]
        );
        assert!(!p.is_preparing());
        // Yesterday before 03:00: its hours are in, its transform is not due yet.
        let night = utc("2024-10-18T00:30:00Z");
        let p = PeriodCompleteness::compute(
            d("2024-10-17"),
            d("2024-10-17"),
            night,
            Some(d("2024-10-07")),
            &done_day(d("2024-10-17"), then)[..2],
            NOTHING_RUNNING,
        );
        assert_eq!(p.days, vec![(d("2024-10-17"), DayState::NotYet)]);
    }

    #[test]
    fn preparing_only_while_something_runs() {
        let now = utc("2024-10-21T08:30:00Z");
        let mut counts = done_day(d("2024-09-02"), utc("2024-10-21T08:20:00Z"));
        counts.push(DayJobCount {
            date: d("2024-09-03"),
            job: Job::Collect,
            status: RunStatus::Running,
            partitions: 4,
            last_started: Some(utc("2024-10-21T08:29:58Z")),
        });
        let p = PeriodCompleteness::compute(
            d("2024-09-02"),
            d("2024-09-06"),
            now,
            Some(d("2024-10-07")),
            &counts,
            NOTHING_RUNNING,
        );
        assert!(p.active);
        assert_eq!(
            p.days.iter().map(|x| x.1).collect::<Vec<_>>(),
            vec![
                DayState::Complete,
                DayState::Preparing,
                // Untouched days after the one a run is at: ahead of it.
                DayState::Preparing,
                DayState::Preparing,
                DayState::Preparing
            ]
        );
        // Untouched days before it are not.
        let p = PeriodCompleteness::compute(
            d("2024-08-30"),
            d("2024-09-03"),
            now,
            Some(d("2024-10-07")),
            &counts,
            NOTHING_RUNNING,
        );
        assert_eq!(p.days[0], (d("2024-08-30"), DayState::NotCollected));
        assert_eq!(p.days[4], (d("2024-09-03"), DayState::Preparing));
        assert_eq!(p.progress(), (1, 5));
        // A run known to cover the whole period (in this process) prepares its days too.
        let covering = |x: NaiveDate| x <= d("2024-09-06");
        let p = PeriodCompleteness::compute(
            d("2024-09-02"),
            d("2024-09-06"),
            now,
            Some(d("2024-10-07")),
            &counts,
            &covering,
        );
        assert_eq!(p.gaps().len(), 1);
        assert_eq!(p.gaps()[0].state, DayState::Preparing);
        // A catch-up does not retry a failure out of attempts: a failed day stays failed.
        let failed = [DayJobCount {
            date: d("2024-09-04"),
            job: Job::Transform,
            status: RunStatus::Failed,
            partitions: 1,
            last_started: Some(utc("2024-10-21T07:00:00Z")),
        }];
        let p = PeriodCompleteness::compute(
            d("2024-09-04"),
            d("2024-09-04"),
            now,
            Some(d("2024-09-01")),
            &failed,
            &covering,
        );
        assert_eq!(p.days, vec![(d("2024-09-04"), DayState::Failed)]);
        // A run that died an hour ago leaves `running` rows: nothing prepares them.
        let later = utc("2024-10-21T09:30:00Z");
        let p = PeriodCompleteness::compute(
            d("2024-09-03"),
            d("2024-09-03"),
            later,
            Some(d("2024-10-07")),
            &counts,
            NOTHING_RUNNING,
        );
        assert!(!p.active);
        assert_eq!(p.days, vec![(d("2024-09-03"), DayState::Missing)]);
    }

    #[test]
    fn the_spring_change_day_is_complete_with_23_hours() {
        let now = utc("2025-04-01T10:00:00Z");
        let counts = done_day(d("2025-03-30"), utc("2025-03-31T02:00:00Z"));
        assert_eq!(counts[0].partitions, 23);
        let p = PeriodCompleteness::compute(
            d("2025-03-30"),
            d("2025-03-30"),
            now,
            Some(d("2025-03-01")),
            &counts,
            NOTHING_RUNNING,
        );
        assert!(p.is_complete());
        // Missing hours after the first day, nothing running: missing.
        let p = PeriodCompleteness::compute(
            d("2025-03-30"),
            d("2025-03-30"),
            now,
            Some(d("2025-03-01")),
            &counts[1..],
            NOTHING_RUNNING,
        );
        assert_eq!(p.days, vec![(d("2025-03-30"), DayState::Missing)]);
    }
}
