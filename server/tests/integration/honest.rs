//! Honest operations, against the real binary: exit codes a script can trust, readiness
//! that follows the database, pages that answer 503 during an outage and recover alone,
//! TLS to PostgreSQL, concurrent first starts, configuration as people write it.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use pipeline::ledger::Partition;
use pipeline::runs::Job;
use pipeline::Warehouse;

use super::common::{free_port, get, serve_command, Server, BIN};
use super::own_postgres::{OwnPostgres, TestCerts};

const TOKEN: &str = "honest-token-0123456789abcdef";

/// A request without a body to the binary on `port`: (status, body).
fn request(port: u16, method: &str, path: &str, token: Option<&str>) -> Option<(u16, String)> {
    super::common::request(port, method, path, token, None).map(|r| (r.status, r.body))
}

/// Starts `serve` (scheduler off unless the caller says otherwise); returns once /health
/// answers, or panics with the process's output.
fn serve(data: &Path, envs: &[(&str, &str)]) -> Server {
    let port = free_port();
    let mut cmd = serve_command(port);
    cmd.env("DATAMAG_DATA_DIR", data)
        .env("DATAMAG_SITE_ROOT", data)
        .env("DATAMAG_NO_SCHEDULER", "1")
        .env_remove("DATABASE_URL")
        .env_remove("DATAMAG_ADMIN_TOKEN")
        .env_remove("DATAMAG_ADMIN_TOKEN_FILE")
        .stderr(Stdio::piped())
        .envs(envs.iter().copied());
    Server::start(cmd, port, Duration::from_secs(60))
}

fn run(args: &[&str], data: &Path) -> Output {
    Command::new(BIN)
        .args(args)
        .env("DATAMAG_DATA_DIR", data)
        .env("RUST_LOG", "warn")
        .env_remove("DATABASE_URL")
        .output()
        .expect("the command runs")
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[tokio::test]
async fn a_backfill_with_hours_left_exits_75_and_says_how_to_finish() {
    let dir = tempfile::tempdir().expect("tempdir");
    let w = Warehouse::open_in_dir(dir.path()).await.expect("warehouse");
    // One hour failed earlier and waits for its retry delay: the run does not retry it.
    let now = chrono::Utc::now();
    let hour = Partition::parse("2024-01-02T05").expect("hour");
    w.ledger_start(Job::Collect, hour, now)
        .await
        .expect("ledger");
    w.ledger_finish(
        Job::Collect,
        hour,
        Err("the source answered 503"),
        now,
        10,
        Some(now + chrono::Duration::hours(1)),
    )
    .await
    .expect("ledger");
    w.close().await;

    let o = run(
        &["backfill", "--from", "2024-01-01", "--to", "2024-01-02"],
        dir.path(),
    );
    let out = text(&o);
    assert_eq!(o.status.code(), Some(75), "{out}");
    assert!(out.contains("collect 2024-01-02T05"), "{out}");
    assert!(out.contains("next automatic retry"), "{out}");
    assert!(out.contains("ingest 2024-01-02T05: never run"), "{out}");
    assert!(out.contains("transform 2024-01-02"), "{out}");
    let finish = "datamag360 backfill --from 2024-01-02 --to 2024-01-02 --retry-failed";
    assert!(out.contains(finish), "{out}");

    // The command it gives finishes the work: exit 0, and then the whole range is done.
    let args: Vec<&str> = finish.split_whitespace().skip(1).collect();
    let o = run(&args, dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = run(
        &["backfill", "--from", "2024-01-01", "--to", "2024-01-02"],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn a_complete_backfill_exits_0_and_a_bad_range_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let o = run(
        &["backfill", "--from", "2024-03-04", "--to", "2024-03-04"],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = run(
        &["backfill", "--from", "2024-03-04", "--to", "yesterday"],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let help = run(&["--help"], dir.path());
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    for line in [
        "Exit codes:",
        "75   incomplete",
        "130  interrupted",
        "65   bad input",
    ] {
        assert!(help.contains(line), "{help}");
    }
}

#[test]
fn an_import_with_no_valid_line_is_bad_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "store_id,sensor_id,date,heure,nb_visiteurs\n\
         abc,1,2024-01-01,10,5\n1,2,not-a-date,10,3\n1,3,2024-01-01,10,many\n",
    )
    .expect("write");
    let o = run(&["import", &bad.to_string_lossy()], dir.path());
    let out = text(&o);
    assert_eq!(o.status.code(), Some(65), "{out}");
    assert!(out.contains("no valid line"), "{out}");

    let unknown = dir.path().join("unknown.csv");
    std::fs::write(&unknown, "a,b,c\n1,2,3\n").expect("write");
    let o = run(&["import", &unknown.to_string_lossy()], dir.path());
    assert_eq!(o.status.code(), Some(65), "{}", text(&o));

    // Some bad lines among good ones: imported, the bad lines listed, exit 0.
    let mixed = dir.path().join("mixed.csv");
    std::fs::write(
        &mixed,
        "store_id,sensor_id,date,heure,nb_visiteurs\n1,1,2024-01-01,10,5\nabc,1,2024-01-01,10,5\n",
    )
    .expect("write");
    let o = run(&["import", &mixed.to_string_lossy()], dir.path());
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("1 bad line"), "{out}");
}

fn migration_count() -> i64 {
    std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations/sqlite"))
        .expect("migrations folder")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "sql"))
        })
        .count() as i64
}

