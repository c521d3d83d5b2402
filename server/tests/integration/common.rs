//! Helpers shared by the server's integration tests: fixed instants and the simulator's
//! services, one request through a router in process, the real binary on a free port with
//! a minimal HTTP client, and a deterministic generator.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use app::services::Services;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::Router;
use chrono::{DateTime, Utc};
use http_body_util::BodyExt;
use pipeline::clock::HourSlot;
use pipeline::parquet_codec;
use pipeline::records::{Feed, TransactionRow, VisitorRow};
use pipeline::{FixedClock, Lake, Pipeline, PipelineConfig, Reference, Simulator, Warehouse};
use tower::ServiceExt;

/// The server binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_datamag360");

/// An RFC 3339 instant, in UTC.
pub fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("timestamp")
        .with_timezone(&Utc)
}

/// The simulator's services (default profile) with the clock stopped at `now`.
pub fn services_at(now: DateTime<Utc>) -> Services {
    Services::new(
        Arc::new(Simulator::new(Arc::new(Reference::embedded()))),
        Arc::new(FixedClock::new(now)),
    )
}

/// A pipeline on `simulator` with its own lake folder and SQLite warehouse under `dir`,
/// its clock stopped at `now`.
pub async fn pipeline_in(dir: &Path, simulator: Arc<Simulator>, now: DateTime<Utc>) -> Pipeline {
    let warehouse = Warehouse::open_in_dir(&dir.join("db"))
        .await
        .expect("sqlite warehouse");
    let lake = Lake::local(&dir.join("lake")).expect("lake");
    Pipeline::new(
        simulator,
        lake,
        warehouse,
        Arc::new(FixedClock::new(now)),
        PipelineConfig::default(),
    )
}

/// The rows of one hour's lake files, decoded.
pub async fn lake_rows(p: &Pipeline, slot: HourSlot) -> (Vec<VisitorRow>, Vec<TransactionRow>) {
    let v = p.lake.get(Feed::Visiteurs, slot).await.expect("visiteurs");
    let t = p
        .lake
        .get(Feed::Transactions, slot)
        .await
        .expect("transactions");
    (
        parquet_codec::decode_visitors(v).expect("decode visiteurs"),
        parquet_codec::decode_transactions(t).expect("decode transactions"),
    )
}

/// One GET through `router`, in process, with these request headers: the status, the
/// response headers and the body.
pub async fn oneshot(
    router: &Router,
    uri: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut req = Request::get(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = router
        .clone()
        .oneshot(req.body(Body::empty()).expect("request"))
        .await
        .expect("router answers");
    let status = res.status();
    let headers = res.headers().clone();
    let body = res
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec();
    (status, headers, body)
}

/// A loopback port nobody listens on (yet).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// An HTTP answer from the real binary (header names lower-cased in `headers`).
pub struct Reply {
    pub status: u16,
    pub headers: String,
    pub body: String,
}

/// A minimal HTTP/1.1 request to the binary on `port`: a bearer `token` if given, and on
/// POST a JSON body (empty if none). `None` when there is no complete answer.
pub fn request(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> Option<Reply> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .ok()?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    if let Some(t) = token {
        head.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    let body = body.unwrap_or("");
    if method == "POST" {
        head.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    head.push_str("\r\n");
    head.push_str(body);
    stream.write_all(head.as_bytes()).ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok()?;
    let response = String::from_utf8_lossy(&response);
    let (headers, body) = response.split_once("\r\n\r\n")?;
    let status = headers.split_whitespace().nth(1)?.parse().ok()?;
    Some(Reply {
        status,
        headers: headers.to_ascii_lowercase(),
        body: body.to_string(),
    })
}

/// A GET to the binary on `port`: (status, body).
pub fn get(port: u16, path: &str) -> Option<(u16, String)> {
    request(port, "GET", path, None, None).map(|r| (r.status, r.body))
}

/// `datamag360 serve` on `port`, logging warnings only, its stdout discarded; the caller
/// adds the rest of the environment.
pub fn serve_command(port: u16) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--port", &port.to_string()])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null());
    cmd
}

/// The binary serving on `port`, killed when dropped.
pub struct Server {
    pub child: Child,
    pub port: u16,
}

impl Server {
    /// Spawns `cmd` (which serves on `port`) and returns once /health answers; panics
    /// after `limit`, or when the process exits first (with its stderr, if piped).
    pub fn start(mut cmd: Command, port: u16, limit: Duration) -> Server {
        let child = cmd.spawn().expect("server starts");
        let mut server = Server { child, port };
        let started = Instant::now();
        while get(port, "/health").is_none() {
            if let Ok(Some(status)) = server.child.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = server.child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                panic!("the server exited ({status}): {err}");
            }
            assert!(
                started.elapsed() < limit,
                "server up within {} s",
                limit.as_secs()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// splitmix64: a small deterministic generator, so generated inputs are the same on
/// every run.
pub struct Gen(pub u64);

impl Gen {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// One of `items`.
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

/// A PostgreSQL database of its own for one test, dropped when this is dropped; `None`
/// (the test skips) when `TEST_DATABASE_URL` is not set, which CI refuses.
pub struct TempDatabase {
    pub url: String,
    admin: String,
    name: String,
}

impl TempDatabase {
    /// A fresh database named `<prefix>_<pid>`; `what` names the test in the skip notice.
    pub fn create(prefix: &str, what: &str) -> Option<TempDatabase> {
        let admin = match std::env::var("TEST_DATABASE_URL") {
            Ok(u) if !u.is_empty() => u,
            _ => {
                assert!(
                    std::env::var("CI").map_or(true, |v| v != "true"),
                    "TEST_DATABASE_URL must be set in CI"
                );
                eprintln!("TEST_DATABASE_URL not set: {what} skipped on this machine");
                return None;
            }
        };
        let name = format!("{prefix}_{}", std::process::id());
        let mut url = url::Url::parse(&admin).expect("url");
        url.set_path(&name);
        let db = TempDatabase {
            url: url.to_string(),
            admin,
            name,
        };
        db.exec(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", db.name));
        db.exec(&format!("CREATE DATABASE {}", db.name));
        Some(db)
    }

    /// Runs one statement on the admin database.
    fn exec(&self, sql: &str) {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        rt.block_on(async {
            let pool = sqlx::PgPool::connect(&self.admin).await.expect("connect");
            sqlx::query(sql).execute(&pool).await.expect("sql");
            pool.close().await;
        });
    }
}

impl Drop for TempDatabase {
    fn drop(&mut self) {
        self.exec(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ));
    }
}
