//! The real binary as an operator runs it: first start on an empty data directory, and
//! backfills stopped by SIGTERM or killed outright, then re-run.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pipeline::Warehouse;

use super::common::{free_port, get as http_get, serve_command, Server, BIN};

struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn signal(child: &Child, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

async fn warehouse(dir: &Path) -> Warehouse {
    Warehouse::open_in_dir(dir).await.expect("warehouse")
}

async fn done(w: &Warehouse, job: &str) -> i64 {
    w.ledger_summary()
        .await
        .expect("summary")
        .into_iter()
        .filter(|(j, s, _)| j.key() == job && s.key() == "done")
        .map(|(_, _, n)| n)
        .sum()
}

/// Partitions left `running` in the ledger.
async fn running(w: &Warehouse) -> usize {
    w.ledger_summary()
        .await
        .expect("summary")
        .into_iter()
        .filter(|(_, s, _)| s.key() == "running")
        .count()
}

#[tokio::test]
async fn first_start_serves_at_once_and_fills_recent_days_in_the_background() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let mut cmd = serve_command(port);
    cmd.env("DATAMAG_DATA_DIR", dir.path())
        .env("DATAMAG_SITE_ROOT", dir.path())
        .env("DATAMAG_BACKFILL_DAYS", "7")
        .stderr(Stdio::null());
    let started = Instant::now();
    let mut server = Server::start(cmd, port, Duration::from_secs(30));
    let w = warehouse(dir.path()).await;
    loop {
        // The API keeps answering while the backfill runs.
        let (status, _) = http_get(port, "/visiteurs?city_store=Lyon&year=2024&month=10&day=14")
            .expect("API answers");
        assert_eq!(status, 200);
        // Yesterday's transform is not due before 03:00 Paris.
        if done(&w, "transform").await >= crate::calendar::transforms_due(7) as i64 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "first-run backfill within a minute"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let rows = w
        .analytics_fingerprint()
        .await
        .expect("fingerprint")
        .visitor_rows;
    assert!(rows > 0, "analytics has data");
    // SIGTERM: graceful stop, exit code 0, nothing left `running`.
    signal(&server.child, "-TERM");
    let status = server.child.wait().expect("exit");
    assert!(status.success(), "{status:?}");
    let running = running(&w).await;
    assert_eq!(running, 0);
    w.close().await;
}

fn backfill(dir: &Path, from: &str, to: &str) -> Child {
    Command::new(BIN)
        .args(["backfill", "--from", from, "--to", to])
        .env("DATAMAG_DATA_DIR", dir)
        // The row counts below are the seed rules' (a sensor silent all day has no
        // analytics rows): the simulator's incidents stay off here.
        .env("DATAMAG_INCIDENTS", "off")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("backfill starts")
}

async fn wait_for_progress(w: &Warehouse, min_ingests: i64) {
    let started = Instant::now();
    while done(w, "ingest").await < min_ingests {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "backfill progresses"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every ingested hour holds all its rows: a lot is never half-written.
async fn assert_consistent(w: &Warehouse, from: &str, to: &str) {
    let mut date: chrono::NaiveDate = from.parse().expect("date");
    let to: chrono::NaiveDate = to.parse().expect("date");
    let states = w.ledger_window(date, to).await.expect("ledger").ingest;
    while date <= to {
        let (v, t) = w.raw_rows_for_date(date).await.expect("raw");
        let ingested = states
            .iter()
            .filter(|(k, s)| {
                k.starts_with(&date.to_string()) && s.status == pipeline::runs::RunStatus::Done
            })
            .count();
        if pipeline::calendar::is_open_day(date) {
            assert_eq!(v.len() % 83, 0, "{date}: whole hours only");
            assert_eq!(t.len() % 10, 0, "{date}: whole hours only");
            assert!(v.len() / 83 >= ingested, "{date}");
        }
        date = date.succ_opt().expect("next");
    }
}

#[tokio::test]
async fn a_backfill_stopped_by_sigterm_or_killed_completes_on_rerun() {
    for sig in ["-TERM", "-KILL"] {
        let dir = tempfile::tempdir().expect("tempdir");
        let (from, to) = ("2024-01-01", "2024-02-29");
        // Create the database first so the test can watch it.
        let w = warehouse(dir.path()).await;
        let child = backfill(dir.path(), from, to);
        let mut guard = Guard(child);
        wait_for_progress(&w, 100).await;
        signal(&guard.0, sig);
        let status = guard.0.wait().expect("exit");
        if sig == "-TERM" {
            // Stopped between partitions: exit reports the interruption, no `running` row.
            let running = running(&w).await;
            assert_eq!(running, 0, "graceful stop leaves no partition running");
            assert_eq!(
                status.code(),
                Some(130),
                "an interrupted backfill exits 130, never 0"
            );
        }
        assert_consistent(&w, from, to).await;
        assert!(
            done(&w, "ingest").await < 60 * 24,
            "{sig}: stopped before the end"
        );

        let rerun = backfill(dir.path(), from, to)
            .wait_with_output()
            .expect("rerun");
        assert!(rerun.status.success(), "{sig}: rerun succeeds");
        let open_days = 23 + 21; // weekdays in January and February 2024
        assert_eq!(
            w.raw_counts().await.expect("counts"),
            (open_days * 24 * 83, open_days * 24 * 10),
            "{sig}"
        );
        let fp = w.analytics_fingerprint().await.expect("fingerprint");
        assert_eq!(
            (fp.visitor_rows, fp.transaction_rows),
            (open_days * 83 * 11, open_days * 10 * 11),
            "{sig}"
        );
        assert_eq!(done(&w, "transform").await, 60);
        w.close().await;
        drop(guard);
    }
}
