//! Transform: one Paris day from `raw.*` into `analytics.*` through the cleaning rules,
//! replacing the day's analytics rows and quality figures in one transaction.

use chrono::NaiveDate;

use super::{JobError, Pipeline};
use crate::cleaning;

impl Pipeline {
    /// Transforms one day; returns (raw rows read, analytics rows written).
    pub async fn transform(&self, date: NaiveDate) -> Result<(i64, i64), JobError> {
        let (visitors, transactions) = self.warehouse.raw_rows_for_date(date).await?;
        let rows_in = (visitors.len() + transactions.len()) as i64;
        let sim = self.simulator.clone();
        let day = tokio::task::spawn_blocking(move || {
            cleaning::clean_day(sim.reference(), date, &visitors, &transactions)
        })
        .await
        .map_err(|e| JobError::Other(format!("transform task failed: {e}")))??;
        let rows_out = (day.visitors.len() + day.transactions.len()) as i64;
        self.warehouse
            .replace_analytics_day(date, &day.visitors, &day.transactions, &day.quality)
            .await?;
        Ok((rows_in, rows_out))
    }
}
