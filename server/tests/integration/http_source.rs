//! The pipeline's HTTP collector source against our own API served on a loopback port:
//! the bulk route, the original per-sensor routes, retries and failures.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::services::Services;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, NaiveDate, Utc};
use datamag360::api::handlers;
use pipeline::clock::HourSlot;
use pipeline::jobs::collect::simulate_hour;
use pipeline::jobs::reconcile::RunOptions;
use pipeline::records::Feed;
use pipeline::runs::Job;
use pipeline::source::{HttpSource, RetryPolicy, Source};
use pipeline::{Pipeline, Reference, Simulator};

use super::common::{lake_rows, services_at, utc};

/// "Now" for every test: Monday 2025-06-16 14:00 Paris (12:00 UTC).
fn now() -> DateTime<Utc> {
    utc("2025-06-16T12:00:00Z")
}

fn slot(date: &str, hour: u32) -> HourSlot {
    let date: NaiveDate = date.parse().expect("date");
    HourSlot::new(date, hour).expect("slot")
}

/// Friday (open: night, opening, midday, last open hour), Saturday (closed), and this
/// Monday morning up to the latest available hour.
fn slots() -> Vec<HourSlot> {
    vec![
        slot("2025-06-13", 3),
        slot("2025-06-13", 9),
        slot("2025-06-13", 12),
        slot("2025-06-13", 19),
        slot("2025-06-14", 12),
        slot("2025-06-16", 13),
    ]
}

fn simulator() -> Arc<Simulator> {
    Arc::new(Simulator::new(Arc::new(Reference::embedded())))
}

fn services() -> Services {
    services_at(now())
}

/// Requests seen by a test server, per path.
#[derive(Clone, Default)]
struct Hits(Arc<Mutex<HashMap<String, usize>>>);

