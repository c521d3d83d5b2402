//! The nightly transform of one day of a 1,000-store synthetic chain.
//!
//!   cargo run --release -p pipeline --example bench_transform [-- RUNS [DIR]]
//!
//! Builds the day's raw rows (every local hour of an open weekday, 2024-03-13) with
//! `simulate_hour` on `Reference::synthetic(1000, 360)`, then times:
//! (a) `cleaning::clean_day` alone, RUNS times (default 5);
//! (b) the full job `Pipeline::transform(date)` on a SQLite warehouse in DIR (default a
//!     fresh folder under /tmp) after loading the raw rows of that day and of the
//!     Wednesday before hour by hour with `replace_raw_lot` (as ingest does), RUNS times:
//!     run 1 writes an empty day (the nightly case), the next ones replace it (a re-run);
//! (c) the three phases the job runs, one by one, on the Wednesday before (so that run 1
//!     is again a first write): load (`raw_rows_for_date`), clean (`clean_day`), write
//!     (`replace_analytics_day`);
//! (d) the fill's history read for the following Wednesday (2 of its 4 weeks present);
//! (e) the nightly case RUNS times: each run transforms a weekday not written before (the
//!     Wednesdays after the bench day, their raw rows loaded first, untimed), so every run
//!     is a first write, as the nightly job's is. BENCH_NIGHTLY=0 skips it.
//! BENCH_DATABASE_URL overrides the warehouse (e.g. a fresh PostgreSQL database).
//! RUST_LOG=pipeline=debug logs the stages of every transform and day write.
//! BENCH_ONLY=clean loops (a) only, for a profiler (`perf record`); BENCH_ONLY=transform
//! stops after (b). BENCH_REUSE=1 keeps the raw rows already in DIR (a second run on the
//! same DIR: the profile of (b) without the raw load).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeZone, Utc};
use pipeline::clock::HourSlot;
use pipeline::jobs::collect::simulate_hour;
use pipeline::warehouse::raw::lot_of;
use pipeline::{
    cleaning, FixedClock, Lake, Pipeline, PipelineConfig, Reference, Simulator, Warehouse,
};

fn stats(name: &str, mut d: Vec<Duration>) {
    let all: Vec<String> = d
        .iter()
        .map(|x| format!("{:.0}", x.as_secs_f64() * 1e3))
        .collect();
    d.sort();
    println!(
        "{name:<28} median {:>8.1} ms  min {:>8.1} ms  max {:>8.1} ms   runs [{}]",
        d[d.len() / 2].as_secs_f64() * 1e3,
        d[0].as_secs_f64() * 1e3,
        d[d.len() - 1].as_secs_f64() * 1e3,
        all.join(", ")
    );
}

