//! An alert as the warehouse keeps it: what was found (rule, store, sensor, period,
//! figures) and where it stands (open → acknowledged → resolved). Plain data, compiled for
//! the browser too: the alerts page and the CLI show these rows.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::finding::{Finding, Rule, Severity};
use crate::lang::Lang;

/// Where an alert stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    /// Found, nobody has said they saw it.
    Open,
    /// Someone saw it (who, when, why in [`Acknowledgement`]); the condition lasts.
    Acknowledged,
    /// The condition is over (found with an end, or no longer found).
    Resolved,
}

impl AlertStatus {
    pub const ALL: [AlertStatus; 3] = [
        AlertStatus::Open,
        AlertStatus::Acknowledged,
        AlertStatus::Resolved,
    ];

    /// The status as stored and written in URLs and on the command line.
    pub fn key(self) -> &'static str {
        match self {
            AlertStatus::Open => "open",
            AlertStatus::Acknowledged => "acknowledged",
            AlertStatus::Resolved => "resolved",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.key() == key)
    }

    /// The status for a person: French first, English.
    pub fn label(self, l: Lang) -> &'static str {
        match self {
            AlertStatus::Open => l.pick("ouverte", "open"),
            AlertStatus::Acknowledged => l.pick("prise en compte", "acknowledged"),
            AlertStatus::Resolved => l.pick("résolue", "resolved"),
        }
    }
}

impl std::fmt::Display for AlertStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.key())
    }
}

/// Who said they saw an alert, when, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acknowledgement {
    pub by: String,
    pub at: DateTime<Utc>,
    pub comment: String,
}

/// One alert, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub id: i64,
    /// The dedupe key (`rule:store[:sensor]:start`, see `Finding::dedupe_key`).
    pub key: String,
    pub rule: Rule,
    pub severity: Severity,
    pub store_id: i64,
    pub sensor_id: Option<i64>,
    /// The first hour the condition covers (UTC).
    pub start: DateTime<Utc>,
    /// The end (exclusive) once known.
    pub end: Option<DateTime<Utc>>,
    pub observed: Option<f64>,
    pub expected: Option<f64>,
    pub status: AlertStatus,
    /// The detection run that opened it (`detect:2025-03-14T10`, `detect:2025-03-14`).
    pub opened_run: String,
    /// When it was stored (wall clock).
    pub opened_at: DateTime<Utc>,
    /// The end of the latest partition whose detection found it (data time).
    pub last_seen: DateTime<Utc>,
    pub acknowledgement: Option<Acknowledgement>,
    /// When the condition ended (data time), once resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// The silence in force when it was opened: kept in the history, never delivered.
    pub silence_id: Option<i64>,
}

impl Alert {
    /// The condition it stands for, as detection finds it.
    pub fn finding(&self) -> Finding {
        Finding {
            rule: self.rule,
            severity: self.severity,
            store_id: self.store_id,
            sensor_id: self.sensor_id,
            start: self.start,
            end: self.end,
            observed: self.observed,
            expected: self.expected,
        }
    }
}

/// Which alerts to list. Every field narrows; `Default` lists the newest alerts of every
/// kind. The store scope of the person asking is applied on top of it by the warehouse.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AlertQuery {
    /// Alerts whose period ends at or after this instant (or has no end yet).
    pub since: Option<DateTime<Utc>>,
    /// Alerts that start before this instant.
    pub until: Option<DateTime<Utc>>,
    pub store_id: Option<i64>,
    pub rule: Option<Rule>,
    pub severity: Option<Severity>,
    pub status: Option<AlertStatus>,
    /// At most this many rows, newest start first (`None`: 1,000).
    pub limit: Option<i64>,
}

impl AlertQuery {
    /// The default and largest page of rows.
    pub const MAX_ROWS: i64 = 1_000;
}

#[cfg(feature = "runtime")]
impl AlertQuery {
    /// The alerts of the Paris days `from..=to`: those whose period overlaps them.
    pub fn days(from: chrono::NaiveDate, to: chrono::NaiveDate) -> AlertQuery {
        use crate::ledger::Partition;
        let end = |p: Partition| p.end_utc();
        AlertQuery {
            since: from.pred_opt().map(|d| end(Partition::Day(d))),
            until: Some(end(Partition::Day(to))),
            ..AlertQuery::default()
        }
    }
}
