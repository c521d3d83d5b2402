//! The pipeline's jobs and the states of their runs, each with the key the ledger stores
//! and its label per language. Plain data, compiled for the browser too: the pipeline page
//! shows them. The schedule (partitions, what is due) is server-side, in `ledger`.

use serde::{Deserialize, Serialize};

use crate::lang::Lang;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Job {
    /// Simulator or API → lake, per hour.
    Collect,
    /// Lake → raw, per hour.
    Ingest,
    /// Raw → analytics, per day.
    Transform,
    /// Alerts: data health after each hour's ingest (hour partitions), anomalies after
    /// each day's transform (day partitions).
    Detect,
}

impl Job {
    pub const ALL: [Job; 4] = [Job::Collect, Job::Ingest, Job::Transform, Job::Detect];

    /// The job's name in the ledger, the metrics and the logs: `collect`, `ingest`,
    /// `transform`, `detect`.
    pub fn key(self) -> &'static str {
        match self {
            Job::Collect => "collect",
            Job::Ingest => "ingest",
            Job::Transform => "transform",
            Job::Detect => "detect",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|j| j.key() == key)
    }

    /// The job's name for a person: French first, English.
    pub fn label(self, l: Lang) -> &'static str {
        match self {
            Job::Collect => l.pick("collecte", "collect"),
            Job::Ingest => l.pick("ingestion", "ingest"),
            Job::Transform => l.pick("transformation", "transform"),
            Job::Detect => l.pick("détection d'alertes", "alert detection"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    Done,
    Failed,
}

impl RunStatus {
    pub const ALL: [RunStatus; 3] = [RunStatus::Running, RunStatus::Done, RunStatus::Failed];

    /// The status as the ledger stores it: `running`, `done`, `failed`.
    pub fn key(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Done => "done",
            RunStatus::Failed => "failed",
        }
    }

    /// The status of a stored key; anything unknown reads as `running` (a run that never
    /// finished: the reconciler redoes it).
    pub fn from_key(key: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|s| s.key() == key)
            .unwrap_or(RunStatus::Running)
    }

    /// The status for a person: French first, English.
    pub fn label(self, l: Lang) -> &'static str {
        match self {
            RunStatus::Done => l.pick("terminée", "done"),
            RunStatus::Failed => l.pick("en échec", "failed"),
            RunStatus::Running => l.pick("en cours", "running"),
        }
    }
}

/// Written as its ledger key (logs, the CLI's reports).
impl std::fmt::Display for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.key())
    }
}

/// Written as its ledger key.
impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip() {
        for job in Job::ALL {
            assert_eq!(Job::from_key(job.key()), Some(job));
        }
        for status in RunStatus::ALL {
            assert_eq!(RunStatus::from_key(status.key()), status);
        }
        assert_eq!(RunStatus::from_key("nonsense"), RunStatus::Running);
    }
}
