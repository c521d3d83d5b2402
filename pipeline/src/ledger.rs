//! The job ledger's vocabulary: the typed partition a job ([`crate::runs::Job`]) works on
//! (an hour or a day), with one textual `key()` — what the ledger stores — and the
//! schedule: which partitions of a range of days are due at a given instant
//! ([`due_partitions`]). The reconciler, `backfill`'s completeness report and the pipeline
//! page all read the ledger through it. Storage lives in `warehouse::ledger`.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use serde::{Serialize, Serializer};

use crate::clock::{HourSlot, PARIS};
use crate::runs::{Job, RunStatus};

/// Setting key: the first day the pipeline is responsible for.
pub const START_SETTING: &str = "pipeline_start";
/// Local time after which the previous day is transformed.
pub const TRANSFORM_HOUR: u32 = 3;

/// What the reconciler needs to know of a partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionState {
    pub status: RunStatus,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
}

impl PartitionState {
    pub fn is_done(&self) -> bool {
        self.status == RunStatus::Done
    }
}

/// What a job works on: one Paris local hour (collect, ingest) or one day (transform).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Partition {
    Hour(HourSlot),
    Day(NaiveDate),
}

impl Partition {
    /// The end of the partition (exclusive, UTC): what a run over it has seen up to.
    pub fn end_utc(self) -> DateTime<Utc> {
        match self {
            Partition::Hour(slot) => slot.start_utc() + chrono::Duration::hours(1),
            Partition::Day(date) => HourSlot {
                date: date.succ_opt().unwrap_or(date),
                hour: 0,
            }
            .start_utc(),
        }
    }

    /// The ledger's key: `2025-03-14T10` for an hour, `2025-03-14` for a day. Keys of
    /// the same kind sort as their partitions do.
    pub fn key(&self) -> String {
        match self {
            Partition::Hour(slot) => slot.key(),
            Partition::Day(date) => date.to_string(),
        }
    }

    /// The partition of a ledger key (`None` for anything else).
    pub fn parse(key: &str) -> Option<Self> {
        match key.split_once('T') {
            Some((date, hour)) if hour.len() == 2 => {
                let hour = hour.parse().ok()?;
                HourSlot::new(date.parse().ok()?, hour).map(Partition::Hour)
            }
            Some(_) => None,
            None => key.parse().ok().map(Partition::Day),
        }
    }

    /// The day the partition belongs to.
    pub fn date(&self) -> NaiveDate {
        match self {
            Partition::Hour(slot) => slot.date,
            Partition::Day(date) => *date,
        }
    }
}

/// A partition is written as its ledger key (the backfill's JSON summary).
impl Serialize for Partition {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.key())
    }
}

impl std::fmt::Display for Partition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.key())
    }
}

/// One ledger row, for display.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerEntry {
    pub job: Job,
    pub partition: Partition,
    pub status: RunStatus,
    pub attempts: i32,
    pub rows_in: Option<i64>,
    pub rows_out: Option<i64>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    pub error: Option<String>,
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// The ledger state of every partition of a window of days, per job, by partition key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LedgerStates {
    pub collect: HashMap<String, PartitionState>,
    pub ingest: HashMap<String, PartitionState>,
    pub transform: HashMap<String, PartitionState>,
    /// Both kinds of partition: hours (data health) and days (anomalies).
    pub detect: HashMap<String, PartitionState>,
}

impl LedgerStates {
    /// The partition-key bounds (inclusive) of the days `from..=to` for `job`: keys compare
    /// as text within a job.
    pub fn key_range(job: Job, from: NaiveDate, to: NaiveDate) -> (String, String) {
        match job {
            Job::Collect | Job::Ingest => (
                Partition::Hour(HourSlot {
                    date: from,
                    hour: 0,
                })
                .key(),
                Partition::Hour(HourSlot { date: to, hour: 23 }).key(),
            ),
            Job::Transform => (Partition::Day(from).key(), Partition::Day(to).key()),
            // A day key sorts before its hours: `2025-03-14` < `2025-03-14T00`.
            Job::Detect => (
                Partition::Day(from).key(),
                Partition::Hour(HourSlot { date: to, hour: 23 }).key(),
            ),
        }
    }

    pub fn of(&self, job: Job) -> &HashMap<String, PartitionState> {
        match job {
            Job::Collect => &self.collect,
            Job::Ingest => &self.ingest,
            Job::Transform => &self.transform,
            Job::Detect => &self.detect,
        }
    }

    pub fn of_mut(&mut self, job: Job) -> &mut HashMap<String, PartitionState> {
        match job {
            Job::Collect => &mut self.collect,
            Job::Ingest => &mut self.ingest,
            Job::Transform => &mut self.transform,
            Job::Detect => &mut self.detect,
        }
    }

    /// The state of (job, partition); `None` when it never ran.
    pub fn get(&self, job: Job, partition: &Partition) -> Option<&PartitionState> {
        self.of(job).get(&partition.key())
    }
}

