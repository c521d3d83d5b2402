//! What the pipeline page's server function answers.

use pipeline::failures::FailureGroup;
use serde::{Deserialize, Serialize};

use crate::i18n::Lang;

/// The state of one partition (or of one hour: its collect and ingest together).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CellState {
    /// Done.
    Done,
    /// A run is in progress.
    Running,
    /// Failed; an automatic retry is scheduled.
    Retrying,
    /// Failed, no automatic retry left: a person must retry it.
    Failed,
    /// Due, and not run (or collected but not ingested yet).
    Missing,
    /// Not due yet (the hour is not over, or the day's transform runs at 03:00).
    NotDue,
    /// Before the pipeline's first day: not its responsibility.
    BeforeStart,
    /// The hour skipped by the spring clock change.
    NoSuchHour,
}

impl CellState {
    /// CSS class and stable test hook.
    pub fn class(self) -> &'static str {
        match self {
            CellState::Done => "done",
            CellState::Running => "running",
            CellState::Retrying => "retrying",
            CellState::Failed => "failed",
            CellState::Missing => "missing",
            CellState::NotDue => "not-due",
            CellState::BeforeStart => "before-start",
            CellState::NoSuchHour => "no-hour",
        }
    }

    pub fn label(self, l: Lang) -> &'static str {
        match self {
            CellState::Done => l.pick("terminée", "done"),
            CellState::Running => l.pick("en cours", "running"),
            CellState::Retrying => {
                l.pick("en échec, nouvel essai prévu", "failed, retry scheduled")
            }
            CellState::Failed => l.pick("en échec, à relancer", "failed, needs a manual retry"),
            CellState::Missing => l.pick("manquante", "missing"),
            CellState::NotDue => l.pick("pas encore due", "not due yet"),
            CellState::BeforeStart => l.pick(
                "avant le premier jour du pipeline",
                "before the pipeline's first day",
            ),
            CellState::NoSuchHour => l.pick(
                "heure sautée (changement d'heure)",
                "hour skipped (clock change)",
            ),
        }
    }

    /// Due and not done: counted as missing or failed.
    pub fn is_gap(self) -> bool {
        matches!(
            self,
            CellState::Retrying | CellState::Failed | CellState::Missing
        )
    }
}

/// The hour × day grid of the checked window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartitionGrid {
    /// The days, oldest first (`YYYY-MM-DD`).
    pub days: Vec<String>,
    /// `hours[h][d]`: hour `h` (0–23) of day `d`, collect and ingest together.
    pub hours: Vec<Vec<CellState>>,
    /// The nightly transform of each day.
    pub transform: Vec<CellState>,
}

/// One day of the quality figures, both feeds (sensors and sales) together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityRow {
    pub date: String,
    /// Readings received.
    pub rows_in: i64,
    /// Readings of closed hours and days: set aside as expected (not a problem).
    pub closed: i64,
    /// Readings without a value.
    pub nulls: i64,
    /// Values far from the sensor's day (above 3× or below ¼ of its median), replaced.
    pub outliers: i64,
    /// Missing open slots filled following the sensor's hourly profile.
    pub filled: i64,
    /// Missing open slots that could not be filled.
    pub unfillable: i64,
    /// Unreadable dates or hours, unknown stores or sensors, duplicates, implausible values.
    pub rejected: i64,
    /// Rows written to analytics.
    pub rows_out: i64,
}

/// Everything the pipeline page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineView {
    /// (job, status, count)
    pub summary: Vec<(String, String, i64)>,
    /// The pipeline's first day (`None` before its first run).
    pub first_day: Option<String>,
    pub checked_from: String,
    pub checked_to: String,
    pub grid: PartitionGrid,
    /// The first due-and-not-done partitions (`job partition`), oldest first.
    pub missing: Vec<String>,
    /// How many there are in all.
    pub missing_total: usize,
    /// Failed partitions by job and error, the next retry in Paris time.
    pub failures: Vec<FailureGroup<String>>,
    pub recent: Vec<RunRow>,
    pub quality: Vec<QualityRow>,
}

/// One ledger row for the pipeline page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRow {
    pub job: String,
    pub partition: String,
    pub status: String,
    pub attempts: i32,
    pub rows: Option<i64>,
    pub duration_ms: Option<i64>,
    pub started_at: Option<String>,
    pub error: Option<String>,
    pub next_attempt_at: Option<String>,
}
