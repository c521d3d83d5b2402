//! Where the dashboard's time goes in the warehouse: `Warehouse::dashboard_figures` as a
//! whole and each of its SQL queries alone, on a SQLite data dir.
//!
//!   cargo run --release -p pipeline --example bench_dashboard_queries -- DIR TO [RUNS] [STORE] [SENSORS]
//!
//! TO is the last day (YYYY-MM-DD). Filters: all stores over the 365 days ending TO,
//! STORE (default 1) over the same year, STORE with SENSORS (comma-separated, default
//! `1,2`) over the 7 days ending TO; hours 9–19. The dashboard server function runs
//! `dashboard_figures` twice (the period and the previous one); this times one call.
//! The SQL below is a copy of pipeline/src/kpi.rs (keep them in step).

use std::time::{Duration, Instant};

use chrono::{NaiveDate, NaiveTime};
use pipeline::kpi::KpiFilter;
use pipeline::warehouse::sqlite;
use pipeline::Warehouse;

const Q_DATE_HOUR: &str = "SELECT date, CAST(hour AS BIGINT), CAST(SUM(visitors) AS BIGINT), \
    CAST(SUM(transactions) AS BIGINT), CAST(SUM(revenue) AS DOUBLE PRECISION) \
    FROM analytics.store_hours WHERE ($1 = 0 OR store_id = $1) AND date >= $2 AND date <= $3 \
    AND hour >= $4 AND hour <= $5 GROUP BY date, hour";
const Q_RANKING: &str = "SELECT CAST(store_id AS BIGINT), CAST(SUM(visitors) AS BIGINT), CAST(SUM(transactions) AS BIGINT), \
    CAST(SUM(revenue) AS DOUBLE PRECISION) FROM analytics.store_hours \
    WHERE date >= $1 AND date <= $2 AND hour >= $3 AND hour <= $4 GROUP BY store_id";
const Q_SENSOR_DAILY: &str = "SELECT date, CAST(sensor_id AS BIGINT), CAST(SUM(nb_visiteurs) AS BIGINT) FROM analytics.visiteurs \
    WHERE store_id = $1 AND date >= $2 AND date <= $3 AND heure >= $4 AND heure <= $5 \
    GROUP BY date, sensor_id";
const Q_STORE_DAILY: &str = "SELECT date, CAST(store_id AS BIGINT), CAST(SUM(visitors) AS BIGINT) FROM analytics.store_hours \
    WHERE date >= $1 AND date <= $2 AND hour >= $3 AND hour <= $4 GROUP BY date, store_id";
const Q_ACTIVE: &str =
    "SELECT CAST(store_id AS BIGINT), CAST(sensor_id AS BIGINT) FROM analytics.visiteurs \
    WHERE ($1 = 0 OR store_id = $1) AND date >= $2 AND date <= $3 AND heure >= $4 AND heure <= $5 \
    AND imputed = FALSE AND nb_visiteurs > 0 GROUP BY store_id, sensor_id";

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
    let warehouse = Warehouse::open_in_dir(&dir).await.expect("warehouse");
    let Warehouse::Sqlite(pool) = &warehouse else {
        panic!("SQLite only")
    };
    let filter = |store_id: Option<u32>, sensor_ids: Vec<u32>, days: i64| KpiFilter {
        store_id,
        sensor_ids,
        from: to - chrono::Duration::days(days - 1),
        to,
        hour_from: 9,
        hour_to: 19,
    };
    let cases = [
        ("all stores, 365 d", filter(None, vec![], 365)),
        ("one store, 365 d", filter(Some(store), vec![], 365)),
        (
            "one store + sensors, 7 d",
            filter(Some(store), sensors.clone(), 7),
        ),
    ];
    let (t0, t1) = (
        NaiveTime::from_hms_opt(9, 0, 0).expect("9h"),
        NaiveTime::from_hms_opt(19, 0, 0).expect("19h"),
    );
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
        let store_param = f.store_id.map(i64::from).unwrap_or(0);
        let mut queries: Vec<(&str, &str)> = vec![
            ("by date-hour (store_hours)", Q_DATE_HOUR),
            ("ranking (store_hours)", Q_RANKING),
        ];
        queries.push(match f.store_id {
            Some(_) => ("sensor daily (visiteurs)", Q_SENSOR_DAILY),
            None => ("store daily (store_hours)", Q_STORE_DAILY),
        });
        queries.push(("active sensors (visiteurs)", Q_ACTIVE));
        for (qname, sql) in queries {
            let q = sqlite(sql);
            let mut times = Vec::new();
            let mut n = 0;
            for _ in 0..runs {
                let s = Instant::now();
                let rows = match sql {
                    Q_DATE_HOUR => {
                        sqlx::query(&q)
                            .bind(store_param)
                            .bind(f.from)
                            .bind(f.to)
                            .bind(9i64)
                            .bind(19i64)
                            .fetch_all(pool)
                            .await
                    }
                    Q_RANKING | Q_STORE_DAILY => {
                        sqlx::query(&q)
                            .bind(f.from)
                            .bind(f.to)
                            .bind(9i64)
                            .bind(19i64)
                            .fetch_all(pool)
                            .await
                    }
                    Q_SENSOR_DAILY => {
                        sqlx::query(&q)
                            .bind(store_param)
                            .bind(f.from)
                            .bind(f.to)
                            .bind(t0)
                            .bind(t1)
                            .fetch_all(pool)
                            .await
                    }
                    _ => {
                        sqlx::query(&q)
                            .bind(store_param)
                            .bind(f.from)
                            .bind(f.to)
                            .bind(t0)
                            .bind(t1)
                            .fetch_all(pool)
                            .await
                    }
                }
                .expect("query");
                times.push(s.elapsed());
                n = rows.len();
            }
            println!("  {qname:<28} {}   ({n} rows)", med(times));
        }
    }
    warehouse.close().await;
}
