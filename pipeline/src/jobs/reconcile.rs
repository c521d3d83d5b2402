//! The reconciler: the ledger decides, the clock only wakes it. For every (job, partition)
//! in a window it runs what is due and not done — so downtime, restarts and DST changes
//! delay work but never lose it. `backfill` is the same code over a wider window.

use std::collections::{BTreeMap, HashSet};
use std::time::Instant;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use futures::stream::{self, StreamExt};
use serde::Serialize;

use super::{JobError, Pipeline};
use crate::availability;
use crate::clock::HourSlot;
use crate::ledger::{
    due_partitions, DuePartition, Job, LedgerStates, Partition, PartitionState, RunStatus,
    START_SETTING,
};
use crate::warehouse::ledger::LedgerFinish;
use crate::warehouse::WarehouseError;

/// One measured run of a partition, before the ledger records its end.
struct Ran {
    partition: String,
    attempts: i32,
    /// (rows in, rows out), or the error message.
    outcome: Result<(i64, i64), String>,
    elapsed: std::time::Duration,
    finished: DateTime<Utc>,
}

/// One day of a run: what [`Pipeline::run_day`] works on.
struct DayRun<'a> {
    date: NaiveDate,
    /// The day's due partitions, in run order (see [`due_partitions`]).
    due: &'a [DuePartition],
    now: DateTime<Utc>,
    opts: RunOptions,
    /// The window's ledger states, updated as the day's partitions run.
    states: &'a mut LedgerStates,
}

/// Progress of a run, for a progress bar or logs.
#[derive(Debug, Clone)]
pub enum ProgressEvent {
    /// The run covers this many days.
    Planned { days: u64 },
    /// One day's partitions are through.
    DayDone {
        date: NaiveDate,
        summary: RunSummary,
    },
}

/// What a run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunSummary {
    /// Partitions run successfully, per job.
    pub done: BTreeMap<&'static str, u64>,
    /// Partitions that failed, per job.
    pub failed: BTreeMap<&'static str, u64>,
    /// Rows written by successful runs.
    pub rows: i64,
    /// Failed partitions left for a human (attempts exhausted).
    pub exhausted: u64,
    /// Days whose transform waits for missing hours.
    pub blocked_days: u64,
    /// The first errors, as (job, partition, message).
    pub errors: Vec<(String, String, String)>,
    /// True when a stop was requested before the end.
    pub interrupted: bool,
    /// Hours whose lake objects were missing or unreadable at ingest and were collected
    /// again from the source (see `Pipeline::ingest_or_repair`).
    pub repaired: u64,
}

impl RunSummary {
    fn merge(&mut self, other: &RunSummary) {
        for (k, v) in &other.done {
            *self.done.entry(k).or_default() += v;
        }
        for (k, v) in &other.failed {
            *self.failed.entry(k).or_default() += v;
        }
        self.rows += other.rows;
        self.exhausted += other.exhausted;
        self.blocked_days += other.blocked_days;
        for e in &other.errors {
            if self.errors.len() < 20 {
                self.errors.push(e.clone());
            }
        }
        self.interrupted |= other.interrupted;
        self.repaired += other.repaired;
    }

    pub fn total_done(&self) -> u64 {
        self.done.values().sum()
    }

    pub fn total_failed(&self) -> u64 {
        self.failed.values().sum()
    }
}

/// Why a backfill did not run.
#[derive(Debug, thiserror::Error)]
pub enum BackfillError {
    /// Bad input: the range is reversed or outside the service's range.
    #[error(transparent)]
    Range(#[from] availability::RangeError),
    /// Another process runs the jobs (PostgreSQL job lock).
    #[error("{0}")]
    NotLeader(String),
    #[error(transparent)]
    Warehouse(#[from] WarehouseError),
}

/// How a run treats partitions already in the ledger.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// Run done partitions again too (re-running changes nothing: jobs are idempotent).
    pub force: bool,
    /// Retry failed partitions now, even those out of attempts or waiting for backoff.
    pub retry_failed: bool,
}

impl Pipeline {
    fn is_due(&self, state: Option<&PartitionState>, now: DateTime<Utc>, opts: RunOptions) -> bool {
        match state {
            None => true,
            Some(s) => match s.status {
                RunStatus::Done => opts.force,
                // A run that never finished (crash, kill): its work was not committed.
                RunStatus::Running => true,
                RunStatus::Failed => {
                    opts.retry_failed
                        || (s.attempts < self.config.max_attempts
                            && s.next_attempt_at.is_none_or(|t| t <= now))
                }
            },
        }
    }

