//! `GET /export.csv`: the dashboard's filtered hourly visitor rows as CSV, with the same
//! filters (and the same resolution of defaults) as the dashboard.

use app::services::Services;
use app::wire::DashboardQuery;
use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::error::ErrorBody;

fn error(status: StatusCode, code: &'static str, detail: String) -> Response {
    (
        status,
        Json(ErrorBody {
            detail,
            code,
            parameter: None,
        }),
    )
        .into_response()
}

/// Parses `store`, repeated `sensors`, `from`, `to`, `h0`, `h1`, `lang`.
fn parse(raw: Option<&str>) -> Result<DashboardQuery, String> {
    let mut q = DashboardQuery::default();
    let int = |k: &str, v: &str| -> Result<u32, String> {
        super::params::lax_int(v)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| format!("Le paramètre « {k} » doit être un entier (reçu : « {v} »)."))
    };
    for (k, v) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "store" if v.trim().is_empty() => q.store = None,
            "store" => q.store = Some(int("store", &v)?),
            "sensors" => q.sensors.push(int("sensors", &v)?),
            "from" => q.from = Some(v.into_owned()),
            "to" => q.to = Some(v.into_owned()),
            "h0" => q.h0 = Some(int("h0", &v)?),
            "h1" => q.h1 = Some(int("h1", &v)?),
            "lang" => q.lang = v.into_owned(),
            _ => {}
        }
    }
    Ok(q)
}

pub async fn export_csv(State(services): State<Services>, RawQuery(raw): RawQuery) -> Response {
    let query = match parse(raw.as_deref()) {
        Ok(q) => q,
        Err(detail) => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_parameter",
                detail,
            )
        }
    };
    let reference = services.simulator.reference();
    let filter = match app::dashboard_filters::resolve(&query, reference, services.clock.now()) {
        Ok(f) => f,
        Err(detail) => return error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_filter", detail),
    };
    let Some(warehouse) = services.warehouse.as_ref() else {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "no_warehouse",
            "Entrepôt de données indisponible.".into(),
        );
    };
    let rows = match warehouse.export_rows(&filter).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "export query failed");
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "export_failed",
                "L'export a échoué ; réessayez plus tard.".into(),
            );
        }
    };
    let mut out = csv::Writer::from_writer(Vec::with_capacity(rows.len() * 48 + 64));
    let header = [
        "date",
        "heure",
        "store_id",
        "city_store",
        "sensor_id",
        "nb_visiteurs",
        "imputed",
    ];
    let mut ok = out.write_record(header).is_ok();
    for (date, hour, store, sensor, visitors, imputed) in &rows {
        let city = reference
            .store(*store)
            .map(|s| s.city_store.as_str())
            .unwrap_or("");
        ok &= out
            .write_record([
                date.to_string(),
                format!("{hour:02}:00:00"),
                store.to_string(),
                city.to_string(),
                sensor.to_string(),
                visitors.to_string(),
                imputed.to_string(),
            ])
            .is_ok();
    }
    let body = match (ok, out.into_inner()) {
        (true, Ok(bytes)) => bytes,
        _ => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "export_failed",
                "L'export a échoué.".into(),
            )
        }
    };
    let filename = format!("datamag360_{}_{}.csv", filter.from, filter.to);
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        body,
    )
        .into_response()
}
