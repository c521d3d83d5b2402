//! Endpoint handlers. Each parses its query with [`Params`], asks the simulator, and
//! answers the original JSON shapes.

use app::services::Services;
use axum::extract::{RawQuery, State};
use axum::Json;
use chrono::NaiveDate;
use pipeline::clock::HourSlot;
use pipeline::simulator::OPENING_HOURS;
use pipeline::{Sensor, Store};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, ErrorBody};
use super::params::{ensure_available, Params};

/// Answer of `GET /visiteurs`.
#[derive(Debug, Serialize, ToSchema)]
pub struct VisiteursResponse {
    #[schema(example = "Paris, capteur 9, le 14/10/2024 à 12h : 56 visiteurs")]
    pub message: String,
    pub is_closed: bool,
    /// Visitors counted; `-1` when the store is closed; `null` when no reading arrived.
    #[schema(example = 56)]
    pub visiteurs: Option<i64>,
}

/// Answer of `GET /transactions`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum TransactionsResponse {
    Open {
        #[schema(example = 23)]
        transactions: i64,
        /// Revenue in euros, rounded to cents.
        #[schema(example = 1534.87)]
        chiffre_affaires: f64,
    },
    Closed {
        #[schema(example = "Magasin fermé le week-end")]
        message: String,
        #[schema(example = -1)]
        transactions: i64,
        #[schema(example = -1)]
        chiffre_affaires: i64,
    },
}

/// One sensor's count in `GET /releves`.
#[derive(Debug, Serialize, ToSchema)]
pub struct VisiteurRow {
    pub store_id: u32,
    pub city_store: String,
    pub sensor_id: u32,
    /// `null` when the sensor sent nothing.
    pub nb_visiteurs: Option<i64>,
}

/// One store's sales in `GET /releves`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransactionRow {
    pub store_id: u32,
    pub city_store: String,
    pub transactions: i64,
    pub chiffre_affaires: f64,
}

/// Answer of `GET /releves`: the whole chain for one hour.
#[derive(Debug, Serialize, ToSchema)]
pub struct RelevesResponse {
    #[schema(example = "2024-10-14")]
    pub date: String,
    #[schema(example = "12:00:00")]
    pub heure: String,
    pub is_closed: bool,
    pub visiteurs: Vec<VisiteurRow>,
    pub transactions: Vec<TransactionRow>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthResponse {
    #[schema(example = "ok")]
    pub status: &'static str,
    pub version: &'static str,
}

/// Query of `GET /visiteurs`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the query; parsing is done by `Params`
pub struct VisiteursQuery {
    /// Store city, case-insensitive (e.g. `Paris`, `PARIS`).
    city_store: String,
    /// Year (with `month` and `day`, or none of the three: then the latest available hour).
    year: Option<u32>,
    /// Month 1–12.
    month: Option<u32>,
    /// Day 1–31.
    day: Option<u32>,
    /// Local hour 0–23 (Europe/Paris); without it, the day total over opening hours 9–19.
    hour: Option<u32>,
    /// Sensor number within the store; without it, all the store's sensors.
    sensor_id: Option<u32>,
}

/// Query of `GET /transactions`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the query; parsing is done by `Params`
pub struct TransactionsQuery {
    /// Store city, case-insensitive.
    city_store: String,
    year: u32,
    month: u32,
    day: u32,
    /// Local hour 0–23 (Europe/Paris).
    hour: u32,
}

/// Query of `GET /releves`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the query; parsing is done by `Params`
pub struct RelevesQuery {
    year: u32,
    month: u32,
    day: u32,
    /// Local hour 0–23 (Europe/Paris).
    hour: u32,
}

/// Visitors of one store: one sensor or all, one hour or the day's opening hours.
#[utoipa::path(
    get,
    path = "/visiteurs",
    params(VisiteursQuery),
    responses(
        (status = 200, description = "Count, closed day (`-1`) or missing reading (`null`)", body = VisiteursResponse),
        (status = 400, description = "Repeated parameter", body = ErrorBody),
        (status = 404, description = "Unknown store or sensor, or date not available", body = ErrorBody),
        (status = 422, description = "Missing or malformed parameter", body = ErrorBody),
    )
)]
pub async fn visiteurs(
    State(services): State<Services>,
    RawQuery(query): RawQuery,
) -> Result<Json<VisiteursResponse>, ApiError> {
    let params = Params::parse(query.as_deref())?;
    let reference = services.simulator.reference();
    let store = params.store(reference)?;
    let date = params.date()?;
    let hour = params.hour(date.is_some())?;
    let sensor = params.sensor(reference, store)?;
    let now = services.clock.now();
    let (date, hour) = match date {
        Some(date) => (date, hour),
        None => {
            let latest = HourSlot::latest_available(now);
            (latest.date, Some(latest.hour))
        }
    };
    ensure_available(date, hour, now)?;

    let sensors: &[Sensor] = match sensor {
        Some(s) => std::slice::from_ref(s),
        None => reference.sensors_of(store.store_id),
    };
    let hours = match hour {
        Some(h) => h..=h,
        None => OPENING_HOURS,
    };
    let mut total: Option<i64> = None;
    for h in hours {
        for sensor in sensors {
            let Some(reading) = services.simulator.sensor_reading(store, sensor, date, h) else {
                return Ok(Json(VisiteursResponse {
                    message: "Magasin fermé!".into(),
                    is_closed: true,
                    visiteurs: Some(-1),
                }));
            };
            if let Some(v) = reading.value {
                total = Some(total.unwrap_or(0) + v);
            }
        }
    }
    Ok(Json(VisiteursResponse {
        message: visitors_message(store, sensor, date, hour, total),
        is_closed: false,
        visiteurs: total,
    }))
}

