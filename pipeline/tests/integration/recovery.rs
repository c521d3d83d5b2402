//! Issue 28, "nothing lost even when the database is", on every backend: imported files
//! land in the lake first; `rebuild` recreates raw, analytics, the rollups and the ledger
//! from the lake alone (resuming when interrupted, refusing a warehouse already written);
//! a SQLite backup taken while a backfill writes and the dashboard reads restores whole;
//! a damaged or partial backup file is refused; PostgreSQL's pg_dump/pg_restore round trip.
//!
//! Every comparison is between the warehouse before and after (never fixed numbers), with
//! the fingerprints of `transform_fingerprint` (plain `SELECT`s, independent of the writer).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use pipeline::calendar::OPENING_HOURS;
use pipeline::clock::HourSlot;
use pipeline::jobs::collect::simulate_hour;
use pipeline::jobs::rebuild::{RebuildError, RebuildProgress};
use pipeline::lake::{Lake, IMPORT_DATA, IMPORT_RECORD};
use pipeline::records::Feed;
use pipeline::warehouse::backup::{self, BackupError};
use pipeline::{Pipeline, Warehouse};

use crate::common::{d, envs, utc, Env};
use crate::transform_fingerprint::{fingerprint, raw_fingerprint};

type Fingerprint = Vec<(String, String, usize)>;

/// Raw (with the imports' records and the ledger's statuses), then analytics and rollups.
async fn everything(wh: &Warehouse) -> (Fingerprint, Fingerprint) {
    (raw_fingerprint(wh).await, fingerprint(wh).await)
}

/// A visitors file about `days`: the simulator's values of the sensors `pick` keeps,
/// plus `delta`, in the original's messy spellings (one in three lines `dd/MM/yyyy` and
/// `HHhMM`), a repeated line, a line for an unknown store and one dated tomorrow
/// (outside the service's range when imported).
fn visitors_file(
    p: &Pipeline,
    days: &[NaiveDate],
    pick: impl Fn(i64, i64) -> bool,
    delta: i64,
    tomorrow: NaiveDate,
) -> String {
    let mut csv = String::from("store_id,sensor_id,date,heure,nb_visiteurs\n");
    for (i, day) in days.iter().enumerate() {
        for hour in OPENING_HOURS {
            let (visitors, _) = simulate_hour(&p.simulator, HourSlot { date: *day, hour });
            for r in visitors.iter().filter(|r| pick(r.store_id, r.sensor_id)) {
                let v = r
                    .nb_visiteurs
                    .map(|v| (v + delta).to_string())
                    .unwrap_or_default();
                if (r.store_id + r.sensor_id + i as i64) % 3 == 0 {
                    let _ = writeln!(
                        csv,
                        "{},{},{:02}/{:02}/{},{hour:02}h00,{v}",
                        r.store_id,
                        r.sensor_id,
                        day.day(),
                        day.month(),
                        day.year()
                    );
                } else {
                    let _ = writeln!(
                        csv,
                        "{},{},{day},{hour:02}:00:00,{v}",
                        r.store_id, r.sensor_id
                    );
                }
            }
        }
    }
    let _ = writeln!(csv, "1,1,{},10:00:00,77", days[0]); // repeated slot: the first line wins
    csv.push_str("9999,1,2025-03-05,10:00:00,5\n");
    let _ = writeln!(csv, "1,1,{tomorrow},10:00:00,50");
    csv
}

/// A sales file about `days` for the even stores, amounts moved by a cent.
fn sales_file(p: &Pipeline, days: &[NaiveDate]) -> String {
    let mut csv = String::from("store_id,date,heure,transactions,chiffre_affaires\n");
    for day in days {
        for hour in OPENING_HOURS {
            let (_, sales) = simulate_hour(&p.simulator, HourSlot { date: *day, hour });
            for r in sales.iter().filter(|r| r.store_id % 2 == 0) {
                let _ = writeln!(
                    csv,
                    "{},{},{hour:02}:00,{},{:.2}",
                    r.store_id,
                    day.format("%Y/%m/%d"),
                    r.transactions.unwrap_or(0) + 1,
                    r.chiffre_affaires.unwrap_or(0.0) + 0.01
                );
            }
        }
    }
    csv
}

