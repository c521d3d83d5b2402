//! Operating the real binary: admin API behind a token, /metrics, security headers, and
//! two replicas on one PostgreSQL database with exactly one running jobs.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use super::common::{free_port, request, serve_command, Reply, Server, TempDatabase};

const TOKEN: &str = "test-token-0123456789abcdef";

/// A POST to the binary on `port` (`body` as JSON), which must answer.
fn post(port: u16, path: &str, token: Option<&str>, body: Option<&str>) -> Reply {
    request(port, "POST", path, token, body).expect("reply")
}

/// A backfill asked of the admin API (`body`: the JSON range), which must answer.
fn backfill(port: u16, token: Option<&str>, body: &str) -> Reply {
    post(port, "/admin/backfill", token, Some(body))
}

fn start(envs: &[(&str, &str)]) -> Server {
    let port = free_port();
    let mut cmd = serve_command(port);
    cmd.env_remove("DATABASE_URL")
        .env_remove("DATAMAG_ADMIN_TOKEN")
        .stderr(Stdio::null())
        .envs(envs.iter().copied());
    Server::start(cmd, port, Duration::from_secs(30))
}

/// A server on the data directory `data` (one day to backfill), its admin API behind
/// [`TOKEN`].
fn start_with_token(data: &Path) -> Server {
    let data = data.to_string_lossy();
    start(&[
        ("DATAMAG_DATA_DIR", &*data),
        ("DATAMAG_BACKFILL_DAYS", "1"),
        ("DATAMAG_ADMIN_TOKEN", TOKEN),
    ])
}

#[test]
fn admin_endpoints_require_the_bearer_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = start_with_token(dir.path());
    let r = post(s.port, "/admin/reconcile", None, None);
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(r.body.contains("\"detail\""), "{}", r.body);
    assert!(r.headers.contains("www-authenticate: bearer"));
    let r = post(
        s.port,
        "/admin/reconcile",
        Some("wrong-token-0123456789"),
        None,
    );
    assert_eq!(r.status, 401);
    let r = backfill(s.port, None, r#"{"from":"2025-01-06","to":"2025-01-06"}"#);
    assert_eq!(r.status, 401);

    // With the token: a backfill runs and reports what it did.
    let r = backfill(
        s.port,
        Some(TOKEN),
        r#"{"from":"2025-01-06","to":"2025-01-07"}"#,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let summary: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    assert_eq!(summary["done"]["collect"], 48);
    assert_eq!(summary["done"]["transform"], 2);
    let r = backfill(
        s.port,
        Some(TOKEN),
        r#"{"from":"2025-01-07","to":"2025-01-01"}"#,
    );
    assert_eq!(r.status, 422, "{}", r.body);
    let r = backfill(s.port, Some(TOKEN), "not json");
    assert_eq!(r.status, 422, "{}", r.body);
    let r = post(s.port, "/admin/reconcile", Some(TOKEN), None);
    assert!(
        r.status == 200 || r.status == 409,
        "{}: {}",
        r.status,
        r.body
    );

    // The read API and the pages stay public.
    assert_eq!(
        request(
            s.port,
            "GET",
            "/visiteurs?city_store=Paris&year=2025&month=1&day=6",
            None,
            None
        )
        .expect("reply")
        .status,
        200
    );
    assert_eq!(
        request(s.port, "GET", "/dashboard", None, None)
            .expect("reply")
            .status,
        200
    );
}

#[test]
fn the_admin_api_is_off_without_a_configured_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().to_string_lossy().into_owned();
    let s = start(&[("DATAMAG_DATA_DIR", &data), ("DATAMAG_BACKFILL_DAYS", "1")]);
    let r = post(s.port, "/admin/reconcile", Some(TOKEN), None);
    assert_eq!(r.status, 401);
    assert!(r.body.contains("admin_disabled"), "{}", r.body);
}

