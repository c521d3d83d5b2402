//! What the dashboard's server function answers: the applied filters, the KPI cards and
//! the charts' data (their types are shared with the chart components: `crate::wire`).

use serde::{Deserialize, Serialize};

use crate::wire::{ChartData, StoreInfo};

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
