//! Types that cross the wire between the server functions and the browser. They compile
//! to wasm, so they hold plain data only (no database or dataframe types).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoreInfo {
    pub store_id: u32,
    pub city_store: String,
    pub sensors: u32,
}

/// What the home page needs to draw its simulator form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HomeData {
    pub stores: Vec<StoreInfo>,
    /// The most recent open day whose hours are all available, `YYYY-MM-DD`.
    pub default_date: String,
    /// First date the simulator serves, `YYYY-MM-DD`.
    pub first_date: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SensorValue {
    pub sensor_id: u32,
    pub visiteurs: Option<i64>,
}

/// One store-hour as the simulator sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HourSnapshot {
    pub city_store: String,
    pub date: String,
    pub heure: String,
    pub is_closed: bool,
    pub sensors: Vec<SensorValue>,
    pub transactions: Option<i64>,
    pub chiffre_affaires: Option<f64>,
}

/// The dashboard's filters as they appear in the URL (`?store=1&sensors=2&sensors=5&from=…`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DashboardQuery {
    /// Store id, or none for all stores.
    pub store: Option<u32>,
    /// Sensor ids of the selected store; empty means all.
    pub sensors: Vec<u32>,
    /// `YYYY-MM-DD`
    pub from: Option<String>,
    /// `YYYY-MM-DD`
    pub to: Option<String>,
    pub h0: Option<u32>,
    pub h1: Option<u32>,
    /// `fr` or `en`
    pub lang: String,
}

/// The filters the server applied (defaults filled in).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppliedFilter {
    pub store: Option<u32>,
    pub sensors: Vec<u32>,
    pub from: String,
    pub to: String,
    pub h0: u32,
    pub h1: u32,
    pub previous_from: String,
    pub previous_to: String,
}

/// One KPI with its change against the previous period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpiCard {
    /// Stable id: visitors, active_sensors, transactions, revenue, conversion,
    /// average_ticket, revenue_per_visitor.
    pub id: String,
    pub label: String,
    pub value: Option<f64>,
    pub display: String,
    pub previous: Option<f64>,
    /// Relative change, e.g. 0.12 for +12 %.
    pub change: Option<f64>,
    pub change_display: String,
}

/// A chart drawn on the server (SVG), or the reason it is empty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartSvg {
    pub id: String,
    pub title: String,
    pub svg: Option<String>,
    pub empty_message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DashboardData {
    pub filter: AppliedFilter,
    pub stores: Vec<StoreInfo>,
    /// Sensor ids of the selected store.
    pub store_sensors: Vec<u32>,
    pub kpis: Vec<KpiCard>,
    pub charts: Vec<ChartSvg>,
    /// First and last day with analytics data.
    pub data_from: Option<String>,
    pub data_to: Option<String>,
    /// A problem with the filters, in the page's language.
    pub error: Option<String>,
}

/// One ledger row for the pipeline page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRow {
    pub job: String,
    pub partition: String,
    pub status: String,
    pub attempts: i32,
    pub rows: Option<i64>,
    pub duration_ms: Option<i64>,
    pub started_at: Option<String>,
    pub error: Option<String>,
    pub next_attempt_at: Option<String>,
}

/// Daily quality figures for the pipeline page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityDay {
    pub date: String,
    pub rows_in: i64,
    pub nulls_dropped: i64,
    pub outliers_replaced: i64,
    pub slots_filled: i64,
    pub unfillable: i64,
    pub other_dropped: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineStatus {
    /// (job, status, count)
    pub summary: Vec<(String, String, i64)>,
    pub recent: Vec<RunRow>,
    pub failed: Vec<RunRow>,
    /// Partitions due but not done in the last days (`job partition`).
    pub missing: Vec<String>,
    pub quality: Vec<QualityDay>,
    pub checked_from: String,
    pub checked_to: String,
}
