//! Ingest throughput: `Warehouse::replace_raw_lot` for lots of realistic sizes.
//!
//!   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1/bench_ingest \
//!     cargo run --release -p pipeline --example bench_ingest
//!   BENCH_DATABASE_URL=sqlite:///tmp/bench-ingest/warehouse.db \
//!     cargo run --release -p pipeline --example bench_ingest
//!
//! Use a fresh database (the example appends to raw.* under lots named `bench:*` and
//! deletes nothing else). Rows come from the simulator, so values, dates and hours look
//! like the collector's. Scenarios, in order, on a table that grows as they run:
//! * `hour-10`   one collected hour of the default chain (83 visitor + 10 sales rows),
//!   repeated BENCH_SMALL_LOTS times (default 480 = 20 days), distinct lots;
//! * `hour-1000` one collected hour of a 1,000-store synthetic chain (~8,500 + 1,000
//!   rows), repeated BENCH_MID_LOTS times (default 24 = one day), distinct lots;
//! * `file-500k` one lot of 500,000 visitor rows (+ the matching sales rows), like an
//!   imported history file;
//! * `replace`   the `hour-1000` lots again, same names: the delete of the old rows is
//!   part of the cost (what a re-ingest does).
//!
//! Prints rows/s (visitor + sales rows) per scenario: total rows over total time, and the
//! per-lot latency median / max.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use pipeline::clock::HourSlot;
use pipeline::jobs::collect::simulate_hour;
use pipeline::records::{TransactionRow, VisitorRow};
use pipeline::{Reference, Simulator, Warehouse};

type Lot = (String, Vec<VisitorRow>, Vec<TransactionRow>);

fn open_hours(
    sim: &Simulator,
    from: NaiveDate,
    n: usize,
) -> Vec<(HourSlot, Vec<VisitorRow>, Vec<TransactionRow>)> {
    let mut out = Vec::with_capacity(n);
    let mut date = from;
    while out.len() < n {
        for slot in HourSlot::hours_of_day(date) {
            if out.len() == n {
                break;
            }
            let (v, t) = simulate_hour(sim, slot);
            if !v.is_empty() {
                out.push((slot, v, t));
            }
        }
        date = date.succ_opt().expect("next day");
    }
    out
}

async fn run(warehouse: &Warehouse, name: &str, lots: &[Lot]) {
    let mut per_lot = Vec::with_capacity(lots.len());
    let rows: usize = lots.iter().map(|(_, v, t)| v.len() + t.len()).sum();
    let start = Instant::now();
    for (lot, v, t) in lots {
        let s = Instant::now();
        warehouse
            .replace_raw_lot(lot, v, t, Utc::now())
            .await
            .expect("replace_raw_lot");
        per_lot.push(s.elapsed());
    }
    let total = start.elapsed();
    per_lot.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{name:<10} lots {:>4}  rows/lot {:>7}  rows {:>8}  total {:>9.1} ms  {:>10.0} rows/s  lot median {:>8.2} ms  max {:>8.2} ms",
        lots.len(),
        rows / lots.len().max(1),
        rows,
        ms(total),
        rows as f64 / total.as_secs_f64(),
        ms(per_lot[per_lot.len() / 2]),
        ms(per_lot[per_lot.len() - 1]),
    );
}

#[tokio::main]
async fn main() {
    let url = std::env::var("BENCH_DATABASE_URL")
        .expect("set BENCH_DATABASE_URL (postgres://… or sqlite://…)");
    let small: usize = std::env::var("BENCH_SMALL_LOTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(480);
    let mid: usize = std::env::var("BENCH_MID_LOTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(24);
    let big_rows: usize = std::env::var("BENCH_BIG_ROWS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(500_000);
    let warehouse = Warehouse::connect(&url).await.expect("connect");
    println!(
        "backend {:?}: {}",
        warehouse.backend(),
        pipeline::redact::text(&url)
    );

    let t = Instant::now();
    let default_sim = Simulator::new(Arc::new(Reference::embedded()));
    let big_sim = Simulator::new(Arc::new(
        Reference::synthetic(1000, 360).expect("synthetic"),
    ));
    let day0 = NaiveDate::from_ymd_opt(2024, 1, 1).expect("date");

    let small_lots: Vec<Lot> = open_hours(&default_sim, day0, small)
        .into_iter()
        .map(|(s, v, t)| (format!("bench:hour10:{}", s.key()), v, t))
        .collect();
    let mid_lots: Vec<Lot> = open_hours(
        &big_sim,
        NaiveDate::from_ymd_opt(2024, 3, 4).expect("date"),
        mid,
    )
    .into_iter()
    .map(|(s, v, t)| (format!("bench:hour1000:{}", s.key()), v, t))
    .collect();
    // The import file: consecutive 1,000-store hours from another month until 500k visitor rows.
    let (mut fv, mut ft) = (Vec::with_capacity(big_rows + 10_000), Vec::new());
    let mut date = NaiveDate::from_ymd_opt(2024, 6, 3).expect("date");
    'fill: loop {
        for slot in HourSlot::hours_of_day(date) {
            let (v, t) = simulate_hour(&big_sim, slot);
            fv.extend(v);
            ft.extend(t);
            if fv.len() >= big_rows {
                fv.truncate(big_rows);
                break 'fill;
            }
        }
        date = date.succ_opt().expect("next day");
    }
    let big_lot: Vec<Lot> = vec![("bench:file:history.csv".into(), fv, ft)];
    println!("rows generated in {:.1} s", t.elapsed().as_secs_f64());

    run(&warehouse, "hour-10", &small_lots).await;
    run(&warehouse, "hour-1000", &mid_lots).await;
    run(&warehouse, "file-500k", &big_lot).await;
    run(&warehouse, "replace", &mid_lots).await;
    let (v, t) = warehouse.raw_counts().await.expect("counts");
    println!("raw rows now: visiteurs {v}, transactions {t}");
    warehouse.close().await;
}
