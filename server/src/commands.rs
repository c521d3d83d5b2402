//! The batch commands: `backfill`, `import`, `status`.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use pipeline::jobs::reconcile::RunOptions;
use pipeline::jobs::ProgressEvent;
use pipeline::warehouse::ledger::RunStatus;
use pipeline::SystemClock;

use crate::cli::{BackfillArgs, HealthcheckArgs, ImportArgs, StatusArgs};
use crate::pipeline_setup;

pub async fn backfill(args: BackfillArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.from <= args.to,
        "--from ({}) is after --to ({})",
        args.from,
        args.to
    );
    let pipeline = pipeline_setup::build(&args.pipeline, Arc::new(SystemClock)).await?;
    let stopper = pipeline.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("stopping after the partition in hand (the ledger stays consistent)…");
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
    if summary.blocked_days > 0 {
        println!(
            "  {} day(s) wait for missing hours before their transform",
            summary.blocked_days
        );
    }
    for (job, partition, error) in &summary.errors {
        println!("  FAILED {job} {partition}: {error}");
    }
    pipeline.warehouse.close().await;
    if summary.total_failed() > 0 {
        anyhow::bail!(
            "{} partition(s) failed; see `datamag360 status`",
            summary.total_failed()
        );
    }
    Ok(())
}

pub async fn import(args: ImportArgs) -> anyhow::Result<()> {
    let pipeline = pipeline_setup::build(&args.pipeline, Arc::new(SystemClock)).await?;
    let mut failures = 0;
    for file in &args.files {
        match pipeline.import_csv(file).await {
            Ok(report) => {
                println!(
                    "{}: {} rows loaded into raw.{} ({} bad line(s)), {} day(s) transformed",
                    file.display(),
                    report.loaded,
                    report.feed.name(),
                    report.bad.len(),
                    report.days.len() - report.transform_errors.len()
                );
                for bad in report.bad.iter().take(50) {
                    println!("  line {}: {}", bad.line, bad.reason);
                }
                if report.bad.len() > 50 {
                    println!("  … and {} more bad lines", report.bad.len() - 50);
                }
                for (day, e) in &report.transform_errors {
                    println!("  transform {day} failed: {e}");
                    failures += 1;
                }
            }
            Err(e) => {
                println!("{}: import failed: {e}", file.display());
                failures += 1;
            }
        }
    }
    pipeline.warehouse.close().await;
    anyhow::ensure!(failures == 0, "{failures} import step(s) failed");
    Ok(())
}

pub async fn status(args: StatusArgs) -> anyhow::Result<()> {
    let pipeline = pipeline_setup::build(&args.pipeline, Arc::new(SystemClock)).await?;
    let summary = pipeline.warehouse.ledger_summary().await?;
    if summary.is_empty() {
        println!("the ledger is empty: nothing has run yet");
    }
    for (job, status, count) in summary {
        println!("{job:<10} {status:<8} {count}");
    }
    let failed = pipeline
        .warehouse
        .ledger_recent(Some(RunStatus::Failed), 20)
        .await?;
    for f in failed {
        println!(
            "FAILED {} {} (attempt {}): {}",
            f.job,
            f.partition,
            f.attempts,
            f.error.unwrap_or_default()
        );
    }
    pipeline.warehouse.close().await;
    Ok(())
}

/// GET http://127.0.0.1:PORT/health with a 5-second budget.
pub async fn healthcheck(args: HealthcheckArgs) -> anyhow::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let probe = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", args.port)).await?;
        stream
            .write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .await?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await?;
        Ok::<_, std::io::Error>(response)
    };
    let response = tokio::time::timeout(std::time::Duration::from_secs(5), probe)
        .await
        .context("health check timed out")?
        .context("cannot reach the server")?;
    let text = String::from_utf8_lossy(&response);
    anyhow::ensure!(
        text.starts_with("HTTP/1.1 200"),
        "unhealthy: {}",
        text.lines().next().unwrap_or("")
    );
    println!("healthy");
    Ok(())
}
