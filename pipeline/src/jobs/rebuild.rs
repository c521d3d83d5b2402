//! Rebuild: the warehouse's raw rows, analytics, rollups and ledger recreated from the
//! lake alone (`datamag360 rebuild`), after the database was lost.
//!
//! The lake is the landing zone: every collected hour (`visiteurs/…`, `transactions/…`)
//! and every imported file with what its import recorded (`imports/…`, see
//! `jobs::import`). The rebuild replays them in three phases, each ledger-driven, so an
//! interrupted rebuild resumes where it stopped when run again:
//! 1. **collected hours**, day by day: the ledger records each hour's collect (its lake
//!    objects are there) and ingest as done, the raw lots written as ingest writes them;
//! 2. **imports**, in their original order (`seq`), each as it was the first time (same
//!    instant, so the same rows fall outside the service's range; same name and path):
//!    the precedence rule (collected beats imported, a newer import beats an older one)
//!    reads that order;
//! 3. **transforms**, in date order once every source is in raw: every complete day whose
//!    transform was due, and every day an import brought rows for.
//!
//! A warehouse the pipeline already wrote is refused unless `force` (its pipeline rows are
//! then deleted first; accounts, sessions and the audit log are kept). While a rebuild is
//! under way the setting [`REBUILD_SETTING`] says so, and running it again resumes it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Instant;

use chrono::NaiveDate;
use futures::stream::{self, StreamExt};
use serde::Serialize;

use super::import::{hash_file, ImportOrigin};
use super::{JobError, Pipeline};
use crate::clock::HourSlot;
use crate::lake::{Lake, LakeError, IMPORTS, IMPORT_DATA, IMPORT_RECORD};
use crate::ledger::{transform_due_at, Partition, START_SETTING};
use crate::records::Feed;
use crate::runs::{Job, RunStatus};
use crate::warehouse::contents::PipelineContents;
use crate::warehouse::ledger::LedgerFinish;
use crate::warehouse::raw::ImportRecord;
use crate::warehouse::WarehouseError;

/// Set while a rebuild is under way (its start, RFC 3339): running `rebuild` again resumes.
pub const REBUILD_SETTING: &str = "rebuild_started_at";

/// Progress of a rebuild, for a progress bar or logs.
#[derive(Debug, Clone, Copy)]
pub enum RebuildProgress {
    /// A phase starts with this many steps (days, files, days).
    Phase { name: &'static str, steps: u64 },
    /// One step of the phase is through.
    Step,
}

/// What a rebuild did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RebuildReport {
    /// A rebuild interrupted earlier was resumed.
    pub resumed: bool,
    /// What `force` deleted first.
    pub cleared: Option<PipelineContents>,
    /// Collected hours ingested now, and found done already (resumed).
    pub hours: u64,
    pub hours_before: u64,
    /// Imported files imported again now, and found done already.
    pub imports: u64,
    pub imports_before: u64,
    /// Days transformed now, and found done already.
    pub days: u64,
    pub days_before: u64,
    /// Imported files in the lake without their record (`import.json`): an import that
    /// never reached raw, or whose record could not be written. Not imported.
    pub unrecorded_imports: Vec<String>,
    /// What failed (the rest went on).
    pub errors: Vec<String>,
    /// Stopped on request before the end: run it again to finish.
    pub interrupted: bool,
}

