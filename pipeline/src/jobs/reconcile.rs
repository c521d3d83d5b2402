//! The reconciler: the ledger decides, the clock only wakes it. For every (job, partition)
//! in a window it runs what is due and not done — so downtime, restarts and DST changes
//! delay work but never lose it. `backfill` is the same code over a wider window.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use futures::stream::{self, StreamExt};
use serde::Serialize;

use super::{JobError, Pipeline};
use crate::availability;
use crate::clock::HourSlot;
use crate::ledger::{
    due_partitions, DuePartition, LedgerStates, Partition, PartitionState, START_SETTING,
};
use crate::runs::{Job, RunStatus};
use crate::warehouse::ledger::LedgerFinish;
use crate::warehouse::WarehouseError;

/// One measured run of a partition, before the ledger records its end.
struct Ran {
    partition: Partition,
    attempts: i32,
    /// (rows in, rows out), or the error message.
    outcome: Result<(i64, i64), String>,
    elapsed: std::time::Duration,
    finished: DateTime<Utc>,
}

/// One day of a run, once its hours are collected: what [`Pipeline::finish_day`] works on.
struct DayRun<'a> {
    date: NaiveDate,
    /// The day's due partitions, in run order (see [`due_partitions`]).
    due: &'a [DuePartition],
    now: DateTime<Utc>,
    opts: RunOptions,
    /// The window's ledger states, updated as the day's partitions run.
    states: &'a mut LedgerStates,
    /// What the day's collect did.
    collected: Collected,
}

/// What a day's collect did: each hour run and whether it succeeded, and the summary.
#[derive(Default)]
struct Collected {
    hours: Vec<(HourSlot, bool)>,
    summary: RunSummary,
}

/// The state the run gives a partition it ran (the ledger holds the real attempt count).
const DONE: PartitionState = PartitionState {
    status: RunStatus::Done,
    attempts: 1,
    next_attempt_at: None,
};
const FAILED: PartitionState = PartitionState {
    status: RunStatus::Failed,
    attempts: 0,
    next_attempt_at: None,
};

/// The hours of the collect partitions among `due`.
fn collect_slots(due: &[DuePartition]) -> impl Iterator<Item = HourSlot> + '_ {
    due.iter()
        .filter(|p| p.job == Job::Collect)
        .filter_map(|p| match p.partition {
            Partition::Hour(slot) => Some(slot),
            Partition::Day(_) => None,
        })
}

impl Collected {
    /// Updates the window's collect states with the hours run.
    fn apply(&self, states: &mut HashMap<String, PartitionState>) {
        for (slot, ok) in &self.hours {
            states.insert(slot.key(), if *ok { DONE } else { FAILED });
        }
    }
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
    pub done: BTreeMap<Job, u64>,
    /// Partitions that failed, per job.
    pub failed: BTreeMap<Job, u64>,
    /// Rows written by successful runs.
    pub rows: i64,
    /// Failed partitions left for a human (attempts exhausted).
    pub exhausted: u64,
    /// Days whose transform waits for missing hours.
    pub blocked_days: u64,
    /// The first errors, as (job, partition, message).
    pub errors: Vec<(Job, Partition, String)>,
    /// True when a stop was requested before the end.
    pub interrupted: bool,
    /// Hours whose lake objects were missing or unreadable at ingest and were collected
    /// again from the source (see `Pipeline::load_or_repair`).
    pub repaired: u64,
}

