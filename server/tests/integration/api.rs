//! The REST API against the original contract, driven through the real router.

use std::sync::Arc;

use app::services::Services;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use pipeline::{Reference, Simulator};
use serde_json::Value;

use super::common::{oneshot, services_at, utc};

/// "Now" for every test: Sunday 2025-06-15 14:00 Paris (12:00 UTC).
fn now() -> DateTime<Utc> {
    utc("2025-06-15T12:00:00Z")
}

fn services() -> Services {
    services_at(now())
}

async fn get(uri: &str) -> (StatusCode, Value) {
    answer(services(), uri).await
}

/// `get` at another time (`now` in UTC, RFC 3339).
async fn get_at(now: &str, uri: &str) -> (StatusCode, Value) {
    answer(services_at(utc(now)), uri).await
}

/// `get`, asserting the answer's status (the message names the URI and the body).
async fn get_status(uri: &str, want: StatusCode) -> Value {
    let (status, body) = get(uri).await;
    assert_eq!(status, want, "{uri}: {body}");
    body
}

/// The API's JSON answer to `GET uri`.
async fn answer(services: Services, uri: &str) -> (StatusCode, Value) {
    let router = datamag360::api::router(services);
    let (status, headers, bytes) = oneshot(&router, uri, &[]).await;
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(
        content_type.starts_with("application/json"),
        "{uri}: content-type {content_type:?}"
    );
    let json: Value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("{uri}: body is not JSON ({e}): {bytes:?}"));
    (status, json)
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
    k.sort();
    k
}

#[tokio::test]
async fn visiteurs_keeps_the_original_shape_and_is_deterministic() {
    let uri = "/visiteurs?city_store=PARIS&sensor_id=9&year=2024&month=10&day=14&hour=12";
    let first = get_status(uri, StatusCode::OK).await;
    assert_eq!(keys(&first), ["is_closed", "message", "visiteurs"]);
    assert_eq!(first["is_closed"], false);
    let (_, second) = get(uri).await;
    assert_eq!(first, second);

    // The value is the simulator's, for Paris (store 1), sensor 9.
    let sim = Simulator::new(Arc::new(Reference::embedded()));
    let store = sim.reference().store(1).expect("Paris").clone();
    let sensor = sim.reference().sensor(1, 9).expect("sensor 9").clone();
    let date = NaiveDate::from_ymd_opt(2024, 10, 14).expect("date");
    let reading = sim
        .sensor_reading(&store, &sensor, date, 12)
        .expect("open day");
    assert_eq!(first["visiteurs"].as_i64(), reading.value);
}

#[tokio::test]
async fn transactions_keeps_the_original_shape() {
    let uri = "/transactions?city_store=paris&year=2024&month=10&day=14&hour=12";
    let body = get_status(uri, StatusCode::OK).await;
    assert_eq!(keys(&body), ["chiffre_affaires", "transactions"]);
    assert!(body["transactions"].as_i64().expect("int") > 0);
    let ca = body["chiffre_affaires"].as_f64().expect("number");
    assert!(
        (ca * 100.0 - (ca * 100.0).round()).abs() < 1e-6,
        "rounded to cents: {ca}"
    );
    assert_eq!(get(uri).await.1, body);
}

#[tokio::test]
async fn weekends_answer_closed_as_the_original() {
    let (status, body) = get("/visiteurs?city_store=Lyon&year=2024&month=10&day=12&hour=12").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        serde_json::json!({"message": "Magasin fermé!", "is_closed": true, "visiteurs": -1})
    );
    let (status, body) =
        get("/transactions?city_store=Lyon&year=2024&month=10&day=13&hour=12").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        serde_json::json!({"message": "Magasin fermé le week-end", "transactions": -1, "chiffre_affaires": -1})
    );
}

/// The `visiteurs` of each answer, in order (`None` where it is not a number).
async fn visiteurs_of(uris: impl Iterator<Item = String>) -> Vec<Option<i64>> {
    let mut values = Vec::new();
    for uri in uris {
        values.push(get(&uri).await.1["visiteurs"].as_i64());
    }
    values
}

