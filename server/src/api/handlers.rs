//! Endpoint handlers. Each parses its query with [`Params`], asks the simulator, and
//! answers the original JSON shapes.

use app::services::Services;
use axum::extract::{RawQuery, State};
use axum::Json;
use chrono::NaiveDate;
use pipeline::calendar::OPENING_HOURS;
use pipeline::clock::HourSlot;
use pipeline::releves::{ReleveTransaction, ReleveVisiteur, Releves};
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

/// Answer of `GET /transactions`: one object whatever the day. On a weekend `message`
/// is present and both figures are `-1`; outside opening hours both are `0`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransactionsResponse {
    /// Only on a closed day: `Magasin fermé le week-end`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "Magasin fermé le week-end")]
    pub message: Option<String>,
    /// Tickets; `-1` when the store is closed.
    #[schema(example = 23, minimum = -1)]
    pub transactions: i64,
    /// Revenue in euros, rounded to cents; `-1` when the store is closed. Written as an
    /// integer (`-1`, `0`) when it is one, as the original did.
    #[schema(value_type = f64, example = 1534.87, minimum = -1)]
    pub chiffre_affaires: serde_json::Number,
}

impl TransactionsResponse {
    fn closed() -> Self {
        Self {
            message: Some("Magasin fermé le week-end".into()),
            transactions: -1,
            chiffre_affaires: serde_json::Number::from(-1),
        }
    }

    fn sales(transactions: i64, chiffre_affaires: f64) -> Self {
        let chiffre_affaires = if chiffre_affaires == 0.0 {
            serde_json::Number::from(0)
        } else {
            serde_json::Number::from_f64(chiffre_affaires).unwrap_or_else(|| 0.into())
        };
        Self {
            message: None,
            transactions,
            chiffre_affaires,
        }
    }
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
    /// Store city, case-insensitive (e.g. `Paris`, `PARIS`); surrounding spaces ignored.
    #[param(min_length = 1, pattern = r".*\S.*", example = "Paris")]
    city_store: String,
    /// Year, with `month` and `day` (all three or none). Data starts on 2021-01-01;
    /// later than today answers 404.
    #[param(minimum = 2021, maximum = 9999, example = 2024)]
    year: Option<u32>,
    /// Month 1–12, with `year` and `day`.
    #[param(minimum = 1, maximum = 12, example = 10)]
    month: Option<u32>,
    /// Day of the month 1–31 (and a date that exists), with `year` and `month`.
    #[param(minimum = 1, maximum = 31, example = 14)]
    day: Option<u32>,
    /// Local hour 0–23 (Europe/Paris); needs a date. Without it, the day total over
    /// opening hours 9–19 (today: the running total so far).
    #[param(minimum = 0, maximum = 23, example = 12)]
    hour: Option<u32>,
    /// Sensor number within the store (1 to the store's sensor count); without it, all
    /// the store's sensors.
    #[param(minimum = 1, example = 9)]
    sensor_id: Option<u32>,
}

/// Query of `GET /transactions`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the query; parsing is done by `Params`
pub struct TransactionsQuery {
    /// Store city, case-insensitive; surrounding spaces ignored.
    #[param(min_length = 1, pattern = r".*\S.*", example = "Paris")]
    city_store: String,
    /// Year; data starts on 2021-01-01, later than today answers 404.
    #[param(minimum = 2021, maximum = 9999, example = 2024)]
    year: u32,
    /// Month 1–12.
    #[param(minimum = 1, maximum = 12, example = 10)]
    month: u32,
    /// Day of the month 1–31 (and a date that exists).
    #[param(minimum = 1, maximum = 31, example = 14)]
    day: u32,
    /// Local hour 0–23 (Europe/Paris).
    #[param(minimum = 0, maximum = 23, example = 12)]
    hour: u32,
}

