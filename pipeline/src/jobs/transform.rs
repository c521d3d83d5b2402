//! Transform: one Paris day from `raw.*` into `analytics.*` through the cleaning rules,
//! replacing the day's analytics rows, rollups and quality figures in one transaction.

use chrono::NaiveDate;

use super::{JobError, Pipeline};
use crate::availability;
use crate::cleaning::history::History;
use crate::cleaning::rules::DayInput;
use crate::cleaning::{self, transactions::sales_may_need_filling};
use crate::clock::HourSlot;
use crate::runs::Job;

impl Pipeline {
    /// Transforms one day; returns (raw rows read, analytics rows written). A day outside
    /// the service's range (before 2021-01-01 or after the last complete hour) is refused;
    /// today is cleaned up to its last complete hour, never beyond.
    pub async fn transform(&self, date: NaiveDate) -> Result<(i64, i64), JobError> {
        let now = self.clock.now();
        if !availability::in_service_range(date, None, now) {
            return Err(JobError::OutsideServiceRange { date });
        }
        let latest = HourSlot::latest_available(now);
        let last_hour = (latest.date == date).then_some(latest.hour);
        let started = std::time::Instant::now();
        // The raw day and the visitors' history at once (two connections, two tasks: the
        // raw read holds its thread, see `sqlite_direct`); the sales history only when a
        // sales slot may need filling, which the raw rows tell.
        let dates = History::dates_for(date);
        let warehouse = self.warehouse.clone();
        let raw = tokio::spawn(async move { warehouse.raw_day(date).await });
        let (raw, mut history) = tokio::try_join!(
            async {
                raw.await
                    .map_err(JobError::task("raw read"))?
                    .map_err(JobError::from)
            },
            async { Ok(self.warehouse.sensor_history(&dates).await?) }
        )?;
        let read = started.elapsed();
        let with_sales = sales_may_need_filling(
            self.simulator.reference(),
            date,
            &raw.transactions,
            last_hour,
        );
        if with_sales {
            self.warehouse
                .add_sales_history(&dates, &mut history)
                .await?;
        }
        let history_read = started.elapsed();
        let rows_in = (raw.visitors.len() + raw.transactions.len()) as i64;
        let sim = self.simulator.clone();
        let day = tokio::task::spawn_blocking(move || {
            cleaning::clean_day_with(
                sim.reference(),
                date,
                &DayInput {
                    visitors: &raw.visitors,
                    visitor_sources: &raw.visitor_sources,
                    transactions: &raw.transactions,
                    transaction_sources: &raw.transaction_sources,
                    history: &history,
                    last_hour,
                },
            )
        })
        .await
        .map_err(JobError::task(Job::Transform.key()))??;
        let cleaned = started.elapsed();
        let rows_out = (day.visitors.len() + day.transactions.len()) as i64;
        self.warehouse
            .replace_analytics_day(date, &day.visitors, &day.transactions, &day.quality)
            .await?;
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
        tracing::debug!(
            %date,
            rows_in,
            rows_out,
            read_ms = ms(read),
            with_sales,
            sales_history_ms = ms(history_read - read),
            clean_ms = ms(cleaned - history_read),
            write_ms = ms(started.elapsed() - cleaned),
            "day transformed"
        );
        Ok((rows_in, rows_out))
    }
}
