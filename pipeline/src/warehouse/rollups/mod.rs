//! The dashboard's day-level rollups (`analytics.sensor_days`, `.store_days`,
//! `.store_months`, `.chain_hours`, `.sensors`, `.sensor_months`; see migrations 0004, 0005
//! for revenue in integer cents, and 0006): how they are derived from the analytics
//! rows, and how a query reads an hour range out of their cumulative hour columns.
//!
//! They are rebuilt for a date range by SQL over `analytics.visiteurs` and
//! `analytics.store_hours`, inside the transaction that writes those rows (the nightly
//! transform). When a warehouse is opened, days that have analytics rows but no rollups
//! (written before the rollups existed, or by an older binary) get theirs, a day per
//! transaction. They live in the analytics database, beside the rows they summarise.

pub mod derive;
pub mod query;
pub mod sql;
#[cfg(test)]
mod tests;
pub mod write;
