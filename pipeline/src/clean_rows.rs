//! The cleaning's output: clean, typed rows of a day, its store-hour rollup rows and
//! its quality figures. Domain types: the cleaning rules produce them, the warehouse
//! stores them (`warehouse::analytics`), neither depends on the other for them.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CleanVisitor {
    pub store_id: i32,
    pub sensor_id: i32,
    pub date: NaiveDate,
    pub hour: u32,
    pub nb_visiteurs: i32,
    /// True when the slot had no valid reading and was filled (following the daily shape).
    pub imputed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CleanTransaction {
    pub store_id: i32,
    pub date: NaiveDate,
    pub hour: u32,
    pub nb_transactions: i32,
    /// Revenue in integer cents (exact; the API shows euros with two decimals).
    pub chiffre_affaires_centimes: i64,
    pub imputed: bool,
}

/// One daily quality figure: how many rows a cleaning rule touched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QualityFigure {
    pub feed: String,
    pub rule: String,
    pub count: i64,
}

/// One store-hour of the rollup `analytics.store_hours`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoreHourRollup {
    pub store_id: i32,
    pub date: NaiveDate,
    pub hour: u32,
    /// All the store's sensors.
    pub visitors: i64,
    pub transactions: i64,
    /// Revenue in integer cents.
    pub revenue_cents: i64,
}

/// Row counts and sums of the analytics tables: a cheap fingerprint of their content
/// (tests, benchmarks).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnalyticsTotals {
    pub visitor_rows: i64,
    /// Σ visitors.
    pub visitors: i64,
    pub transaction_rows: i64,
    /// Σ transactions.
    pub transactions: i64,
    /// Σ revenue in cents.
    pub revenue_cents: i64,
}