#[tokio::test]
async fn three_processes_opening_one_fresh_data_dir_at_once_all_succeed() {
    for trial in 0..3 {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        // Started back to back, before any has created the database; scheduler off
        // through DATAMAG_NO_SCHEDULER=1.
        let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let children: Vec<Server> = ports
            .iter()
            .map(|port| Server {
                child: Command::new(BIN)
                    .args(["serve", "--port", &port.to_string()])
                    .env("RUST_LOG", "warn")
                    .env("DATAMAG_DATA_DIR", &data)
                    .env("DATAMAG_SITE_ROOT", &data)
                    .env("DATAMAG_NO_SCHEDULER", "1")
                    .env_remove("DATABASE_URL")
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("starts"),
                port: *port,
            })
            .collect();
        let started = Instant::now();
        for mut s in children {
            loop {
                if let Ok(Some(status)) = s.child.try_wait() {
                    let mut err = String::new();
                    if let Some(mut e) = s.child.stderr.take() {
                        let _ = e.read_to_string(&mut err);
                    }
                    panic!("trial {trial}: a process exited ({status}): {err}");
                }
                if let Some((200, _)) = get(s.port, "/ready") {
                    break;
                }
                assert!(started.elapsed() < Duration::from_secs(60), "trial {trial}");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        let w = Warehouse::open_in_dir(&data).await.expect("warehouse");
        let Warehouse::Sqlite(pool) = &w else {
            unreachable!("a data directory holds SQLite")
        };
        let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
            .fetch_one(pool)
            .await
            .expect("migrations table");
        assert_eq!(applied, migration_count(), "each migration applied once");
        // The scheduler stayed off in every process.
        assert!(w.ledger_summary().await.expect("ledger").is_empty());
        w.close().await;
    }
}

#[test]
fn an_admin_token_with_a_trailing_newline_works_from_a_variable_or_a_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("token");
    std::fs::write(&file, format!("{TOKEN}\n")).expect("write");
    let with_newline = format!("{TOKEN}\n");
    let file = file.to_string_lossy().into_owned();
    for env in [
        ("DATAMAG_ADMIN_TOKEN_FILE", file.as_str()),
        ("DATAMAG_ADMIN_TOKEN", with_newline.as_str()),
    ] {
        let s = serve(
            dir.path(),
            &[
                env,
                ("DATAMAG_BACKFILL_DAYS", "0"),
                ("DATAMAG_NO_SCHEDULER", "yes"),
            ],
        );
        let (status, body) =
            request(s.port, "POST", "/admin/reconcile", Some(TOKEN)).expect("reply");
        assert_eq!(status, 200, "{}: {body}", env.0);
        let (status, _) = request(
            s.port,
            "POST",
            "/admin/reconcile",
            Some("wrong-token-0123456789abc"),
        )
        .expect("reply");
        assert_eq!(status, 401, "{}", env.0);
    }
}

fn listing(dir: &Path) -> Vec<(String, u64, std::time::SystemTime)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .expect("dir")
        .filter_map(|e| e.ok())
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.ends_with(".db")
        })
        .map(|e| {
            let m = e.metadata().expect("metadata");
            (
                e.file_name().to_string_lossy().into_owned(),
                m.len(),
                m.modified().expect("mtime"),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn status_opens_read_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    // No warehouse: a clear error, and nothing created.
    let missing = dir.path().join("nothing-here");
    let o = run(&["status"], &missing);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("no warehouse"), "{out}");
    assert!(!missing.exists(), "status created the data directory");

    let data = dir.path().join("data");
    let o = run(
        &["backfill", "--from", "2024-03-04", "--to", "2024-03-04"],
        &data,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let before = listing(&data);
    std::thread::sleep(Duration::from_millis(20));
    let o = run(&["status"], &data);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("transform  done     1"), "{out}");
    assert_eq!(listing(&data), before, "status wrote to the database files");

    // A data directory the user cannot write to. Root ignores permissions: as root the
    // command runs as `nobody`, when that user can run the binary.
    let readonly = |mode: &str| {
        let ok = Command::new("chmod")
            .args(["-R", mode])
            .arg(dir.path())
            .status()
            .expect("chmod")
            .success();
        assert!(ok);
    };
    readonly("a+rX,a-w");
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    let o = if root {
        let can_run = Command::new("runuser")
            .args(["-u", "nobody", "--", "test", "-x", BIN])
            .status()
            .is_ok_and(|s| s.success());
        if !can_run {
            eprintln!("read-only part skipped: `nobody` cannot run {BIN}");
            readonly("u+w");
            return;
        }
        Command::new("runuser")
            .args(["-u", "nobody", "--", BIN, "status", "--data-dir"])
            .arg(&data)
            .env("RUST_LOG", "warn")
            .output()
            .expect("runs")
    } else {
        run(&["status"], &data)
    };
    readonly("u+w");
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("transform  done     1"), "{out}");
}

