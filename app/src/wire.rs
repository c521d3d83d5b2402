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