/// Backfills two weeks and imports three files (two of visitors with overlapping days,
/// one of them also about a day never collected; one of sales); returns the files.
async fn history(env: &Env) -> Vec<std::path::PathBuf> {
    let p = &env.pipeline;
    env.backfill_ok(d("2025-03-03"), d("2025-03-16")).await;
    let tomorrow = d("2025-03-21");
    let files = [
        (
            "a.csv",
            visitors_file(
                p,
                &[d("2025-02-26"), d("2025-03-05"), d("2025-03-06")],
                |s, c| (s + c) % 3 == 0,
                3,
                tomorrow,
            ),
        ),
        (
            "b.csv",
            visitors_file(
                p,
                &[d("2025-03-06"), d("2025-03-07")],
                |s, c| (s + c) % 2 == 0,
                5,
                tomorrow,
            ),
        ),
        (
            "sales.csv",
            sales_file(p, &[d("2025-03-07"), d("2025-03-10")]),
        ),
    ];
    let mut paths = Vec::new();
    for (name, text) in files {
        let path = env.dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        let report = p.import_csv(&path).await.expect("import");
        assert!(report.loaded > 0, "{}: {name} loaded rows", env.label);
        assert!(
            report.transform_errors.is_empty(),
            "{}: {report:?}",
            env.label
        );
        // Days already cleaned whose fill learns from the imported days are cleaned again.
        assert!(
            !report.refreshed.is_empty(),
            "{}: {name} refreshed",
            env.label
        );
        paths.push(path);
    }
    paths
}

#[tokio::test]
async fn imported_files_land_in_the_lake_first_byte_for_byte() {
    for env in envs(utc("2025-03-20T12:00:00Z")).await {
        let p = &env.pipeline;
        let path = env.dir.path().join("v.csv");
        let text = visitors_file(p, &[d("2025-03-05")], |s, _| s == 2, 0, d("2025-03-21"));
        std::fs::write(&path, &text).expect("write");
        let report = p.import_csv(&path).await.expect("import");
        let dir = Lake::import_dir(Feed::Visiteurs, &report.sha256);
        let kept = p
            .lake
            .get_object(&format!("{dir}/{IMPORT_DATA}"))
            .await
            .expect("the file is in the lake");
        assert_eq!(&kept[..], text.as_bytes(), "{}: byte for byte", env.label);
        let record: pipeline::warehouse::raw::ImportRecord = serde_json::from_slice(
            &p.lake
                .get_object(&format!("{dir}/{IMPORT_RECORD}"))
                .await
                .expect("its record is in the lake"),
        )
        .expect("a record");
        let in_raw = p
            .warehouse
            .import_record(&report.lot)
            .await
            .expect("raw.imports")
            .expect("recorded");
        assert_eq!(
            record, in_raw,
            "{}: the lake keeps what raw.imports holds",
            env.label
        );
        assert_eq!(
            record.rows_outside_range, 1,
            "{}: tomorrow's line",
            env.label
        );
        // An import whose record went missing (an import made before the lake kept them)
        // gets it back when the same file is imported again; nothing else changes.
        let record_path = env.dir.path().join("lake").join(&dir).join(IMPORT_RECORD);
        std::fs::remove_file(&record_path).expect("remove the record");
        let again = p.import_csv(&path).await.expect("import again");
        assert!(again.already_imported.is_some());
        assert!(record_path.exists(), "{}: record written again", env.label);
        env.close().await;
    }
}