#[tokio::test]
async fn day_and_store_totals_add_up_the_hours_and_sensors() {
    // Day total of one sensor = sum of its opening hours (hour 19 included).
    let (_, day) = get("/visiteurs?city_store=Nice&year=2025&month=3&day=4&sensor_id=3").await;
    let hours = visiteurs_of((9..=19).map(|hour| {
        format!("/visiteurs?city_store=Nice&year=2025&month=3&day=4&sensor_id=3&hour={hour}")
    }))
    .await;
    let sum: i64 = hours.iter().map(|v| v.unwrap_or(0)).sum();
    let last = hours.last().copied().flatten();
    assert!(last.unwrap_or(1) != 0, "19h is open: {last:?}");
    assert_eq!(day["visiteurs"].as_i64(), Some(sum));

    // Store total for an hour = sum of its sensors.
    let (_, all) = get("/visiteurs?city_store=Nice&year=2025&month=3&day=4&hour=15").await;
    let sensors = visiteurs_of((1..=8).map(|sensor| {
        format!("/visiteurs?city_store=Nice&year=2025&month=3&day=4&hour=15&sensor_id={sensor}")
    }))
    .await;
    let sum: i64 = sensors.iter().map(|v| v.unwrap_or(0)).sum();
    assert_eq!(all["visiteurs"].as_i64(), Some(sum));
}

#[tokio::test]
async fn without_a_date_or_today_a_weekend_answers_closed() {
    // now = 14:00 Paris on a Sunday: closed, not a 404.
    for uri in [
        "/visiteurs?city_store=Paris",
        "/visiteurs?city_store=Paris&sensor_id=2",
        "/visiteurs?city_store=Paris&year=2025&month=6&day=15",
    ] {
        let body = get_status(uri, StatusCode::OK).await;
        assert_eq!(
            body,
            serde_json::json!({"message": "Magasin fermé!", "is_closed": true, "visiteurs": -1}),
            "{uri}"
        );
    }
}

