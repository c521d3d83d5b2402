//! Where the dashboard's time goes in the warehouse: `Warehouse::dashboard_figures` (the
//! period's figures and charts) and `Warehouse::period_totals` (the previous period's
//! KPIs) — the two calls of the dashboard server function — on a SQLite or PostgreSQL
//! warehouse.
//!
//!   cargo run --release -p pipeline --example bench_dashboard_queries -- DIR|URL TO [RUNS] [STORE] [SENSORS] [H0-H1]
//!
//! DIR is a data dir (its `warehouse.db`), or a `postgres://` URL. TO is the last day
//! (YYYY-MM-DD). Filters: all stores over the 365 days ending TO, STORE (default 1) over
//! the same year, STORE with SENSORS (comma-separated, default `1,2`) over the 7 days
//! ending TO; hours H0-H1 (default 9-19).

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use pipeline::kpi::KpiFilter;
use pipeline::Warehouse;

fn med(mut d: Vec<Duration>) -> String {
    d.sort();
    format!(
        "median {:>8.1} ms  max {:>8.1} ms",
        d[d.len() / 2].as_secs_f64() * 1e3,
        d[d.len() - 1].as_secs_f64() * 1e3
    )
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = std::path::PathBuf::from(args.first().expect("DIR"));
    let to: NaiveDate = args.get(1).expect("TO").parse().expect("TO: YYYY-MM-DD");
    let runs: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(5).max(1);
    let store: u32 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1);
    let sensors: Vec<u32> = args
        .get(4)
        .map(|s| s.as_str())
        .unwrap_or("1,2")
        .split(',')
        .filter_map(|x| x.parse().ok())
        .collect();
    let (h0, h1) = args
        .get(5)
        .and_then(|s| s.split_once('-'))
        .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
        .unwrap_or((9, 19));
    let target = &args[0];
    let warehouse = if target.starts_with("postgres") {
        Warehouse::connect(target).await
    } else {
        Warehouse::open_in_dir(&dir).await
    }
    .expect("warehouse");
    let filter = |store_id: Option<u32>, sensor_ids: Vec<u32>, days: i64| KpiFilter {
        store_id,
        sensor_ids,
        within_stores: None,
        from: to - chrono::Duration::days(days - 1),
        to,
        hour_from: h0,
        hour_to: h1,
    };
    let cases = [
        ("all stores, 365 d", filter(None, vec![], 365)),
        ("one store, 365 d", filter(Some(store), vec![], 365)),
        (
            "one store + sensors, 7 d",
            filter(Some(store), sensors.clone(), 7),
        ),
    ];
    for (name, f) in &cases {
        println!(
            "== {name}: store {:?} sensors {:?} {} → {}",
            f.store_id, f.sensor_ids, f.from, f.to
        );
        let mut whole = Vec::new();
        let mut figs = None;
        for _ in 0..runs {
            let s = Instant::now();
            figs = Some(warehouse.dashboard_figures(f).await.expect("figures"));
            whole.push(s.elapsed());
        }
        let figs = figs.expect("ran");
        println!(
            "  dashboard_figures            {}   (visitors {}, active sensors {}, {} date-hours, {} series)",
            med(whole),
            figs.totals.visitors,
            figs.totals.active_sensors,
            figs.by_date_hour.len(),
            figs.daily_series.len()
        );
        let previous = f.previous();
        let mut times = Vec::new();
        let mut totals = None;
        for _ in 0..runs {
            let s = Instant::now();
            totals = Some(warehouse.period_totals(&previous).await.expect("totals"));
            times.push(s.elapsed());
        }
        println!(
            "  period_totals (previous)     {}   (visitors {:?})",
            med(times),
            totals.map(|t| t.visitors)
        );
    }
    warehouse.close().await;
}
