//! Import of historical CSV files in the original's layouts, messy values included:
//! `store_id,sensor_id,date,heure,nb_visiteurs` or
//! `store_id,date,heure,transactions,chiffre_affaires`.
//!
//! - **Identified by content.** A file's lot is named after the SHA-256 of its bytes
//!   (`import:<feed>:sha256:<hex>`); `raw.imports` records it with the path and name it
//!   came from. Re-importing the same content changes nothing; importing another file
//!   (whatever its name) never touches this one's rows.
//! - **Streamed.** The file is read twice in fixed-size pieces (once to hash it, once to
//!   parse it) and its rows reach raw in batches inside one transaction: memory does not
//!   grow with the file's size, and an interrupted import leaves nothing.
//! - Good lines go to `raw.*` with their line number; bad lines are reported by number
//!   (the first [`MAX_BAD_LINES`], and their count); rows dated outside the service's
//!   range are rejected under the cleaning rule `outside_service_range` and counted.
//! - **Kept in the lake first.** Before its rows reach raw, the file is copied byte for
//!   byte into the lake (`imports/<feed>/sha256=<hex>/data.csv`); once they are committed,
//!   what `raw.imports` recorded goes beside it (`import.json`, with `seq` and the import's
//!   time). `rebuild` imports the file again from there, as it was.
//! - Then every day the file brought rows for is transformed (analytics and rollups), in
//!   date order, through the same cleaning as collected data.

use std::collections::BTreeSet;
use std::io::{BufReader, Read};
use std::path::Path;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sha2::{Digest, Sha256};

use super::{JobError, Pipeline};
use crate::availability::in_service_range;
use crate::clean_rows::Rule;
use crate::cleaning::history::HISTORY_WEEKS;
use crate::cleaning::rules::parse_hour;
use crate::lake::{Lake, IMPORT_DATA, IMPORT_RECORD};
use crate::ledger::Partition;
use crate::records::{Feed, TransactionRow, VisitorRow};
use crate::runs::{Job, RunStatus};
use crate::spelling::parse_date;
use crate::warehouse::raw::ImportRecord;

/// Bad lines kept for the report (all are counted).
pub const MAX_BAD_LINES: usize = 100;
/// Rows sent to the warehouse at once.
const BATCH_ROWS: usize = 5_000;
/// Bytes read at once while hashing.
const HASH_CHUNK: usize = 256 * 1024;

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
    /// `import:<feed>:sha256:<hex>`.
    pub lot: String,
    pub sha256: String,
    /// Set when this content was imported before (by this or another name): nothing
    /// was changed, and this is the earlier import.
    pub already_imported: Option<ImportRecord>,
    /// Rows loaded into raw.
    pub loaded: usize,
    /// The first [`MAX_BAD_LINES`] bad lines.
    pub bad: Vec<BadLine>,
    /// Every bad line.
    pub bad_count: u64,
    /// Rows dated outside the service's range, rejected (rule `outside_service_range`).
    pub outside_range: u64,
    pub days: Vec<NaiveDate>,
    /// Days after them, already transformed, cleaned again because their fill learns
    /// from one of `days` (the same weekday of the 4 weeks before).
    pub refreshed: Vec<NaiveDate>,
    pub transform_errors: Vec<(NaiveDate, String)>,
}

/// Progress of an import, for a progress bar or logs.
#[derive(Debug, Clone, Copy)]
pub enum ImportProgress {
    /// The file has this many bytes.
    Started { bytes: u64 },
    /// This many bytes are parsed and loaded.
    Loaded { bytes: u64 },
    /// The days to transform.
    Transforming { days: u64 },
    /// One day transformed.
    DayDone { date: NaiveDate },
}

/// What the parser found, besides the rows it sent.
#[derive(Debug, Default)]
struct ParseOutcome {
    loaded: usize,
    bad: Vec<BadLine>,
    bad_count: u64,
    outside_range: u64,
    days: BTreeSet<NaiveDate>,
}

impl ParseOutcome {
    fn bad_line(&mut self, line: u64, reason: String) {
        self.bad_count += 1;
        if self.bad.len() < MAX_BAD_LINES {
            self.bad.push(BadLine { line, reason });
        }
    }
}

/// A batch of parsed rows with their line numbers, and how far the file was read.
#[derive(Debug, Default)]
struct Batch {
    visitors: Vec<(u64, VisitorRow)>,
    transactions: Vec<(u64, TransactionRow)>,
    bytes: u64,
}