/// Without a date, and for today without an hour: today's running total, hours 9 up to
/// the last complete hour (the original answered today's total so far too).
#[tokio::test]
async fn today_is_the_running_total_up_to_the_last_complete_hour() {
    // Monday 2025-06-16 14:20 Paris: hours 9..=13 are complete.
    let now = "2025-06-16T12:20:00Z";
    let mut store_sum = 0;
    let mut sensor_sum = 0;
    for hour in 9..=13 {
        let (status, h) = get_at(
            now,
            &format!("/visiteurs?city_store=Lyon&year=2025&month=6&day=16&hour={hour}"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{h}");
        store_sum += h["visiteurs"].as_i64().expect("a store sum");
        let (_, s) = get_at(
            now,
            &format!("/visiteurs?city_store=Lyon&year=2025&month=6&day=16&hour={hour}&sensor_id=4"),
        )
        .await;
        sensor_sum += s["visiteurs"].as_i64().unwrap_or(0);
    }
    for uri in [
        "/visiteurs?city_store=Lyon",
        "/visiteurs?city_store=Lyon&year=2025&month=6&day=16",
    ] {
        let (status, body) = get_at(now, uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}: {body}");
        assert_eq!(body["is_closed"], false);
        assert_eq!(body["visiteurs"].as_i64(), Some(store_sum), "{uri}: {body}");
        assert!(body["message"]
            .as_str()
            .is_some_and(|m| m.contains("en cours")));
    }
    let (_, one) = get_at(now, "/visiteurs?city_store=Lyon&sensor_id=4").await;
    assert_eq!(one["visiteurs"].as_i64(), Some(sensor_sum), "{one}");
    // The hour in progress is still not served.
    let (status, body) = get_at(
        now,
        "/visiteurs?city_store=Lyon&year=2025&month=6&day=16&hour=14",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    // Before any opening hour is complete: 0 so far.
    let (status, early) = get_at("2025-06-16T07:30:00Z", "/visiteurs?city_store=Lyon").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(early["visiteurs"], 0, "{early}");
}

/// Integers as the original (pydantic's lax mode) read them.
#[tokio::test]
async fn integers_are_read_as_the_original_read_them() {
    let (_, plain) =
        get("/visiteurs?city_store=Paris&year=2024&month=10&day=14&hour=12&sensor_id=9").await;
    for uri in [
        "/visiteurs?city_store=Paris&year=2024.0&month=10.0&day=14.00&hour=12.0&sensor_id=9.0",
        "/visiteurs?city_store=Paris&year=%2B2024&month=%2B10&day=14&hour=%2B12&sensor_id=%2B9",
        "/visiteurs?city_store=Paris&year=%202024%20&month=10&day=14&hour=12%20&sensor_id=%209",
        "/visiteurs?city_store=Paris&year=2024&month=010&day=14&hour=12&sensor_id=9.",
    ] {
        let body = get_status(uri, StatusCode::OK).await;
        assert_eq!(body, plain, "{uri}");
    }
    let (status, t) =
        get("/transactions?city_store=Paris&year=2024.0&month=10.0&day=14.0&hour=12.0").await;
    assert_eq!(status, StatusCode::OK, "{t}");
    for (uri, parameter) in [
        (
            "/visiteurs?city_store=Paris&year=2024&month=10&day=14&hour=12&sensor_id=1.5",
            "sensor_id",
        ),
        (
            "/visiteurs?city_store=Paris&year=2024&month=10&day=14&hour=1e1",
            "hour",
        ),
        (
            "/visiteurs?city_store=Paris&year=2024&month=10&day=14&hour=12.01",
            "hour",
        ),
        (
            "/visiteurs?city_store=Paris&year=2024&month=10&day=1_4",
            "day",
        ),
        (
            "/transactions?city_store=Paris&year=2024&month=10&day=14&hour=0x0c",
            "hour",
        ),
    ] {
        let body = get_status(uri, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(body["parameter"], parameter, "{uri}: {body}");
        assert!(body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("entier")));
    }
}

/// The published document matches the server: one schema for /transactions, bounds on
/// every parameter, the cross-parameter rules written down.
#[tokio::test]
async fn the_openapi_document_tells_the_truth() {
    let (_, spec) = get("/openapi.json").await;
    let schema = &spec["components"]["schemas"]["TransactionsResponse"];
    assert!(
        schema.get("oneOf").is_none() && schema.get("anyOf").is_none(),
        "{schema}"
    );
    assert_eq!(
        schema["required"],
        serde_json::json!(["transactions", "chiffre_affaires"])
    );
    let param = |path: &str, name: &str| -> Value {
        spec["paths"][path]["get"]["parameters"]
            .as_array()
            .expect("parameters")
            .iter()
            .find(|p| p["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{path} {name}"))
    };
    for path in ["/visiteurs", "/transactions"] {
        assert_eq!(param(path, "month")["schema"]["maximum"], 12, "{path}");
        assert_eq!(param(path, "month")["schema"]["minimum"], 1, "{path}");
        assert_eq!(param(path, "day")["schema"]["maximum"], 31, "{path}");
        assert_eq!(param(path, "hour")["schema"]["maximum"], 23, "{path}");
        assert_eq!(param(path, "hour")["schema"]["minimum"], 0, "{path}");
        assert_eq!(param(path, "year")["schema"]["minimum"], 2021, "{path}");
        assert_eq!(
            param(path, "city_store")["schema"]["minLength"],
            1,
            "{path}"
        );
    }
    assert_eq!(param("/visiteurs", "sensor_id")["schema"]["minimum"], 1);
    let description = spec["paths"]["/visiteurs"]["get"]["description"]
        .as_str()
        .expect("description");
    for rule in ["partial_date", "hour_without_date", "invalid_date"] {
        assert!(description.contains(rule), "{rule} in {description}");
    }

    // The weekend answer and an open answer both match the one schema.
    let (_, closed) = get("/transactions?city_store=Lyon&year=2024&month=10&day=13&hour=12").await;
    assert_eq!(
        keys(&closed),
        ["chiffre_affaires", "message", "transactions"]
    );
    let (_, night) = get("/transactions?city_store=Lyon&year=2024&month=10&day=14&hour=3").await;
    assert_eq!(
        night,
        serde_json::json!({"transactions": 0, "chiffre_affaires": 0})
    );
}

#[tokio::test]
async fn releves_equals_the_per_sensor_calls() {
    let (status, bulk) = get("/releves?year=2025&month=6&day=13&hour=10").await;
    assert_eq!(status, StatusCode::OK, "{bulk}");
    let rows = bulk["visiteurs"].as_array().expect("rows");
    assert_eq!(rows.len(), 83);
    assert_eq!(bulk["transactions"].as_array().expect("rows").len(), 10);
    for row in rows.iter().filter(|r| r["store_id"] == 7) {
        let uri = format!(
            "/visiteurs?city_store=Nice&year=2025&month=6&day=13&hour=10&sensor_id={}",
            row["sensor_id"]
        );
        assert_eq!(get(&uri).await.1["visiteurs"], row["nb_visiteurs"], "{uri}");
    }
    let nice = bulk["transactions"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["city_store"] == "Nice")
        .expect("Nice")
        .clone();
    let (_, single) = get("/transactions?city_store=Nice&year=2025&month=6&day=13&hour=10").await;
    assert_eq!(single["transactions"], nice["transactions"]);
    assert_eq!(single["chiffre_affaires"], nice["chiffre_affaires"]);

    let (_, closed) = get("/releves?year=2025&month=6&day=14&hour=10").await;
    assert_eq!(closed["is_closed"], true);
    assert_eq!(closed["visiteurs"].as_array().map(Vec::len), Some(0));
}

/// Every kind of bad input gets a 4xx with a JSON `detail` in French, never a 5xx.
#[tokio::test]
async fn bad_queries_get_clear_4xx_json() {
    const V: &str = "/visiteurs?";
    const T: &str = "/transactions?";
    const R: &str = "/releves?";
    let cases: Vec<(String, u16, &str)> = vec![
        (V.to_string(), 422, "missing_parameter"),
        (
            format!("{V}year=2024&month=10&day=14"),
            422,
            "missing_parameter",
        ),
        (format!("{V}city_store="), 422, "invalid_parameter"),
        (format!("{V}city_store=%20%20"), 422, "invalid_parameter"),
        (format!("{V}city_store=Rennes"), 404, "unknown_store"),
        (format!("{V}city_store=Paris%00"), 404, "unknown_store"),
        (
            format!("{V}city_store=Paris&year=2024"),
            422,
            "partial_date",
        ),
        (
            format!("{V}city_store=Paris&year=2024&month=10"),
            422,
            "partial_date",
        ),
        (format!("{V}city_store=Paris&day=14"), 422, "partial_date"),
        (
            format!("{V}city_store=Paris&hour=12"),
            422,
            "hour_without_date",
        ),
        (
            format!("{V}city_store=Paris&year=2024&month=2&day=30"),
            422,
            "invalid_date",
        ),
        (
            format!("{V}city_store=Paris&year=2023&month=2&day=29"),
            422,
            "invalid_date",
        ),
        (
            format!("{V}city_store=Paris&year=2024&month=13&day=1"),
            422,
            "invalid_parameter",
        ),
        (
            format!("{V}city_store=Paris&year=2024&month=0&day=1"),
            422,
            "invalid_parameter",
        ),
        (
            format!("{V}city_store=Paris&year=2024&month=10&day=32"),
            422,
            "invalid_parameter",
        ),
        (
            format!("{V}city_store=Paris&year=2024&month=10&day=14&hour=24"),
            422,
            "invalid_parameter",
        ),
        (
            format!("{V}city_store=Paris&year=2024&month=10&day=14&hour=-1"),
            422,
            "invalid_parameter",
        ),
        (
            format!("{V}city_store=Paris&year=2024&month=10&day=14&hour=abc"),
            422,
            "invalid_parameter",
        ),
        (
            format!("{V}city_store=Paris&year=2024&month=10&day=14&hour=12.5"),
            422,
            "invalid_parameter",
        ),
        (
            format!("{V}city_store=Paris&year=2024&month=10&day=14&hour="),
            422,
            "invalid_parameter",
        ),
        (
            format!("{V}city_store=Paris&year=2024&month=10&day=14&hour=1e1"),
            422,
            "invalid_parameter",
        ),
        (
            format!("{V}city_store=Paris&year=99999999999999999999&month=10&day=14"),
            422,
            "invalid_parameter",
        ),
        (
            format!("{V}city_store=Paris&year=0&month=10&day=14"),
            422,
            "invalid_parameter",
        ),
        (
            format!("{V}city_store=Paris&year=2024&month=10&day=14&hour=12&sensor_id=13"),
            404,
            "unknown_sensor",
        ),
        (
            format!("{V}city_store=Paris&year=2024&month=10&day=14&hour=12&sensor_id=0"),
            422,
            "invalid_parameter",
        ),
        (
            format!("{V}city_store=Paris&year=2024&month=10&day=14&hour=12&sensor_id=x"),
            422,
            "invalid_parameter",
        ),
        (
            format!("{V}city_store=Paris&year=2024&month=10&day=14&hour=12&sensor_id=4294967296"),
            422,
            "invalid_parameter",
        ),
        (
            format!("{V}city_store=Paris&year=2020&month=12&day=31&hour=12"),
            404,
            "before_first_date",
        ),
        (
            format!("{V}city_store=Paris&year=2026&month=1&day=5&hour=12"),
            404,
            "in_future",
        ),
        (
            format!("{V}city_store=Paris&year=2025&month=6&day=15&hour=14"),
            404,
            "not_yet_available",
        ),
        (
            format!("{V}city_store=Paris&city_store=Lyon"),
            400,
            "duplicate_parameter",
        ),
        (
            format!("{V}city_store=Paris&year=2024&year=2024&month=10&day=14"),
            400,
            "duplicate_parameter",
        ),
        (format!("{T}city_store=Paris"), 422, "missing_parameter"),
        (
            format!("{T}city_store=Paris&year=2024&month=10&day=14"),
            422,
            "missing_parameter",
        ),
        (
            format!("{T}year=2024&month=10&day=14&hour=12"),
            422,
            "missing_parameter",
        ),
        (
            format!("{T}city_store=Atlantis&year=2024&month=10&day=14&hour=12"),
            404,
            "unknown_store",
        ),
        (
            format!("{T}city_store=Paris&year=2024&month=10&day=14&hour=25"),
            422,
            "invalid_parameter",
        ),
        (
            format!("{T}city_store=Paris&year=2024&month=2&day=31&hour=12"),
            422,
            "invalid_date",
        ),
        (
            format!("{T}city_store=Paris&year=2019&month=1&day=1&hour=12"),
            404,
            "before_first_date",
        ),
        (
            format!("{R}year=2024&month=10&day=14"),
            422,
            "missing_parameter",
        ),
        (
            format!("{R}year=2024&month=10&day=14&hour=%F0%9F%98%80"),
            422,
            "invalid_parameter",
        ),
        (
            format!("{R}year=2024&month=10&day=14&hour=99999999999999999999999"),
            422,
            "invalid_parameter",
        ),
    ];
    assert!(cases.len() >= 30);
    for (uri, status, code) in &cases {
        let (got, body) = get(uri).await;
        assert_eq!(got.as_u16(), *status, "{uri}: {body}");
        assert_eq!(body["code"], *code, "{uri}: {body}");
        let detail = body["detail"].as_str().unwrap_or_default();
        assert!(detail.len() > 10, "{uri}: detail {detail:?}");
    }
}

/// Odd query strings in bulk: whatever arrives, the answer is JSON and never a 5xx.
#[tokio::test]
async fn no_query_string_makes_it_fail() {
    let values = [
        "",
        "%",
        "%%",
        "%zz",
        "12",
        "-0",
        "+1",
        " 12",
        "１２",
        "0x10",
        "NaN",
        "1;2",
        "Paris",
        "paris%20",
        "é",
        "%C3%A9",
        "2024-10-14",
        "999999999999999999999999",
    ];
    let names = [
        "city_store",
        "year",
        "month",
        "day",
        "hour",
        "sensor_id",
        "other",
    ];
    let mut n = 0;
    for path in ["/visiteurs", "/transactions", "/releves"] {
        for name in names {
            for value in values {
                let uri = format!(
                    "{path}?city_store=Paris&year=2024&month=10&day=14&{name}={}",
                    escape_non_ascii(value)
                );
                let (status, body) = get(&uri).await;
                assert!(
                    status.is_success() || status.is_client_error(),
                    "{uri}: {status} {body}"
                );
                n += 1;
            }
        }
    }
    assert_eq!(n, 3 * 7 * 18);
}

/// Percent-encodes what a URI cannot carry raw (spaces, non-ASCII), keeping the rest,
/// including broken escapes like `%zz`, as a client could send them.
fn escape_non_ascii(value: &str) -> String {
    let mut out = String::new();
    for c in value.chars() {
        if c.is_ascii_graphic() {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

#[tokio::test]
async fn openapi_and_health_are_served() {
    let (status, spec) = get("/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    for path in ["/visiteurs", "/transactions", "/releves", "/health"] {
        assert!(spec["paths"][path]["get"].is_object(), "{path} documented");
    }
    let params: Vec<&str> = spec["paths"]["/visiteurs"]["get"]["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(
        params,
        ["city_store", "year", "month", "day", "hour", "sensor_id"]
    );
    let (status, health) = get("/health").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(health["status"], "ok");
}
