//! Alert detection scored against the simulator's ground truth, and its cost.
//!
//!   cargo run --release -p pipeline --example bench_alerts -- DIR FROM TO [options]
//!
//! Backfills `FROM − history days ..= TO` into DIR (a SQLite warehouse and local lake, through
//! `Pipeline::backfill`: rerunning on the same DIR reuses what is done), then replays
//! detection over `FROM..=TO` as the scheduler runs it: `hourly` after each open hour is
//! ingested, `nightly` after each day's transform. Findings become alerts by their dedupe
//! key (opened once, lasting until the last run that returns them); alerts are matched to
//! the incidents the simulator injected (same kind, store and sensor, overlapping period).
//!
//! Options: `--stores N` (synthetic chain `Reference::synthetic(N, 360)`, as
//! `--synthetic-stores`), `--original` (the original profile, which has no incidents),
//! `--incidents off`, `--history-days D` (default 84: the baseline's 12 weeks),
//! `--stateless` (each hourly run without the previous run's open alerts: `hourly` rather
//! than `hourly_continuing`).
//!
//! Prints recall (overall and per kind), precision, false alerts per store per month,
//! detection latency, the false alerts by rule, and the cost of each detection run against
//! the jobs' own times from the ledger.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use pipeline::alerts::detect::{self, params::DetectParams};
use pipeline::alerts::{Finding, Rule};
use pipeline::calendar::{is_open_day, OPENING_HOURS};
use pipeline::jobs::reconcile::RunOptions;
use pipeline::simulator::incidents::{Incident, IncidentKind, Incidents};
use pipeline::{
    HourSlot, Lake, Pipeline, PipelineConfig, Profile, Reference, Simulator, SystemClock, Warehouse,
};

/// One alert: the findings of one dedupe key over the runs.
#[derive(Debug, Clone)]
struct Alert {
    rule: Rule,
    store: i64,
    sensor: Option<i64>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    /// When the first run that returned it ran (the scheduler's time).
    found_at: DateTime<Utc>,
}

fn add(
    alerts: &mut BTreeMap<String, Alert>,
    findings: &[Finding],
    run_at: DateTime<Utc>,
    seen_until: DateTime<Utc>,
) {
    for f in findings {
        let end = f.end.unwrap_or(seen_until);
        alerts
            .entry(f.dedupe_key())
            .and_modify(|a| a.end = a.end.max(end))
            .or_insert(Alert {
                rule: f.rule,
                store: f.store_id,
                sensor: f.sensor_id,
                start: f.start,
                end,
                found_at: run_at,
            });
    }
}

fn matches(a: &Alert, i: &Incident) -> bool {
    a.rule == i.kind.rule()
        && a.store == i64::from(i.store_id)
        && (!i.kind.is_sensor() || a.sensor == i.sensor_id.map(i64::from))
        && a.start < i.end
        && i.start < a.end
}

/// When the issue expects an incident to be flagged: silent, the run after its third
/// missing open hour; a closure or an event, the nightly run of that day (03:00 next day).
fn expected_at(i: &Incident) -> Option<DateTime<Utc>> {
    let (date, hour) = i.local_start();
    match i.kind {
        IncidentKind::SensorSilent => {
            let mut slot = HourSlot::new(date, hour)?;
            let mut n = 0;
            loop {
                if is_open_day(slot.date) && OPENING_HOURS.contains(&slot.hour) {
                    n += 1;
                    if n == 3 {
                        return Some(slot.start_utc() + Duration::hours(1));
                    }
                }
                slot = if slot.hour == 23 {
                    HourSlot::new(slot.date.succ_opt()?, 0)?
                } else {
                    HourSlot::new(slot.date, slot.hour + 1)?
                };
            }
        }
        IncidentKind::StoreClosed | IncidentKind::EventDay => {
            Some(pipeline::ledger::transform_due_at(date))
        }
        _ => None,
    }
}

#[derive(Default)]
struct Timing {
    runs: u64,
    total_ms: f64,
    max_ms: f64,
}

impl Timing {
    fn add(&mut self, ms: f64) {
        self.runs += 1;
        self.total_ms += ms;
        self.max_ms = self.max_ms.max(ms);
    }
    fn mean(&self) -> f64 {
        if self.runs == 0 {
            0.0
        } else {
            self.total_ms / self.runs as f64
        }
    }
}

/// Which partitions of a job [`ledger_mean`] averages over.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Parts {
    /// Hour partitions (`2025-11-03T10`).
    Hours,
    /// Day partitions (`2025-11-03`).
    Days,
}

