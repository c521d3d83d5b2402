//! The job ledger's storage: one row per (job, partition) with its status, attempts, row
//! counts, timings and last error. Its vocabulary (jobs, statuses, partitions, what is
//! due) is the domain's, in [`crate::ledger`]; the reconciler reads it to decide what to run.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};

use super::{Warehouse, WarehouseError};
use crate::day_completeness::DayJobCount;
use crate::failures::FailureGroup;
use crate::ledger::{LedgerEntry, LedgerStates, Partition, PartitionState, START_SETTING};
use crate::runs::{Job, RunStatus};

const SELECT_ENTRY: &str =
    "SELECT job, partition, status, attempts, rows_in, rows_out, started_at, \
                            finished_at, duration_ms, error, next_attempt_at FROM job_ledger";

type EntryTuple = (
    String,
    String,
    String,
    i32,
    Option<i64>,
    Option<i64>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    Option<i64>,
    Option<String>,
    Option<DateTime<Utc>>,
);

/// How one run of a partition ended, as [`Warehouse::ledger_finish_many`] records it.
#[derive(Debug, Clone, Copy)]
pub struct LedgerFinish<'a> {
    pub partition: Partition,
    /// Done with (rows in, rows out), or failed with the error message.
    pub outcome: Result<(i64, i64), &'a str>,
    pub finished: DateTime<Utc>,
    pub duration_ms: i64,
    /// When to try a failed run again (`None`: not automatically).
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// The job of a stored key.
fn job_of(key: &str) -> Result<Job, WarehouseError> {
    Job::from_key(key).ok_or_else(|| WarehouseError::UnknownKey {
        what: "job",
        key: key.to_string(),
    })
}

/// The partition of a stored key.
fn partition_of(key: &str) -> Result<Partition, WarehouseError> {
    Partition::parse(key).ok_or_else(|| WarehouseError::UnknownKey {
        what: "partition",
        key: key.to_string(),
    })
}

fn entry_from(t: EntryTuple) -> Result<LedgerEntry, WarehouseError> {
    Ok(LedgerEntry {
        job: job_of(&t.0)?,
        partition: partition_of(&t.1)?,
        status: RunStatus::from_key(&t.2),
        attempts: t.3,
        rows_in: t.4,
        rows_out: t.5,
        started_at: t.6,
        finished_at: t.7,
        duration_ms: t.8,
        error: t.9,
        next_attempt_at: t.10,
    })
}