fn visitors_message(
    store: &Store,
    sensor: Option<&Sensor>,
    date: NaiveDate,
    hour: Option<u32>,
    total: Option<i64>,
) -> String {
    let who = match sensor {
        Some(s) => format!("capteur {}", s.sensor_id),
        None => "tous les capteurs".to_string(),
    };
    let when = match hour {
        Some(h) => format!("le {} à {h:02}h", date.format("%d/%m/%Y")),
        None => format!("le {} (journée, 9h–20h)", date.format("%d/%m/%Y")),
    };
    match total {
        Some(v) => format!("{}, {who}, {when} : {v} visiteurs", store.city_store),
        None => format!("{}, {who}, {when} : relevé manquant", store.city_store),
    }
}

/// Transactions and revenue of one store for one hour.
#[utoipa::path(
    get,
    path = "/transactions",
    params(TransactionsQuery),
    responses(
        (status = 200, description = "Sales, or `-1` when the store is closed", body = TransactionsResponse),
        (status = 400, description = "Repeated parameter", body = ErrorBody),
        (status = 404, description = "Unknown store, or date not available", body = ErrorBody),
        (status = 422, description = "Missing or malformed parameter", body = ErrorBody),
    )
)]
pub async fn transactions(
    State(services): State<Services>,
    RawQuery(query): RawQuery,
) -> Result<Json<TransactionsResponse>, ApiError> {
    let params = Params::parse(query.as_deref())?;
    let store = params.store(services.simulator.reference())?;
    let date = params.required_date()?;
    let hour = params.required_int("hour", 0, 23)?;
    ensure_available(date, Some(hour), services.clock.now())?;
    Ok(Json(
        match services.simulator.store_hour(store, date, hour) {
            Some(sales) => TransactionsResponse::Open {
                transactions: sales.transactions,
                chiffre_affaires: sales.chiffre_affaires,
            },
            None => TransactionsResponse::Closed {
                message: "Magasin fermé le week-end".into(),
                transactions: -1,
                chiffre_affaires: -1,
            },
        },
    ))
}

/// Every store's and sensor's values for one hour, in one call (the collector's form).
#[utoipa::path(
    get,
    path = "/releves",
    params(RelevesQuery),
    responses(
        (status = 200, description = "All readings of the hour; empty lists when closed", body = RelevesResponse),
        (status = 400, description = "Repeated parameter", body = ErrorBody),
        (status = 404, description = "Date not available", body = ErrorBody),
        (status = 422, description = "Missing or malformed parameter", body = ErrorBody),
    )
)]
pub async fn releves(
    State(services): State<Services>,
    RawQuery(query): RawQuery,
) -> Result<Json<RelevesResponse>, ApiError> {
    let params = Params::parse(query.as_deref())?;
    let date = params.required_date()?;
    let hour = params.required_int("hour", 0, 23)?;
    ensure_available(date, Some(hour), services.clock.now())?;
    let is_closed = !pipeline::simulator::is_open_day(date);
    let chain = services.simulator.chain_hour(date, hour);
    let visiteurs = chain
        .readings
        .iter()
        .map(|(store, sensor, r)| VisiteurRow {
            store_id: store.store_id,
            city_store: store.city_store.clone(),
            sensor_id: sensor.sensor_id,
            nb_visiteurs: r.value,
        })
        .collect();
    let transactions = chain
        .sales
        .iter()
        .map(|(store, sales)| TransactionRow {
            store_id: store.store_id,
            city_store: store.city_store.clone(),
            transactions: sales.transactions,
            chiffre_affaires: sales.chiffre_affaires,
        })
        .collect();
    Ok(Json(RelevesResponse {
        date: date.to_string(),
        heure: format!("{hour:02}:00:00"),
        is_closed,
        visiteurs,
        transactions,
    }))
}

/// Liveness: answers as long as the server runs.
#[utoipa::path(get, path = "/health", responses((status = 200, body = HealthResponse)))]
pub async fn health() -> Json<HealthResponse> {
    Json(HealthResponse {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    })
}
