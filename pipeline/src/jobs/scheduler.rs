//! The clock that wakes the reconciler: tokio-cron-scheduler in Paris time, hourly at :05
//! (collect + ingest of the previous hour), nightly at 03:00 (transform of the previous
//! day), every 10 minutes for retries, and once at start-up. Each wake runs whatever the
//! ledger says is due, so a missed tick loses nothing. Every minute, the leader also sends
//! the alert deliveries that are due (retries with backoff; see `alerts::delivery`).

use tokio_cron_scheduler::{Job as CronJob, JobScheduler, JobSchedulerError};

use super::Pipeline;
use crate::clock::PARIS;

/// The wake-up times (seconds, minutes, hours, day, month, weekday), Paris local time.
pub const SCHEDULES: [(&str, &str); 3] = [
    ("hourly collect and ingest", "0 5 * * * *"),
    ("nightly transform", "0 0 3 * * *"),
    ("retries", "0 */10 * * * *"),
];

/// When due alert deliveries (retries) are sent: every minute.
pub const DELIVERY_SCHEDULE: &str = "0 * * * * *";

/// Starts the scheduler and an immediate reconciliation; keep the returned scheduler alive
/// and call `shutdown` on it to stop.
pub async fn start(
    pipeline: Pipeline,
    backfill_days: u32,
) -> Result<JobScheduler, JobSchedulerError> {
    let scheduler = JobScheduler::new().await?;
    for (name, cron) in SCHEDULES {
        let pipeline = pipeline.clone();
        let job = CronJob::new_async_tz(cron, PARIS, move |_id, _scheduler| {
            let pipeline = pipeline.clone();
            Box::pin(async move {
                tracing::debug!(wake = name, "scheduler tick");
                if let Err(e) = pipeline.reconcile(backfill_days).await {
                    tracing::error!(wake = name, error = %e, "reconciliation failed");
                }
            })
        })?;
        scheduler.add(job).await?;
    }
    let deliveries = pipeline.clone();
    let job = CronJob::new_async_tz(DELIVERY_SCHEDULE, PARIS, move |_id, _scheduler| {
        let pipeline = deliveries.clone();
        Box::pin(async move {
            match pipeline.leadership.acquire(&pipeline.warehouse).await {
                Ok(true) => {
                    if let Err(e) = pipeline.deliver_alerts().await {
                        tracing::warn!(error = %e, "alert deliveries failed; the next tick retries");
                    }
                }
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "cannot check the job lock for deliveries"),
            }
        })
    })?;
    scheduler.add(job).await?;
    scheduler.start().await?;
    tokio::spawn(async move {
        tracing::info!("start-up reconciliation (catches up anything missed)");
        if let Err(e) = pipeline.reconcile(backfill_days).await {
            tracing::error!(error = %e, "start-up reconciliation failed");
        }
    });
    Ok(scheduler)
}
