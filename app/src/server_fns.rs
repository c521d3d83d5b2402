//! Server functions: typed calls from the browser into the server, with stable URLs.

use leptos::prelude::*;

use crate::wire::{HomeData, HourSnapshot};

/// The store list and the default date of the home page's simulator form.
#[server(endpoint = "home_data")]
pub async fn get_home_data() -> Result<HomeData, ServerFnError> {
    let services = expect_context::<crate::services::Services>();
    Ok(backend::home_data(&services))
}

/// Every sensor's count and the store's sales for one store-hour. A request the user can
/// fix (unknown store, date out of range) is answered `Ok(Err(message in French))`, so the
/// page shows the message and the browser logs no failed request.
#[server(endpoint = "hour_snapshot")]
pub async fn get_hour_snapshot(
    city_store: String,
    date: String,
    hour: u32,
) -> Result<Result<HourSnapshot, String>, ServerFnError> {
    let services = expect_context::<crate::services::Services>();
    Ok(backend::hour_snapshot(&services, &city_store, &date, hour))
}

#[cfg(feature = "ssr")]
mod backend {
    use chrono::NaiveDate;
    use pipeline::availability::{self, Unavailable};

    use crate::services::Services;
    use crate::wire::{HomeData, HourSnapshot, SensorValue};

    pub fn home_data(services: &Services) -> HomeData {
        HomeData {
            stores: services.store_infos(),
            default_date: availability::latest_complete_open_day(services.clock.now()).to_string(),
            first_date: pipeline::clock::first_available_date().to_string(),
        }
    }

    pub fn hour_snapshot(
        services: &Services,
        city_store: &str,
        date: &str,
        hour: u32,
    ) -> Result<HourSnapshot, String> {
        let sim = &services.simulator;
        let store = sim
            .reference()
            .store_by_city(city_store)
            .ok_or_else(|| format!("Magasin inconnu : {city_store}"))?;
        let date: NaiveDate = date
            .trim()
            .parse()
            .map_err(|_| format!("Date invalide : {date} (attendu AAAA-MM-JJ)"))?;
        if hour > 23 {
            return Err(format!("Heure invalide : {hour} (0 à 23)"));
        }
        availability::check(date, Some(hour), services.clock.now()).map_err(|e| match e {
            Unavailable::BeforeFirstDate { first } => {
                format!("Pas de données avant le {first}")
            }
            Unavailable::InFuture => "Cette date est dans le futur".to_string(),
            Unavailable::NotYet { latest } => {
                format!("Pas encore disponible : dernière heure disponible {latest}")
            }
        })?;
        let sensors: Vec<SensorValue> = sim
            .reference()
            .sensors_of(store.store_id)
            .iter()
            .filter_map(|sensor| {
                sim.sensor_reading(store, sensor, date, hour)
                    .map(|r| SensorValue {
                        sensor_id: sensor.sensor_id,
                        visiteurs: r.value,
                    })
            })
            .collect();
        let sales = sim.store_hour(store, date, hour);
        Ok(HourSnapshot {
            city_store: store.city_store.clone(),
            date: date.to_string(),
            heure: format!("{hour:02}:00:00"),
            is_closed: sales.is_none(),
            sensors,
            transactions: sales.map(|s| s.transactions),
            chiffre_affaires: sales.map(|s| s.chiffre_affaires),
        })
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

/// The pipeline page: ledger, missing partitions, quality figures.
#[server(endpoint = "pipeline_status")]
pub async fn get_pipeline_status() -> Result<crate::wire::PipelineStatus, ServerFnError> {
    let services = expect_context::<crate::services::Services>();
    crate::pipeline_status::load(&services)
        .await
        .map_err(ServerFnError::new)
}