impl Batch {
    fn len(&self) -> usize {
        self.visitors.len() + self.transactions.len()
    }
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

/// The feed a header names, and where each of its columns is.
fn detect_feed(headers: &[String]) -> Result<(Feed, Vec<usize>), JobError> {
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
    if let Some(idx) = position(&visitors_cols) {
        Ok((Feed::Visiteurs, idx))
    } else if let Some(idx) = position(&tx_cols) {
        Ok((Feed::Transactions, idx))
    } else {
        Err(JobError::UnknownLayout {
            visitors: visitors_cols.join(","),
            transactions: tx_cols.join(","),
            found: headers.join(","),
        })
    }
}

/// Reads the header of a CSV stream: the reader positioned on the first record, the
/// feed and the column positions.
fn open_csv<R: Read>(input: R) -> Result<(csv::Reader<R>, Feed, Vec<usize>, usize), JobError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(input);
    let headers: Vec<String> = reader
        .headers()
        .map_err(JobError::Header)?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    let (feed, idx) = detect_feed(&headers)?;
    Ok((reader, feed, idx, headers.len()))
}

/// Parses every record of `reader`, handing rows to `emit` in batches.
fn parse_records<R: Read>(
    mut reader: csv::Reader<R>,
    feed: Feed,
    idx: &[usize],
    width: usize,
    now: DateTime<Utc>,
    mut emit: impl FnMut(Batch) -> bool,
) -> ParseOutcome {
    let mut out = ParseOutcome::default();
    let mut batch = Batch::default();
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(line);
                out.bad_line(line, format!("unreadable CSV: {e}"));
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
                continue;
            }
        }
        let line = record.position().map(|p| p.line()).unwrap_or(line);
        let field = |i: usize| record.get(idx[i]).unwrap_or("");
        if record.len() < width {
            out.bad_line(line, format!("{} fields, expected {}", record.len(), width));
            continue;
        }
        let date = field(if feed == Feed::Visiteurs { 2 } else { 1 }).to_string();
        let Some(day) = parse_date(&date) else {
            out.bad_line(
                line,
                format!("date {date:?} is not yyyy-MM-dd, yyyy/MM/dd or dd/MM/yyyy"),
            );
            continue;
        };
        let heure = field(if feed == Feed::Visiteurs { 3 } else { 2 });
        // The service's range: before 2021-01-01 or after the last complete hour, a row
        // is rejected (an unparseable hour is left to the cleaning, which counts it).
        if !in_service_range(day, parse_hour(heure), now) {
            out.outside_range += 1;
            continue;
        }
        let row = match feed {
            Feed::Visiteurs => (|| {
                Ok::<_, String>(VisitorRow {
                    store_id: int(field(0), "store_id")?,
                    sensor_id: int(field(1), "sensor_id")?,
                    date,
                    heure: heure.to_string(),
                    nb_visiteurs: optional(field(4), |t| int(t, "nb_visiteurs"))?,
                })
            })()
            .map(|r| batch.visitors.push((line, r))),
            Feed::Transactions => (|| {
                Ok::<_, String>(TransactionRow {
                    store_id: int(field(0), "store_id")?,
                    date,
                    heure: heure.to_string(),
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
            .map(|r| batch.transactions.push((line, r))),
        };
        match row {
            Ok(()) => {
                out.loaded += 1;
                out.days.insert(day);
            }
            Err(reason) => out.bad_line(line, reason),
        }
        if batch.len() >= BATCH_ROWS {
            batch.bytes = reader.position().byte();
            if !emit(std::mem::take(&mut batch)) {
                return out;
            }
        }
    }
    batch.bytes = reader.position().byte();
    emit(batch);
    out
}

/// The SHA-256 of a file, read in pieces; and its size.
pub(crate) fn hash_file(path: &Path) -> Result<(String, u64), JobError> {
    let mut file = std::fs::File::open(path).map_err(|source| JobError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; HASH_CHUNK];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buffer).map_err(|source| JobError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buffer[..n]);
    }
    let hex: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok((hex, size))
}

/// Who imports a file and when: `datamag360 import` (now, from the operator's file), or
/// `rebuild` importing again a file the lake kept, as it was imported the first time.
#[derive(Debug, Clone)]
pub(crate) struct ImportOrigin {
    /// The instant of the import: the service's range, `timestamp_insertion` and
    /// `raw.imports.imported_at` follow it.
    pub now: DateTime<Utc>,
    /// The name and path the file is shown under.
    pub file_name: String,
    pub file_path: String,
    /// Read back from the lake by `rebuild`: nothing is written to the lake, and the days
    /// are left for the rebuild to transform once every source is in raw.
    pub from_lake: bool,
}