impl Hits {
    fn get(&self, path: &str) -> usize {
        self.0
            .lock()
            .expect("hits lock")
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    fn layer(self, router: Router) -> Router {
        router.layer(middleware::from_fn(move |req: Request, next: Next| {
            let hits = self.clone();
            async move {
                *hits
                    .0
                    .lock()
                    .expect("hits lock")
                    .entry(req.uri().path().to_string())
                    .or_default() += 1;
                next.run(req).await
            }
        }))
    }
}

/// A router served on 127.0.0.1 (any free port) until the test ends.
struct Served {
    base: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(router: Router) -> Served {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let addr = listener.local_addr().expect("local address");
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Served {
        base: format!("http://{addr}"),
        task,
    }
}

/// A pipeline with its own lake folder and SQLite warehouse under `dir`.
async fn pipeline_in(dir: &Path) -> Pipeline {
    super::common::pipeline_in(dir, simulator(), now()).await
}

/// Collects `slots()` with the simulator and with `source`; the lake files must decode
/// to the same rows. Returns how many visitor rows were `null` (missing readings).
async fn assert_same_rows_as_simulator(source: Source) -> usize {
    let sim_dir = tempfile::tempdir().expect("tempdir");
    let http_dir = tempfile::tempdir().expect("tempdir");
    let by_sim = pipeline_in(sim_dir.path()).await;
    let by_http = pipeline_in(http_dir.path()).await.with_source(source);
    let mut nulls = 0;
    for slot in slots() {
        let n_sim = by_sim.collect(slot).await.expect("simulator collect");
        let n_http = by_http
            .collect(slot)
            .await
            .unwrap_or_else(|e| panic!("{slot}: HTTP collect failed: {e}"));
        assert_eq!(n_http, n_sim, "{slot}: rows written");
        let expected = lake_rows(&by_sim, slot).await;
        let got = lake_rows(&by_http, slot).await;
        assert_eq!(got.0, expected.0, "{slot}: visiteurs");
        assert_eq!(got.1, expected.1, "{slot}: transactions");
        assert_eq!(got, simulate_hour(&by_sim.simulator, slot), "{slot}");
        if pipeline::calendar::is_open_day(slot.date) {
            assert_eq!((got.0.len(), got.1.len()), (83, 10), "{slot}: open day");
            let first = &got.0[0];
            assert_eq!(first.date, slot.date.format("%Y-%m-%d").to_string());
            assert_eq!(first.heure, format!("{:02}:00:00", slot.hour));
        } else {
            assert!(got.0.is_empty() && got.1.is_empty(), "{slot}: closed day");
        }
        nulls += got.0.iter().filter(|r| r.nb_visiteurs.is_none()).count();
    }
    by_sim.warehouse.close().await;
    by_http.warehouse.close().await;
    nulls
}

#[tokio::test]
async fn bulk_route_gives_the_simulator_rows() {
    let hits = Hits::default();
    let server = serve(hits.clone().layer(datamag360::api::router(services()))).await;
    let source = Source::http(&server.base).expect("source");
    assert_same_rows_as_simulator(source).await;
    assert_eq!(hits.get("/releves"), slots().len(), "one request per hour");
    assert_eq!(hits.get("/visiteurs") + hits.get("/transactions"), 0);
}

#[tokio::test]
async fn per_sensor_routes_give_the_same_rows_when_there_is_no_bulk_route() {
    // The original API's two routes only, mounted under a path prefix.
    let original = Router::new()
        .route("/visiteurs", get(handlers::visiteurs))
        .route("/transactions", get(handlers::transactions))
        .with_state(services());
    let hits = Hits::default();
    let server = serve(hits.clone().layer(Router::new().nest("/api", original))).await;
    let source = Source::http(&format!("{}/api", server.base)).expect("source");
    let nulls = assert_same_rows_as_simulator(source).await;
    assert!(nulls > 0, "missing readings (null) are kept as rows");
    // The missing bulk route is asked for once, then remembered.
    assert_eq!(hits.get("/api/releves"), 1);
    let n = slots().len();
    assert_eq!(
        hits.get("/api/visiteurs"),
        83 * n,
        "one request per sensor-hour"
    );
    assert_eq!(
        hits.get("/api/transactions"),
        10 * n,
        "one request per store-hour"
    );
}

#[tokio::test]
async fn an_hour_the_server_does_not_serve_yet_fails_instead_of_being_empty() {
    let hits = Hits::default();
    let server = serve(hits.clone().layer(datamag360::api::router(services()))).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let p = pipeline_in(dir.path())
        .await
        .with_source(Source::http(&server.base).expect("source"));
    let not_yet = slot("2025-06-16", 14); // the current hour: not served before 15:00

    // First request of this source: the bulk route's 404 could mean "no such route", so
    // the per-sensor routes are tried; all answer 404 too, which fails the hour.
    let message = p
        .collect(not_yet)
        .await
        .expect_err("not available yet")
        .to_string();
    assert!(message.contains("no HTTP 200 answer"), "{message}");
    assert!(
        message.contains(&format!("{}/visiteurs?city_store=", server.base)),
        "{message}"
    );
    assert!(
        matches!(
            p.lake.get(Feed::Visiteurs, not_yet).await,
            Err(pipeline::lake::LakeError::Missing { .. })
        ),
        "nothing written"
    );
    let per_sensor = hits.get("/visiteurs");
    assert_eq!(per_sensor, 83);

    // The bulk route was not written off: the next hour uses it.
    p.collect(slot("2025-06-13", 12)).await.expect("collect");
    assert_eq!(hits.get("/releves"), 2);
    assert_eq!(hits.get("/visiteurs"), per_sensor);

    // Now that the route is known, its 404 is about the hour.
    let message = p
        .collect(not_yet)
        .await
        .expect_err("not available yet")
        .to_string();
    assert!(
        message.contains(&format!(
            "{}/releves?year=2025&month=6&day=16&hour=14",
            server.base
        )),
        "{message}"
    );
    assert!(
        message.contains("HTTP 404: Pas encore disponible"),
        "{message}"
    );
    assert_eq!(hits.get("/visiteurs"), per_sensor, "no per-sensor requests");
    p.warehouse.close().await;
}

#[tokio::test]
async fn transient_server_errors_are_retried() {
    let api = datamag360::api::router(services());
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let flaky = api.layer(middleware::from_fn(move |req: Request, next: Next| {
        let counter = counter.clone();
        async move {
            if counter.fetch_add(1, Ordering::SeqCst) < 2 {
                (StatusCode::SERVICE_UNAVAILABLE, "try again").into_response()
            } else {
                next.run(req).await
            }
        }
    }));
    let server = serve(flaky).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let p = pipeline_in(dir.path())
        .await
        .with_source(Source::http(&server.base).expect("source"));
    let slot = slot("2025-06-13", 12);
    let rows = p
        .collect(slot)
        .await
        .expect("collect succeeds on the third try");
    assert_eq!(rows, 83 + 10);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        3,
        "two 503 answers, then the data"
    );
    assert_eq!(lake_rows(&p, slot).await, simulate_hour(&p.simulator, slot));
    p.warehouse.close().await;
}

async fn always_500(calls: Arc<AtomicUsize>) -> Served {
    serve(Router::new().fallback(move || {
        let calls = calls.clone();
        async move {
            calls.fetch_add(1, Ordering::SeqCst);
            (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response()
        }
    }))
    .await
}

#[tokio::test]
async fn a_failing_server_fails_the_collect_partition_with_the_url() {
    let calls = Arc::new(AtomicUsize::new(0));
    let server = always_500(calls.clone()).await;
    let dir = tempfile::tempdir().expect("tempdir");

    // One collect, default retries: 4 attempts, then an error naming the URL.
    let p = pipeline_in(dir.path())
        .await
        .with_source(Source::http(&server.base).expect("source"));
    let err = p
        .collect(slot("2025-06-13", 12))
        .await
        .expect_err("the server always fails");
    let message = err.to_string();
    let url = format!("{}/releves?year=2025&month=6&day=13&hour=12", server.base);
    assert!(message.contains(&url), "{message}");
    assert!(message.contains("HTTP 500"), "{message}");
    assert_eq!(calls.load(Ordering::SeqCst), 4, "4 attempts");
    assert!(matches!(
        p.lake.get(Feed::Visiteurs, slot("2025-06-13", 12)).await,
        Err(pipeline::lake::LakeError::Missing { .. })
    ));

    // Through a backfill: every collect partition of the day fails, with the URL in the
    // ledger's error, and nothing downstream runs.
    let quick = HttpSource::new(&server.base)
        .expect("source")
        .with_retry(RetryPolicy {
            attempts: 2,
            base: Duration::from_millis(1),
        });
    let p = p.with_source(Source::Http(quick));
    let day: NaiveDate = "2025-06-13".parse().expect("date");
    let summary = p
        .backfill(day, day, RunOptions::default(), &|_| {})
        .await
        .expect("backfill runs");
    assert_eq!(summary.failed.get(&Job::Collect), Some(&24), "{summary:?}");
    assert_eq!(summary.total_done(), 0, "{summary:?}");
    assert!(!summary.errors.is_empty(), "{summary:?}");
    for (job, partition, error) in &summary.errors {
        assert_eq!(*job, Job::Collect);
        let hour: u32 = partition
            .key()
            .strip_prefix("2025-06-13T")
            .and_then(|h| h.parse().ok())
            .unwrap_or_else(|| panic!("partition {partition}"));
        let url = format!(
            "{}/releves?year=2025&month=6&day=13&hour={hour}",
            server.base
        );
        assert!(error.contains(&url), "{partition}: {error}");
    }
    p.warehouse.close().await;
}

#[tokio::test]
async fn an_unreachable_server_is_retried_then_named() {
    // A port nothing listens on.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").port()
    };
    let base = format!("http://user:secret@127.0.0.1:{port}");
    let dir = tempfile::tempdir().expect("tempdir");
    let source = HttpSource::new(&base)
        .expect("source")
        .with_retry(RetryPolicy {
            attempts: 3,
            base: Duration::from_millis(10),
        });
    let p = pipeline_in(dir.path())
        .await
        .with_source(Source::Http(source));
    let message = p
        .collect(slot("2025-06-13", 12))
        .await
        .expect_err("nothing listens")
        .to_string();
    assert!(
        message.contains(&format!(
            "http://127.0.0.1:{port}/releves?year=2025&month=6&day=13&hour=12"
        )),
        "{message}"
    );
    assert!(message.contains("after 3 attempts"), "{message}");
    assert!(!message.contains("secret"), "no credentials: {message}");
    p.warehouse.close().await;
}