#[tokio::test]
async fn rebuild_from_the_lake_gives_back_the_same_warehouse() {
    for mut env in envs(utc("2025-03-20T12:00:00Z")).await {
        let label = env.label.clone();
        history(&env).await;
        let before = everything(&env.pipeline.warehouse).await;
        for (table, _, n) in before.0.iter().chain(&before.1) {
            assert!(*n > 0, "{label}: {table} is empty before the rebuild");
        }
        // The server's clock has moved on since: the rebuild must still reject the rows
        // each import rejected when it ran (dated after its own "now").
        env.clock.set(utc("2025-03-27T12:00:00Z"));

        // A warehouse already written is refused, saying what it holds.
        match env.pipeline.rebuild(false, &|_| {}).await {
            Err(RebuildError::NotEmpty(contents)) => {
                assert!(
                    contents.raw_rows > 0 && contents.imports == 3,
                    "{label}: {contents}"
                )
            }
            other => panic!("{label}: expected a refusal, got {other:?}"),
        }

        env.lose_warehouse().await;
        let empty = raw_fingerprint(&env.pipeline.warehouse).await;
        assert!(
            empty.iter().all(|(_, _, n)| *n == 0),
            "{label}: the warehouse is gone"
        );

        // Interrupted after a few collected days (as Ctrl-C does), then resumed by a new
        // process (a new pipeline) on the half-rebuilt warehouse.
        let steps = AtomicU64::new(0);
        let stopper = env.pipeline.clone();
        let interrupted = env
            .pipeline
            .rebuild(false, &|event| {
                if matches!(event, RebuildProgress::Step)
                    && steps.fetch_add(1, Ordering::SeqCst) == 3
                {
                    stopper.request_stop();
                }
            })
            .await
            .expect("rebuild");
        assert!(interrupted.interrupted, "{label}: {interrupted:?}");
        assert!(interrupted.hours > 0, "{label}: {interrupted:?}");
        env.pipeline.leadership.release().await; // the first process has exited
        env.pipeline = env.pipeline_on(env.pipeline.warehouse.clone());
        let resumed = env.pipeline.rebuild(false, &|_| {}).await.expect("resume");
        assert!(resumed.resumed, "{label}: {resumed:?}");
        assert_eq!(resumed.hours_before, interrupted.hours, "{label}");
        assert_eq!(resumed.imports, 3, "{label}: {resumed:?}");
        assert!(resumed.errors.is_empty(), "{label}: {resumed:?}");
        assert!(
            resumed.unrecorded_imports.is_empty(),
            "{label}: {resumed:?}"
        );

        let after = everything(&env.pipeline.warehouse).await;
        assert_eq!(
            after.0, before.0,
            "{label}: raw, imports and ledger rebuilt"
        );
        assert_eq!(after.1, before.1, "{label}: analytics and rollups rebuilt");

        // Once finished, the rebuilt warehouse is a written one: refused again, unless
        // forced, and a forced rebuild gives the same again.
        assert!(matches!(
            env.pipeline.rebuild(false, &|_| {}).await,
            Err(RebuildError::NotEmpty(_))
        ));
        let forced = env.pipeline.rebuild(true, &|_| {}).await.expect("forced");
        assert!(forced.cleared.is_some(), "{label}: {forced:?}");
        assert_eq!(
            everything(&env.pipeline.warehouse).await,
            before,
            "{label}: forced"
        );
        env.close().await;
    }
}

/// The rows of raw the ledger calls ingested and of analytics it calls transformed, by
/// partition: what a warehouse holds "as the ledger says".
async fn ledger_state(wh: &Warehouse) -> (Vec<String>, Vec<String>) {
    let sqlite = |sql: &str| pipeline::warehouse::sqlite(sql);
    let Warehouse::Sqlite(pool) = wh else {
        panic!("SQLite only");
    };
    let raw: Vec<String> = sqlx::query_scalar(&sqlite(
        "SELECT lot || ',' || store_id || ',' || sensor_id || ',' || heure || ',' || \
         COALESCE(CAST(nb_visiteurs AS TEXT), '~') FROM raw.visiteurs \
         WHERE substr(lot, 9) IN (SELECT partition FROM job_ledger \
         WHERE job = 'ingest' AND status = 'done') ORDER BY 1",
    ))
    .fetch_all(pool)
    .await
    .expect("raw as the ledger says");
    let analytics: Vec<String> = sqlx::query_scalar(&sqlite(
        "SELECT date || ',' || store_id || ',' || sensor_id || ',' || heure || ',' || \
         nb_visiteurs || ',' || imputed FROM analytics.visiteurs \
         WHERE date IN (SELECT partition FROM job_ledger \
         WHERE job = 'transform' AND status = 'done') ORDER BY 1",
    ))
    .fetch_all(pool)
    .await
    .expect("analytics as the ledger says");
    (raw, analytics)
}

/// Every `(partition)` the ledger calls done for a job.
async fn done(wh: &Warehouse, job: &str) -> Vec<String> {
    let Warehouse::Sqlite(pool) = wh else {
        panic!("SQLite only");
    };
    sqlx::query_scalar(&pipeline::warehouse::sqlite(
        "SELECT partition FROM job_ledger WHERE job = $1 AND status = 'done' ORDER BY 1",
    ))
    .bind(job)
    .fetch_all(pool)
    .await
    .expect("ledger")
}

