//! Import of historical CSV files in the original's layouts, messy values included:
//! `store_id,sensor_id,date,heure,nb_visiteurs` or
//! `store_id,date,heure,transactions,chiffre_affaires`. Good lines go to `raw.*` as one
//! lot (re-importing the same file replaces it); bad lines are reported by line number;
//! then the days the file touches are transformed through the same cleaning.

use std::collections::BTreeSet;
use std::path::Path;

use chrono::NaiveDate;

use super::{JobError, Pipeline};
use crate::cleaning::parse_date;
use crate::records::{Feed, TransactionRow, VisitorRow};
use crate::warehouse::ledger::Job;

/// A line that could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    pub line: u64,
    pub reason: String,
}

/// The outcome of an import.
#[derive(Debug, Clone)]
pub struct ImportReport {
    pub feed: Feed,
    pub lot: String,
    pub loaded: usize,
    pub bad: Vec<BadLine>,
    pub days: Vec<NaiveDate>,
    pub transform_errors: Vec<(NaiveDate, String)>,
}

/// Parsed lines of one file.
#[derive(Debug, Default)]
pub struct ParsedFile {
    pub visitors: Vec<VisitorRow>,
    pub transactions: Vec<TransactionRow>,
    pub bad: Vec<BadLine>,
    pub days: BTreeSet<NaiveDate>,
}

fn int(field: &str, name: &str) -> Result<i64, String> {
    let t = field.trim().trim_matches('"');
    t.parse::<i64>()
        .or_else(|_| match t.parse::<f64>() {
            Ok(f) if f.fract() == 0.0 && f.is_finite() => Ok(f as i64),
            _ => Err(()),
        })
        .map_err(|_| format!("{name} {field:?} is not a whole number"))
}

fn optional<T>(
    field: &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Option<T>, String> {
    let t = field.trim();
    if t.is_empty()
        || t.eq_ignore_ascii_case("null")
        || t.eq_ignore_ascii_case("nan")
        || t.eq_ignore_ascii_case("none")
    {
        Ok(None)
    } else {
        parse(t).map(Some)
    }
}

/// Parses CSV text; detects the feed from the header.
pub fn parse_csv(text: &str) -> Result<(Feed, ParsedFile), JobError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| JobError::Other(format!("cannot read the header line: {e}")))?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    let visitors_cols = ["store_id", "sensor_id", "date", "heure", "nb_visiteurs"];
    let tx_cols = [
        "store_id",
        "date",
        "heure",
        "transactions",
        "chiffre_affaires",
    ];
    let position = |cols: &[&str]| -> Option<Vec<usize>> {
        cols.iter()
            .map(|c| headers.iter().position(|h| h == c))
            .collect()
    };
    let (feed, idx) = if let Some(idx) = position(&visitors_cols) {
        (Feed::Visiteurs, idx)
    } else if let Some(idx) = position(&tx_cols) {
        (Feed::Transactions, idx)
    } else {
        return Err(JobError::Other(format!(
            "unknown layout: the header must name {} or {} (found {})",
            visitors_cols.join(","),
            tx_cols.join(","),
            headers.join(",")
        )));
    };
    let mut parsed = ParsedFile::default();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                parsed.bad.push(BadLine {
                    line,
                    reason: format!("unreadable CSV: {e}"),
                });
                continue;
            }
        };
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let field = |i: usize| record.get(idx[i]).unwrap_or("");
        if record.len() < headers.len() {
            parsed.bad.push(BadLine {
                line,
                reason: format!("{} fields, expected {}", record.len(), headers.len()),
            });
            continue;
        }
        let date = field(if feed == Feed::Visiteurs { 2 } else { 1 }).to_string();
        let Some(day) = parse_date(&date) else {
            parsed.bad.push(BadLine {
                line,
                reason: format!("date {date:?} is not yyyy-MM-dd, yyyy/MM/dd or dd/MM/yyyy"),
            });
            continue;
        };
        let row = match feed {
            Feed::Visiteurs => (|| {
                Ok::<_, String>(VisitorRow {
                    store_id: int(field(0), "store_id")?,
                    sensor_id: int(field(1), "sensor_id")?,
                    date,
                    heure: field(3).to_string(),
                    nb_visiteurs: optional(field(4), |t| int(t, "nb_visiteurs"))?,
                })
            })()
            .map(|r| parsed.visitors.push(r)),
            Feed::Transactions => (|| {
                Ok::<_, String>(TransactionRow {
                    store_id: int(field(0), "store_id")?,
                    date,
                    heure: field(2).to_string(),
                    transactions: optional(field(3), |t| int(t, "transactions"))?,
                    chiffre_affaires: optional(field(4), |t| {
                        t.replace(',', ".")
                            .parse::<f64>()
                            .ok()
                            .filter(|v| v.is_finite())
                            .ok_or_else(|| format!("chiffre_affaires {t:?} is not a number"))
                    })?,
                })
            })()
            .map(|r| parsed.transactions.push(r)),
        };
        match row {
            Ok(()) => {
                parsed.days.insert(day);
            }
            Err(reason) => parsed.bad.push(BadLine { line, reason }),
        }
    }
    Ok((feed, parsed))
}

impl Pipeline {
    /// Imports one CSV file (see the module documentation).
    pub async fn import_csv(&self, path: &Path) -> Result<ImportReport, JobError> {
        let bytes = tokio::fs::read(path)
            .await
            .map_err(|e| JobError::Other(format!("cannot read {}: {e}", path.display())))?;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let (feed, parsed) = tokio::task::spawn_blocking(move || parse_csv(&text))
            .await
            .map_err(|e| JobError::Other(format!("import task failed: {e}")))??;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        let lot = format!("import:{}:{name}", feed.name());
        self.warehouse
            .replace_raw_lot(
                &lot,
                &parsed.visitors,
                &parsed.transactions,
                self.clock.now(),
            )
            .await?;
        let loaded = parsed.visitors.len() + parsed.transactions.len();
        tracing::info!(file = %path.display(), loaded, bad = parsed.bad.len(), "imported into raw");
        let mut transform_errors = Vec::new();
        for day in &parsed.days {
            let key = day.to_string();
            let result = self
                .run_recorded(Job::Transform, &key, self.transform(*day))
                .await?;
            if let Err(e) = result {
                transform_errors.push((*day, e));
            }
        }
        Ok(ImportReport {
            feed,
            lot,
            loaded,
            bad: parsed.bad,
            days: parsed.days.into_iter().collect(),
            transform_errors,
        })
    }
}