/// Mean ledger duration (ms) per partition of `job` of kind `parts` whose key starts with a
/// day in `from..=to`.
async fn ledger_mean(
    wh: &Warehouse,
    job: &str,
    parts: Parts,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<(f64, i64), Box<dyn std::error::Error>> {
    let sql = "SELECT partition, duration_ms FROM job_ledger WHERE job = $1 AND status = 'done'";
    let rows: Vec<(String, Option<i64>)> = match wh {
        Warehouse::Sqlite(p) => {
            sqlx::query_as(&sql.replace('$', "?"))
                .bind(job)
                .fetch_all(p)
                .await?
        }
        Warehouse::Postgres(p) => sqlx::query_as(sql).bind(job).fetch_all(p).await?,
    };
    let (from, to) = (from.to_string(), to.to_string());
    let v: Vec<i64> = rows
        .into_iter()
        .filter(|(part, _)| part.len() >= 10 && part[..10] >= *from && part[..10] <= *to)
        .filter(|(part, _)| (part.len() > 10) == (parts == Parts::Hours))
        .filter_map(|(_, d)| d)
        .collect();
    let n = v.len() as i64;
    Ok((
        if n == 0 {
            0.0
        } else {
            v.iter().sum::<i64>() as f64 / n as f64
        },
        n,
    ))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    pipeline::memory::limit_malloc_arenas();
    let usage = "usage: bench_alerts DIR FROM TO [--stores N] [--original] [--incidents on|off] [--history-days D] [--stateless]";
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().ok_or(usage)?);
    let from: NaiveDate = args.next().ok_or(usage)?.parse()?;
    let to: NaiveDate = args.next().ok_or(usage)?.parse()?;
    let (mut stores, mut profile, mut incidents, mut history_days) =
        (None, Profile::Default, Incidents::On, 84i64);
    let mut stateless = false;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--stores" => stores = Some(args.next().ok_or(usage)?.parse::<u32>()?),
            "--original" => profile = Profile::Original,
            "--incidents" => incidents = args.next().ok_or(usage)?.parse()?,
            "--history-days" => history_days = args.next().ok_or(usage)?.parse()?,
            "--stateless" => stateless = true,
            _ => return Err(usage.into()),
        }
    }
    let reference = Arc::new(match stores {
        Some(n) => Reference::synthetic(n, 360)?,
        None => Reference::embedded(),
    });
    let simulator = Simulator::with_profile(reference.clone(), profile).with_incidents(incidents);
    println!(
        "chain: {} stores, {} sensors; profile {profile}, incidents {}; scored {from} → {to}, history from {}",
        reference.stores().len(),
        reference.sensor_count(),
        if simulator.has_incidents() { "on" } else { "off" },
        from - Duration::days(history_days)
    );
    let warehouse = Warehouse::open_in_dir(&dir).await?;
    let pipeline = Pipeline::new(
        Arc::new(simulator.clone()),
        Lake::local(&dir.join("lake"))?,
        warehouse.clone(),
        Arc::new(SystemClock),
        PipelineConfig::default(),
    );
    let started = Instant::now();
    let summary = pipeline
        .backfill(
            from - Duration::days(history_days),
            to,
            RunOptions::default(),
            &|_| {},
        )
        .await?;
    println!(
        "backfill: {} partitions done now, {} failed, in {:.1} s",
        summary.total_done(),
        summary.total_failed(),
        started.elapsed().as_secs_f64()
    );

    // Replay detection as the scheduler runs it.
    let params = DetectParams::default();
    let mut alerts: BTreeMap<String, Alert> = BTreeMap::new();
    let (mut hourly_t, mut nightly_t) = (Timing::default(), Timing::default());
    // What the alerts store hands back to the next hourly run: the open data-health alerts.
    let mut open: Vec<Finding> = Vec::new();
    let mut day = from;
    while day <= to {
        if is_open_day(day) {
            for hour in OPENING_HOURS {
                let upto = HourSlot::new(day, hour).ok_or("slot")?.start_utc() + Duration::hours(1);
                let t = Instant::now();
                let found = if stateless {
                    detect::hourly(&warehouse, &reference, upto, &params).await?
                } else {
                    detect::hourly_continuing(&warehouse, &reference, upto, &open, &params).await?
                };
                hourly_t.add(t.elapsed().as_secs_f64() * 1e3);
                open.clone_from(&found);
                add(&mut alerts, &found, upto, upto);
            }
            let run_at = pipeline::ledger::transform_due_at(day);
            let t = Instant::now();
            let found = detect::nightly(&warehouse, &reference, day, &params).await?;
            nightly_t.add(t.elapsed().as_secs_f64() * 1e3);
            let day_end = HourSlot::new(day, 20).ok_or("slot")?.start_utc();
            add(&mut alerts, &found, run_at, day_end);
        }
        day = day.succ_opt().ok_or("date")?;
    }

    // The truth inside the scored period.
    let lo = HourSlot::new(from, 0).ok_or("slot")?.start_utc();
    let hi = HourSlot::new(to.succ_opt().ok_or("date")?, 0)
        .ok_or("slot")?
        .start_utc();
    let truth: Vec<Incident> = simulator
        .incidents(from, to)
        .into_iter()
        .filter(|i| i.start >= lo && i.end <= hi)
        .collect();
    let alerts: Vec<Alert> = alerts.into_values().collect();

    println!("\nincidents {} , alerts {}", truth.len(), alerts.len());
    let mut per_kind: BTreeMap<&str, (u32, u32)> = BTreeMap::new();
    let mut late: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut missed = Vec::new();
    for i in &truth {
        let found: Vec<&Alert> = alerts.iter().filter(|a| matches(a, i)).collect();
        let e = per_kind.entry(i.kind.key()).or_default();
        e.1 += 1;
        if found.is_empty() {
            missed.push(i);
            continue;
        }
        e.0 += 1;
        if let Some(expected) = expected_at(i) {
            let first = found.iter().map(|a| a.found_at).min().ok_or("found")?;
            late.entry(i.kind.key())
                .or_default()
                .push((first - expected).num_minutes() as f64 / 60.0);
        }
    }
    let (hit, all): (u32, u32) = per_kind
        .values()
        .fold((0, 0), |(h, n), (a, b)| (h + a, n + b));
    println!(
        "recall overall: {hit}/{all} = {:.1} %",
        100.0 * hit as f64 / all.max(1) as f64
    );
    for (k, (h, n)) in &per_kind {
        println!(
            "  {k:<18} {h}/{n} = {:.1} %",
            100.0 * *h as f64 / (*n).max(1) as f64
        );
    }
    // An alert near the edges may match an incident partly outside the period: not false.
    let wider = simulator.incidents(from - Duration::days(30), to + Duration::days(30));
    let false_alerts: Vec<&Alert> = alerts
        .iter()
        .filter(|a| !wider.iter().any(|i| matches(a, i)))
        .collect();
    let true_alerts = alerts.len() - false_alerts.len();
    println!(
        "precision: {true_alerts}/{} = {:.1} %",
        alerts.len(),
        100.0 * true_alerts as f64 / alerts.len().max(1) as f64
    );
    let months = ((to - from).num_days() + 1) as f64 / (365.25 / 12.0);
    println!(
        "false alerts: {} = {:.3} per store per month ({} stores, {:.2} months)",
        false_alerts.len(),
        false_alerts.len() as f64 / reference.stores().len() as f64 / months,
        reference.stores().len(),
        months
    );
    let mut false_by_rule: BTreeMap<&str, u32> = BTreeMap::new();
    for a in &false_alerts {
        *false_by_rule.entry(a.rule.key()).or_default() += 1;
    }
    for (r, n) in &false_by_rule {
        println!("  false {r:<18} {n}");
    }
    let mut shown = false_alerts.clone();
    // The rarer false rules first.
    shown.sort_by_key(|a| (a.rule == Rule::SensorSilent, a.start));
    for a in shown.iter().take(12) {
        println!(
            "    e.g. {} store {} sensor {:?} {} → {}",
            a.rule, a.store, a.sensor, a.start, a.end
        );
    }
    for (k, v) in &late {
        let on_time = v.iter().filter(|h| **h <= 0.0).count();
        let max = v.iter().copied().fold(f64::MIN, f64::max);
        println!(
            "latency {k:<18} on time {on_time}/{} (latest {max:+.1} h vs expected)",
            v.len()
        );
    }
    for i in missed.iter().take(12) {
        println!(
            "  missed {} store {} sensor {:?} {} → {} factor {:?}",
            i.kind, i.store_id, i.sensor_id, i.start, i.end, i.factor
        );
    }

    // Cost against the jobs' own time (ledger), over the scored days.
    let (collect, nc) = ledger_mean(&warehouse, "collect", Parts::Hours, from, to).await?;
    let (ingest, ni) = ledger_mean(&warehouse, "ingest", Parts::Hours, from, to).await?;
    let (transform, nt) = ledger_mean(&warehouse, "transform", Parts::Days, from, to).await?;
    // The detect job as the backfill ran it (ledger): detection, the alerts store's update
    // and the open alerts read, per hour (every hour, as collect and ingest) and per day.
    let (job_hour, njh) = ledger_mean(&warehouse, "detect", Parts::Hours, from, to).await?;
    let (job_day, njd) = ledger_mean(&warehouse, "detect", Parts::Days, from, to).await?;
    println!(
        "\ncost (detect job, ledger): per hour {job_hour:.2} ms ({njh} hours) against collect {collect:.2} + ingest {ingest:.2} ms ({nc}/{ni} hours) → {:.1} %",
        100.0 * job_hour / (collect + ingest).max(1e-9)
    );
    println!(
        "cost (detect job, ledger): per day {job_day:.1} ms ({njd} days) against the transform's {transform:.1} ms ({nt} days) → {:.1} %",
        100.0 * job_day / transform.max(1e-9)
    );
    println!(
        "replay (detection functions alone, open hours only): hourly {} runs, mean {:.2} ms, max {:.1} ms; nightly {} runs, mean {:.1} ms, max {:.1} ms",
        hourly_t.runs,
        hourly_t.mean(),
        hourly_t.max_ms,
        nightly_t.runs,
        nightly_t.mean(),
        nightly_t.max_ms,
    );
    warehouse.close().await;
    Ok(())
}
