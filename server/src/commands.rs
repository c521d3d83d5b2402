//! The batch commands: `backfill`, `import`, `status`.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use pipeline::jobs::reconcile::ProgressEvent;
use pipeline::jobs::reconcile::RunOptions;
use pipeline::runs::RunStatus;
use pipeline::SystemClock;

use pipeline::jobs::completeness::MissingPartition;

use crate::cli::{
    BackfillArgs, HealthcheckArgs, ImportArgs, IncidentsArgs, OutputFormat, StatusArgs,
};
use crate::exit::{Exit, Outcome};
use crate::pipeline_setup;

pub async fn backfill(args: BackfillArgs) -> anyhow::Result<()> {
    // Checked before the data directory or the database is opened: nothing is written.
    // A range outside the service's dates is bad input (exit 65).
    pipeline::availability::check_range(args.from, args.to, chrono::Utc::now())
        .map_err(|e| Exit::new(Outcome::BadInput, e.to_string()))?;
    let pipeline = pipeline_setup::build(&args.pipeline, Arc::new(SystemClock)).await?;
    stop_on_signals(
        &pipeline,
        "stopping after the partition in hand (the ledger stays consistent)…",
    );
    let bar: Arc<Mutex<Option<ProgressBar>>> = Arc::new(Mutex::new(None));
    let terminal = std::io::stderr().is_terminal();
    let bar_in = bar.clone();
    let progress = move |event: ProgressEvent| match event {
        ProgressEvent::Planned { days } => {
            let pb = if terminal {
                ProgressBar::new(days)
            } else {
                ProgressBar::hidden()
            };
            pb.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} days  {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            if let Ok(mut b) = bar_in.lock() {
                *b = Some(pb);
            }
        }
        ProgressEvent::DayDone { date, summary } => {
            if let Ok(b) = bar_in.lock() {
                if let Some(pb) = b.as_ref() {
                    pb.inc(1);
                    pb.set_message(format!("{date}"));
                }
            }
            if !terminal {
                tracing::info!(
                    %date,
                    done = summary.total_done(),
                    failed = summary.total_failed(),
                    "day processed"
                );
            }
        }
    };
    let started = std::time::Instant::now();
    let summary = pipeline
        .backfill(
            args.from,
            args.to,
            RunOptions {
                force: args.force,
                retry_failed: args.retry_failed,
            },
            &progress,
        )
        .await
        .context("backfill failed")?;
    if let Ok(b) = bar.lock() {
        if let Some(pb) = b.as_ref() {
            pb.finish_and_clear();
        }
    }
    let elapsed = started.elapsed();
    println!(
        "backfill {} → {}: {} partitions done, {} failed, {} rows written in {:.1} s{}",
        args.from,
        args.to,
        summary.total_done(),
        summary.total_failed(),
        summary.rows,
        elapsed.as_secs_f64(),
        if summary.interrupted {
            " (interrupted: run it again to finish)"
        } else {
            ""
        }
    );
    for (job, n) in &summary.done {
        println!("  {job:<10} {n} done");
    }
    if summary.repaired > 0 {
        println!(
            "  {} hour(s) had missing or unreadable lake files: collected again",
            summary.repaired
        );
    }
    if summary.blocked_days > 0 {
        println!(
            "  {} day(s) wait for missing hours before their transform",
            summary.blocked_days
        );
    }
    for (job, partition, error) in &summary.errors {
        println!("  FAILED {job} {partition}: {error}");
    }
    let missing = if summary.interrupted {
        Vec::new()
    } else {
        pipeline
            .missing_partitions(args.from, args.to)
            .await
            .context("cannot read the ledger")?
    };
    pipeline.warehouse.close().await;
    backfill_outcome(&args, &summary, &missing)
}

