//! The job ledger: one row per (job, partition) with its status, attempts, row counts,
//! timings and last error. The reconciler reads it to decide what is due.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{sqlite, Warehouse, WarehouseError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Job {
    /// Simulator or API → lake, per hour.
    Collect,
    /// Lake → raw, per hour.
    Ingest,
    /// Raw → analytics, per day.
    Transform,
}

impl Job {
    pub const ALL: [Job; 3] = [Job::Collect, Job::Ingest, Job::Transform];

    pub fn name(self) -> &'static str {
        match self {
            Job::Collect => "collect",
            Job::Ingest => "ingest",
            Job::Transform => "transform",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|j| j.name() == name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    Done,
    Failed,
}

impl RunStatus {
    pub fn name(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Done => "done",
            RunStatus::Failed => "failed",
        }
    }

    fn from_name(name: &str) -> Self {
        match name {
            "done" => RunStatus::Done,
            "failed" => RunStatus::Failed,
            _ => RunStatus::Running,
        }
    }
}

/// What the reconciler needs to know of a partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionState {
    pub status: RunStatus,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// One ledger row, for display.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub job: String,
    pub partition: String,
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

fn entry_from(t: EntryTuple) -> LedgerEntry {
    LedgerEntry {
        job: t.0,
        partition: t.1,
        status: RunStatus::from_name(&t.2),
        attempts: t.3,
        rows_in: t.4,
        rows_out: t.5,
        started_at: t.6,
        finished_at: t.7,
        duration_ms: t.8,
        error: t.9,
        next_attempt_at: t.10,
    }
}

impl Warehouse {
    /// The ledger state of every partition of `job` between `from` and `to` (inclusive,
    /// partition keys compare as text: `2025-03-14T10`, `2025-03-14`).
    pub async fn ledger_states(
        &self,
        job: Job,
        from: &str,
        to: &str,
    ) -> Result<HashMap<String, PartitionState>, WarehouseError> {
        let sql = "SELECT partition, status, attempts, next_attempt_at FROM job_ledger \
                   WHERE job = $1 AND partition >= $2 AND partition <= $3";
        type R = (String, String, i32, Option<DateTime<Utc>>);
        let rows: Vec<R> = match self {
            Warehouse::Sqlite(p) => {
                sqlx::query_as(&sqlite(sql))
                    .bind(job.name())
                    .bind(from)
                    .bind(to)
                    .fetch_all(p)
                    .await?
            }
            Warehouse::Postgres(p) => {
                sqlx::query_as(sql)
                    .bind(job.name())
                    .bind(from)
                    .bind(to)
                    .fetch_all(p)
                    .await?
            }
        };
        Ok(rows
            .into_iter()
            .map(|(partition, status, attempts, next_attempt_at)| {
                (
                    partition,
                    PartitionState {
                        status: RunStatus::from_name(&status),
                        attempts,
                        next_attempt_at,
                    },
                )
            })
            .collect())
    }

    /// Records that a run of (job, partition) starts; returns its attempt number.
    pub async fn ledger_start(
        &self,
        job: Job,
        partition: &str,
        now: DateTime<Utc>,
    ) -> Result<i32, WarehouseError> {
        let sql = "INSERT INTO job_ledger (job, partition, status, attempts, started_at) \
                   VALUES ($1, $2, 'running', 1, $3) \
                   ON CONFLICT (job, partition) DO UPDATE SET status = 'running', \
                   attempts = job_ledger.attempts + 1, started_at = excluded.started_at, \
                   finished_at = NULL, duration_ms = NULL, error = NULL, next_attempt_at = NULL \
                   RETURNING attempts";
        Ok(match self {
            Warehouse::Sqlite(p) => {
                sqlx::query_scalar(&sqlite(sql))
                    .bind(job.name())
                    .bind(partition)
                    .bind(now)
                    .fetch_one(p)
                    .await?
            }
            Warehouse::Postgres(p) => {
                sqlx::query_scalar(sql)
                    .bind(job.name())
                    .bind(partition)
                    .bind(now)
                    .fetch_one(p)
                    .await?
            }
        })
    }