/// Query of `GET /releves`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the query; parsing is done by `Params`
pub struct RelevesQuery {
    /// Year; data starts on 2021-01-01, later than today answers 404.
    #[param(minimum = 2021, maximum = 9999, example = 2024)]
    year: u32,
    /// Month 1–12.
    #[param(minimum = 1, maximum = 12, example = 10)]
    month: u32,
    /// Day of the month 1–31 (and a date that exists).
    #[param(minimum = 1, maximum = 31, example = 14)]
    day: u32,
    /// Local hour 0–23 (Europe/Paris).
    #[param(minimum = 0, maximum = 23, example = 12)]
    hour: u32,
}

/// Visitors of one store: one sensor or all, one hour or the day's opening hours.
#[utoipa::path(
    get,
    path = "/visiteurs",
    params(VisiteursQuery),
    description = "Rules across parameters: `year`, `month` and `day` come all three or not at all \
                   (else 422 `partial_date`); `hour` needs a date (else 422 `hour_without_date`); \
                   the date must exist (else 422 `invalid_date`).\n\n\
                   Forms: with `hour`, that hour; without it, the day's opening hours 9–19 summed. \
                   Without `sensor_id`, all the store's sensors summed. Sums skip missing readings. \
                   Without a date, or with today's date and no `hour`: today's running total, \
                   hours 9 up to the last complete hour. A weekend day answers `is_closed: true`, \
                   `visiteurs: -1`. Dates before 2021-01-01, after today, or hours later than \
                   the last complete hour answer 404.",
    responses(
        (status = 200, description = "Count, closed day (`-1`) or missing reading (`null`)", body = VisiteursResponse),
        (status = 400, description = "Repeated parameter", body = ErrorBody),
        (status = 404, description = "Unknown store or sensor, or date not available", body = ErrorBody),
        (status = 422, description = "Missing or malformed parameter, or a cross-parameter rule broken", body = ErrorBody),
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
    let today = HourSlot::containing(now).date;
    let latest = HourSlot::latest_available(now);
    let date = date.unwrap_or(today);
    // Which hours: one, the whole day, or today's complete hours so far.
    let hours = match hour {
        Some(h) => {
            ensure_available(date, Some(h), now)?;
            Hours::One(h)
        }
        None if date == today => {
            let last = (latest.date == today).then_some(latest.hour);
            Hours::SoFar(last)
        }
        None => {
            ensure_available(date, None, now)?;
            Hours::Day
        }
    };
    if !pipeline::calendar::is_open_day(date) {
        return Ok(Json(VisiteursResponse {
            message: "Magasin fermé!".into(),
            is_closed: true,
            visiteurs: Some(-1),
        }));
    }
    let sensors: &[Sensor] = match sensor {
        Some(s) => std::slice::from_ref(s),
        None => reference.sensors_of(store.store_id),
    };
    let range = match hours {
        Hours::One(h) => h..=h,
        Hours::Day => OPENING_HOURS,
        Hours::SoFar(Some(last)) => *OPENING_HOURS.start()..=last.min(*OPENING_HOURS.end()),
        // Before any hour of today is complete: an empty sum.
        Hours::SoFar(None) => {
            let end = *OPENING_HOURS.end();
            (end + 1)..=end
        }
    };
    // One sensor for one hour is a reading (possibly missing: null); every other form is
    // a sum of the readings that arrived.
    let single = sensor.is_some() && matches!(hours, Hours::One(_));
    let mut total: i64 = 0;
    let mut missing = false;
    for h in range {
        for sensor in sensors {
            match services
                .simulator
                .sensor_reading(store, sensor, date, h)
                .and_then(|r| r.value)
            {
                Some(v) => total += v,
                None => missing = true,
            }
        }
    }
    let visiteurs = (!(single && missing)).then_some(total);
    Ok(Json(VisiteursResponse {
        message: visitors_message(store, sensor, date, hours, visiteurs),
        is_closed: false,
        visiteurs,
    }))
}

