//! Drop-in for the original API's clients, over real HTTP against the whole application
//! router: odd page paths, trailing slashes, 405 bodies, bounded /metrics labels, /docs,
//! and a client loop written like the original hourly collector.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use app::services::Services;
use chrono::{DateTime, Utc};
use datamag360::metrics::Metrics;
use datamag360::{build_router, AppState};
use pipeline::{FixedClock, Profile, Reference, Simulator, Warehouse};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::common::{utc, Gen};

/// Wednesday 2025-06-18 15:10 Paris (13:10 UTC): the collector's target hour is 14h.
fn now() -> DateTime<Utc> {
    utc("2025-06-18T13:10:00Z")
}

struct App {
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

/// The whole application (pages with a real SQLite warehouse, API, docs, metrics) on a
/// loopback port.
async fn start(profile: Profile) -> App {
    let dir = tempfile::tempdir().expect("tempdir");
    let warehouse = Warehouse::open_in_dir(dir.path())
        .await
        .expect("SQLite warehouse");
    let simulator = Arc::new(Simulator::with_profile(
        Arc::new(Reference::embedded()),
        profile,
    ));
    let services =
        Services::new(simulator, Arc::new(FixedClock::new(now()))).with_warehouse(warehouse);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let site = dir.path().join("site");
    let state = AppState::new(services, &site.to_string_lossy(), addr);
    let router = build_router(state, None, Arc::new(Metrics::default()));
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    App { addr, _dir: dir }
}

struct Reply {
    status: u16,
    headers: HashMap<String, String>,
    body: String,
}

/// One raw HTTP/1.1 request, the target sent as given (no client-side normalisation).
/// `None` when the server closed the connection without an answer.
async fn raw(addr: SocketAddr, method: &str, target: &str) -> Option<Reply> {
    let mut stream = TcpStream::connect(addr).await.ok()?;
    let head =
        format!("{method} {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).await.ok()?;
    let mut bytes = Vec::new();
    tokio::time::timeout(Duration::from_secs(60), stream.read_to_end(&mut bytes))
        .await
        .ok()?
        .ok()?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (head, body) = text.split_once("\r\n\r\n")?;
    let mut lines = head.lines();
    let status = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Some(Reply {
        status,
        headers,
        body: body.to_string(),
    })
}

/// A GET as the original's collector sends it, which must answer 200 with JSON.
async fn collector_get(addr: SocketAddr, target: &str, profile: Profile) -> serde_json::Value {
    let r = raw(addr, "GET", target).await.expect("answer");
    assert_eq!(r.status, 200, "{profile}: {target}: {}", r.body);
    serde_json::from_str(&r.body).expect("JSON")
}

/// The paths that dropped connections before (the page fallback rendered the app without
/// its context), then a fuzz of page paths: every one gets an answer, none a 5xx, and a
/// redirect leads to an answer too.
#[tokio::test]
async fn no_page_path_drops_the_connection_or_fails() {
    let app = start(Profile::Default).await;
    for (path, location) in [
        ("/dashboard/", "/dashboard"),
        ("/pipeline/", "/pipeline"),
        ("/./dashboard", "/dashboard"),
        ("/..", "/"),
        ("/x/..", "/"),
        ("//dashboard", "/dashboard"),
        ("/dashboard/?store=1", "/dashboard?store=1"),
    ] {
        let r = raw(app.addr, "GET", path).await.expect("an answer");
        assert_eq!(r.status, 307, "{path}");
        assert_eq!(
            r.headers.get("location").map(String::as_str),
            Some(location),
            "{path}"
        );
    }
    let nowhere = raw(app.addr, "GET", "/nowhere/").await.expect("an answer");
    assert_eq!(nowhere.status, 404);
    assert!(
        nowhere.body.contains("<html"),
        "the 404 page: {}",
        nowhere.body
    );

    let bases = [
        "",
        "/",
        "/dashboard",
        "/pipeline",
        "/docs",
        "/visiteurs",
        "/pkg",
        "/api",
        "/x",
        "/é",
    ];
    let parts = [
        "/",
        "//",
        "/.",
        "/..",
        "/./",
        "/../",
        "%2e",
        "%2e%2e",
        "/%2e%2e/",
        "%2F",
        "%00",
        "%ff",
        "%",
        "%zz",
        "%C3%A9",
        "a",
        "dashboard",
        "index.html",
        "..%2f",
        ";",
        "~",
        "+",
        "?",
        "?lang=en",
        "#x",
        "/%20/",
        "/x/../..",
        "/pipeline/..",
        "/.%2e/",
    ];
    let mut g = Gen(11);
    let mut targets: Vec<String> = Vec::new();
    for base in bases {
        for part in parts {
            targets.push(format!("{base}{part}"));
        }
    }
    for _ in 0..200 {
        let mut t = String::new();
        for _ in 0..(1 + g.next() % 5) {
            t.push_str(g.pick(&parts));
            t.push_str(g.pick(&bases));
        }
        targets.push(t);
    }
    let mut answered = 0;
    for target in &targets {
        // A request line carries a path starting with '/'; the rest are sent as clients would.
        let target = if target.starts_with('/') {
            target.clone()
        } else {
            format!("/{target}")
        };
        let target = target.replace(' ', "%20").replace('é', "%C3%A9");
        let r = raw(app.addr, "GET", &target)
            .await
            .unwrap_or_else(|| panic!("{target}: connection dropped without an answer"));
        assert!(r.status < 500, "{target}: {} {}", r.status, r.body);
        if r.status == 307 {
            let location = r.headers.get("location").expect("location");
            assert!(
                location.starts_with('/') && !location.starts_with("//"),
                "{target} → {location}"
            );
            let next = raw(app.addr, "GET", location)
                .await
                .unwrap_or_else(|| panic!("{location}: connection dropped"));
            assert!(next.status < 500, "{location}: {}", next.status);
        }
        answered += 1;
    }
    assert!(answered >= 450, "{answered} paths");
}

/// The original redirected `/visiteurs/` to `/visiteurs` (307); a 405 says why in JSON.
#[tokio::test]
async fn trailing_slashes_redirect_and_405_answers_in_json() {
    let app = start(Profile::Default).await;
    let r = raw(
        app.addr,
        "GET",
        "/visiteurs/?city_store=Paris&year=2025&month=6&day=16",
    )
    .await
    .expect("answer");
    assert_eq!(r.status, 307);
    assert_eq!(
        r.headers.get("location").map(String::as_str),
        Some("/visiteurs?city_store=Paris&year=2025&month=6&day=16")
    );
    for path in ["/transactions/", "/releves/", "/health/", "/openapi.json/"] {
        let r = raw(app.addr, "GET", path).await.expect("answer");
        assert_eq!(r.status, 307, "{path}");
        assert_eq!(
            r.headers.get("location").map(String::as_str),
            Some(path.trim_end_matches('/'))
        );
    }
    for method in ["POST", "DELETE", "PUT", "BREW"] {
        let r = raw(app.addr, method, "/visiteurs?city_store=Paris")
            .await
            .expect("answer");
        assert_eq!(r.status, 405, "{method}");
        assert!(
            r.headers.get("allow").is_some_and(|a| a.contains("GET")),
            "{method}: {:?}",
            r.headers
        );
        let body: serde_json::Value = serde_json::from_str(&r.body).expect("JSON body");
        assert_eq!(body["code"], "method_not_allowed");
        assert!(body["detail"].as_str().is_some_and(|d| d.len() > 10));
    }
}

/// 5,000 requests with invented methods and paths: the request series stay a handful.
#[tokio::test]
async fn metrics_labels_stay_bounded() {
    let app = start(Profile::Default).await;
    let mut g = Gen(5000);
    let paths = ["/visiteurs", "/transactions", "/health", "/releves"];
    let mut sent = 0;
    while sent < 5000 {
        let method = format!("M{:X}", g.next() % 1_000_000);
        let batch: Vec<_> = (0..50)
            .map(|i| {
                let (method, target) = match i % 3 {
                    // An invented method on a real route (405).
                    0 => (method.clone(), g.pick(&paths).to_string()),
                    // An invented path (404 page).
                    1 => (
                        "GET".to_string(),
                        format!("/r{}/{}", g.next(), g.next() % 97),
                    ),
                    // Both invented.
                    _ => (
                        format!("X{}", g.next() % 100_000),
                        format!("/z{}", g.next()),
                    ),
                };
                let addr = app.addr;
                tokio::spawn(async move { raw(addr, &method, &target).await.map(|r| r.status) })
            })
            .collect();
        for task in batch {
            let status = task.await.expect("task").expect("an answer");
            assert!(status < 500, "{status}");
            sent += 1;
        }
    }
    let m = raw(app.addr, "GET", "/metrics").await.expect("metrics");
    assert_eq!(m.status, 200);
    let series: Vec<&str> = m
        .body
        .lines()
        .filter(|l| l.starts_with("datamag360_http_requests_total{"))
        .collect();
    assert!(
        series.len() <= 12,
        "{} series after 5,000 invented requests:\n{}",
        series.len(),
        series.join("\n")
    );
    assert!(
        series
            .iter()
            .any(|l| l.contains("method=\"other\"") && l.contains("route=\"other\"")),
        "{}",
        series.join("\n")
    );
    assert!(m.body.len() < 64 * 1024, "{} bytes", m.body.len());
}

/// `/docs` is Swagger UI from the binary, pointed at our own /openapi.json, with the
/// online validator off.
#[tokio::test]
async fn docs_are_served_from_the_binary() {
    let app = start(Profile::Default).await;
    let page = raw(app.addr, "GET", "/docs/").await.expect("answer");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("swagger-ui"), "{}", page.body);
    let init = raw(app.addr, "GET", "/docs/swagger-initializer.js")
        .await
        .expect("answer");
    assert_eq!(init.status, 200);
    assert!(init.body.contains("/openapi.json"), "{}", init.body);
    let compact: String = init.body.split_whitespace().collect();
    assert!(
        compact.contains("\"validatorUrl\":\"none\""),
        "{}",
        init.body
    );
    let bundle = raw(app.addr, "GET", "/docs/swagger-ui-bundle.js")
        .await
        .expect("answer");
    assert_eq!(bundle.status, 200);
    assert!(bundle.body.len() > 100_000, "{} bytes", bundle.body.len());
    let redoc = raw(app.addr, "GET", "/redoc").await.expect("answer");
    assert_eq!(redoc.status, 307);
}

/// The original's hourly collector, as written: it reads the sensors CSV with pandas, so
/// every id is a float (`sensor_id=1.0`), calls `/visiteurs` once per store × sensor and
/// `/transactions` once per store for the previous hour, and keeps the 200 answers.
#[tokio::test]
async fn an_original_style_collector_gets_every_value() {
    for profile in Profile::ALL {
        let app = start(profile).await;
        let mut cities: HashMap<String, String> = HashMap::new();
        for line in include_str!("../../../pipeline/data/magasins.csv")
            .lines()
            .skip(1)
        {
            let f: Vec<&str> = line.split(',').collect();
            let id: f64 = f[0].parse().expect("store id");
            cities.insert(format!("{id:?}"), f[1].to_string());
        }
        // 15:10 Paris → the previous hour, 14h, of Wednesday 2025-06-18.
        let (year, month, day, hour) = (2025, 6, 18, 14);
        let mut visitor_rows = 0;
        for line in include_str!("../../../pipeline/data/capteurs.csv")
            .lines()
            .skip(1)
        {
            // pandas: a row of a frame with a float column is all floats.
            let f: Vec<f64> = line
                .split(',')
                .map(|v| v.parse().expect("number"))
                .collect();
            let (sensor_id, store_id) = (format!("{:?}", f[0]), format!("{:?}", f[1]));
            assert!(sensor_id.ends_with(".0"), "{sensor_id}");
            let city = &cities[&store_id];
            let target = format!(
                "/visiteurs?city_store={city}&sensor_id={sensor_id}&year={year}&month={month}&day={day}&hour={hour}"
            );
            let body = collector_get(app.addr, &target, profile).await;
            assert!(
                body["visiteurs"].is_i64() || body["visiteurs"].is_null(),
                "{body}"
            );
            visitor_rows += 1;
        }
        let mut transaction_rows = 0;
        for city in cities.values() {
            let target = format!(
                "/transactions?city_store={city}&year={year}&month={month}&day={day}&hour={hour}"
            );
            let body = collector_get(app.addr, &target, profile).await;
            assert!(
                body["transactions"].as_i64().is_some_and(|n| n > 0),
                "{body}"
            );
            assert!(
                body["chiffre_affaires"].as_f64().is_some_and(|v| v > 0.0),
                "{body}"
            );
            transaction_rows += 1;
        }
        assert_eq!((visitor_rows, transaction_rows), (83, 10), "{profile}");
    }
}
