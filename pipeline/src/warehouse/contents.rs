//! What the pipeline keeps in the warehouse, counted and cleared: what `rebuild` checks
//! before it writes (and, told to, deletes). Accounts, sessions, the audit log and any
//! other table the pipeline does not write are never touched here.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::Serialize;

use super::{Warehouse, WarehouseError};
use crate::spelling::parse_date;

/// The tables the pipeline writes and `rebuild` recreates from the lake, children first.
pub const PIPELINE_TABLES: &[&str] = &[
    "raw.visiteurs",
    "raw.transactions",
    "raw.imports",
    "analytics.visiteurs",
    "analytics.transactions",
    "analytics.quality",
    "analytics.store_hours",
    "analytics.chain_hours",
    "analytics.store_days",
    "analytics.store_months",
    "analytics.sensor_days",
    "analytics.sensor_months",
    "analytics.sensors",
    "job_ledger",
];

/// How many rows the pipeline's tables hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PipelineContents {
    pub raw_rows: i64,
    pub imports: i64,
    pub analytics_rows: i64,
    pub ledger_rows: i64,
}

impl PipelineContents {
    pub fn is_empty(&self) -> bool {
        self.raw_rows == 0 && self.imports == 0 && self.analytics_rows == 0 && self.ledger_rows == 0
    }
}

impl std::fmt::Display for PipelineContents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} raw rows, {} imported files, {} analytics rows, {} ledger rows",
            self.raw_rows, self.imports, self.analytics_rows, self.ledger_rows
        )
    }
}

impl Warehouse {
    async fn count(&self, table: &str) -> Result<i64, WarehouseError> {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        Ok(per_backend!(self, &sql, |q, p| {
            sqlx::query_scalar::<_, i64>(q).fetch_one(p).await?
        }))
    }

    /// Rows in the pipeline's tables (raw, imports, analytics' hourly rows, the ledger).
    pub async fn pipeline_contents(&self) -> Result<PipelineContents, WarehouseError> {
        Ok(PipelineContents {
            raw_rows: self.count("raw.visiteurs").await? + self.count("raw.transactions").await?,
            imports: self.count("raw.imports").await?,
            analytics_rows: self.count("analytics.visiteurs").await?
                + self.count("analytics.transactions").await?,
            ledger_rows: self.count("job_ledger").await?,
        })
    }

    /// Deletes every row of [`PIPELINE_TABLES`] and the pipeline's first day, in one
    /// transaction per engine's schema rules (accounts and the audit log stay).
    pub async fn clear_pipeline_data(&self) -> Result<(), WarehouseError> {
        let mut statements: Vec<String> = PIPELINE_TABLES
            .iter()
            .map(|t| format!("DELETE FROM {t}"))
            .collect();
        statements.push(format!(
            "DELETE FROM pipeline_settings WHERE key = '{}'",
            crate::ledger::START_SETTING
        ));
        match self {
            Warehouse::Sqlite(p) => {
                let mut tx = p.begin().await?;
                for sql in &statements {
                    sqlx::query(sql).execute(&mut *tx).await?;
                }
                tx.commit().await?;
            }
            Warehouse::Postgres(p) => {
                let mut tx = p.begin().await?;
                for sql in &statements {
                    sqlx::query(sql).execute(&mut *tx).await?;
                }
                tx.commit().await?;
            }
        }
        Ok(())
    }

    /// Removes a pipeline setting.
    pub async fn remove_setting(&self, key: &str) -> Result<(), WarehouseError> {
        let sql = "DELETE FROM pipeline_settings WHERE key = $1";
        per_backend!(self, sql, |q, p| {
            sqlx::query(q).bind(key).execute(p).await?;
        });
        Ok(())
    }

    /// The days a raw lot has rows about, whichever spelling their dates use.
    pub async fn lot_days(&self, lot: &str) -> Result<Vec<NaiveDate>, WarehouseError> {
        let sql = "SELECT DISTINCT date FROM raw.visiteurs WHERE lot = $1 \
                   UNION SELECT DISTINCT date FROM raw.transactions WHERE lot = $1";
        let dates: Vec<String> = per_backend!(self, sql, |q, p| sqlx::query_scalar(q)
            .bind(lot)
            .fetch_all(p)
            .await?);
        let days: BTreeSet<NaiveDate> = dates.iter().filter_map(|d| parse_date(d)).collect();
        Ok(days.into_iter().collect())
    }
}