#[tokio::main]
async fn main() {
    // As `datamag360` does before anything else.
    pipeline::memory::limit_malloc_arenas();
    // RUST_LOG=pipeline=debug prints each transform's stages (read, history, clean, write).
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let mut args = std::env::args().skip(1);
    let runs: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(5).max(1);
    let dir = args
        .next()
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::env::temp_dir().join(format!("bench-transform-{}", std::process::id()))
        });
    let only_clean = std::env::var("BENCH_ONLY").is_ok_and(|v| v == "clean");

    let reference = Arc::new(Reference::synthetic(1000, 360).expect("synthetic chain"));
    let sim = Arc::new(Simulator::new(reference.clone()));
    let date = NaiveDate::from_ymd_opt(2024, 3, 13).expect("a Wednesday");
    let t = Instant::now();
    let hours: Vec<_> = HourSlot::hours_of_day(date)
        .map(|slot| {
            let (v, t) = simulate_hour(&sim, slot);
            (slot, v, t)
        })
        .collect();
    let visitors: Vec<_> = hours
        .iter()
        .flat_map(|(_, v, _)| v.iter().cloned())
        .collect();
    let transactions: Vec<_> = hours
        .iter()
        .flat_map(|(_, _, t)| t.iter().cloned())
        .collect();
    println!(
        "chain: {} stores, {} sensors; {date}: {} hours, {} visitor rows, {} sales rows (simulated in {:.0} ms)",
        reference.stores().len(),
        reference.sensor_count(),
        hours.len(),
        visitors.len(),
        transactions.len(),
        t.elapsed().as_secs_f64() * 1e3
    );

    // (a) clean_day alone.
    let mut clean = Vec::new();
    let mut out_rows = 0;
    for _ in 0..runs {
        let s = Instant::now();
        let day = cleaning::clean_day(&reference, date, &visitors, &transactions).expect("clean");
        clean.push(s.elapsed());
        out_rows = day.visitors.len() + day.transactions.len();
    }
    println!("clean_day output: {out_rows} analytics rows");
    stats("(a) clean_day", clean);
    if only_clean {
        return;
    }

    // (b) the full job on a warehouse.
    let url = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}", dir.join("warehouse.db").display()));
    std::fs::create_dir_all(&dir).expect("dir");
    let warehouse = Warehouse::connect(&url).await.expect("warehouse");
    println!(
        "warehouse {:?}: {}",
        warehouse.backend(),
        pipeline::redact::text(&url)
    );
    // Raw rows of the bench day and of the Wednesday before (the phases' day).
    let date_c = date - chrono::Duration::days(7);
    let s = Instant::now();
    let mut lots = 0;
    let reuse = std::env::var("BENCH_REUSE").is_ok_and(|v| v == "1");
    for (slot, v, t) in hours.iter().filter(|_| !reuse) {
        warehouse
            .replace_raw_lot(&lot_of(*slot), v, t, Utc::now())
            .await
            .expect("raw");
        lots += 1;
    }
    for slot in HourSlot::hours_of_day(date_c).filter(|_| !reuse) {
        let (v, t) = simulate_hour(&sim, slot);
        warehouse
            .replace_raw_lot(&lot_of(slot), &v, &t, Utc::now())
            .await
            .expect("raw");
        lots += 1;
    }
    println!(
        "raw load ({lots} ingest lots, 2 days): {:.0} ms",
        s.elapsed().as_secs_f64() * 1e3
    );
    // A pipeline whose clock reads 03:00 UTC the morning after `day` (its nightly run).
    let pipeline_after = |day: NaiveDate| {
        let morning = (day + chrono::Duration::days(1))
            .and_hms_opt(3, 0, 0)
            .expect("03:00 exists");
        Pipeline::new(
            sim.clone(),
            Lake::local(&dir.join("lake")).expect("lake"),
            warehouse.clone(),
            Arc::new(FixedClock::new(Utc.from_utc_datetime(&morning))),
            PipelineConfig::default(),
        )
    };
    let pipeline = pipeline_after(date);
    let mut full = Vec::new();
    for i in 0..runs {
        let s = Instant::now();
        let (rin, rout) = pipeline.transform(date).await.expect("transform");
        full.push(s.elapsed());
        if i == 0 {
            println!(
                "transform: {rin} rows in, {rout} rows out; first run {:.1} ms",
                full[0].as_secs_f64() * 1e3
            );
        }
    }
    stats("(b) Pipeline::transform", full);
    if std::env::var("BENCH_ONLY").is_ok_and(|v| v == "transform") {
        warehouse.close().await;
        return;
    }

    // (c) the job's phases, one by one (run 1 writes an empty day — the nightly case; later runs replace it).
    let (mut load, mut cl, mut write) = (vec![], vec![], vec![]);
    for _ in 0..runs {
        let s = Instant::now();
        let (v, t) = warehouse.raw_rows_for_date(date_c).await.expect("load");
        load.push(s.elapsed());
        let s = Instant::now();
        let day = cleaning::clean_day(&reference, date_c, &v, &t).expect("clean");
        cl.push(s.elapsed());
        let s = Instant::now();
        warehouse
            .replace_analytics_day(date_c, &day.visitors, &day.transactions, &day.quality)
            .await
            .expect("write");
        write.push(s.elapsed());
    }
    stats("(c) load raw_rows_for_date", load);
    stats("(c) clean clean_day", cl);
    stats("(c) write replace_analytics", write);

    // (d) the fill's history (issue 12): the same weekday of the 4 weeks before a day, summed
    // per sensor-hour and store-hour from the analytics; here 2 of the 4 weeks hold a day.
    let next = date + chrono::Duration::days(7);
    for with_sales in [false, true] {
        let mut hist = Vec::new();
        for _ in 0..runs {
            let s = Instant::now();
            let h = warehouse
                .history(&cleaning::history::History::dates_for(next), with_sales)
                .await
                .expect("history");
            hist.push(s.elapsed());
            assert!(!h.is_empty());
        }
        stats(
            if with_sales {
                "(d) history + sales, 2 wks"
            } else {
                "(d) history, 2 weeks"
            },
            hist,
        );
    }

    // (e) the nightly case: first writes of days never transformed before.
    let nightly_runs: usize = std::env::var("BENCH_NIGHTLY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(runs);
    let mut nightly = Vec::new();
    for i in 1..=nightly_runs {
        let day = date + chrono::Duration::days(7 * i as i64);
        for slot in HourSlot::hours_of_day(day) {
            let (v, t) = simulate_hour(&sim, slot);
            warehouse
                .replace_raw_lot(&lot_of(slot), &v, &t, Utc::now())
                .await
                .expect("raw");
        }
        let pipeline = pipeline_after(day);
        let s = Instant::now();
        pipeline.transform(day).await.expect("transform");
        nightly.push(s.elapsed());
    }
    if !nightly.is_empty() {
        stats("(e) nightly, first writes", nightly);
    }
    warehouse.close().await;
}
