//! The jobs (collect, ingest, transform, and alert detection after the last two), the
//! reconciler that decides from the ledger which partitions are due, and the scheduler that
//! wakes it.

pub mod activity;
pub mod collect;
pub mod completeness;
pub mod detect;
pub mod import;
pub mod ingest;
pub mod reconcile;
pub mod scheduler;
pub mod transform;

use std::sync::Arc;
use std::time::Duration;

use crate::clock::Clock;
use crate::lake::Lake;
use crate::simulator::Simulator;
use crate::source::Source;
use crate::warehouse::Warehouse;
use activity::RunActivity;

/// Tuning of the pipeline.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    /// Attempts before a failed partition waits for a human (visible in the ledger).
    pub max_attempts: i32,
    /// First retry delay; doubled at each attempt.
    pub retry_base: Duration,
    /// Hours collected at once.
    pub concurrency: usize,
    /// Run alert detection after ingest and transform (see `detect`).
    pub detect: bool,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            retry_base: Duration::from_secs(300),
            concurrency: 4,
            detect: true,
        }
    }
}

/// Everything the jobs work with.
#[derive(Clone)]
pub struct Pipeline {
    pub simulator: Arc<Simulator>,
    pub lake: Lake,
    pub warehouse: Warehouse,
    pub clock: Arc<dyn Clock>,
    pub config: PipelineConfig,
    /// Where collect reads hours from (the simulator unless [`Pipeline::with_source`]).
    pub source: Source,
    /// One reconciliation at a time in this process.
    pub(crate) running: Arc<tokio::sync::Mutex<()>>,
    /// One job runner among replicas (PostgreSQL advisory lock).
    pub leadership: Arc<crate::leadership::Leadership>,
    /// Told about every finished partition (metrics).
    pub observer: Option<Arc<dyn JobObserver>>,
    /// Set on shutdown: runs stop between partitions, leaving the ledger consistent.
    pub(crate) stop: Arc<std::sync::atomic::AtomicBool>,
    /// The days of the runs in progress (read by the dashboard).
    pub activity: RunActivity,
    /// Sends the alerts' digests (`None` only if no HTTP client could be built).
    pub delivery: Option<crate::alerts::delivery::Deliverer>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("source", &self.source)
            .field("lake", &self.lake)
            .field("warehouse", &self.warehouse.backend())
            .finish()
    }
}

impl Pipeline {
    pub fn new(
        simulator: Arc<Simulator>,
        lake: Lake,
        warehouse: Warehouse,
        clock: Arc<dyn Clock>,
        config: PipelineConfig,
    ) -> Self {
        Self {
            simulator,
            lake,
            warehouse,
            clock,
            config,
            source: Source::Simulator,
            running: Arc::new(tokio::sync::Mutex::new(())),
            leadership: Arc::new(crate::leadership::Leadership::default()),
            observer: None,
            stop: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            activity: RunActivity::default(),
            delivery: default_deliverer(),
        }
    }

    /// Sends alerts with this deliverer (the server's SMTP settings, retry timings).
    pub fn with_delivery(mut self, deliverer: crate::alerts::delivery::Deliverer) -> Self {
        self.delivery = Some(deliverer);
        self
    }

    /// Collects from `source` instead of the in-process simulator. The simulator's chain
    /// (its reference) still names the stores and sensors asked for.
    pub fn with_source(mut self, source: Source) -> Self {
        self.source = source;
        self
    }

    /// Reports every finished partition to `observer` (e.g. Prometheus counters).
    pub fn with_observer(mut self, observer: Arc<dyn JobObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Asks running jobs to stop after the partition in hand.
    pub fn request_stop(&self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Resolves once no reconciliation or backfill is running in this process.
    pub async fn wait_idle(&self) {
        let _guard = self.running.lock().await;
    }

    pub fn stop_requested(&self) -> bool {
        self.stop.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// A deliverer with the default settings (no SMTP server).
fn default_deliverer() -> Option<crate::alerts::delivery::Deliverer> {
    use crate::alerts::delivery::{Deliverer, DeliveryConfig};
    match Deliverer::new(DeliveryConfig::default()) {
        Ok(d) => Some(d),
        Err(e) => {
            tracing::warn!(error = %e, "no HTTP client for alert deliveries: alerts are kept, not sent");
            None
        }
    }
}

/// Receives the outcome of every partition run.
pub trait JobObserver: Send + Sync {
    fn partition_finished(
        &self,
        job: crate::runs::Job,
        ok: bool,
        rows: i64,
        duration: std::time::Duration,
    );
}

/// A job's failure, as recorded in the ledger.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Lake(#[from] crate::lake::LakeError),
    #[error("{path}: {source}")]
    Codec {
        path: String,
        #[source]
        source: crate::parquet_codec::CodecError,
    },
    #[error(transparent)]
    Source(#[from] crate::source::SourceError),
    #[error(transparent)]
    Warehouse(#[from] crate::warehouse::WarehouseError),
    #[error(transparent)]
    Cleaning(#[from] crate::cleaning::CleaningError),
    #[error(transparent)]
    Detect(#[from] crate::alerts::detect::DetectError),
    #[error(
        "{date} is outside the service's range (2021-01-01 to the last complete hour): \
         nothing is cleaned or filled for it"
    )]
    OutsideServiceRange { date: chrono::NaiveDate },
    /// A job's blocking or spawned task panicked or was cancelled.
    #[error("{what} task failed: {source}")]
    Task {
        what: &'static str,
        #[source]
        source: tokio::task::JoinError,
    },
    /// A file to import could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A CSV file's header line could not be read.
    #[error("cannot read the header line: {0}")]
    Header(#[source] csv::Error),
    /// A CSV file's header names neither feed's columns.
    #[error("unknown layout: the header must name {visitors} or {transactions} (found {found})")]
    UnknownLayout {
        visitors: String,
        transactions: String,
        found: String,
    },
    /// A damaged lake object whose hour could not be collected again.
    #[error(
        "{damage}; collecting the hour again failed ({error}): once the source serves \
         that hour, repair it with `datamag360 backfill --from {date} --to {date} --force`"
    )]
    Unrepaired {
        damage: Box<JobError>,
        error: String,
        date: chrono::NaiveDate,
    },
}

impl JobError {
    /// The error of a task that did not finish (`what`: the job's step).
    pub(crate) fn task(what: &'static str) -> impl FnOnce(tokio::task::JoinError) -> Self {
        move |source| JobError::Task { what, source }
    }
}

impl JobError {
    /// True when a lake object is missing or unreadable (deleted, truncated, corrupt):
    /// collecting the hour again repairs it.
    pub fn is_damaged_lake_object(&self) -> bool {
        matches!(
            self,
            JobError::Lake(crate::lake::LakeError::Missing { .. }) | JobError::Codec { .. }
        )
    }
}
