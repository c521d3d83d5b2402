//! Detection: after each hour's ingest, data health (`alerts::detect::hourly`, an hour
//! partition); after each day's transform, anomalies (`alerts::detect::nightly`, a day
//! partition). Each run's findings are applied to the alerts store (open, refresh, resolve;
//! see `warehouse::alerts`), which is idempotent: the ledger retries a failed run, and
//! re-running a partition changes nothing. A run about data older than
//! [`DELIVERY_WINDOW`] records its alerts without sending them: a first start's backfill
//! of three weeks, or a long catch-up, does not flood anyone with history.

use std::collections::HashMap;

use chrono::Duration;

use super::{JobError, Pipeline};
use crate::alerts::delivery::DeliveryReport;
use crate::alerts::detect::{self as detection, params::DetectParams};
use crate::alerts::finding::{Finding, Rule};
use crate::calendar::{is_open_day, is_open_hour};
use crate::ledger::Partition;
use crate::warehouse::alerts::{Applied, DetectionRun};
use crate::warehouse::WarehouseError;

/// Runs about data older than this (from the end of their partition) do not send digests.
pub const DELIVERY_WINDOW: Duration = Duration::hours(24);

/// The detection run of a partition: its name, the end of its data, and the rules it
/// checks (data health for hours, anomalies for days).
pub fn detection_run(partition: Partition) -> DetectionRun {
    let hourly = matches!(partition, Partition::Hour(_));
    DetectionRun {
        name: format!("detect:{}", partition.key()),
        as_of: partition.end_utc(),
        rules: Rule::ALL
            .into_iter()
            .filter(|r| r.is_data_health() == hourly)
            .collect(),
    }
}

impl Pipeline {
    /// Runs the detection of `partition` (data health for an hour, anomalies for a day)
    /// and applies its findings (see [`Pipeline::record_detection`]). Returns (findings,
    /// alerts opened) for the ledger.
    pub async fn detect(&self, partition: Partition) -> Result<(i64, i64), JobError> {
        let reference = self.simulator.reference();
        let params = DetectParams::default();
        let findings = match partition {
            // A closed hour brings no reading that the rules look at: the run after the
            // last open hour has already found everything there is.
            Partition::Hour(slot) if !(is_open_day(slot.date) && is_open_hour(slot.hour)) => {
                return Ok((0, 0));
            }
            Partition::Hour(_) => {
                // The conditions still open continue from where the alerts store says they
                // began: a run reads the latest few hours, not back to each start.
                let rules = detection_run(partition).rules;
                let open = self.warehouse.unresolved_findings(&rules).await?;
                detection::hourly_continuing(
                    &self.warehouse,
                    reference,
                    partition.end_utc(),
                    &open,
                    &params,
                )
                .await?
            }
            Partition::Day(date) => {
                detection::nightly(&self.warehouse, reference, date, &params).await?
            }
        };
        let applied = self.record_detection(partition, &findings).await?;
        Ok((findings.len() as i64, applied.opened as i64))
    }

    /// Applies `findings` as the detection run of `partition` found them, and queues their
    /// digests when the run is recent (see [`DELIVERY_WINDOW`]). Returns what changed.
    pub async fn record_detection(
        &self,
        partition: Partition,
        findings: &[Finding],
    ) -> Result<Applied, WarehouseError> {
        let now = self.clock.now();
        let run = detection_run(partition);
        let applied = self.warehouse.apply_findings(&run, findings, now).await?;
        // Queued whenever the run is recent, not only when this call opened alerts: a run
        // cut short after opening them, then re-run, still queues their digests (once).
        if now.signed_duration_since(run.as_of) <= DELIVERY_WINDOW {
            let names: HashMap<i64, String> = self
                .simulator
                .reference()
                .stores()
                .iter()
                .map(|s| (i64::from(s.store_id), s.city_store.clone()))
                .collect();
            let queued = self
                .warehouse
                .enqueue_digests(&run.name, &names, now)
                .await?;
            tracing::debug!(run = %run.name, queued, "alert digests queued");
        }
        // A change people care about (opened or resolved) at info; the hourly refresh of
        // conditions that last, at debug (a backfill would log one line per hour).
        if applied.opened > 0 || applied.resolved > 0 {
            tracing::info!(
                run = %run.name,
                opened = applied.opened,
                silenced = applied.silenced,
                refreshed = applied.refreshed,
                resolved = applied.resolved,
                "alerts updated"
            );
        } else if applied.refreshed > 0 {
            tracing::debug!(run = %run.name, refreshed = applied.refreshed, "alerts refreshed");
        }
        Ok(applied)
    }

    /// Sends the alert deliveries that are due (digests, retries, tests); nothing when
    /// this process has no deliverer.
    pub async fn deliver_alerts(&self) -> Result<DeliveryReport, WarehouseError> {
        match &self.delivery {
            Some(d) => d.deliver_due(&self.warehouse, self.clock.now()).await,
            None => Ok(DeliveryReport::default()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn partition_ends_in_utc_across_dst() {
        let d = |s: &str| s.parse::<NaiveDate>().expect("date");
        let hour =
            |date, h| Partition::Hour(crate::clock::HourSlot::new(d(date), h).expect("slot"));
        // Winter: Paris = UTC+1.
        assert_eq!(
            hour("2025-01-14", 10).end_utc().to_rfc3339(),
            "2025-01-14T10:00:00+00:00"
        );
        // Summer: UTC+2.
        assert_eq!(
            hour("2025-07-14", 10).end_utc().to_rfc3339(),
            "2025-07-14T09:00:00+00:00"
        );
        // The spring change day ends at 22:00 UTC (23 hours long).
        assert_eq!(
            Partition::Day(d("2025-03-30")).end_utc().to_rfc3339(),
            "2025-03-30T22:00:00+00:00"
        );
        let run = detection_run(hour("2025-01-14", 10));
        assert_eq!(run.name, "detect:2025-01-14T10");
        assert!(run.rules.iter().all(|r| r.is_data_health()));
        let night = detection_run(Partition::Day(d("2025-01-14")));
        assert!(night.rules.iter().all(|r| !r.is_data_health()));
        assert_eq!(run.rules.len() + night.rules.len(), Rule::ALL.len());
    }
}