    /// Runs one (job, partition) and records it in the ledger. Returns the rows written,
    /// or the error message.
    pub(crate) async fn run_recorded<F>(
        &self,
        job: Job,
        partition: &str,
        work: F,
    ) -> Result<Result<i64, String>, WarehouseError>
    where
        F: std::future::Future<Output = Result<(i64, i64), JobError>>,
    {
        let attempts = self
            .warehouse
            .ledger_start(job, partition, self.clock.now())
            .await?;
        let ran = self
            .measured(job, partition.to_string(), attempts, work)
            .await;
        let mut results = self.record_ends(job, std::slice::from_ref(&ran)).await?;
        Ok(results.pop().unwrap_or_else(|| Err("no result".into())))
    }

    /// Records in the ledger, in one transaction, that `job` starts on these hours;
    /// returns their attempt numbers in the same order.
    async fn start_hours(&self, job: Job, slots: &[HourSlot]) -> Result<Vec<i32>, WarehouseError> {
        let keys: Vec<String> = slots.iter().map(HourSlot::key).collect();
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        self.warehouse
            .ledger_start_many(job, &keys, self.clock.now())
            .await
    }

    /// Runs `work` (one partition of `job`, whose start the ledger already holds) and
    /// measures it; [`Pipeline::record_ends`] writes the outcome.
    async fn measured<F>(&self, job: Job, partition: String, attempts: i32, work: F) -> Ran
    where
        F: std::future::Future<Output = Result<(i64, i64), JobError>>,
    {
        let started = Instant::now();
        let outcome = work.await.map_err(|e| e.to_string());
        let elapsed = started.elapsed();
        if let Some(o) = &self.observer {
            let rows = outcome.as_ref().map(|(_, out)| *out).unwrap_or(0);
            o.partition_finished(job.key(), outcome.is_ok(), rows, elapsed);
        }
        Ran {
            partition,
            attempts,
            outcome,
            elapsed,
            finished: self.clock.now(),
        }
    }

    /// Records how runs of `job` ended, in one ledger transaction: done with their row
    /// counts, or failed with their error and, while attempts remain, when to try again
    /// (exponential backoff). Returns each run's rows written or error message, in order.
    async fn record_ends(
        &self,
        job: Job,
        runs: &[Ran],
    ) -> Result<Vec<Result<i64, String>>, WarehouseError> {
        let ends: Vec<LedgerFinish<'_>> = runs
            .iter()
            .map(|r| {
                let next_attempt_at = match &r.outcome {
                    Ok(_) => None,
                    Err(_) => (r.attempts < self.config.max_attempts).then(|| {
                        let factor = 2u32
                            .saturating_pow(r.attempts.saturating_sub(1) as u32)
                            .min(64);
                        r.finished
                            + Duration::from_std(self.config.retry_base * factor)
                                .unwrap_or(Duration::minutes(5))
                    }),
                };
                LedgerFinish {
                    partition: &r.partition,
                    outcome: r.outcome.as_ref().copied().map_err(String::as_str),
                    finished: r.finished,
                    duration_ms: r.elapsed.as_millis() as i64,
                    next_attempt_at,
                }
            })
            .collect();
        self.warehouse.ledger_finish_many(job, &ends).await?;
        Ok(runs
            .iter()
            .map(|r| {
                let duration_ms = r.elapsed.as_millis() as i64;
                match &r.outcome {
                    Ok((rows_in, rows_out)) => {
                        tracing::debug!(
                            job = job.key(),
                            partition = %r.partition,
                            rows_in,
                            rows_out,
                            duration_ms,
                            "partition done"
                        );
                        Ok(*rows_out)
                    }
                    Err(message) => {
                        tracing::warn!(
                            job = job.key(),
                            partition = %r.partition,
                            attempts = r.attempts,
                            error = %message,
                            "partition failed"
                        );
                        Err(message.clone())
                    }
                }
            })
            .collect())
    }

    /// The first day the pipeline covers, set on first use to `backfill_days` before today.
    pub async fn ensure_start(&self, backfill_days: u32) -> Result<NaiveDate, WarehouseError> {
        if let Some(v) = self.warehouse.setting(START_SETTING).await? {
            if let Ok(d) = v.parse() {
                return Ok(d);
            }
        }
        let today = HourSlot::containing(self.clock.now()).date;
        let start = today - Duration::days(backfill_days as i64);
        self.warehouse
            .set_setting(START_SETTING, &start.to_string())
            .await?;
        tracing::info!(%start, backfill_days, "first run: the pipeline starts from this day");
        Ok(start)
    }

