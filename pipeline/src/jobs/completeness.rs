//! What a range of days still lacks, read from the ledger: hours not collected or not
//! ingested, days not transformed — each with why (failed and waiting for a retry, out of
//! attempts, never run). `backfill` reports it so that "done" means done.

use chrono::{DateTime, NaiveDate, Utc};

use super::Pipeline;
use crate::clock::HourSlot;
use crate::ledger::{due_partitions, Partition, PartitionState};
use crate::runs::{Job, RunStatus};
use crate::warehouse::WarehouseError;

/// Why a partition is not done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingReason {
    /// No run recorded.
    NeverRun,
    /// A run started and never finished (a crash): the next run redoes it.
    Unfinished,
    /// Failed; retried automatically at `next_attempt_at`.
    RetryAt(DateTime<Utc>),
    /// Failed and out of automatic attempts: `--retry-failed` runs it again.
    OutOfAttempts,
}

/// A partition of the range that is not done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingPartition {
    pub job: Job,
    pub partition: Partition,
    pub date: NaiveDate,
    pub attempts: i32,
    pub reason: MissingReason,
}

impl std::fmt::Display for MissingPartition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: ", self.job.key(), self.partition)?;
        match self.reason {
            MissingReason::NeverRun => f.write_str("never run"),
            MissingReason::Unfinished => f.write_str("started, never finished"),
            MissingReason::RetryAt(t) => write!(
                f,
                "failed {} time(s), next automatic retry at {}",
                self.attempts,
                t.format("%Y-%m-%d %H:%M UTC")
            ),
            MissingReason::OutOfAttempts => {
                write!(f, "failed {} time(s), out of attempts", self.attempts)
            }
        }
    }
}

fn reason(state: Option<&PartitionState>) -> Option<(MissingReason, i32)> {
    match state {
        None => Some((MissingReason::NeverRun, 0)),
        Some(s) => match s.status {
            RunStatus::Done => None,
            RunStatus::Running => Some((MissingReason::Unfinished, s.attempts)),
            RunStatus::Failed => Some((
                s.next_attempt_at
                    .map_or(MissingReason::OutOfAttempts, MissingReason::RetryAt),
                s.attempts,
            )),
        },
    }
}

impl Pipeline {
    /// Every partition from `from` to `to` (inclusive) that should be done by now and is
    /// not: hours up to the latest available one, and days whose transform is due
    /// (03:00 Paris the next morning). Ordered by day, then job.
    pub async fn missing_partitions(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<MissingPartition>, WarehouseError> {
        let now = self.clock.now();
        let to = to.min(HourSlot::latest_available(now).date);
        if from > to {
            return Ok(Vec::new());
        }
        let states = self.warehouse.ledger_window(from, to).await?;
        Ok(due_partitions(from, to, now, &states)
            .into_iter()
            .filter_map(|p| {
                let (reason, attempts) = reason(p.state.as_ref())?;
                Some(MissingPartition {
                    job: p.job,
                    partition: p.partition,
                    date: p.partition.date(),
                    attempts,
                    reason,
                })
            })
            .collect())
    }
}
