//! Server functions: typed calls from the browser into the server, with stable URLs.

use leptos::prelude::*;

use crate::wire::HomeData;

/// The store list and the default date of the home page's simulator form.
#[server(endpoint = "home_data")]
pub async fn get_home_data() -> Result<HomeData, ServerFnError> {
    let services = expect_context::<crate::services::Services>();
    Ok(backend::home_data(&services))
}

#[cfg(feature = "ssr")]
mod backend {
    use pipeline::availability;

    use crate::services::Services;
    use crate::wire::HomeData;

    pub fn home_data(services: &Services) -> HomeData {
        HomeData {
            stores: services.store_infos(),
            default_date: availability::latest_complete_open_day(services.clock.now()).to_string(),
            first_date: pipeline::clock::first_available_date().to_string(),
        }
    }
}

/// The dashboard for the filters in the URL. JSON input: the query holds a list.
#[server(endpoint = "dashboard", input = leptos::server_fn::codec::Json)]
pub async fn get_dashboard(
    query: crate::wire::DashboardQuery,
) -> Result<crate::wire::DashboardData, ServerFnError> {
    let services = expect_context::<crate::services::Services>();
    crate::dashboard_data::load(&services, query)
        .await
        .map_err(ServerFnError::new)
}
