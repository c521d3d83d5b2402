//! Simulator throughput on one core, without a benchmark framework.
//!
//!   cargo run --release -p pipeline --example bench_simulator [-- RUNS]
//!
//! Each run simulates one calendar year (2024: 366 days, 262 open) of the embedded
//! chain (10 stores, 83 sensors), every hour 0–23:
//! * `sensor_reading` for every (sensor, day, hour): 729,072 calls, of which 521,904
//!   (open days) yield a value; weekend calls answer `None` at once;
//! * `store_hour` for every (store, day, hour): 87,840 calls, 62,880 on open days.
//!
//! Throughput is reported as values produced per second (the target figure) and as calls
//! per second, for the best and the median of RUNS runs (default 15) after one warm-up
//! run. Single-threaded: pin it with `taskset -c 1` for steadier numbers.
//! `DATAMAG_SIMULATOR=original` measures the `original` profile (SHA-256 + MT19937 seeding
//! per value) instead of the default one.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{Datelike, NaiveDate};
use pipeline::{Reference, Simulator};

struct Run {
    elapsed: Duration,
    calls: u64,
    values: u64,
    checksum: i64,
}

fn year_days(year: i32) -> Vec<NaiveDate> {
    let mut days = Vec::with_capacity(366);
    let mut d = NaiveDate::from_ymd_opt(year, 1, 1).expect("1 January");
    while d.year() == year {
        days.push(d);
        d = d.succ_opt().expect("next day");
    }
    days
}

fn run_sensor_readings(sim: &Simulator, days: &[NaiveDate]) -> Run {
    let reference = sim.reference();
    let pairs: Vec<_> = reference.all_sensors().collect();
    let (mut calls, mut values, mut checksum) = (0u64, 0u64, 0i64);
    let start = Instant::now();
    for &date in days {
        for hour in 0..24u32 {
            for &(store, sensor) in &pairs {
                calls += 1;
                let r = sim.sensor_reading(
                    black_box(store),
                    black_box(sensor),
                    black_box(date),
                    black_box(hour),
                );
                if let Some(r) = black_box(r) {
                    values += 1;
                    checksum = checksum.wrapping_add(r.value.unwrap_or(-7) ^ r.true_value);
                }
            }
        }
    }
    Run {
        elapsed: start.elapsed(),
        calls,
        values,
        checksum,
    }
}

fn run_store_hours(sim: &Simulator, days: &[NaiveDate]) -> Run {
    let stores = sim.reference().stores();
    let (mut calls, mut values, mut checksum) = (0u64, 0u64, 0i64);
    let start = Instant::now();
    for &date in days {
        for hour in 0..24u32 {
            for store in stores {
                calls += 1;
                let h = sim.store_hour(black_box(store), black_box(date), black_box(hour));
                if let Some(h) = black_box(h) {
                    values += 1;
                    checksum = checksum
                        .wrapping_add(h.transactions)
                        .wrapping_add((h.chiffre_affaires * 100.0).round() as i64);
                }
            }
        }
    }
    Run {
        elapsed: start.elapsed(),
        calls,
        values,
        checksum,
    }
}

fn report(name: &str, mut runs: Vec<Run>) {
    let first = &runs[0];
    let (calls, values, checksum) = (first.calls, first.values, first.checksum);
    assert!(
        runs.iter()
            .all(|r| r.checksum == checksum && r.values == values),
        "the simulator is not deterministic"
    );
    runs.sort_by_key(|r| r.elapsed);
    let best = runs[0].elapsed;
    let median = runs[runs.len() / 2].elapsed;
    let per_s = |n: u64, d: Duration| n as f64 / d.as_secs_f64();
    println!(
        "{name}: {calls} calls, {values} values per run, {} runs",
        runs.len()
    );
    for (label, d) in [("best", best), ("median", median)] {
        println!(
            "  {label:<6} {:>9.3} ms  {:>12.0} values/s  {:>12.0} calls/s  {:>7.1} ns/value",
            d.as_secs_f64() * 1e3,
            per_s(values, d),
            per_s(calls, d),
            d.as_nanos() as f64 / values as f64,
        );
    }
    println!("  checksum {checksum}");
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse().expect("RUNS must be a positive integer"))
        .unwrap_or(15)
        .max(1);
    let profile: pipeline::Profile = std::env::var("DATAMAG_SIMULATOR")
        .ok()
        .map(|s| s.parse().expect("DATAMAG_SIMULATOR: default or original"))
        .unwrap_or_default();
    println!("simulator profile: {profile}");
    let sim = Simulator::with_profile(Arc::new(Reference::embedded()), profile);
    let days = year_days(2024);
    println!(
        "chain: {} stores, {} sensors; year 2024: {} days; {runs} runs (+1 warm-up)",
        sim.reference().stores().len(),
        sim.reference().sensor_count(),
        days.len()
    );

    run_sensor_readings(&sim, &days);
    let sensor_runs = (0..runs)
        .map(|_| run_sensor_readings(&sim, &days))
        .collect();
    report("sensor_reading", sensor_runs);

    run_store_hours(&sim, &days);
    let store_runs = (0..runs).map(|_| run_store_hours(&sim, &days)).collect();
    report("store_hour", store_runs);
}
