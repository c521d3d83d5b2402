//! A backfill through `Pipeline::backfill`, the code path of `datamag360 backfill`
//! (collect into a local lake, ingest into a SQLite warehouse, transform; the ledger
//! decides), without the binary's command line around it.
//!
//!   cargo run --release -p pipeline --example bench_backfill -- FROM TO DIR [STORES]
//!
//! STORES: a synthetic chain of that many stores (`Reference::synthetic(STORES, 360)`, as
//! `--synthetic-stores`); the embedded 10-store chain when absent. Prints the progress
//! every 30 days, the summary and the time per job from the ledger. Run it under
//! `/usr/bin/time -v` for the peak RSS.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use chrono::NaiveDate;
use pipeline::jobs::reconcile::ProgressEvent;
use pipeline::jobs::reconcile::RunOptions;
use pipeline::{Lake, Pipeline, PipelineConfig, Reference, Simulator, SystemClock, Warehouse};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // As `datamag360` does before anything else.
    pipeline::memory::limit_malloc_arenas();
    let mut args = std::env::args().skip(1);
    let usage = "usage: bench_backfill FROM TO DIR [STORES]";
    let from: NaiveDate = args.next().ok_or(usage)?.parse()?;
    let to: NaiveDate = args.next().ok_or(usage)?.parse()?;
    let dir = std::path::PathBuf::from(args.next().ok_or(usage)?);
    let reference = match args.next() {
        Some(n) => Reference::synthetic(n.parse()?, 360)?,
        None => Reference::embedded(),
    };
    println!(
        "chain: {} stores, {} sensors; {from} → {to} into {}",
        reference.stores().len(),
        reference.sensor_count(),
        dir.display()
    );
    let warehouse = Warehouse::open_in_dir(&dir).await?;
    let pipeline = Pipeline::new(
        Arc::new(Simulator::new(Arc::new(reference))),
        Lake::local(&dir.join("lake"))?,
        warehouse.clone(),
        Arc::new(SystemClock),
        PipelineConfig::default(),
    );
    let started = Instant::now();
    let days = AtomicU64::new(0);
    let progress = |e: ProgressEvent| {
        if let ProgressEvent::DayDone { date, .. } = e {
            let n = days.fetch_add(1, Ordering::SeqCst) + 1;
            if n.is_multiple_of(30) {
                println!(
                    "  {n:>4} days ({date}) in {:>7.1} s",
                    started.elapsed().as_secs_f64()
                );
            }
        }
    };
    let summary = pipeline
        .backfill(from, to, RunOptions::default(), &progress)
        .await?;
    let elapsed = started.elapsed();
    println!(
        "backfill {from} → {to}: {} partitions done, {} failed, {} rows written in {:.1} s",
        summary.total_done(),
        summary.total_failed(),
        summary.rows,
        elapsed.as_secs_f64()
    );
    for (job, n) in &summary.done {
        println!("  {job} {n} done");
    }
    warehouse.close().await;
    Ok(())
}
