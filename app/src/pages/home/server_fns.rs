//! The home page's server functions.

use leptos::prelude::*;

use crate::wire::{HomeData, HourSnapshot, LoadError, SnapshotProblem};

/// The store list and the default date of the home page's simulator form.
#[server(endpoint = "home_data")]
pub async fn get_home_data() -> Result<HomeData, LoadError> {
    let services = expect_context::<crate::services::Services>();
    Ok(super::server::home_data(&services))
}

/// Every sensor's count and the store's sales for one store-hour. A request the user can
/// fix (unknown store, date out of range) is answered `Ok(Err(problem))`, so the page
/// words it and the browser logs no failed request.
#[server(endpoint = "simulator_hour")]
pub async fn get_simulator_hour(
    city_store: String,
    date: String,
    hour: u32,
) -> Result<Result<HourSnapshot, SnapshotProblem>, LoadError> {
    let services = expect_context::<crate::services::Services>();
    Ok(super::server::hour_snapshot(
        &services,
        &city_store,
        &date,
        hour,
    ))
}