impl RunSummary {
    fn merge(&mut self, other: &RunSummary) {
        for (k, v) in &other.done {
            *self.done.entry(*k).or_default() += v;
        }
        for (k, v) in &other.failed {
            *self.failed.entry(*k).or_default() += v;
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
        partition: Partition,
        work: F,
    ) -> Result<Result<i64, String>, WarehouseError>
    where
        F: std::future::Future<Output = Result<(i64, i64), JobError>>,
    {
        let attempts = self
            .warehouse
            .ledger_start(job, partition, self.clock.now())
            .await?;
        let ran = self.measured(job, partition, attempts, work).await;
        let mut results = self.record_ends(job, std::slice::from_ref(&ran)).await?;
        Ok(results.pop().unwrap_or_else(|| Err("no result".into())))
    }

    /// Records in the ledger, in one transaction, that `job` starts on these hours;
    /// returns their attempt numbers in the same order.
    async fn start_hours(&self, job: Job, slots: &[HourSlot]) -> Result<Vec<i32>, WarehouseError> {
        let keys: Vec<Partition> = slots.iter().copied().map(Partition::Hour).collect();
        self.warehouse
            .ledger_start_many(job, &keys, self.clock.now())
            .await
    }

    /// Runs `work` (one partition of `job`, whose start the ledger already holds) and
    /// measures it; [`Pipeline::record_ends`] writes the outcome.
    async fn measured<F>(&self, job: Job, partition: Partition, attempts: i32, work: F) -> Ran
    where
        F: std::future::Future<Output = Result<(i64, i64), JobError>>,
    {
        let started = Instant::now();
        let outcome = work.await.map_err(|e| e.to_string());
        self.ran(job, partition, attempts, outcome, started.elapsed())
    }

    /// A finished run of `job` on `partition`, told to the observer.
    fn ran(
        &self,
        job: Job,
        partition: Partition,
        attempts: i32,
        outcome: Result<(i64, i64), String>,
        elapsed: std::time::Duration,
    ) -> Ran {
        if let Some(o) = &self.observer {
            let rows = outcome.as_ref().map(|(_, out)| *out).unwrap_or(0);
            o.partition_finished(job, outcome.is_ok(), rows, elapsed);
        }
        Ran {
            partition,
            attempts,
            outcome,
            elapsed,
            finished: self.clock.now(),
        }
    }

    /// Ingests a day's due hours (whose starts the ledger holds, with these attempt
    /// numbers): reads and decodes them several at once, repairing damaged lake objects,
    /// then writes every hour read in one transaction, so a day's ingest commits once
    /// instead of once per hour. An hour that could not be read fails alone; a failed
    /// write fails every hour it held. Each run's time is its read plus its share of the
    /// write.
    async fn ingest_hours(
        &self,
        slots: &[HourSlot],
        attempts: Vec<i32>,
        summary: &mut RunSummary,
    ) -> Vec<Ran> {
        let loads: Vec<_> = stream::iter(slots.iter().copied().zip(attempts))
            .map(|(slot, attempts)| async move {
                let repaired = AtomicBool::new(false);
                let started = Instant::now();
                let lot = self.load_or_repair(slot, &repaired).await;
                let repaired = repaired.load(Ordering::SeqCst);
                (slot, attempts, lot, started.elapsed(), repaired)
            })
            .buffered(self.config.concurrency.max(1))
            .collect()
            .await;
        let mut lots = Vec::with_capacity(loads.len());
        let mut read = Vec::with_capacity(loads.len());
        for (slot, attempts, lot, elapsed, repaired) in loads {
            summary.repaired += u64::from(repaired);
            let outcome = lot.map(|lot| {
                let rows = (lot.visitors.len() + lot.transactions.len()) as i64;
                lots.push(lot);
                rows
            });
            read.push((slot, attempts, outcome.map_err(|e| e.to_string()), elapsed));
        }
        let started = Instant::now();
        let written = self
            .warehouse
            .replace_raw_lots(&lots, self.clock.now())
            .await
            .map_err(|e| JobError::from(e).to_string());
        let share = started.elapsed() / lots.len().max(1) as u32;
        read.into_iter()
            .map(|(slot, attempts, outcome, elapsed)| {
                let (outcome, elapsed) = match (outcome, &written) {
                    (Ok(rows), Ok(())) => (Ok((rows, rows)), elapsed + share),
                    (Ok(_), Err(e)) => (Err(e.clone()), elapsed + share),
                    (Err(e), _) => (Err(e), elapsed),
                };
                self.ran(
                    Job::Ingest,
                    Partition::Hour(slot),
                    attempts,
                    outcome,
                    elapsed,
                )
            })
            .collect()
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
                    partition: r.partition,
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
        let _active = self.activity.start(from, to);
        progress(ProgressEvent::Planned {
            days: (to - from).num_days() as u64 + 1,
        });
        let mut states = self.warehouse.ledger_window(from, to).await?;
        let due = due_partitions(from, to, now, &states);
        // The due partitions of each day, in run order.
        let mut days: Vec<(NaiveDate, &[DuePartition])> = Vec::new();
        let mut rest = due.as_slice();
        let mut date = from;
        while date <= to {
            let n = rest
                .iter()
                .take_while(|p| p.partition.date() == date)
                .count();
            let (day, tail) = rest.split_at(n);
            days.push((date, day));
            rest = tail;
            date = match date.succ_opt() {
                Some(d) => d,
                None => break,
            };
        }
        // A day's collect (simulation, encoding, lake writes) runs while the day before is
        // ingested and transformed (SQLite and cleaning work): they touch different
        // resources and ledger rows, so a backfill keeps both cores busy.
        let mut ahead: Option<Collected> = None;
        for (i, &(date, due)) in days.iter().enumerate() {
            if self.stop_requested() {
                total.interrupted = true;
                break;
            }
            let collected = match ahead.take() {
                Some(c) => c,
                None => {
                    let slots = self.collect_due(due, &states.collect, now, opts);
                    self.collect_hours(&slots).await?
                }
            };
            collected.apply(&mut states.collect);
            let next: Vec<HourSlot> = match days.get(i + 1) {
                Some(&(_, due)) if !self.stop_requested() => {
                    self.collect_due(due, &states.collect, now, opts)
                }
                _ => Vec::new(),
            };
            let finish = self.finish_day(DayRun {
                date,
                due,
                now,
                opts,
                states: &mut states,
                collected,
            });
            let collect_next = async {
                if next.is_empty() {
                    Ok(None)
                } else {
                    self.collect_hours(&next).await.map(Some)
                }
            };
            let (day, next) = tokio::try_join!(finish, collect_next)?;
            ahead = next;
            total.merge(&day);
            progress(ProgressEvent::DayDone { date, summary: day });
        }
        // The digests the run's detections queued (and any retry due) go out now.
        if self.config.detect {
            if let Err(e) = self.deliver_alerts().await {
                tracing::warn!(error = %e, "alert deliveries could not be sent; the next wake retries");
            }
        }
        Ok(total)
    }

    /// The hours of a day's due partitions whose collect is due.
    fn collect_due(
        &self,
        due: &[DuePartition],
        collect: &HashMap<String, PartitionState>,
        now: DateTime<Utc>,
        opts: RunOptions,
    ) -> Vec<HourSlot> {
        collect_slots(due)
            .filter(|s| self.is_due(collect.get(&s.key()), now, opts))
            .collect()
    }

    /// Collects these hours, several at once. The ledger records their starts in one
    /// transaction and their ends in another (not two per hour).
    async fn collect_hours(&self, slots: &[HourSlot]) -> Result<Collected, WarehouseError> {
        let mut collected = Collected::default();
        if slots.is_empty() {
            return Ok(collected);
        }
        let attempts = self.start_hours(Job::Collect, slots).await?;
        let ran: Vec<(HourSlot, Ran)> = stream::iter(slots.iter().copied().zip(attempts))
            .map(|(slot, attempts)| async move {
                let work = async { self.collect(slot).await.map(|n| (n, n)) };
                (
                    slot,
                    self.measured(Job::Collect, Partition::Hour(slot), attempts, work)
                        .await,
                )
            })
            .buffer_unordered(self.config.concurrency.max(1))
            .collect()
            .await;
        let (ran_slots, ran): (Vec<HourSlot>, Vec<Ran>) = ran.into_iter().unzip();
        let results = self.record_ends(Job::Collect, &ran).await?;
        for (slot, r) in ran_slots.into_iter().zip(results) {
            collected.hours.push((slot, r.is_ok()));
            self.account(
                &mut collected.summary,
                Job::Collect,
                Partition::Hour(slot),
                r,
            );
        }
        Ok(collected)
    }

    /// Ingests and transforms a day whose collect has run (see [`DayRun`]).
    async fn finish_day(&self, run: DayRun<'_>) -> Result<RunSummary, WarehouseError> {
        let DayRun {
            date,
            due,
            now,
            opts,
            states,
            collected,
        } = run;
        let mut summary = collected.summary;
        let recollected: HashSet<HourSlot> = collected
            .hours
            .iter()
            .filter(|(_, ok)| *ok)
            .map(|(slot, _)| *slot)
            .collect();
        let slots: Vec<HourSlot> = collect_slots(due).collect();
        let transform_due = due.iter().any(|p| p.job == Job::Transform);
        let LedgerStates {
            collect,
            ingest,
            transform,
            detect,
        } = states;
        let exhausted = |s: Option<&PartitionState>| matches!(s, Some(p) if p.status == RunStatus::Failed && p.attempts >= self.config.max_attempts);

        // 2. Ingest every due hour whose collect is done (and every re-collected hour), in
        // one raw transaction (see `ingest_hours`); the ledger records the starts in one
        // transaction and the ends in another.
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
        let ran = self.ingest_hours(&to_ingest, attempts, &mut summary).await;
        let results = self.record_ends(Job::Ingest, &ran).await?;
        let mut reingested = false;
        for (run, r) in ran.iter().zip(results) {
            let ok = r.is_ok();
            self.account(&mut summary, Job::Ingest, run.partition, r);
            ingest.insert(run.partition.key(), if ok { DONE } else { FAILED });
            reingested |= ok;
        }
        for slot in &slots {
            if exhausted(collect.get(&slot.key())) {
                summary.exhausted += 1;
            }
        }

        // 2b. Data-health detection of every hour whose ingest is done, in order (and of
        // every hour ingested again): one ledger partition per hour.
        if self.config.detect {
            let reingested_slots: HashSet<Partition> = ran
                .iter()
                .filter(|r| r.outcome.is_ok())
                .map(|r| r.partition)
                .collect();
            for slot in &slots {
                let key = slot.key();
                let partition = Partition::Hour(*slot);
                let ingested = ingest
                    .get(&key)
                    .is_some_and(|p| p.status == RunStatus::Done);
                if !ingested {
                    continue;
                }
                if reingested_slots.contains(&partition) || self.is_due(detect.get(&key), now, opts)
                {
                    if self.stop_requested() {
                        summary.interrupted = true;
                        return Ok(summary);
                    }
                    let r = self
                        .run_recorded(Job::Detect, partition, self.detect(partition))
                        .await?;
                    detect.insert(key, if r.is_ok() { DONE } else { FAILED });
                    self.account(&mut summary, Job::Detect, partition, r);
                } else if exhausted(detect.get(&key)) {
                    summary.exhausted += 1;
                }
            }
        }

        // 3. Transform the day once it is over (03:00 the next morning) and complete.
        let day_key = date.to_string();
        let mut retransformed = false;
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
                    .run_recorded(Job::Transform, Partition::Day(date), self.transform(date))
                    .await?;
                transform.insert(day_key.clone(), if r.is_ok() { DONE } else { FAILED });
                self.account(&mut summary, Job::Transform, Partition::Day(date), r);
                retransformed = true;
            } else if exhausted(transform.get(&day_key)) {
                summary.exhausted += 1;
            }
        }

        // 4. Anomaly detection of the day once its transform is done.
        let transformed = transform
            .get(&day_key)
            .is_some_and(|p| p.status == RunStatus::Done);
        if self.config.detect && transform_due && transformed {
            let partition = Partition::Day(date);
            if retransformed || self.is_due(detect.get(&day_key), now, opts) {
                if self.stop_requested() {
                    summary.interrupted = true;
                    return Ok(summary);
                }
                let r = self
                    .run_recorded(Job::Detect, partition, self.detect(partition))
                    .await?;
                detect.insert(day_key, if r.is_ok() { DONE } else { FAILED });
                self.account(&mut summary, Job::Detect, partition, r);
            } else if exhausted(detect.get(&day_key)) {
                summary.exhausted += 1;
            }
        }
        Ok(summary)
    }

    fn account(
        &self,
        summary: &mut RunSummary,
        job: Job,
        partition: Partition,
        r: Result<i64, String>,
    ) {
        match r {
            Ok(rows) => {
                *summary.done.entry(job).or_default() += 1;
                summary.rows += rows;
            }
            Err(e) => {
                *summary.failed.entry(job).or_default() += 1;
                if summary.errors.len() < 20 {
                    summary.errors.push((job, partition, e));
                }
            }
        }
    }
}
