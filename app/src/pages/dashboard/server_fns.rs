//! The dashboard's server function.

use leptos::prelude::*;
use pipeline::filter::DashboardQuery;

use crate::wire::{DashboardData, LoadError};

/// The dashboard for the filters in the URL. JSON input: the query holds a list.
#[server(endpoint = "dashboard", input = leptos::server_fn::codec::Json)]
pub async fn get_dashboard(query: DashboardQuery) -> Result<DashboardData, LoadError> {
    let services = expect_context::<crate::services::Services>();
    super::server::load(&services, query).await
}

/// An admin loads days that were never collected (a backfill in the background).
#[server(endpoint = "dashboard_load_days")]
pub async fn load_days(from: String, to: String) -> Result<Option<String>, LoadError> {
    let services = expect_context::<crate::services::Services>();
    super::server::start_load(&services, from, to).await
}
