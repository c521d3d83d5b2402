//! Server side of the pipeline page: the ledger, missing partitions and quality figures.

use std::collections::BTreeMap;

use chrono::Duration;
use pipeline::clock::HourSlot;
use pipeline::jobs::reconcile::transform_due_at;
use pipeline::warehouse::ledger::{Job, LedgerEntry, RunStatus};

use crate::services::Services;
use crate::wire::{PipelineStatus, QualityDay, RunRow};

/// Days checked for missing partitions.
const CHECK_DAYS: i64 = 14;

fn row(e: LedgerEntry) -> RunRow {
    RunRow {
        job: e.job,
        partition: e.partition,
        status: e.status.name().to_string(),
        attempts: e.attempts,
        rows: e.rows_out,
        duration_ms: e.duration_ms,
        started_at: e.started_at.map(|t| {
            t.with_timezone(&pipeline::PARIS)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        }),
        error: e.error,
        next_attempt_at: e.next_attempt_at.map(|t| {
            t.with_timezone(&pipeline::PARIS)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        }),
    }
}

pub async fn load(services: &Services) -> Result<PipelineStatus, String> {
    let w = services.warehouse.as_ref().ok_or("no warehouse")?;
    let e = |e: pipeline::warehouse::WarehouseError| e.to_string();
    let now = services.clock.now();
    let latest = HourSlot::latest_available(now);
    let to = latest.date;
    let from = to - Duration::days(CHECK_DAYS - 1);
    let (lo, hi) = (format!("{from}T00"), format!("{to}T23"));
    let collect = w.ledger_states(Job::Collect, &lo, &hi).await.map_err(e)?;
    let ingest = w.ledger_states(Job::Ingest, &lo, &hi).await.map_err(e)?;
    let transform = w
        .ledger_states(Job::Transform, &from.to_string(), &to.to_string())
        .await
        .map_err(e)?;
    let done =
        |m: &std::collections::HashMap<String, pipeline::warehouse::ledger::PartitionState>,
         k: &str| { m.get(k).is_some_and(|s| s.status == RunStatus::Done) };
    let mut missing = Vec::new();
    let mut d = from;
    while d <= to {
        for slot in HourSlot::hours_of_day(d).filter(|s| *s <= latest) {
            let k = slot.key();
            if !done(&collect, &k) {
                missing.push(format!("collect {k}"));
            } else if !done(&ingest, &k) {
                missing.push(format!("ingest {k}"));
            }
        }
        if now >= transform_due_at(d) && !done(&transform, &d.to_string()) {
            missing.push(format!("transform {d}"));
        }
        d = d.succ_opt().unwrap_or(to + Duration::days(1));
    }
    let mut by_day: BTreeMap<String, QualityDay> = BTreeMap::new();
    for (date, _feed, rule, count) in w.quality_range(from, to).await.map_err(e)? {
        let q = by_day
            .entry(date.to_string())
            .or_insert_with(|| QualityDay {
                date: date.to_string(),
                rows_in: 0,
                nulls_dropped: 0,
                outliers_replaced: 0,
                slots_filled: 0,
                unfillable: 0,
                other_dropped: 0,
            });
        match rule.as_str() {
            "rows_in" => q.rows_in += count,
            "null_dropped" => q.nulls_dropped += count,
            "outlier_high" | "outlier_low" => q.outliers_replaced += count,
            "slots_filled" => q.slots_filled += count,
            "unfillable" => q.unfillable += count,
            "rows_out" => {}
            _ => q.other_dropped += count,
        }
    }
    Ok(PipelineStatus {
        summary: w.ledger_summary().await.map_err(e)?,
        recent: w
            .ledger_recent(None, 40)
            .await
            .map_err(e)?
            .into_iter()
            .map(row)
            .collect(),
        failed: w
            .ledger_recent(Some(RunStatus::Failed), 40)
            .await
            .map_err(e)?
            .into_iter()
            .map(row)
            .collect(),
        missing,
        quality: by_day.into_values().rev().collect(),
        checked_from: from.to_string(),
        checked_to: to.to_string(),
    })
}