#[test]
fn metrics_and_security_headers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = start_with_token(dir.path());
    request(
        s.port,
        "GET",
        "/visiteurs?city_store=Paris&year=2025&month=1&day=6&hour=10",
        None,
        None,
    )
    .expect("reply");
    request(s.port, "GET", "/visiteurs?city_store=Nowhere", None, None).expect("reply");
    let r = backfill(
        s.port,
        Some(TOKEN),
        r#"{"from":"2025-01-06","to":"2025-01-06"}"#,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let m = request(s.port, "GET", "/metrics", None, None).expect("reply");
    assert_eq!(m.status, 200);
    for needle in [
        "datamag360_http_requests_total{method=\"GET\",route=\"/visiteurs\",status=\"200\"} 1",
        "datamag360_http_requests_total{method=\"GET\",route=\"/visiteurs\",status=\"404\"} 1",
        "datamag360_job_runs_total{job=\"collect\",status=\"done\"}",
        "datamag360_job_runs_total{job=\"ingest\",status=\"failed\"}",
        "datamag360_job_rows_total{job=\"ingest\"}",
        "datamag360_job_failures_total{job=\"transform\"} 0",
        "datamag360_http_request_duration_seconds_bucket",
    ] {
        assert!(m.body.contains(needle), "missing {needle} in\n{}", m.body);
    }
    let collected: u64 = m
        .body
        .lines()
        .find(|l| l.starts_with("datamag360_job_runs_total{job=\"collect\",status=\"done\"}"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .expect("collect counter");
    assert!(collected >= 24, "{collected}");

    let page = request(s.port, "GET", "/", None, None).expect("reply");
    for header in [
        "x-content-type-options: nosniff",
        "x-frame-options: deny",
        "referrer-policy: strict-origin-when-cross-origin",
        "content-security-policy: default-src 'self'",
    ] {
        assert!(
            page.headers.contains(header),
            "missing {header}:\n{}",
            page.headers
        );
    }
}

/// Two server processes on one PostgreSQL database and one lake: exactly one runs jobs;
/// when it dies the other takes over; no partition runs twice, none is skipped.
#[test]
fn two_replicas_share_the_work_without_doing_it_twice() {
    let Some(database) = TempDatabase::create("dm_replicas", "two-replica test") else {
        return;
    };
    let db_url = database.url.clone();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let lake = tempfile::tempdir().expect("tempdir");
    let lake_url = format!("file://{}", lake.path().display());
    let dirs = (
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
    );
    let common = |data: &str| -> Vec<(&'static str, String)> {
        vec![
            ("DATABASE_URL", db_url.clone()),
            ("DATAMAG_LAKE_URL", lake_url.clone()),
            ("DATAMAG_BACKFILL_DAYS", "2".into()),
            ("DATAMAG_ADMIN_TOKEN", TOKEN.into()),
            ("DATAMAG_DATA_DIR", data.to_string()),
        ]
    };
    let env_a = common(&dirs.0.path().to_string_lossy());
    let env_b = common(&dirs.1.path().to_string_lossy());
    let as_refs = |v: &Vec<(&'static str, String)>| {
        v.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>()
    };
    let a_env = as_refs(&env_a);
    let b_env = as_refs(&env_b);
    let a = start(
        &a_env
            .iter()
            .map(|(k, v)| (*k, v.as_str()))
            .collect::<Vec<_>>(),
    );
    let b = start(
        &b_env
            .iter()
            .map(|(k, v)| (*k, v.as_str()))
            .collect::<Vec<_>>(),
    );

    let pool = rt
        .block_on(sqlx::PgPool::connect(&db_url))
        .expect("connect");
    let ledger = || -> Vec<(String, String, String, i32)> {
        rt.block_on(
            sqlx::query_as("SELECT job, partition, status, attempts FROM job_ledger")
                .fetch_all(&pool),
        )
        .expect("ledger")
    };
    // Wait for the start-up reconciliation (first 2 days + today so far) to finish.
    let started = Instant::now();
    loop {
        let rows = ledger();
        let transforms = rows
            .iter()
            .filter(|r| r.0 == "transform" && r.2 == "done")
            .count();
        if transforms >= crate::calendar::transforms_due(2) && rows.iter().all(|r| r.2 == "done") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "start-up work done: {}",
            rows.len()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    // Exactly one is the runner: its reconcile answers 200, the other's 409.
    let ra = post(a.port, "/admin/reconcile", Some(TOKEN), None).status;
    let rb = post(b.port, "/admin/reconcile", Some(TOKEN), None).status;
    assert!(
        (ra, rb) == (200, 409) || (ra, rb) == (409, 200),
        "a={ra} b={rb}"
    );
    let (leader, follower) = if ra == 200 { (a, b) } else { (b, a) };

    // The runner dies; the other takes over on its next wake (here: an admin backfill).
    let mut leader = leader;
    let _ = leader.child.kill();
    let _ = leader.child.wait();
    // PostgreSQL frees the dead runner's session lock once it has noticed the closed
    // connection, which can take a moment on a busy machine: until then the follower
    // rightly answers 409 (someone holds the lock), so it is asked again for a while.
    let takeover_started = Instant::now();
    let r = loop {
        let r = backfill(
            follower.port,
            Some(TOKEN),
            r#"{"from":"2025-02-03","to":"2025-02-05"}"#,
        );
        if r.status != 409 || takeover_started.elapsed() > Duration::from_secs(20) {
            break r;
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    assert_eq!(r.status, 200, "takeover: {}", r.body);

    let rows = ledger();
    assert!(rows.iter().all(|r| r.2 == "done"), "all done");
    let twice: Vec<_> = rows.iter().filter(|r| r.3 != 1).collect();
    assert!(
        twice.is_empty(),
        "partitions processed more than once: {twice:?}"
    );
    let feb: Vec<_> = rows
        .iter()
        .filter(|r| r.0 == "collect" && r.1.starts_with("2025-02-0"))
        .collect();
    assert_eq!(feb.len(), 3 * 24, "none skipped");
    let (raw_v,): (i64,) = rt
        .block_on(
            sqlx::query_as(
                "SELECT COUNT(*) FROM raw.visiteurs WHERE lot LIKE 'collect:2025-02-0%'",
            )
            .fetch_one(&pool),
        )
        .expect("count");
    assert_eq!(raw_v, 3 * 24 * 83, "each hour's rows once");
    drop(follower);
    rt.block_on(pool.close());
    drop(database);
}