/// The hours a `/visiteurs` answer covers.
#[derive(Debug, Clone, Copy)]
enum Hours {
    One(u32),
    /// The whole day's opening hours.
    Day,
    /// Today up to the last complete hour (`None`: no hour of today is complete yet).
    SoFar(Option<u32>),
}

fn visitors_message(
    store: &Store,
    sensor: Option<&Sensor>,
    date: NaiveDate,
    hours: Hours,
    total: Option<i64>,
) -> String {
    let who = match sensor {
        Some(s) => format!("capteur {}", s.sensor_id),
        None => "tous les capteurs".to_string(),
    };
    let day = date.format("%d/%m/%Y");
    let when = match hours {
        Hours::One(h) => format!("le {day} à {h:02}h"),
        Hours::Day => format!("le {day} (journée, 9h–20h)"),
        Hours::SoFar(Some(last)) if last >= *OPENING_HOURS.start() => format!(
            "le {day} (en cours : 9h–{}h)",
            last.min(*OPENING_HOURS.end()) + 1
        ),
        Hours::SoFar(_) => format!("le {day} (en cours : aucune heure d'ouverture écoulée)"),
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
    description = "All five parameters are required. The date must exist (else 422 \
                   `invalid_date`). A weekend day answers `message` with both figures `-1`; \
                   hours outside 9–19 answer `0` and `0`. Dates before 2021-01-01, after \
                   today, or hours later than the last complete hour answer 404.",
    responses(
        (status = 200, description = "Sales; `-1` and a `message` when the store is closed", body = TransactionsResponse),
        (status = 400, description = "Repeated parameter", body = ErrorBody),
        (status = 404, description = "Unknown store, or date not available", body = ErrorBody),
        (status = 422, description = "Missing or malformed parameter, or a date that does not exist", body = ErrorBody),
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
            Some(sales) => TransactionsResponse::sales(sales.transactions, sales.chiffre_affaires),
            None => TransactionsResponse::closed(),
        },
    ))
}

// The JSON shape is the pipeline's `releves` contract (read by its HTTP source).
/// Every store's and sensor's values for one hour, in one call (the collector's form).
#[utoipa::path(
    get,
    path = "/releves",
    params(RelevesQuery),
    description = "All four parameters are required; the date must exist (else 422 \
                   `invalid_date`). Dates before 2021-01-01, after today, or hours later than \
                   the last complete hour answer 404.",
    responses(
        (status = 200, description = "All readings of the hour; empty lists when closed", body = Releves),
        (status = 400, description = "Repeated parameter", body = ErrorBody),
        (status = 404, description = "Date not available", body = ErrorBody),
        (status = 422, description = "Missing or malformed parameter", body = ErrorBody),
    )
)]
pub async fn releves(
    State(services): State<Services>,
    RawQuery(query): RawQuery,
) -> Result<Json<Releves>, ApiError> {
    let params = Params::parse(query.as_deref())?;
    let date = params.required_date()?;
    let hour = params.required_int("hour", 0, 23)?;
    ensure_available(date, Some(hour), services.clock.now())?;
    let is_closed = !pipeline::calendar::is_open_day(date);
    let chain = services.simulator.chain_hour(date, hour);
    let visiteurs = chain
        .readings
        .iter()
        .map(|(store, sensor, r)| ReleveVisiteur {
            store_id: store.store_id,
            city_store: store.city_store.clone(),
            sensor_id: sensor.sensor_id,
            nb_visiteurs: r.value,
        })
        .collect();
    let transactions = chain
        .sales
        .iter()
        .map(|(store, sales)| ReleveTransaction {
            store_id: store.store_id,
            city_store: store.city_store.clone(),
            transactions: sales.transactions,
            chiffre_affaires: sales.chiffre_affaires,
        })
        .collect();
    Ok(Json(Releves {
        date: pipeline::spelling::date_text(date),
        heure: pipeline::spelling::heure(hour),
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
