//! What a range of days still lacks, read from the ledger: hours not collected or not
//! ingested, days not transformed — each with why (failed and waiting for a retry, out of
//! attempts, never run). `backfill` reports it so that "done" means done.

use chrono::{DateTime, NaiveDate, Utc};

use super::reconcile::transform_due_at;
use super::Pipeline;
use crate::clock::HourSlot;
use crate::warehouse::ledger::{Job, PartitionState, RunStatus};
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
    pub partition: String,
    pub date: NaiveDate,
    pub attempts: i32,
    pub reason: MissingReason,
}

impl std::fmt::Display for MissingPartition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: ", self.job.name(), self.partition)?;
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
        let latest = HourSlot::latest_available(now);
        let to = to.min(latest.date);
        let mut missing = Vec::new();
        if from > to {
            return Ok(missing);
        }
        let (lo_h, hi_h) = (format!("{from}T00"), format!("{to}T23"));
        let collect = self
            .warehouse
            .ledger_states(Job::Collect, &lo_h, &hi_h)
            .await?;
        let ingest = self
            .warehouse
            .ledger_states(Job::Ingest, &lo_h, &hi_h)
            .await?;
        let transform = self
            .warehouse
            .ledger_states(Job::Transform, &from.to_string(), &to.to_string())
            .await?;
        let mut date = from;
        while date <= to {
            let mut whole_day = true;
            for slot in HourSlot::hours_of_day(date) {
                if slot > latest {
                    whole_day = false;
                    continue;
                }
                let key = slot.key();
                for (job, states) in [(Job::Collect, &collect), (Job::Ingest, &ingest)] {
                    if let Some((reason, attempts)) = reason(states.get(&key)) {
                        missing.push(MissingPartition {
                            job,
                            partition: key.clone(),
                            date,
                            attempts,
                            reason,
                        });
                    }
                }
            }
            let key = date.to_string();
            if whole_day && now >= transform_due_at(date) {
                if let Some((reason, attempts)) = reason(transform.get(&key)) {
                    missing.push(MissingPartition {
                        job: Job::Transform,
                        partition: key,
                        date,
                        attempts,
                        reason,
                    });
                }
            }
            date = match date.succ_opt() {
                Some(d) => d,
                None => break,
            };
        }
        Ok(missing)
    }
}