impl Pipeline {
    /// Imports one CSV file (see the module documentation).
    pub async fn import_csv(&self, path: &Path) -> Result<ImportReport, JobError> {
        self.import_csv_with_progress(path, &|_| {}).await
    }

    /// Imports one CSV file, telling `progress` how far it got.
    pub async fn import_csv_with_progress(
        &self,
        path: &Path,
        progress: &(dyn Fn(ImportProgress) + Send + Sync),
    ) -> Result<ImportReport, JobError> {
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        let full_path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let origin = ImportOrigin {
            now: self.clock.now(),
            file_name,
            file_path: full_path.display().to_string(),
            from_lake: false,
        };
        self.import_file(path, &origin, progress).await
    }

    /// Keeps an imported file in the lake (`imports/<feed>/sha256=<hex>/data.csv`, byte for
    /// byte) unless it is there already: content-addressed, so writing it twice is
    /// harmless and one copy serves every import of that content.
    async fn land_import_file(
        &self,
        path: &Path,
        feed: Feed,
        sha256: &str,
    ) -> Result<(), JobError> {
        let data = format!("{}/{IMPORT_DATA}", Lake::import_dir(feed, sha256));
        if !self.lake.exists(&data).await? {
            let bytes = self.lake.put_file(&data, path).await?;
            tracing::info!(object = %data, bytes, "imported file kept in the lake");
        }
        Ok(())
    }

    /// Writes what `raw.imports` recorded of a file beside its bytes in the lake
    /// (`import.json`): `rebuild` imports the file again as it was, in `seq` order.
    async fn keep_import_record(&self, feed: Feed, record: &ImportRecord) -> Result<(), JobError> {
        let object = format!("{}/{IMPORT_RECORD}", Lake::import_dir(feed, &record.sha256));
        let json = serde_json::to_vec_pretty(record).map_err(|e| JobError::RecordNotKept {
            lot: record.lot.clone(),
            message: e.to_string(),
        })?;
        self.lake
            .put_object(&object, bytes::Bytes::from(json))
            .await
            .map_err(|e| JobError::RecordNotKept {
                lot: record.lot.clone(),
                message: e.to_string(),
            })
    }

