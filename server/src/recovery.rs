//! The recovery commands: `rebuild` (the warehouse from the lake), `backup` and `restore`
//! (a SQLite warehouse to and from one checked file).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use pipeline::jobs::rebuild::{RebuildError, RebuildProgress};
use pipeline::warehouse::backup::{self, BackupError};
use pipeline::SystemClock;

use crate::cli::{BackupArgs, PipelineArgs, RebuildArgs, RestoreArgs};
use crate::exit::{Exit, Outcome};
use crate::pipeline_setup;

/// The PostgreSQL answer of `backup` and `restore`.
const PG_DUMP_HINT: &str = "the warehouse is PostgreSQL: back it up with \
    `pg_dump --format=custom --file=FILE \"$DATABASE_URL\"` and restore it with \
    `pg_restore --no-owner --dbname=\"$DATABASE_URL\" FILE` into an empty database \
    (see the README, \"Backups and recovery\")";

pub async fn rebuild(args: RebuildArgs) -> anyhow::Result<()> {
    let pipeline = pipeline_setup::build(&args.pipeline, Arc::new(SystemClock)).await?;
    crate::commands::stop_on_signals(
        &pipeline,
        "stopping after the step in hand (run `rebuild` again to resume)…",
    );
    let progress = rebuild_progress();
    let started = Instant::now();
    let result = pipeline.rebuild(args.force, &progress).await;
    progress(RebuildProgress::Phase { name: "", steps: 0 });
    pipeline.warehouse.close().await;
    let report = match result {
        Ok(report) => report,
        Err(e @ RebuildError::NotEmpty(_)) => {
            return Err(Exit::new(Outcome::BadInput, e.to_string()).into())
        }
        Err(e) => return Err(anyhow::Error::new(e).context("rebuild failed")),
    };
    if let Some(cleared) = &report.cleared {
        println!("deleted first (--force): {cleared}");
    }
    println!(
        "rebuild from {}: {} collected hours, {} imported files, {} days transformed in {:.1} s{}",
        pipeline.lake.description(),
        report.hours,
        report.imports,
        report.days,
        started.elapsed().as_secs_f64(),
        if report.resumed {
            format!(
                " (resumed: {} hours, {} files, {} days were done already)",
                report.hours_before, report.imports_before, report.days_before
            )
        } else {
            String::new()
        }
    );
    for dir in &report.unrecorded_imports {
        println!("  not imported: {dir} has no import record (its import never reached raw)");
    }
    for e in &report.errors {
        println!("  FAILED {e}");
    }
    if report.interrupted {
        return Err(Exit::new(
            Outcome::Interrupted,
            "interrupted: run `datamag360 rebuild` again to resume",
        )
        .into());
    }
    anyhow::ensure!(
        report.errors.is_empty(),
        "{} rebuild step(s) failed",
        report.errors.len()
    );
    Ok(())
}

/// A progress bar per phase of the rebuild; log lines instead when stderr is not a
/// terminal. A phase of 0 steps closes the last bar.
fn rebuild_progress() -> impl Fn(RebuildProgress) + Send + Sync {
    let terminal = std::io::stderr().is_terminal();
    let bar = Mutex::new(None::<(ProgressBar, &'static str)>);
    move |event| {
        let Ok(mut bar) = bar.lock() else {
            return;
        };
        match event {
            RebuildProgress::Phase { name, steps } => {
                if let Some((pb, _)) = bar.take() {
                    pb.finish_and_clear();
                }
                if steps == 0 {
                    return;
                }
                let pb = if terminal {
                    ProgressBar::new(steps)
                } else {
                    ProgressBar::hidden()
                };
                pb.set_length(steps);
                pb.set_style(
                    ProgressStyle::with_template(
                        "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} {msg}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                pb.set_message(name);
                if !terminal {
                    tracing::info!(phase = name, steps, "rebuild phase");
                }
                *bar = Some((pb, name));
            }
            RebuildProgress::Step => {
                if let Some((pb, name)) = bar.as_ref() {
                    pb.inc(1);
                    let (pos, len) = (pb.position(), pb.length().unwrap_or(0));
                    // About every 10 % in logs.
                    if !terminal && (pos == len || pos % (len / 10).max(1) == 0) {
                        tracing::info!(phase = *name, done = pos, of = len, "rebuild progress");
                    }
                }
            }
        }
    }
}

/// The main file of the SQLite warehouse these arguments name, or the PostgreSQL hint.
fn sqlite_main(args: &PipelineArgs) -> anyhow::Result<PathBuf> {
    match &args.database_url {
        None => Ok(args.data_dir.join("warehouse.db")),
        Some(url) => pipeline::warehouse::sqlite_file(url)
            .ok_or_else(|| Exit::new(Outcome::BadInput, PG_DUMP_HINT).into()),
    }
}

fn backup_failure(e: BackupError) -> anyhow::Error {
    match e {
        BackupError::Damaged { .. } | BackupError::NotFound(_) => {
            Exit::new(Outcome::BadInput, e.to_string()).into()
        }
        other => anyhow::Error::new(other),
    }
}

pub async fn backup(args: BackupArgs) -> anyhow::Result<()> {
    let main = sqlite_main(&args.pipeline)?;
    let to = args.to.clone();
    let started = Instant::now();
    let manifest = tokio::task::spawn_blocking(move || backup::backup_sqlite(&main, &to))
        .await
        .context("backup task failed")?
        .map_err(backup_failure)?;
    let bytes: u64 = manifest.files.iter().map(|f| f.bytes).sum();
    println!(
        "backup written to {}: {} files, {:.1} MB, in {:.1} s",
        args.to.display(),
        manifest.files.len(),
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    for f in &manifest.files {
        println!(
            "  {:<10} {:>12} bytes  sha256 {}",
            f.schema, f.bytes, f.sha256
        );
    }
    Ok(())
}

pub async fn restore(args: RestoreArgs) -> anyhow::Result<()> {
    let main = sqlite_main(&args.pipeline)?;
    let from = args.from.clone();
    let target = main.clone();
    let started = Instant::now();
    let manifest = tokio::task::spawn_blocking(move || backup::restore_sqlite(&from, &target))
        .await
        .context("restore task failed")?
        .map_err(backup_failure)?;
    println!(
        "restored {} (taken {}) into {} in {:.1} s: sizes, SHA-256 and integrity check passed; \
         start the server",
        args.from.display(),
        manifest.created_at.format("%Y-%m-%d %H:%M:%S UTC"),
        main.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
