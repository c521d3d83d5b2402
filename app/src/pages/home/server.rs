//! Server side of the home page: the simulator form's defaults and one store-hour as the
//! simulator sees it.

use chrono::NaiveDate;
use pipeline::availability::{self, Unavailable};

use crate::services::Services;
use crate::wire::{HomeData, HourSnapshot, SensorValue, SnapshotProblem};

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
) -> Result<HourSnapshot, SnapshotProblem> {
    let sim = &services.simulator;
    let store = sim
        .reference()
        .store_by_city(city_store)
        .ok_or_else(|| SnapshotProblem::UnknownStore(city_store.to_string()))?;
    let date: NaiveDate = date
        .trim()
        .parse()
        .map_err(|_| SnapshotProblem::BadDate(date.to_string()))?;
    if hour > 23 {
        return Err(SnapshotProblem::BadHour(hour));
    }
    availability::check(date, Some(hour), services.clock.now()).map_err(|e| match e {
        Unavailable::BeforeFirstDate { first } => {
            SnapshotProblem::BeforeFirstDate(first.to_string())
        }
        Unavailable::InFuture => SnapshotProblem::InFuture,
        Unavailable::NotYet { latest } => SnapshotProblem::NotYet(latest.to_string()),
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
        heure: pipeline::spelling::heure(hour),
        is_closed: sales.is_none(),
        sensors,
        transactions: sales.map(|s| s.transactions),
        chiffre_affaires: sales.map(|s| s.chiffre_affaires),
    })
}