#[tokio::test]
async fn postgres_over_tls_with_sslmode_require_and_verify_full() {
    let Some(certs) = TestCerts::generate() else {
        return;
    };
    let Some(pg) = OwnPostgres::start_new(Some(&certs)) else {
        return;
    };
    // The server refuses connections without TLS: what works below is encrypted.
    let plain = Warehouse::connect(&pg.url("127.0.0.1", "sslmode=disable")).await;
    let e = plain
        .expect_err("plain connections are refused")
        .to_string();
    assert!(e.contains("pg_hba.conf") || e.contains("reject"), "{e}");

    let w = Warehouse::connect(&pg.url("127.0.0.1", "sslmode=require"))
        .await
        .expect("sslmode=require");
    assert!(w.ledger_summary().await.expect("migrated").is_empty());
    w.close().await;

    let ca = certs.ca.to_string_lossy().into_owned();
    let w = Warehouse::connect(&pg.url(
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    ))
    .await
    .expect("verify-full with the test CA");
    w.close().await;

    // Without the CA the certificate is unknown; verify-full must refuse it.
    let unknown = Warehouse::connect(&pg.url("localhost", "sslmode=verify-full")).await;
    assert!(unknown.is_err(), "an unknown CA is refused");
}

#[test]
fn ready_follows_the_warehouse_and_pages_answer_503_during_an_outage() {
    let Some(pg) = OwnPostgres::start_new(None) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let url = pg.url("127.0.0.1", "");
    let s = serve(dir.path(), &[("DATABASE_URL", &url)]);
    let (status, body) = get(s.port, "/ready").expect("ready");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"warehouse\""), "{body}");
    let (status, _) = get(s.port, "/dashboard").expect("dashboard");
    assert_eq!(status, 200);

    pg.stop();
    let stopped = Instant::now();
    let body = loop {
        let (status, body) = get(s.port, "/ready").expect("ready answers during the outage");
        if status == 503 {
            break body;
        }
        assert_eq!(status, 200, "{body}");
        assert!(
            stopped.elapsed() < Duration::from_secs(5),
            "503 within 5 s of the outage"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        stopped.elapsed() < Duration::from_secs(5),
        "{:?}",
        stopped.elapsed()
    );
    assert!(body.contains("\"part\":\"warehouse\""), "{body}");
    assert!(
        body.contains("refused") || body.contains("connect"),
        "{body}"
    );
    // Liveness is not readiness: the process itself is fine.
    assert_eq!(get(s.port, "/health").expect("health").0, 200);
    for (path, words) in [
        ("/dashboard", "indisponible"),
        ("/pipeline?lang=en", "unavailable"),
    ] {
        let asked = Instant::now();
        let (status, body) = get(s.port, path).expect("page answers");
        assert_eq!(status, 503, "{path}: {body}");
        assert!(body.contains(words), "{path}: {body}");
        assert!(
            asked.elapsed() < Duration::from_secs(5),
            "{path}: {:?}",
            asked.elapsed()
        );
    }
    // The healthcheck command tells both apart.
    let probe = |ready: bool| {
        let mut c = Command::new(BIN);
        c.args(["healthcheck", "--port", &s.port.to_string()]);
        if ready {
            c.arg("--ready");
        }
        c.output().expect("healthcheck runs").status.code()
    };
    assert_eq!(probe(false), Some(0));
    assert_eq!(probe(true), Some(1));

    pg.start();
    let restarted = Instant::now();
    loop {
        if let Some((200, _)) = get(s.port, "/ready") {
            break;
        }
        assert!(
            restarted.elapsed() < Duration::from_secs(30),
            "ready again without restarting the server"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let (status, body) = get(s.port, "/dashboard").expect("dashboard");
    assert_eq!(status, 200, "{body}");
    assert_eq!(probe(true), Some(0));
}

#[test]
fn the_cli_says_why_it_cannot_connect() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A port nothing listens on.
    let url = format!("postgres://postgres@127.0.0.1:{}/postgres", free_port());
    let started = Instant::now();
    let o = Command::new(BIN)
        .args(["status", "--database-url", &url])
        .env("DATAMAG_DATA_DIR", dir.path())
        .output()
        .expect("runs");
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.to_lowercase().contains("connection refused"), "{out}");
    assert!(started.elapsed() < Duration::from_secs(15), "{out}");
}