impl Warehouse {
    /// The ledger state of every partition of `job` on the days `from..=to`, by partition
    /// key (keys compare as text within a job: `2025-03-14T10`, `2025-03-14`).
    pub async fn ledger_states(
        &self,
        job: Job,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<HashMap<String, PartitionState>, WarehouseError> {
        let (from, to) = LedgerStates::key_range(job, from, to);
        let sql = "SELECT partition, status, attempts, next_attempt_at FROM job_ledger \
                   WHERE job = $1 AND partition >= $2 AND partition <= $3";
        type R = (String, String, i32, Option<DateTime<Utc>>);
        let rows: Vec<R> = per_backend!(self, sql, |q, p| sqlx::query_as(q)
            .bind(job.key())
            .bind(&from)
            .bind(&to)
            .fetch_all(p)
            .await?);
        Ok(rows
            .into_iter()
            .map(|(partition, status, attempts, next_attempt_at)| {
                (
                    partition,
                    PartitionState {
                        status: RunStatus::from_key(&status),
                        attempts,
                        next_attempt_at,
                    },
                )
            })
            .collect())
    }

    /// The ledger state of every partition of every job on the days `from..=to`.
    pub async fn ledger_window(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<LedgerStates, WarehouseError> {
        let mut states = LedgerStates::default();
        for job in Job::ALL {
            *states.of_mut(job) = self.ledger_states(job, from, to).await?;
        }
        Ok(states)
    }

    /// The ledger of the days `from..=to` in one aggregated query (an index range per
    /// job): per day, job and status, how many partitions and when the latest started.
    /// What [`crate::day_completeness::PeriodCompleteness`] reads.
    pub async fn ledger_day_counts(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DayJobCount>, WarehouseError> {
        // Hour keys (`2024-10-14T09`) and day keys (`2024-10-14`) of the days both lie
        // between `from` and `toT23`; their first ten characters are the day.
        let sql = "SELECT substr(partition, 1, 10), job, status, COUNT(*), MAX(started_at) \
                   FROM job_ledger WHERE job IN ('collect', 'ingest', 'transform') \
                   AND partition >= $1 AND partition <= $2 \
                   GROUP BY substr(partition, 1, 10), job, status";
        let lo = from.to_string();
        let hi = format!("{to}T23");
        type R = (String, String, String, i64, Option<DateTime<Utc>>);
        let rows: Vec<R> = per_backend!(self, sql, |q, p| sqlx::query_as(q)
            .bind(&lo)
            .bind(&hi)
            .fetch_all(p)
            .await?);
        Ok(rows
            .into_iter()
            .filter_map(|(day, job, status, n, last_started)| {
                Some(DayJobCount {
                    date: day.parse().ok()?,
                    job: Job::from_key(&job)?,
                    status: RunStatus::from_key(&status),
                    partitions: u32::try_from(n).unwrap_or(u32::MAX),
                    last_started,
                })
            })
            .collect())
    }

    /// The first and last days whose transform is done: the data's complete range (a
    /// day's transform runs once its hours are in).
    pub async fn ledger_complete_range(
        &self,
    ) -> Result<Option<(NaiveDate, NaiveDate)>, WarehouseError> {
        let sql = "SELECT MIN(partition), MAX(partition) FROM job_ledger \
                   WHERE job = 'transform' AND status = 'done'";
        let row: (Option<String>, Option<String>) =
            per_backend!(self, sql, |q, p| sqlx::query_as(q).fetch_one(p).await?);
        Ok(match row {
            (Some(a), Some(b)) => a.parse().ok().zip(b.parse().ok()),
            _ => None,
        })
    }

    /// The pipeline's first day: the setting written on its first run, else the day of its
    /// earliest collected hour (a ledger filled by `backfill` before any `serve`).
    pub async fn pipeline_first_day(&self) -> Result<Option<NaiveDate>, WarehouseError> {
        if let Some(d) = self
            .setting(START_SETTING)
            .await?
            .and_then(|v| v.parse::<NaiveDate>().ok())
        {
            return Ok(Some(d));
        }
        Ok(self
            .ledger_first_partition(Job::Collect)
            .await?
            .map(|p| p.date()))
    }

    /// Records that a run of (job, partition) starts; returns its attempt number.
    pub async fn ledger_start(
        &self,
        job: Job,
        partition: Partition,
        now: DateTime<Utc>,
    ) -> Result<i32, WarehouseError> {
        let attempts = self.ledger_start_many(job, &[partition], now).await?;
        Ok(attempts.first().copied().unwrap_or(1))
    }

    /// Records that runs of `partitions` of `job` start, in one transaction (a day's hours
    /// at once: one commit instead of one per partition); returns their attempt numbers,
    /// in the same order.
    pub async fn ledger_start_many(
        &self,
        job: Job,
        partitions: &[Partition],
        now: DateTime<Utc>,
    ) -> Result<Vec<i32>, WarehouseError> {
        let sql = "INSERT INTO job_ledger (job, partition, status, attempts, started_at) \
                   VALUES ($1, $2, 'running', 1, $3) \
                   ON CONFLICT (job, partition) DO UPDATE SET status = 'running', \
                   attempts = job_ledger.attempts + 1, started_at = excluded.started_at, \
                   finished_at = NULL, duration_ms = NULL, error = NULL, next_attempt_at = NULL \
                   RETURNING attempts";
        let mut attempts = Vec::with_capacity(partitions.len());
        if partitions.is_empty() {
            return Ok(attempts);
        }
        per_backend!(self, sql, |q, p| {
            let mut tx = p.begin().await?;
            for partition in partitions {
                attempts.push(
                    sqlx::query_scalar(q)
                        .bind(job.key())
                        .bind(partition.key())
                        .bind(now)
                        .fetch_one(&mut *tx)
                        .await?,
                );
            }
            tx.commit().await?;
        });
        Ok(attempts)
    }

    /// Records the end of a run: done with its row counts, or failed with its error and
    /// when to try again (`None`: not automatically).
    pub async fn ledger_finish(
        &self,
        job: Job,
        partition: Partition,
        outcome: Result<(i64, i64), &str>,
        finished: DateTime<Utc>,
        duration_ms: i64,
        next_attempt_at: Option<DateTime<Utc>>,
    ) -> Result<(), WarehouseError> {
        self.ledger_finish_many(
            job,
            &[LedgerFinish {
                partition,
                outcome,
                finished,
                duration_ms,
                next_attempt_at,
            }],
        )
        .await
    }

    /// Records the ends of runs of `job`, in one transaction.
    pub async fn ledger_finish_many(
        &self,
        job: Job,
        ends: &[LedgerFinish<'_>],
    ) -> Result<(), WarehouseError> {
        let sql = "UPDATE job_ledger SET status = $3, rows_in = $4, rows_out = $5, finished_at = $6, \
                   duration_ms = $7, error = $8, next_attempt_at = $9 WHERE job = $1 AND partition = $2";
        if ends.is_empty() {
            return Ok(());
        }
        per_backend!(self, sql, |q, p| {
            let mut tx = p.begin().await?;
            for end in ends {
                let (status, rows_in, rows_out, error) = match end.outcome {
                    Ok((i, o)) => (RunStatus::Done, Some(i), Some(o), None),
                    Err(e) => (RunStatus::Failed, None, None, Some(e)),
                };
                sqlx::query(q)
                    .bind(job.key())
                    .bind(end.partition.key())
                    .bind(status.key())
                    .bind(rows_in)
                    .bind(rows_out)
                    .bind(end.finished)
                    .bind(end.duration_ms)
                    .bind(error)
                    .bind(end.next_attempt_at)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// The most recent runs, newest first; `status` filters when given.
    pub async fn ledger_recent(
        &self,
        status: Option<RunStatus>,
        limit: i64,
    ) -> Result<Vec<LedgerEntry>, WarehouseError> {
        let sql = format!(
            "{SELECT_ENTRY} WHERE ($1 = '' OR status = $1) \
             ORDER BY started_at DESC, job, partition DESC LIMIT $2"
        );
        let status = status.map(RunStatus::key).unwrap_or("");
        let rows: Vec<EntryTuple> = per_backend!(self, &sql, |q, p| sqlx::query_as(q)
            .bind(status)
            .bind(limit)
            .fetch_all(p)
            .await?);
        rows.into_iter().map(entry_from).collect()
    }

    /// Counts of ledger rows per (job, status).
    pub async fn ledger_summary(&self) -> Result<Vec<(Job, RunStatus, i64)>, WarehouseError> {
        let sql = "SELECT job, status, COUNT(*) FROM job_ledger GROUP BY job, status ORDER BY job, status";
        let rows: Vec<(String, String, i64)> =
            per_backend!(self, sql, |q, p| sqlx::query_as(q).fetch_all(p).await?);
        rows.into_iter()
            .map(|(job, status, n)| Ok((job_of(&job)?, RunStatus::from_key(&status), n)))
            .collect()
    }

    /// The earliest partition of `job` in the ledger (`None` when it never ran).
    pub async fn ledger_first_partition(
        &self,
        job: Job,
    ) -> Result<Option<Partition>, WarehouseError> {
        let sql = "SELECT MIN(partition) FROM job_ledger WHERE job = $1";
        let first: Option<String> = per_backend!(self, sql, |q, p| sqlx::query_scalar(q)
            .bind(job.key())
            .fetch_one(p)
            .await?);
        first.as_deref().map(partition_of).transpose()
    }

    /// Failed partitions grouped by job and error message, largest groups first.
    pub async fn ledger_failure_groups(
        &self,
        limit: i64,
    ) -> Result<Vec<FailureGroup>, WarehouseError> {
        let sql = "SELECT job, COALESCE(error, ''), COUNT(*), MIN(partition), MAX(partition), \
                   SUM(CASE WHEN next_attempt_at IS NULL THEN 1 ELSE 0 END), MIN(next_attempt_at) \
                   FROM job_ledger WHERE status = 'failed' GROUP BY job, COALESCE(error, '') \
                   ORDER BY COUNT(*) DESC, job, MIN(partition) LIMIT $1";
        type R = (
            String,
            String,
            i64,
            String,
            String,
            i64,
            Option<DateTime<Utc>>,
        );
        let rows: Vec<R> = per_backend!(self, sql, |q, p| sqlx::query_as(q)
            .bind(limit)
            .fetch_all(p)
            .await?);
        rows.into_iter()
            .map(|(job, error, partitions, first, last, exhausted, next)| {
                Ok(FailureGroup {
                    job: job_of(&job)?,
                    error,
                    partitions,
                    first_partition: first,
                    last_partition: last,
                    exhausted,
                    next_attempt_at: next,
                })
            })
            .collect()
    }
}