    /// Imports one CSV file as `origin` says.
    pub(crate) async fn import_file(
        &self,
        path: &Path,
        origin: &ImportOrigin,
        progress: &(dyn Fn(ImportProgress) + Send + Sync),
    ) -> Result<ImportReport, JobError> {
        let owned = path.to_path_buf();
        let (sha256, size) = tokio::task::spawn_blocking(move || hash_file(&owned))
            .await
            .map_err(JobError::task("import"))??;
        progress(ImportProgress::Started { bytes: size });
        let open = |path: &Path| {
            std::fs::File::open(path)
                .map(|f| BufReader::with_capacity(HASH_CHUNK, f))
                .map_err(|source| JobError::Read {
                    path: path.to_path_buf(),
                    source,
                })
        };
        // The header names the feed, which names the lot.
        let (_, feed, _, _) = open_csv(open(path)?)?;
        let lot = format!("import:{}:sha256:{sha256}", feed.name());
        let mut report = ImportReport {
            feed,
            lot: lot.clone(),
            sha256: sha256.clone(),
            already_imported: None,
            loaded: 0,
            bad: Vec::new(),
            bad_count: 0,
            outside_range: 0,
            days: Vec::new(),
            refreshed: Vec::new(),
            transform_errors: Vec::new(),
        };
        if let Some(earlier) = self.warehouse.import_record(&lot).await? {
            tracing::info!(
                file = %path.display(),
                earlier = %earlier.file_path,
                sha256 = %sha256,
                "same content already imported: nothing to do"
            );
            if !origin.from_lake {
                // Imported before the lake kept imports, or its record was not written:
                // the lake gets the file and its record now (it is the same content).
                let record = format!("{}/{IMPORT_RECORD}", Lake::import_dir(feed, &sha256));
                if !self.lake.exists(&record).await? {
                    self.land_import_file(path, feed, &sha256).await?;
                    self.keep_import_record(feed, &earlier).await?;
                    tracing::info!(lot = %lot, "imported file and its record kept in the lake");
                }
            }
            report.already_imported = Some(earlier);
            return Ok(report);
        }
        // The landing zone first: the file is in the lake before its rows reach raw.
        if !origin.from_lake {
            self.land_import_file(path, feed, &sha256).await?;
        }

        let now = origin.now;
        let (sender, mut batches) = tokio::sync::mpsc::channel::<Batch>(2);
        let input = open(path)?;
        let parser = tokio::task::spawn_blocking(move || {
            let (reader, feed, idx, width) = open_csv(input)?;
            Ok::<_, JobError>(parse_records(reader, feed, &idx, width, now, |batch| {
                sender.blocking_send(batch).is_ok()
            }))
        });
        let mut writer = self.warehouse.begin_import().await?;
        let mut failure = None;
        while let Some(batch) = batches.recv().await {
            if let Err(e) = writer
                .add(&lot, &batch.visitors, &batch.transactions, now)
                .await
            {
                failure = Some(e);
                break;
            }
            progress(ImportProgress::Loaded { bytes: batch.bytes });
        }
        // Dropping the receiver stops the parser at its next batch.
        drop(batches);
        let parsed = parser.await.map_err(JobError::task("import"))??;
        if let Some(e) = failure {
            return Err(e.into());
        }
        report.loaded = parsed.loaded;
        report.bad = parsed.bad;
        report.bad_count = parsed.bad_count;
        report.outside_range = parsed.outside_range;
        report.days = parsed.days.into_iter().collect();
        if parsed.loaded == 0 {
            // Nothing to record: the transaction rolls back, a later import may retry.
            drop(writer);
            tracing::warn!(file = %path.display(), bad = report.bad_count, "no valid row to import");
            return Ok(report);
        }
        let mut record = ImportRecord {
            seq: 0,
            lot: lot.clone(),
            feed: feed.name().to_string(),
            sha256,
            file_name: origin.file_name.clone(),
            file_path: origin.file_path.clone(),
            rows_loaded: report.loaded as i64,
            lines_bad: report.bad_count as i64,
            rows_outside_range: report.outside_range as i64,
            imported_at: now,
        };
        record.seq = writer.commit(&record).await?;
        tracing::info!(
            file = %path.display(),
            lot = %lot,
            loaded = report.loaded,
            bad = report.bad_count,
            outside_range = report.outside_range,
            rule = Rule::OutsideServiceRange.key(),
            "imported into raw"
        );
        if origin.from_lake {
            return Ok(report);
        }
        // Its record beside it in the lake: the import is then complete there too. If
        // this fails, importing the file again writes it (see above).
        self.keep_import_record(feed, &record).await?;
        // Every day whose raw rows changed is cleaned again, in date order (each day's
        // fill learns from the weeks before it); then the days already cleaned whose fill
        // learnt from those days (the same weekday of the [`HISTORY_WEEKS`] weeks after),
        // so that analytics stays what cleaning today's raw gives, whatever the order in
        // which sources arrived (what `rebuild` reproduces).
        report.refreshed = self.days_learning_from(&report.days).await?;
        progress(ImportProgress::Transforming {
            days: (report.days.len() + report.refreshed.len()) as u64,
        });
        for day in report.days.iter().chain(&report.refreshed) {
            let result = self
                .run_recorded(Job::Transform, Partition::Day(*day), self.transform(*day))
                .await?;
            if let Err(e) = result {
                report.transform_errors.push((*day, e));
            }
            progress(ImportProgress::DayDone { date: *day });
        }
        Ok(report)
    }

    /// The days already transformed (done in the ledger), other than `days`, whose fill
    /// learns from one of `days`: the same weekday of the [`HISTORY_WEEKS`] weeks after.
    async fn days_learning_from(&self, days: &[NaiveDate]) -> Result<Vec<NaiveDate>, JobError> {
        let own: BTreeSet<NaiveDate> = days.iter().copied().collect();
        let latest = crate::clock::HourSlot::latest_available(self.clock.now()).date;
        let followers: BTreeSet<NaiveDate> = days
            .iter()
            .flat_map(|d| {
                (1..=HISTORY_WEEKS).filter_map(move |w| d.checked_add_signed(Duration::weeks(w)))
            })
            .filter(|d| *d <= latest && !own.contains(d))
            .collect();
        let (Some(first), Some(last)) = (followers.first(), followers.last()) else {
            return Ok(Vec::new());
        };
        let states = self.warehouse.ledger_window(*first, *last).await?;
        Ok(followers
            .into_iter()
            .filter(|d| {
                states
                    .transform
                    .get(&d.to_string())
                    .is_some_and(|s| s.status == RunStatus::Done)
            })
            .collect())
    }
}