/// Maps a backfill's result to its exit code: interrupted, failed, incomplete (with what is
/// missing and the command that finishes it), or done.
fn backfill_outcome(
    args: &BackfillArgs,
    summary: &pipeline::jobs::reconcile::RunSummary,
    missing: &[MissingPartition],
) -> anyhow::Result<()> {
    if summary.interrupted {
        return Err(Exit::new(
            Outcome::Interrupted,
            format!(
                "interrupted after {} partition(s): run `datamag360 backfill --from {} --to {}` \
                 again to finish",
                summary.total_done(),
                args.from,
                args.to
            ),
        )
        .into());
    }
    if missing.is_empty() && summary.total_failed() == 0 {
        return Ok(());
    }
    let mut per_job: std::collections::BTreeMap<&str, usize> = Default::default();
    for m in missing {
        *per_job.entry(m.job.key()).or_default() += 1;
    }
    println!(
        "missing: {}",
        per_job
            .iter()
            .map(|(job, n)| format!("{n} {job}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for m in missing.iter().take(20) {
        println!("  {m}");
    }
    if missing.len() > 20 {
        println!("  … and {} more", missing.len() - 20);
    }
    let finish = match (missing.first(), missing.last()) {
        (Some(first), Some(last)) => format!(
            "datamag360 backfill --from {} --to {} --retry-failed",
            first.date, last.date
        ),
        _ => format!(
            "datamag360 backfill --from {} --to {} --retry-failed",
            args.from, args.to
        ),
    };
    println!("to finish (same data directory or DATABASE_URL): {finish}");
    let outcome = if summary.total_failed() > 0 {
        Outcome::Failed
    } else {
        Outcome::Incomplete
    };
    Err(Exit::new(
        outcome,
        format!(
            "{} partition(s) failed in this run, {} missing in {} → {}; finish with `{finish}`",
            summary.total_failed(),
            missing.len(),
            args.from,
            args.to
        ),
    )
    .into())
}

pub async fn import(args: ImportArgs) -> anyhow::Result<()> {
    let pipeline = pipeline_setup::build(&args.pipeline, Arc::new(SystemClock)).await?;
    let mut failures = 0;
    // Files with no valid line, or that could not be read as CSV in a known layout.
    let mut bad_files = 0;
    for file in &args.files {
        let progress = import_progress();
        let result = pipeline
            .import_csv_with_progress(file, &|e| progress(ImportProgress::Pipeline(e)))
            .await;
        progress(ImportProgress::Finished);
        match result {
            Ok(report) => {
                if let Some(earlier) = &report.already_imported {
                    println!(
                        "{}: same content already imported from {} on {}: nothing changed",
                        file.display(),
                        earlier.file_path,
                        earlier.imported_at.format("%Y-%m-%d %H:%M UTC")
                    );
                    continue;
                }
                println!(
                    "{}: {} rows loaded into raw.{} ({} bad line(s), {} outside the service's \
                     range 2021-01-01 … last complete hour), {} day(s) transformed{}",
                    file.display(),
                    report.loaded,
                    report.feed.name(),
                    report.bad_count,
                    report.outside_range,
                    report.days.len() - report.transform_errors.len(),
                    if report.refreshed.is_empty() {
                        String::new()
                    } else {
                        format!(
                            ", {} later day(s) cleaned again (their gap filling learns from these)",
                            report.refreshed.len()
                        )
                    }
                );
                for bad in report.bad.iter().take(50) {
                    println!("  line {}: {}", bad.line, bad.reason);
                }
                if report.bad_count > 50 {
                    println!("  … and {} more bad lines", report.bad_count - 50);
                }
                if report.loaded == 0 {
                    println!("{}: no valid line", file.display());
                    bad_files += 1;
                }
                for (day, e) in &report.transform_errors {
                    println!("  transform {day} failed: {e}");
                    failures += 1;
                }
            }
            Err(
                e @ (pipeline::jobs::JobError::Warehouse(_)
                | pipeline::jobs::JobError::Lake(_)
                | pipeline::jobs::JobError::RecordNotKept { .. }),
            ) => {
                println!("{}: import failed: {e}", file.display());
                failures += 1;
            }
            Err(e) => {
                println!("{}: not imported: {e}", file.display());
                bad_files += 1;
            }
        }
    }
    pipeline.warehouse.close().await;
    anyhow::ensure!(failures == 0, "{failures} import step(s) failed");
    if bad_files > 0 {
        return Err(Exit::new(
            Outcome::BadInput,
            format!(
                "{bad_files} of {} file(s) had no valid line or could not be read",
                args.files.len()
            ),
        )
        .into());
    }
    Ok(())
}

/// What the import's progress bar is told: the pipeline's events, and the end of a file.
enum ImportProgress {
    Pipeline(pipeline::jobs::import::ImportProgress),
    Finished,
}

/// A progress bar for one imported file (bytes read, then days transformed), like
/// `backfill`'s; log lines instead when stderr is not a terminal.
fn import_progress() -> impl Fn(ImportProgress) + Send + Sync {
    use pipeline::jobs::import::ImportProgress as P;
    let terminal = std::io::stderr().is_terminal();
    let bar = Mutex::new(None::<ProgressBar>);
    let style = |template: &str| {
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
    };
    move |event| {
        let Ok(mut bar) = bar.lock() else { return };
        match event {
            ImportProgress::Pipeline(P::Started { bytes }) => {
                let pb = if terminal {
                    ProgressBar::new(bytes)
                } else {
                    ProgressBar::hidden()
                };
                pb.set_style(style(
                    "{spinner} [{elapsed_precise}] {bar:40} {bytes}/{total_bytes} loaded  {msg}",
                ));
                *bar = Some(pb);
            }
            ImportProgress::Pipeline(P::Loaded { bytes }) => {
                if let Some(pb) = bar.as_ref() {
                    pb.set_position(bytes);
                }
            }
            ImportProgress::Pipeline(P::Transforming { days }) => {
                if let Some(pb) = bar.as_ref() {
                    pb.set_style(style(
                        "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} days transformed  {msg}",
                    ));
                    pb.set_length(days);
                    pb.set_position(0);
                }
                if !terminal {
                    tracing::info!(days, "loaded into raw; transforming");
                }
            }
            ImportProgress::Pipeline(P::DayDone { date }) => {
                if let Some(pb) = bar.as_ref() {
                    pb.inc(1);
                    pb.set_message(date.to_string());
                }
            }
            ImportProgress::Finished => {
                if let Some(pb) = bar.take() {
                    pb.finish_and_clear();
                }
            }
        }
    }
}

pub async fn status(args: StatusArgs) -> anyhow::Result<()> {
    let warehouse = pipeline_setup::open_read_only(&args.pipeline).await?;
    let summary = warehouse.ledger_summary().await?;
    if summary.is_empty() {
        println!("the ledger is empty: nothing has run yet");
    }
    for (job, status, count) in summary {
        println!("{job:<10} {status:<8} {count}");
    }
    let failed = warehouse.ledger_recent(Some(RunStatus::Failed), 20).await?;
    for f in failed {
        println!(
            "FAILED {} {} (attempt {}): {}",
            f.job,
            f.partition,
            f.attempts,
            f.error.unwrap_or_default()
        );
    }
    warehouse.close().await;
    Ok(())
}

/// GET http://127.0.0.1:PORT/health (or /ready) with a 5-second budget.
pub async fn healthcheck(args: HealthcheckArgs) -> anyhow::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let path = if args.ready { "/ready" } else { "/health" };
    let probe = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", args.port)).await?;
        stream
            .write_all(
                format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                    .as_bytes(),
            )
            .await?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await?;
        Ok::<_, std::io::Error>(response)
    };
    let response = tokio::time::timeout(std::time::Duration::from_secs(5), probe)
        .await
        .context("health check timed out")?
        .with_context(|| format!("cannot reach the server on 127.0.0.1:{}", args.port))?;
    let text = String::from_utf8_lossy(&response);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("").trim();
    anyhow::ensure!(
        text.starts_with("HTTP/1.1 200"),
        "{}: {} {}",
        if args.ready { "not ready" } else { "unhealthy" },
        text.lines().next().unwrap_or(""),
        body
    );
    println!("{}", if args.ready { "ready" } else { "healthy" });
    Ok(())
}

