//! Fills `analytics.*` of a SQLite data dir for a synthetic chain, as the nightly
//! transform would, without the lake and raw stages (for dashboard benchmarks at scale).
//!
//!   cargo run --release -p pipeline --example bench_fill_analytics -- DIR FROM TO [STORES]
//!
//! Chain: `Reference::synthetic(STORES, 360)` — what `datamag360 --synthetic-stores STORES`
//! serves (default STORES: $DATAMAG_SYNTHETIC_STORES, else 1000). For every day from TO
//! back to FROM: the day's raw rows with `simulate_hour` for every local hour, then
//! `cleaning::clean_day` and `Warehouse::replace_analytics_day` (analytics.visiteurs,
//! .transactions, .quality and .store_hours, in one transaction, exactly as the transform
//! writes them). One thread simulates and cleans while the main task writes.
//! BENCH_BUDGET_S (default 900) stops after that many seconds; the days written are
//! then the most recent ones, and the range written is printed.

use std::sync::{mpsc, Arc};
use std::time::Instant;

use chrono::NaiveDate;
use pipeline::clock::HourSlot;
use pipeline::jobs::collect::simulate_hour;
use pipeline::{cleaning, Reference, Simulator, Warehouse};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        eprintln!("usage: bench_fill_analytics DIR FROM TO [STORES]");
        std::process::exit(2);
    }
    let dir = std::path::PathBuf::from(&args[0]);
    let from: NaiveDate = args[1].parse().expect("FROM: YYYY-MM-DD");
    let to: NaiveDate = args[2].parse().expect("TO: YYYY-MM-DD");
    let stores: u32 = args
        .get(3)
        .cloned()
        .or_else(|| std::env::var("DATAMAG_SYNTHETIC_STORES").ok())
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let budget: f64 = std::env::var("BENCH_BUDGET_S")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(900.0);

    let reference = Arc::new(Reference::synthetic(stores, 360).expect("synthetic chain"));
    let sim = Simulator::new(reference.clone());
    println!(
        "chain: {} stores, {} sensors; days {from} → {to}, newest first; budget {budget:.0} s",
        reference.stores().len(),
        reference.sensor_count()
    );
    let warehouse = Warehouse::open_in_dir(&dir).await.expect("warehouse");

    let start = Instant::now();
    let (tx, rx) = mpsc::sync_channel::<(NaiveDate, pipeline::clean_rows::CleanDay, f64)>(2);
    let producer = std::thread::spawn(move || {
        let mut date = to;
        while date >= from {
            if start.elapsed().as_secs_f64() > budget {
                break;
            }
            let s = Instant::now();
            let (mut v, mut t) = (Vec::new(), Vec::new());
            for slot in HourSlot::hours_of_day(date) {
                let (hv, ht) = simulate_hour(&sim, slot);
                v.extend(hv);
                t.extend(ht);
            }
            let day = cleaning::clean_day(sim.reference(), date, &v, &t).expect("clean");
            if tx.send((date, day, s.elapsed().as_secs_f64())).is_err() {
                break;
            }
            date = match date.pred_opt() {
                Some(d) => d,
                None => break,
            };
        }
    });

    let (mut days, mut rows, mut produce_s, mut write_s) = (0u32, 0usize, 0.0, 0.0);
    let mut oldest = None;
    let rx = Arc::new(std::sync::Mutex::new(rx));
    loop {
        let rx2 = rx.clone();
        let next = tokio::task::spawn_blocking(move || rx2.lock().expect("rx").recv().ok())
            .await
            .expect("recv");
        let Some((date, day, p)) = next else { break };
        let s = Instant::now();
        warehouse
            .replace_analytics_day(date, &day.visitors, &day.transactions, &day.quality)
            .await
            .expect("write");
        write_s += s.elapsed().as_secs_f64();
        produce_s += p;
        days += 1;
        rows += day.visitors.len() + day.transactions.len();
        oldest = Some(date);
        if days % 10 == 0 {
            println!(
                "{days:>4} days (down to {date}), {rows} rows, {:.0} s elapsed",
                start.elapsed().as_secs_f64()
            );
        }
    }
    producer.join().expect("producer");
    println!(
        "done: {days} days written, {} → {to}; {rows} analytics rows (visitors + sales); \
         {:.1} s wall; simulate+clean {produce_s:.1} s (thread), write {write_s:.1} s",
        oldest.map(|d| d.to_string()).unwrap_or_else(|| "-".into()),
        start.elapsed().as_secs_f64()
    );
    warehouse.close().await;
}