#[tokio::test]
async fn a_backup_taken_under_load_restores_whole_and_as_the_ledger_said() {
    let env = crate::common::sqlite_env(utc("2025-03-20T12:00:00Z")).await;
    let p = env.pipeline.clone();
    let main = p.warehouse.sqlite_main_file().expect("SQLite");
    let file = env.dir.path().join("backup.dm360");
    // A backfill writes; dashboard queries read in a loop; the backup is taken once three
    // days are through.
    let days_done = Arc::new(AtomicU64::new(0));
    let counter = days_done.clone();
    let writer = {
        let p = p.clone();
        tokio::spawn(async move {
            p.backfill(
                d("2025-02-17"),
                d("2025-03-09"),
                Default::default(),
                &move |e| {
                    if matches!(e, pipeline::jobs::reconcile::ProgressEvent::DayDone { .. }) {
                        counter.fetch_add(1, Ordering::SeqCst);
                    }
                },
            )
            .await
            .expect("backfill")
        })
    };
    let stop_reading = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let wh = p.warehouse.clone();
        let stop = stop_reading.clone();
        tokio::spawn(async move {
            let mut reads = 0u64;
            let f = pipeline::kpi::KpiFilter {
                store_id: None,
                sensor_ids: Vec::new(),
                within_stores: None,
                from: d("2025-02-17"),
                to: d("2025-03-09"),
                hour_from: 9,
                hour_to: 19,
            };
            while !stop.load(Ordering::SeqCst) {
                wh.dashboard_figures(&f).await.expect("dashboard query");
                reads += 1;
            }
            reads
        })
    };
    while days_done.load(Ordering::SeqCst) < 3 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let (m, f) = (main.clone(), file.clone());
    let manifest = tokio::task::spawn_blocking(move || backup::backup_sqlite(&m, &f))
        .await
        .expect("task")
        .expect("backup");
    let during = days_done.load(Ordering::SeqCst);
    writer.await.expect("backfill task");
    stop_reading.store(true, Ordering::SeqCst);
    let reads = reader.await.expect("reader");
    assert!(reads > 0, "the dashboard read meanwhile");
    assert!(
        during < 21,
        "the backup was taken while the backfill wrote ({during} days)"
    );
    assert_eq!(manifest.files.len(), 3);

    // Restored elsewhere: whole, and what the ledger of that instant says is there is
    // exactly what the live warehouse (which went on) holds for those partitions.
    let restored_dir = env.dir.path().join("restored");
    let restored_main = restored_dir.join("warehouse.db");
    let (f, r) = (file.clone(), restored_main.clone());
    tokio::task::spawn_blocking(move || backup::restore_sqlite(&f, &r))
        .await
        .expect("task")
        .expect("restore");
    assert_eq!(
        backup::integrity_check(&restored_main).expect("check"),
        Ok(())
    );
    let restored = Warehouse::open_in_dir(&restored_dir)
        .await
        .expect("open restored");
    let transformed = done(&restored, "transform").await;
    assert!(!transformed.is_empty(), "some days were done at the backup");
    assert!(transformed.len() < 21, "and not all: {transformed:?}");
    let (raw_then, analytics_then) = ledger_state(&restored).await;
    assert!(!raw_then.is_empty() && !analytics_then.is_empty());
    // The live warehouse's rows of the same partitions.
    let live = &p.warehouse;
    let (raw_live, analytics_live) = ledger_state(live).await;
    let ingested: std::collections::BTreeSet<String> =
        done(&restored, "ingest").await.into_iter().collect();
    let raw_live: Vec<String> = raw_live
        .into_iter()
        .filter(|l| ingested.contains(&l[8..21]))
        .collect();
    let days: std::collections::BTreeSet<String> = transformed.into_iter().collect();
    let analytics_live: Vec<String> = analytics_live
        .into_iter()
        .filter(|l| days.contains(&l[..10]))
        .collect();
    assert_eq!(raw_then, raw_live, "raw as the ledger said at the backup");
    assert_eq!(
        analytics_then, analytics_live,
        "analytics as the ledger said"
    );
    restored.close().await;

    // A restore refuses while the warehouse is open (here: by the live pool), and while a
    // server holds its serve lock.
    let (f, m) = (file.clone(), main.clone());
    let busy = tokio::task::spawn_blocking(move || backup::restore_sqlite(&f, &m))
        .await
        .expect("task");
    assert!(matches!(busy, Err(BackupError::InUse { .. })), "{busy:?}");
    p.warehouse.close().await;
    let lock = backup::hold_serving_lock(&main).expect("serve lock");
    let (f, m) = (file.clone(), main.clone());
    let served = tokio::task::spawn_blocking(move || backup::restore_sqlite(&f, &m))
        .await
        .expect("task");
    assert!(
        matches!(&served, Err(BackupError::InUse { what, .. }) if what.contains("server")),
        "{served:?}"
    );
    drop(lock);
    env.close().await;
}