/// When the transform of `date` becomes due: 03:00 Paris the next day.
pub fn transform_due_at(date: NaiveDate) -> DateTime<Utc> {
    let next = date.succ_opt().unwrap_or(date);
    let local =
        next.and_time(NaiveTime::from_hms_opt(TRANSFORM_HOUR, 0, 0).unwrap_or(NaiveTime::MIN));
    PARIS
        .from_local_datetime(&local)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| local.and_utc())
}

/// A (job, partition) that is due, with its ledger state (`None`: never run).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DuePartition {
    pub job: Job,
    pub partition: Partition,
    pub state: Option<PartitionState>,
}

impl DuePartition {
    /// Due and not done: missing.
    pub fn is_missing(&self) -> bool {
        !self.state.is_some_and(|s| s.is_done())
    }
}

/// Every (job, partition) of the days `from..=to` that should be done at `now`, with its
/// state in `states`, in run order: per day, each hour up to the latest available one
/// (collect, then ingest), then the day's transform once it is due (03:00 Paris the next
/// morning, see [`transform_due_at`]). The hour skipped on the spring DST change is no
/// partition; the repeated autumn hour is one.
pub fn due_partitions(
    from: NaiveDate,
    to: NaiveDate,
    now: DateTime<Utc>,
    states: &LedgerStates,
) -> Vec<DuePartition> {
    let latest = HourSlot::latest_available(now);
    let mut due = Vec::new();
    let mut date = from;
    while date <= to && date <= latest.date {
        let mut whole_day = true;
        for slot in HourSlot::hours_of_day(date) {
            if slot > latest {
                whole_day = false;
                continue;
            }
            let partition = Partition::Hour(slot);
            for job in [Job::Collect, Job::Ingest] {
                due.push(DuePartition {
                    job,
                    partition,
                    state: states.get(job, &partition).copied(),
                });
            }
        }
        if whole_day && now >= transform_due_at(date) {
            let partition = Partition::Day(date);
            due.push(DuePartition {
                job: Job::Transform,
                partition,
                state: states.get(Job::Transform, &partition).copied(),
            });
        }
        date = match date.succ_opt() {
            Some(d) => d,
            None => break,
        };
    }
    due
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    #[test]
    fn partition_keys_round_trip() {
        let hour = Partition::Hour(HourSlot::new(d("2025-03-14"), 9).expect("slot"));
        assert_eq!(hour.key(), "2025-03-14T09");
        assert_eq!(Partition::parse("2025-03-14T09"), Some(hour));
        let day = Partition::Day(d("2025-03-14"));
        assert_eq!(day.key(), "2025-03-14");
        assert_eq!(Partition::parse("2025-03-14"), Some(day));
        assert_eq!(day.date(), hour.date());
        for bad in [
            "",
            "2025-03-14T9",
            "2025-03-14T24",
            "nonsense",
            "2025-13-01",
        ] {
            assert_eq!(Partition::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn due_hours_stop_at_the_latest_and_transforms_wait_for_three_oclock() {
        // 2025-03-12 02:30 Paris (01:30 UTC): the latest hour is the 12th 01h; the 11th's
        // transform is due at 03:00, not yet.
        let now: DateTime<Utc> = "2025-03-12T01:30:00Z".parse().expect("now");
        let mut states = LedgerStates::default();
        states.collect.insert(
            "2025-03-11T00".into(),
            PartitionState {
                status: RunStatus::Done,
                attempts: 1,
                next_attempt_at: None,
            },
        );
        let due = due_partitions(d("2025-03-11"), d("2025-03-13"), now, &states);
        assert_eq!(
            due.len(),
            2 * 24 + 2 * 2,
            "no transform yet, nothing of the 13th"
        );
        assert!(due.iter().all(|p| p.job != Job::Transform));
        assert!(!due[0].is_missing());
        assert_eq!(
            (due[0].job, due[0].partition.key()),
            (Job::Collect, String::from("2025-03-11T00"))
        );
        assert_eq!(
            (due[1].job, due[1].partition.key()),
            (Job::Ingest, String::from("2025-03-11T00"))
        );
        assert!(due[1].is_missing());
        let later: DateTime<Utc> = "2025-03-12T02:00:00Z".parse().expect("now");
        let due = due_partitions(d("2025-03-11"), d("2025-03-11"), later, &states);
        assert_eq!(due.last().map(|p| p.job), Some(Job::Transform));
        // The spring change day has 23 hours.
        let due = due_partitions(d("2025-03-30"), d("2025-03-30"), later, &states);
        assert!(due.is_empty(), "the future is not due");
        let april: DateTime<Utc> = "2025-04-01T10:00:00Z".parse().expect("now");
        let due = due_partitions(d("2025-03-30"), d("2025-03-30"), april, &states);
        assert_eq!(due.len(), 23 * 2 + 1);
    }
}