/// Why a rebuild did not run or stopped.
#[derive(Debug, thiserror::Error)]
pub enum RebuildError {
    #[error(
        "the warehouse is not empty: it holds {0}. `rebuild --force` deletes these rows and \
         rebuilds them from the lake (accounts, sessions and the audit log are kept)"
    )]
    NotEmpty(PipelineContents),
    /// Another process runs the jobs (PostgreSQL job lock).
    #[error("another process holds the job lock (a running server replica): stop it first")]
    NotLeader,
    #[error(transparent)]
    Warehouse(#[from] WarehouseError),
    #[error(transparent)]
    Lake(#[from] LakeError),
    #[error(transparent)]
    Job(#[from] JobError),
    #[error("the lake's import record {path} is unreadable: {message}")]
    Record { path: String, message: String },
}

impl Pipeline {
    /// Rebuilds the warehouse from the lake (see the module documentation).
    pub async fn rebuild(
        &self,
        force: bool,
        progress: &(dyn Fn(RebuildProgress) + Send + Sync),
    ) -> Result<RebuildReport, RebuildError> {
        let _guard = self.running.lock().await;
        if !self.leadership.acquire(&self.warehouse).await? {
            return Err(RebuildError::NotLeader);
        }
        let mut report = RebuildReport {
            resumed: self.warehouse.setting(REBUILD_SETTING).await?.is_some(),
            ..RebuildReport::default()
        };
        if !report.resumed {
            let contents = self.warehouse.pipeline_contents().await?;
            if !contents.is_empty() {
                if !force {
                    return Err(RebuildError::NotEmpty(contents));
                }
                tracing::warn!(%contents, "rebuild --force: deleting the pipeline's rows");
                self.warehouse.clear_pipeline_data().await?;
                report.cleared = Some(contents);
            }
            self.warehouse
                .set_setting(REBUILD_SETTING, &self.clock.now().to_rfc3339())
                .await?;
        }

        let hours = self.lake.collected_hours().await?;
        let imports = self.lake_imports(&mut report).await?;
        let mut by_day: BTreeMap<NaiveDate, Vec<HourSlot>> = BTreeMap::new();
        for slot in hours {
            by_day.entry(slot.date).or_default().push(slot);
        }
        if let Some(first) = by_day.keys().next() {
            if self.warehouse.setting(START_SETTING).await?.is_none() {
                self.warehouse
                    .set_setting(START_SETTING, &first.to_string())
                    .await?;
            }
        }
        tracing::info!(
            days = by_day.len(),
            imports = imports.len(),
            resumed = report.resumed,
            "rebuilding the warehouse from the lake"
        );

        self.rebuild_collected(&by_day, &mut report, progress)
            .await?;
        if !report.interrupted {
            self.rebuild_imports(&imports, &mut report, progress)
                .await?;
        }
        if !report.interrupted {
            self.rebuild_transforms(&by_day, &imports, &mut report, progress)
                .await?;
        }
        if !report.interrupted {
            self.warehouse.remove_setting(REBUILD_SETTING).await?;
        }
        Ok(report)
    }

    /// The import records the lake holds, in import order (`seq`); imported files without
    /// a record are listed in the report.
    async fn lake_imports(
        &self,
        report: &mut RebuildReport,
    ) -> Result<Vec<ImportRecord>, RebuildError> {
        let objects = self.lake.list(IMPORTS).await?;
        let mut records = Vec::new();
        let mut data_dirs = BTreeSet::new();
        let mut record_dirs = BTreeSet::new();
        for object in &objects {
            let Some((dir, name)) = object.rsplit_once('/') else {
                continue;
            };
            if name == IMPORT_DATA {
                data_dirs.insert(dir.to_string());
            } else if name == IMPORT_RECORD {
                let bytes = self.lake.get_object(object).await?;
                let record: ImportRecord =
                    serde_json::from_slice(&bytes).map_err(|e| RebuildError::Record {
                        path: object.clone(),
                        message: e.to_string(),
                    })?;
                record_dirs.insert(dir.to_string());
                records.push(record);
            }
        }
        report.unrecorded_imports = data_dirs.difference(&record_dirs).cloned().collect();
        for dir in &report.unrecorded_imports {
            tracing::warn!(
                object = %dir,
                "imported file without its record in the lake (its import never reached \
                 raw, or was not recorded): not imported; `datamag360 import` it again if it should be"
            );
        }
        records.sort_by_key(|r| r.seq);
        Ok(records)
    }

    /// Phase 1: every collected hour into raw, day by day; the ledger records collect
    /// and ingest done (or failed, for an unreadable object: the scheduler then collects
    /// the hour again from the source).
    async fn rebuild_collected(
        &self,
        by_day: &BTreeMap<NaiveDate, Vec<HourSlot>>,
        report: &mut RebuildReport,
        progress: &(dyn Fn(RebuildProgress) + Send + Sync),
    ) -> Result<(), RebuildError> {
        progress(RebuildProgress::Phase {
            name: "collected days",
            steps: by_day.len() as u64,
        });
        let (Some(first), Some(last)) = (by_day.keys().next(), by_day.keys().next_back()) else {
            return Ok(());
        };
        let states = self.warehouse.ledger_window(*first, *last).await?;
        for slots in by_day.values() {
            if self.stop_requested() {
                report.interrupted = true;
                return Ok(());
            }
            let due: Vec<HourSlot> = slots
                .iter()
                .copied()
                .filter(|s| {
                    states
                        .ingest
                        .get(&s.key())
                        .is_none_or(|p| p.status != RunStatus::Done)
                })
                .collect();
            report.hours_before += (slots.len() - due.len()) as u64;
            if !due.is_empty() {
                self.rebuild_hours(&due, report).await?;
            }
            progress(RebuildProgress::Step);
        }
        Ok(())
    }

    /// Reads these hours from the lake and writes them into raw in one transaction.
    async fn rebuild_hours(
        &self,
        slots: &[HourSlot],
        report: &mut RebuildReport,
    ) -> Result<(), RebuildError> {
        let now = self.clock.now();
        let partitions: Vec<Partition> = slots.iter().copied().map(Partition::Hour).collect();
        self.warehouse
            .ledger_start_many(Job::Collect, &partitions, now)
            .await?;
        self.warehouse
            .ledger_start_many(Job::Ingest, &partitions, now)
            .await?;
        let started = Instant::now();
        let loads: Vec<(HourSlot, Result<_, JobError>)> = stream::iter(slots.iter().copied())
            .map(|slot| async move { (slot, self.load_hour(slot).await) })
            .buffered(self.config.concurrency.max(1))
            .collect()
            .await;
        let mut lots = Vec::with_capacity(loads.len());
        let mut outcomes: Vec<(HourSlot, Result<i64, String>)> = Vec::with_capacity(loads.len());
        for (slot, load) in loads {
            match load {
                Ok(lot) => {
                    outcomes.push((
                        slot,
                        Ok((lot.visitors.len() + lot.transactions.len()) as i64),
                    ));
                    lots.push(lot);
                }
                Err(e) => {
                    let message = format!("lake object unreadable at rebuild: {e}");
                    report.errors.push(format!("{}: {message}", slot.key()));
                    outcomes.push((slot, Err(message)));
                }
            }
        }
        let written = self
            .warehouse
            .replace_raw_lots(&lots, now)
            .await
            .map_err(|e| JobError::from(e).to_string());
        let finished = self.clock.now();
        let duration_ms = (started.elapsed().as_millis() / slots.len().max(1) as u128) as i64;
        let ends = |job: Job| {
            outcomes
                .iter()
                .map(|(slot, outcome)| {
                    let outcome = match (outcome, &written, job) {
                        (Err(e), _, _) => Err(e.as_str()),
                        (Ok(_), Err(e), Job::Ingest) => Err(e.as_str()),
                        (Ok(rows), _, _) => Ok((*rows, *rows)),
                    };
                    LedgerFinish {
                        partition: Partition::Hour(*slot),
                        next_attempt_at: outcome.is_err().then_some(finished),
                        outcome,
                        finished,
                        duration_ms,
                    }
                })
                .collect::<Vec<LedgerFinish>>()
        };
        self.warehouse
            .ledger_finish_many(Job::Collect, &ends(Job::Collect))
            .await?;
        self.warehouse
            .ledger_finish_many(Job::Ingest, &ends(Job::Ingest))
            .await?;
        match written {
            Ok(()) => report.hours += lots.len() as u64,
            Err(e) => report
                .errors
                .push(format!("ingest of {} hour(s): {e}", lots.len())),
        }
        Ok(())
    }

    /// Phase 2: every imported file again, in import order, as it was imported.
    async fn rebuild_imports(
        &self,
        imports: &[ImportRecord],
        report: &mut RebuildReport,
        progress: &(dyn Fn(RebuildProgress) + Send + Sync),
    ) -> Result<(), RebuildError> {
        progress(RebuildProgress::Phase {
            name: "imported files",
            steps: imports.len() as u64,
        });
        for record in imports {
            if self.stop_requested() {
                report.interrupted = true;
                return Ok(());
            }
            if self.warehouse.import_record(&record.lot).await?.is_some() {
                report.imports_before += 1;
            } else if let Err(e) = self.reimport(record).await {
                report.errors.push(format!("{}: {e}", record.lot));
            } else {
                report.imports += 1;
            }
            progress(RebuildProgress::Step);
        }
        Ok(())
    }

    /// Imports one file again from the lake's copy, checked against its content hash.
    async fn reimport(&self, record: &ImportRecord) -> Result<(), JobError> {
        let feed = match record.feed.as_str() {
            "visiteurs" => Feed::Visiteurs,
            _ => Feed::Transactions,
        };
        let object = format!("{}/{IMPORT_DATA}", Lake::import_dir(feed, &record.sha256));
        let local = TempFile(std::env::temp_dir().join(format!(
            "datamag360-rebuild-{}-{}.csv",
            std::process::id(),
            record.sha256
        )));
        self.lake.download(&object, &local.0).await?;
        let path = local.0.clone();
        let (sha256, _) = tokio::task::spawn_blocking(move || hash_file(&path))
            .await
            .map_err(JobError::task("rebuild"))??;
        if sha256 != record.sha256 {
            return Err(JobError::RecordNotKept {
                lot: record.lot.clone(),
                message: format!("the lake's copy {object} hashes to {sha256}: it is damaged"),
            });
        }
        let origin = ImportOrigin {
            now: record.imported_at,
            file_name: record.file_name.clone(),
            file_path: record.file_path.clone(),
            from_lake: true,
        };
        let again = self.import_file(&local.0, &origin, &|_| {}).await?;
        if again.loaded as i64 != record.rows_loaded {
            tracing::warn!(
                lot = %record.lot,
                recorded = record.rows_loaded,
                loaded = again.loaded,
                "imported again with another row count"
            );
        }
        Ok(())
    }

    /// Phase 3: the transforms, in date order, once every source is in raw.
    async fn rebuild_transforms(
        &self,
        by_day: &BTreeMap<NaiveDate, Vec<HourSlot>>,
        imports: &[ImportRecord],
        report: &mut RebuildReport,
        progress: &(dyn Fn(RebuildProgress) + Send + Sync),
    ) -> Result<(), RebuildError> {
        let now = self.clock.now();
        // A collected day is transformed once it is whole and over (as the scheduler
        // does); a day an import brought rows for, whatever it is (as the import did).
        let mut days: BTreeSet<NaiveDate> = by_day
            .iter()
            .filter(|(date, slots)| {
                now >= transform_due_at(**date)
                    && HourSlot::hours_of_day(**date).all(|s| slots.contains(&s))
            })
            .map(|(date, _)| *date)
            .collect();
        for record in imports {
            days.extend(self.warehouse.lot_days(&record.lot).await?);
        }
        progress(RebuildProgress::Phase {
            name: "days transformed",
            steps: days.len() as u64,
        });
        let (Some(first), Some(last)) = (days.first(), days.last()) else {
            return Ok(());
        };
        let states = self.warehouse.ledger_window(*first, *last).await?;
        for day in days {
            if self.stop_requested() {
                report.interrupted = true;
                return Ok(());
            }
            let done = states
                .transform
                .get(&day.to_string())
                .is_some_and(|s| s.status == RunStatus::Done);
            if done {
                report.days_before += 1;
            } else {
                match self
                    .run_recorded(Job::Transform, Partition::Day(day), self.transform(day))
                    .await?
                {
                    Ok(_) => report.days += 1,
                    Err(e) => report.errors.push(format!("transform {day}: {e}")),
                }
            }
            progress(RebuildProgress::Step);
        }
        Ok(())
    }
}

/// A local file removed when dropped.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