#[tokio::test]
async fn a_partial_or_altered_backup_is_refused_and_replaces_nothing() {
    let env = crate::common::sqlite_env(utc("2025-03-20T12:00:00Z")).await;
    env.backfill_ok(d("2025-03-10"), d("2025-03-11")).await;
    let main = env.pipeline.warehouse.sqlite_main_file().expect("SQLite");
    let file = env.dir.path().join("backup.dm360");
    backup::backup_sqlite(&main, &file).expect("backup");
    let whole = std::fs::read(&file).expect("read");
    let target_dir = env.dir.path().join("target");
    std::fs::create_dir_all(&target_dir).expect("dir");
    let target = target_dir.join("warehouse.db");
    std::fs::write(&target, b"the warehouse in place").expect("write");
    let refused = |bytes: &[u8], what: &str| {
        let bad = env.dir.path().join("bad.dm360");
        std::fs::write(&bad, bytes).expect("write");
        let result = backup::restore_sqlite(&bad, &target);
        assert!(
            matches!(result, Err(BackupError::Damaged { .. })),
            "{what}: {result:?}"
        );
        assert_eq!(
            std::fs::read(&target).expect("target"),
            b"the warehouse in place",
            "{what}: nothing replaced"
        );
    };
    // Cut anywhere (an interrupted copy), one byte flipped, or empty.
    for cut in [0, 10, whole.len() / 3, whole.len() / 2, whole.len() - 1] {
        refused(&whole[..cut], &format!("cut at {cut}"));
    }
    let mut flipped = whole.clone();
    let at = whole.len() * 2 / 3;
    flipped[at] ^= 0x40;
    refused(&flipped, "a byte altered");
    let mut longer = whole.clone();
    longer.push(0);
    refused(&longer, "bytes added");
    // The whole file restores, and no staging file is left behind.
    std::fs::remove_file(&target).expect("remove");
    backup::restore_sqlite(&file, &target).expect("restore");
    let left: Vec<_> = std::fs::read_dir(&target_dir)
        .expect("list")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    assert!(backup::verify_backup(&file).is_ok());
    env.close().await;
}

/// Runs a PostgreSQL client tool; its failure output in the panic.
fn run(tool: &str, args: &[&str]) {
    let out = std::process::Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{tool} must be installed for this test: {e}"));
    assert!(
        out.status.success(),
        "{tool} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn postgres_pg_dump_and_pg_restore_round_trip() {
    let now = utc("2025-03-20T12:00:00Z");
    let Some(mut env) = envs(now).await.into_iter().find(|e| e.label == "postgres") else {
        return; // no PostgreSQL here (mandatory in CI: `envs` panics there without it)
    };
    history(&env).await;
    env.pipeline
        .warehouse
        .create_account("lea", None, pipeline::access::Role::Manager, &[1, 2], 100)
        .await
        .expect("an account: data only the warehouse holds");
    let before = everything(&env.pipeline.warehouse).await;
    let users_before = count(&env.pipeline.warehouse, "auth_users").await;
    let url = env.postgres_url().expect("postgres");
    let dump = env.dir.path().join("warehouse.pgdump");
    let dump_arg = dump.display().to_string();
    // The README's commands.
    run(
        "pg_dump",
        &["--format=custom", &format!("--file={dump_arg}"), &url],
    );
    env.pipeline.leadership.release().await;
    env.pipeline.warehouse.close().await;
    // pg_restore into an empty database (the README: created empty, no migration run).
    recreate_empty(&url).await;
    run(
        "pg_restore",
        &["--no-owner", &format!("--dbname={url}"), &dump_arg],
    );
    let restored = Warehouse::connect(&url).await.expect("open restored");
    assert_eq!(
        everything(&restored).await,
        before,
        "pg_restore gives it all back"
    );
    assert_eq!(count(&restored, "auth_users").await, users_before);
    env.pipeline = env.pipeline_on(restored);
    env.close().await;
}

async fn count(wh: &Warehouse, table: &str) -> i64 {
    let Warehouse::Postgres(pool) = wh else {
        panic!("PostgreSQL only");
    };
    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(pool)
        .await
        .expect("count")
}

/// Drops and creates the database of `url` again, empty (no migration).
async fn recreate_empty(url: &str) {
    let db = url::Url::parse(url)
        .expect("url")
        .path()
        .trim_start_matches('/')
        .to_string();
    let admin = crate::common::postgres_url().expect("TEST_DATABASE_URL");
    let pool = sqlx::PgPool::connect(&admin).await.expect("admin");
    sqlx::query(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
        .execute(&pool)
        .await
        .expect("drop");
    sqlx::query(&format!("CREATE DATABASE {db}"))
        .execute(&pool)
        .await
        .expect("create");
    pool.close().await;
}