    /// Runs everything due from the pipeline's start day to now (what the scheduler and
    /// start-up call). Skips if a reconciliation is already running in this process.
    pub async fn reconcile(
        &self,
        backfill_days: u32,
    ) -> Result<Option<RunSummary>, WarehouseError> {
        let Ok(_guard) = self.running.try_lock() else {
            tracing::debug!("reconciliation already running");
            return Ok(None);
        };
        if !self.leadership.acquire(&self.warehouse).await? {
            tracing::debug!("another replica runs the jobs");
            return Ok(None);
        }
        let start = self.ensure_start(backfill_days).await?;
        let today = HourSlot::containing(self.clock.now()).date;
        let summary = self
            .run_days(start, today, RunOptions::default(), &|_| {})
            .await?;
        if summary.total_done() + summary.total_failed() > 0 {
            tracing::info!(
                done = summary.total_done(),
                failed = summary.total_failed(),
                rows = summary.rows,
                "reconciliation finished"
            );
        }
        Ok(Some(summary))
    }

    /// Backfill: the same code path over an explicit range of days. It does not move the
    /// scheduler's window (from the first-run day to now): a backfilled range's failures
    /// stay in the ledger for `backfill --retry-failed`. A range outside the service's
    /// (see [`availability::check_range`]) is refused before anything is written.
    pub async fn backfill(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        opts: RunOptions,
        progress: &(dyn Fn(ProgressEvent) + Send + Sync),
    ) -> Result<RunSummary, BackfillError> {
        availability::check_range(from, to, self.clock.now())?;
        let _guard = self.running.lock().await;
        if !self.leadership.acquire(&self.warehouse).await? {
            return Err(BackfillError::NotLeader(
                "another process holds the job lock (a running server replica): \
                 trigger the backfill through its admin API, or stop it first"
                    .into(),
            ));
        }
        Ok(self.run_days(from, to, opts, progress).await?)
    }

    async fn run_days(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        opts: RunOptions,
        progress: &(dyn Fn(ProgressEvent) + Send + Sync),
    ) -> Result<RunSummary, WarehouseError> {
        let now = self.clock.now();
        let latest = HourSlot::latest_available(now);
        // The service's range: nothing before 2021-01-01, nothing after the last complete hour.
        let from = from.max(crate::clock::first_available_date());
        let to = to.min(latest.date);
        let mut total = RunSummary::default();
        if from > to {
            return Ok(total);
        }
        progress(ProgressEvent::Planned {
            days: (to - from).num_days() as u64 + 1,
        });
        let mut states = self.warehouse.ledger_window(from, to).await?;
        let due = due_partitions(from, to, now, &states);
        let mut rest = due.as_slice();
        let mut date = from;
        while date <= to {
            if self.stop_requested() {
                total.interrupted = true;
                break;
            }
            let n = rest
                .iter()
                .take_while(|p| p.partition.date() == date)
                .count();
            let (due, tail) = rest.split_at(n);
            rest = tail;
            let day = self
                .run_day(DayRun {
                    date,
                    due,
                    now,
                    opts,
                    states: &mut states,
                })
                .await?;
            total.merge(&day);
            progress(ProgressEvent::DayDone { date, summary: day });
            date = match date.succ_opt() {
                Some(d) => d,
                None => break,
            };
        }
        Ok(total)
    }

