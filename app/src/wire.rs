//! Types that cross the wire between the server functions and the browser. They compile
//! to wasm, so they hold plain data only (no database or dataframe types).

use serde::{Deserialize, Serialize};

pub use crate::chart_axis::{Axis, RankedStore};

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

pub use pipeline::filter::DashboardQuery;

/// The filters the server applied (defaults filled in).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppliedFilter {
    pub store: Option<u32>,
    pub sensors: Vec<u32>,
    pub from: String,
    pub to: String,
    pub h0: u32,
    pub h1: u32,
    /// `prev`, `year` or `none`.
    pub compare: String,
    /// The comparison period, unless `compare` is `none`.
    pub previous_from: Option<String>,
    pub previous_to: Option<String>,
}

/// How a KPI's change reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChangeState {
    /// A percentage (`change` holds it).
    Change,
    /// No comparison asked for, or nothing to divide by.
    None,
    /// The comparison period lies partly or wholly outside the data.
    Partial,
    /// The period holds closed days only.
    Closed,
}

/// One KPI with its change against the comparison period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpiCard {
    /// Stable id: visitors, active_sensors, transactions, revenue, conversion,
    /// average_ticket, revenue_per_visitor.
    pub id: String,
    pub label: String,
    pub value: Option<f64>,
    pub display: String,
    pub previous: Option<f64>,
    pub previous_display: String,
    /// Relative change, e.g. 0.12 for +12 %.
    pub change: Option<f64>,
    pub change_state: ChangeState,
    pub change_display: String,
}

/// What a chart draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChartKind {
    /// Lines over time (days, or hours of one day).
    Lines,
    /// Vertical bars over categories.
    Bars,
    /// Horizontal bars, one per store, best first.
    Ranking,
    /// Rows (series) × columns (x) coloured by value.
    Heatmap,
}

/// The unit of a chart's values (how they are formatted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Unit {
    Count,
    Euros,
    /// A ratio in [0, 1], shown as a percentage.
    Ratio,
}

/// One series of a chart: values aligned with the chart's `x`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartSeries {
    /// Stable key: a sensor or store id, or the measure's name.
    pub key: String,
    pub label: String,
    pub values: Vec<Option<f64>>,
    /// The comparison period's values at the same positions (empty without comparison).
    pub previous: Vec<Option<f64>>,
    /// Drawn by default (at most ten series are).
    pub visible: bool,
    /// The store the user is looking at.
    pub highlight: bool,
}

/// A chart's data; the page draws it (plotters, on the server and in the browser).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartData {
    pub id: String,
    pub kind: ChartKind,
    pub title: String,
    /// One sentence saying what the chart shows (accessible description).
    pub description: String,
    pub unit: Unit,
    /// The x positions (days, hours or stores); labels, keys and links derive from them.
    pub axis: Axis,
    pub series: Vec<ChartSeries>,
    /// What the dashed lines are (`période précédente : 09/11/2026 → 15/11/2026`).
    pub previous_label: Option<String>,
    /// The x position to highlight (the ranking's selected store).
    pub highlight_x: Option<usize>,
    pub empty_message: String,
}

impl ChartData {
    /// True when no series has a value.
    pub fn is_empty(&self) -> bool {
        self.series
            .iter()
            .all(|s| s.values.iter().all(Option::is_none))
    }
}

/// The first backfill's progress, while the period has no figures yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preparing {
    pub days_done: u32,
    pub days_total: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DashboardData {
    pub filter: AppliedFilter,
    pub stores: Vec<StoreInfo>,
    /// Sensor ids of the selected store.
    pub store_sensors: Vec<u32>,
    pub kpis: Vec<KpiCard>,
    pub charts: Vec<ChartData>,
    /// First and last day with analytics data.
    pub data_from: Option<String>,
    pub data_to: Option<String>,
    /// Today in Paris and the default period (the last complete week), `YYYY-MM-DD`.
    pub today: String,
    pub default_from: String,
    pub default_to: String,
    /// A problem with the filters, in the page's language.
    pub error: Option<String>,
    /// The field the problem is about (`from`, `to`, `h0`, `store`, `sensors`…).
    pub error_field: Option<String>,
    /// Set while the pipeline is still preparing the period's figures.
    pub preparing: Option<Preparing>,
}

/// One ledger row for the pipeline page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRow {
    pub job: pipeline::runs::Job,
    pub partition: String,
    pub status: pipeline::runs::RunStatus,
    pub attempts: i32,
    pub rows: Option<i64>,
    pub duration_ms: Option<i64>,
    pub started_at: Option<String>,
    pub error: Option<String>,
    pub next_attempt_at: Option<String>,
}