    /// Records the end of a run: done with its row counts, or failed with its error and
    /// when to try again (`None`: not automatically).
    pub async fn ledger_finish(
        &self,
        job: Job,
        partition: &str,
        outcome: Result<(i64, i64), &str>,
        finished: DateTime<Utc>,
        duration_ms: i64,
        next_attempt_at: Option<DateTime<Utc>>,
    ) -> Result<(), WarehouseError> {
        let (status, rows_in, rows_out, error) = match outcome {
            Ok((i, o)) => (RunStatus::Done, Some(i), Some(o), None),
            Err(e) => (RunStatus::Failed, None, None, Some(e)),
        };
        let sql = "UPDATE job_ledger SET status = $3, rows_in = $4, rows_out = $5, finished_at = $6, \
                   duration_ms = $7, error = $8, next_attempt_at = $9 WHERE job = $1 AND partition = $2";
        macro_rules! run {
            ($pool:expr, $sql:expr) => {
                sqlx::query($sql)
                    .bind(job.name())
                    .bind(partition)
                    .bind(status.name())
                    .bind(rows_in)
                    .bind(rows_out)
                    .bind(finished)
                    .bind(duration_ms)
                    .bind(error)
                    .bind(next_attempt_at)
                    .execute($pool)
                    .await?
            };
        }
        match self {
            Warehouse::Sqlite(p) => {
                run!(p, &sqlite(sql));
            }
            Warehouse::Postgres(p) => {
                run!(p, sql);
            }
        }
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
        let status = status.map(RunStatus::name).unwrap_or("");
        let rows: Vec<EntryTuple> = match self {
            Warehouse::Sqlite(p) => {
                sqlx::query_as(&sqlite(&sql))
                    .bind(status)
                    .bind(limit)
                    .fetch_all(p)
                    .await?
            }
            Warehouse::Postgres(p) => {
                sqlx::query_as(&sql)
                    .bind(status)
                    .bind(limit)
                    .fetch_all(p)
                    .await?
            }
        };
        Ok(rows.into_iter().map(entry_from).collect())
    }

    /// Counts of ledger rows per (job, status).
    pub async fn ledger_summary(&self) -> Result<Vec<(String, String, i64)>, WarehouseError> {
        let sql = "SELECT job, status, COUNT(*) FROM job_ledger GROUP BY job, status ORDER BY job, status";
        Ok(match self {
            Warehouse::Sqlite(p) => sqlx::query_as(sql).fetch_all(p).await?,
            Warehouse::Postgres(p) => sqlx::query_as(sql).fetch_all(p).await?,
        })
    }
    /// The earliest partition of `job` in the ledger (`None` when it never ran).
    pub async fn ledger_first_partition(&self, job: Job) -> Result<Option<String>, WarehouseError> {
        let sql = "SELECT MIN(partition) FROM job_ledger WHERE job = $1";
        Ok(match self {
            Warehouse::Sqlite(p) => {
                sqlx::query_scalar(&sqlite(sql))
                    .bind(job.name())
                    .fetch_one(p)
                    .await?
            }
            Warehouse::Postgres(p) => {
                sqlx::query_scalar(sql)
                    .bind(job.name())
                    .fetch_one(p)
                    .await?
            }
        })
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
        let rows: Vec<R> = match self {
            Warehouse::Sqlite(p) => {
                sqlx::query_as(&sqlite(sql))
                    .bind(limit)
                    .fetch_all(p)
                    .await?
            }
            Warehouse::Postgres(p) => sqlx::query_as(sql).bind(limit).fetch_all(p).await?,
        };
        Ok(rows
            .into_iter()
            .map(
                |(job, error, partitions, first, last, exhausted, next)| FailureGroup {
                    job,
                    error,
                    partitions,
                    first_partition: first,
                    last_partition: last,
                    exhausted,
                    next_attempt_at: next,
                },
            )
            .collect())
    }
}

/// Failed partitions sharing a job and an error message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailureGroup {
    pub job: String,
    pub error: String,
    pub partitions: i64,
    pub first_partition: String,
    pub last_partition: String,
    /// Partitions with no automatic retry left (a person must retry them).
    pub exhausted: i64,
    /// The earliest scheduled retry of the group.
    pub next_attempt_at: Option<DateTime<Utc>>,
}