    async fn run_day(&self, run: DayRun<'_>) -> Result<RunSummary, WarehouseError> {
        let DayRun {
            date,
            due,
            now,
            opts,
            states,
        } = run;
        let mut summary = RunSummary::default();
        let slots: Vec<HourSlot> = due
            .iter()
            .filter(|p| p.job == Job::Collect)
            .filter_map(|p| match p.partition {
                Partition::Hour(slot) => Some(slot),
                Partition::Day(_) => None,
            })
            .collect();
        let transform_due = due.iter().any(|p| p.job == Job::Transform);
        let LedgerStates {
            collect,
            ingest,
            transform,
        } = states;
        let done_state = PartitionState {
            status: RunStatus::Done,
            attempts: 1,
            next_attempt_at: None,
        };
        let failed_state = PartitionState {
            status: RunStatus::Failed,
            attempts: 0,
            next_attempt_at: None,
        };
        let exhausted = |s: Option<&PartitionState>| matches!(s, Some(p) if p.status == RunStatus::Failed && p.attempts >= self.config.max_attempts);

        // 1. Collect every due hour, several at once. The ledger records the hours' starts
        // in one transaction and their ends in another (not two per hour).
        let due: Vec<HourSlot> = slots
            .iter()
            .copied()
            .filter(|s| self.is_due(collect.get(&s.key()), now, opts))
            .collect();
        let attempts = self.start_hours(Job::Collect, &due).await?;
        let ran: Vec<(HourSlot, Ran)> = stream::iter(due.into_iter().zip(attempts))
            .map(|(slot, attempts)| async move {
                let work = async { self.collect(slot).await.map(|n| (n, n)) };
                (
                    slot,
                    self.measured(Job::Collect, slot.key(), attempts, work)
                        .await,
                )
            })
            .buffer_unordered(self.config.concurrency.max(1))
            .collect()
            .await;
        let (ran_slots, ran): (Vec<HourSlot>, Vec<Ran>) = ran.into_iter().unzip();
        let results = self.record_ends(Job::Collect, &ran).await?;
        let mut recollected = HashSet::new();
        for (slot, r) in ran_slots.into_iter().zip(results) {
            let ok = r.is_ok();
            self.account(&mut summary, Job::Collect, &slot.key(), r);
            collect.insert(slot.key(), if ok { done_state } else { failed_state });
            if ok {
                recollected.insert(slot);
            }
        }

        // 2. Ingest every due hour whose collect is done (and every re-collected hour), in
        // order; the ledger records the starts in one transaction and the ends in another.
        // A stop request is honoured between days' phases (a day's ingest is short).
        if self.stop_requested() {
            summary.interrupted = true;
            return Ok(summary);
        }
        let mut to_ingest: Vec<HourSlot> = Vec::new();
        for slot in &slots {
            let key = slot.key();
            let collected = collect
                .get(&key)
                .is_some_and(|s| s.status == RunStatus::Done);
            if !collected {
                continue;
            }
            if recollected.contains(slot) || self.is_due(ingest.get(&key), now, opts) {
                to_ingest.push(*slot);
            } else if exhausted(ingest.get(&key)) {
                summary.exhausted += 1;
            }
        }
        let attempts = self.start_hours(Job::Ingest, &to_ingest).await?;
        let mut ran = Vec::with_capacity(to_ingest.len());
        for (slot, attempts) in to_ingest.iter().zip(attempts) {
            let repaired = std::sync::atomic::AtomicBool::new(false);
            ran.push(
                self.measured(
                    Job::Ingest,
                    slot.key(),
                    attempts,
                    self.ingest_or_repair(*slot, &repaired),
                )
                .await,
            );
            if repaired.load(std::sync::atomic::Ordering::SeqCst) {
                summary.repaired += 1;
            }
        }
        let results = self.record_ends(Job::Ingest, &ran).await?;
        let mut reingested = false;
        for (run, r) in ran.iter().zip(results) {
            let ok = r.is_ok();
            self.account(&mut summary, Job::Ingest, &run.partition, r);
            ingest.insert(
                run.partition.clone(),
                if ok { done_state } else { failed_state },
            );
            reingested |= ok;
        }
        for slot in &slots {
            if exhausted(collect.get(&slot.key())) {
                summary.exhausted += 1;
            }
        }

        // 3. Transform the day once it is over (03:00 the next morning) and complete.
        let day_key = date.to_string();
        if transform_due {
            let complete = slots.iter().all(|s| {
                ingest
                    .get(&s.key())
                    .is_some_and(|p| p.status == RunStatus::Done)
            });
            if !complete {
                summary.blocked_days += 1;
            } else if reingested || self.is_due(transform.get(&day_key), now, opts) {
                if self.stop_requested() {
                    summary.interrupted = true;
                    return Ok(summary);
                }
                let r = self
                    .run_recorded(Job::Transform, &day_key, self.transform(date))
                    .await?;
                self.account(&mut summary, Job::Transform, &day_key, r);
            } else if exhausted(transform.get(&day_key)) {
                summary.exhausted += 1;
            }
        }
        Ok(summary)
    }

    fn account(&self, summary: &mut RunSummary, job: Job, partition: &str, r: Result<i64, String>) {
        match r {
            Ok(rows) => {
                *summary.done.entry(job.key()).or_default() += 1;
                summary.rows += rows;
            }
            Err(e) => {
                *summary.failed.entry(job.key()).or_default() += 1;
                if summary.errors.len() < 20 {
                    summary
                        .errors
                        .push((job.key().to_string(), partition.to_string(), e));
                }
            }
        }
    }
}