/// `datamag360 incidents`: the simulator's ground truth over a range of days.
pub fn incidents(args: IncidentsArgs) -> anyhow::Result<()> {
    if args.to < args.from {
        return Err(Exit::new(
            Outcome::BadInput,
            format!("--to {} is before --from {}", args.to, args.from),
        )
        .into());
    }
    let reference = args
        .chain
        .load()
        .context("cannot load the stores and sensors")?;
    let simulator =
        pipeline::Simulator::with_profile(std::sync::Arc::new(reference), args.simulator)
            .with_incidents(args.incidents);
    let truth = simulator.incidents(args.from, args.to);
    let mut out = std::io::stdout().lock();
    use std::io::Write;
    match args.format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &truth).context("cannot write the incidents")?;
            writeln!(out)?;
        }
        OutputFormat::Table => {
            writeln!(
                out,
                "{:<18} {:>5} {:>6}  {:<16} {:<16} {:>6}",
                "kind", "store", "sensor", "start (Paris)", "end (Paris)", "factor"
            )?;
            for i in &truth {
                let paris = |t: chrono::DateTime<chrono::Utc>| {
                    t.with_timezone(&pipeline::PARIS)
                        .format("%Y-%m-%d %H:%M")
                        .to_string()
                };
                writeln!(
                    out,
                    "{:<18} {:>5} {:>6}  {:<16} {:<16} {:>6}",
                    i.kind.key(),
                    i.store_id,
                    i.sensor_id
                        .map_or_else(|| "-".to_string(), |s| s.to_string()),
                    paris(i.start),
                    paris(i.end),
                    i.factor
                        .map_or_else(|| "-".to_string(), |f| format!("{f:.2}")),
                )?;
            }
            writeln!(out, "{} incident(s)", truth.len())?;
        }
    }
    Ok(())
}

/// Ctrl-C (with `message` on stderr) or SIGTERM asks `pipeline` to stop after the step in
/// hand, leaving the ledger consistent.
pub(crate) fn stop_on_signals(pipeline: &pipeline::Pipeline, message: &'static str) {
    let stopper = pipeline.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("{message}");
            stopper.request_stop();
        }
    });
    #[cfg(unix)]
    {
        let stopper = pipeline.clone();
        if let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            tokio::spawn(async move {
                term.recv().await;
                stopper.request_stop();
            });
        }
    }
}
