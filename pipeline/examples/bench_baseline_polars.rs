//! Issue 26, point 6: the baselines' group-by medians in polars (lazy) against plain Rust.
//!
//!   cargo run --release -p pipeline --example bench_baseline_polars -- [RUNS]
//!
//! The work: the 1,000-store chain's (`Reference::synthetic(1000, 360)`, 8,634 sensors)
//! eight weeks of history, 40 open days × 11 hours = 3,798,960 sensor-hour values, grouped by
//! (store, sensor, weekday, hour) into 474,870 groups of 8; per group the median and the MAD
//! (median of |value − median|). Values are drawn from a fixed-seed stream (the computation,
//! not the simulator, is measured). Each path starts from the rows as detection reads them
//! (a vector of (store, sensor, weekday, hour, value)); polars is timed with and without
//! building its DataFrame. Both results are checked equal.

use std::collections::HashMap;
use std::time::Instant;

use pipeline::Reference;
use polars::prelude::*;

struct Row {
    store: u32,
    sensor: u32,
    weekday: u32,
    hour: u32,
    value: f64,
}

fn rows() -> Vec<Row> {
    let reference = Reference::synthetic(1000, 360).expect("chain");
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as f64 / (1u64 << 31) as f64
    };
    let mut out = Vec::with_capacity(3_800_000);
    for (store, sensor) in reference.all_sensors() {
        for _week in 0..8 {
            for weekday in 0..5 {
                for hour in 9..20 {
                    out.push(Row {
                        store: store.store_id,
                        sensor: sensor.sensor_id,
                        weekday,
                        hour,
                        value: (6.0 + 114.0 * next()).floor(),
                    });
                }
            }
        }
    }
    out
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_unstable_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Plain Rust, as `alerts::detect::anomaly` does it: a map of the groups' values, then a
/// sort per group.
fn plain(rows: &[Row]) -> HashMap<(u32, u32, u32, u32), (f64, f64)> {
    let mut groups: HashMap<(u32, u32, u32, u32), Vec<f64>> = HashMap::new();
    for r in rows {
        groups
            .entry((r.store, r.sensor, r.weekday, r.hour))
            .or_insert_with(|| Vec::with_capacity(8))
            .push(r.value);
    }
    groups
        .into_iter()
        .map(|(k, mut v)| {
            let m = median(&mut v);
            let mut d: Vec<f64> = v.iter().map(|x| (x - m).abs()).collect();
            (k, (m, median(&mut d)))
        })
        .collect()
}

fn frame(rows: &[Row]) -> PolarsResult<DataFrame> {
    DataFrame::new_infer_height(vec![
        Column::new(
            "store".into(),
            rows.iter().map(|r| r.store).collect::<Vec<_>>(),
        ),
        Column::new(
            "sensor".into(),
            rows.iter().map(|r| r.sensor).collect::<Vec<_>>(),
        ),
        Column::new(
            "weekday".into(),
            rows.iter().map(|r| r.weekday).collect::<Vec<_>>(),
        ),
        Column::new(
            "hour".into(),
            rows.iter().map(|r| r.hour).collect::<Vec<_>>(),
        ),
        Column::new(
            "value".into(),
            rows.iter().map(|r| r.value).collect::<Vec<_>>(),
        ),
    ])
}

fn with_polars(df: DataFrame) -> PolarsResult<DataFrame> {
    let deviation = col("value") - col("value").median();
    let absolute = when(deviation.clone().gt_eq(lit(0.0)))
        .then(deviation.clone())
        .otherwise(lit(0.0) - deviation);
    df.lazy()
        .group_by([col("store"), col("sensor"), col("weekday"), col("hour")])
        .agg([
            col("value").median().alias("median"),
            absolute.median().alias("mad"),
        ])
        .collect()
}

fn report(name: &str, mut ms: Vec<f64>) {
    ms.sort_by(f64::total_cmp);
    println!(
        "{name:<34} median {:>8.1} ms  min {:>8.1}  max {:>8.1}  ({} runs)",
        ms[ms.len() / 2],
        ms[0],
        ms[ms.len() - 1],
        ms.len()
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runs: usize = std::env::args().nth(1).map_or(Ok(7), |s| s.parse())?;
    let rows = rows();
    println!("{} values", rows.len());

    let (mut t_plain, mut t_polars, mut t_polars_all) = (Vec::new(), Vec::new(), Vec::new());
    let mut reference = HashMap::new();
    for _ in 0..runs {
        let t = Instant::now();
        reference = plain(&rows);
        t_plain.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let mut result = DataFrame::empty();
    for _ in 0..runs {
        let t = Instant::now();
        let df = frame(&rows)?;
        let built = t.elapsed();
        let t2 = Instant::now();
        result = with_polars(df)?;
        t_polars.push(t2.elapsed().as_secs_f64() * 1e3);
        t_polars_all.push((built + t2.elapsed()).as_secs_f64() * 1e3);
    }
    // Same groups, same figures.
    assert_eq!(result.height(), reference.len());
    let get = |name: &str| -> PolarsResult<Vec<f64>> {
        Ok(result.column(name)?.f64()?.into_no_null_iter().collect())
    };
    let key = |name: &str| -> PolarsResult<Vec<u32>> {
        Ok(result.column(name)?.u32()?.into_no_null_iter().collect())
    };
    let (s, c, w, h) = (key("store")?, key("sensor")?, key("weekday")?, key("hour")?);
    let (m, d) = (get("median")?, get("mad")?);
    for i in 0..result.height() {
        let expected = reference[&(s[i], c[i], w[i], h[i])];
        assert_eq!((m[i], d[i]), expected, "group {i}");
    }
    println!("{} groups, both results equal", reference.len());
    report("plain Rust (HashMap + sort)", t_plain);
    report("polars lazy group_by (compute)", t_polars);
    report("polars incl. building the frame", t_polars_all);
    Ok(())
}
