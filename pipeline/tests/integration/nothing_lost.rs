//! Issue 12, "nothing lost, nothing invented", on every backend: imports identified by
//! content, one precedence rule for overlapping sources, exact and deterministic money,
//! one date range, and broken lake files repaired by the next scheduled run.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use chrono::{Datelike, NaiveDate};
use pipeline::calendar::{is_open_day, OPENING_HOURS};
use pipeline::cleaning::clean_day_with;
use pipeline::cleaning::history::History;
use pipeline::clock::HourSlot;
use pipeline::jobs::collect::simulate_hour;
use pipeline::jobs::reconcile::{BackfillError, RunOptions};
use pipeline::kpi::KpiFilter;
use pipeline::ledger::START_SETTING;
use pipeline::{Pipeline, Warehouse};

use crate::common::{self, d, envs, quiet, utc};

/// Runs one statement on either engine (`$n` placeholders).
async fn exec(wh: &Warehouse, sql: &str) {
    match wh {
        Warehouse::Sqlite(p) => {
            sqlx::query(&pipeline::warehouse::sqlite(sql))
                .execute(p)
                .await
                .expect(sql);
        }
        Warehouse::Postgres(p) => {
            sqlx::query(sql).execute(p).await.expect(sql);
        }
    }
}

/// Text rows of one query (each row one string), sorted.
async fn text_rows(wh: &Warehouse, sql: &str) -> Vec<String> {
    let mut rows: Vec<String> = match wh {
        Warehouse::Sqlite(p) => sqlx::query_scalar(sql).fetch_all(p).await.expect(sql),
        Warehouse::Postgres(p) => sqlx::query_scalar(sql).fetch_all(p).await.expect(sql),
    };
    rows.sort();
    rows
}

/// The analytics rows and rollups but the quality figures and the sensor masks, as text,
/// each row after its table's tag (`v,`, `t,`…): what "bit-identical" compares.
async fn dump(wh: &Warehouse) -> Vec<String> {
    let tags = [
        ("visiteurs", "v"),
        ("transactions", "t"),
        ("store_hours", "sh"),
        ("chain_hours", "ch"),
        ("store_days", "sd"),
        ("store_months", "sm"),
    ];
    let tables = common::analytics_tables();
    let mut all = Vec::new();
    for (table, tag) in tags {
        let (_, columns, _) = tables
            .iter()
            .find(|(name, ..)| *name == table)
            .expect("an analytics table");
        let sql = format!(
            "SELECT '{tag},' || {} FROM analytics.{table}",
            common::row_text(columns)
        );
        all.extend(text_rows(wh, &sql).await);
    }
    all
}

fn quality(figures: &[pipeline::clean_rows::QualityFigure], feed: &str, rule: &str) -> i64 {
    figures
        .iter()
        .find(|q| q.feed == feed && q.rule.key() == rule)
        .map(|q| q.count)
        .unwrap_or(0)
}

/// `/export.csv`'s rows of one day equal the day's raw rows after cleaning.
async fn assert_export_is_raw_cleaned(p: &Pipeline, day: NaiveDate, label: &str) {
    let raw = p.warehouse.raw_day(day).await.expect("raw");
    let history = p
        .warehouse
        .history(&History::dates_for(day), true)
        .await
        .expect("history");
    let cleaned =
        clean_day_with(p.simulator.reference(), day, &raw.input(&history, None)).expect("clean");
    // The export's store-hours: visitors summed over the store's sensors, its sales.
    let mut expected: BTreeMap<(NaiveDate, u32, u32), (i64, i64, i64)> = BTreeMap::new();
    for v in &cleaned.visitors {
        expected
            .entry((v.date, v.hour, v.store_id as u32))
            .or_default()
            .0 += v.nb_visiteurs as i64;
    }
    for t in &cleaned.transactions {
        let e = expected
            .entry((t.date, t.hour, t.store_id as u32))
            .or_default();
        e.1 += t.nb_transactions as i64;
        e.2 += t.chiffre_affaires_centimes;
    }
    let filter = KpiFilter {
        store_id: None,
        sensor_ids: vec![],
        within_stores: None,
        from: day,
        to: day,
        hour_from: 9,
        hour_to: 19,
    };
    let exported: BTreeMap<(NaiveDate, u32, u32), (i64, i64, i64)> = export(p, &filter)
        .await
        .into_iter()
        .map(|h| {
            (
                (h.date, h.hour, h.store_id),
                (
                    h.store_visitors,
                    h.transactions,
                    (h.revenue * 100.0).round() as i64,
                ),
            )
        })
        .collect();
    assert_eq!(
        exported, expected,
        "{label} {day}: export = raw after cleaning"
    );
}

/// Every row `/export.csv` would stream for `f`.
async fn export(p: &Pipeline, f: &KpiFilter) -> Vec<pipeline::kpi::ExportHour> {
    let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
    let sent = p.warehouse.export_hours(f, &tx).await.expect("export");
    drop(tx);
    let mut rows = Vec::new();
    while let Some(r) = rx.recv().await {
        rows.push(r);
    }
    assert_eq!(rows.len() as u64, sent);
    rows
}

fn visitors_csv(rows: &[(u32, u32, &str, u32, Option<i64>)]) -> String {
    let mut s = String::from("store_id,sensor_id,date,heure,nb_visiteurs\n");
    for (store, sensor, date, hour, v) in rows {
        let v = v.map(|v| v.to_string()).unwrap_or_default();
        let _ = writeln!(s, "{store},{sensor},{date},{hour:02}:00:00,{v}");
    }
    s
}

#[tokio::test]
async fn files_are_identified_by_content_and_changed_days_are_cleaned_again() {
    for env in envs(utc("2025-03-20T12:00:00Z")).await {
        let p = &env.pipeline;
        let label = env.label.clone();
        let (day_a, day_b) = (d("2024-10-14"), d("2025-01-13"));
        for dir in ["2024", "2025", "fixes"] {
            std::fs::create_dir_all(env.dir.path().join(dir)).expect("dir");
        }
        // Two files with the same name, different content and days.
        let a = env.dir.path().join("2024/visiteurs.csv");
        let b = env.dir.path().join("2025/visiteurs.csv");
        let rows_a: Vec<_> = OPENING_HOURS
            .map(|h| (1, 1, "2024-10-14", h, Some(40 + h as i64)))
            .collect();
        let rows_b: Vec<_> = OPENING_HOURS
            .map(|h| (2, 1, "13/01/2025", h, Some(30 + h as i64)))
            .collect();
        std::fs::write(&a, visitors_csv(&rows_a)).expect("write");
        std::fs::write(&b, visitors_csv(&rows_b)).expect("write");
        let ra = p.import_csv(&a).await.expect("import a");
        let rb = p.import_csv(&b).await.expect("import b");
        assert!(ra.already_imported.is_none() && rb.already_imported.is_none());
        assert_ne!(ra.lot, rb.lot, "{label}: lots named by content");
        assert!(ra.lot.contains(&ra.sha256));
        assert_eq!(
            p.warehouse.raw_counts().await.expect("counts"),
            (22, 0),
            "{label}: both files stay loaded"
        );
        assert_export_is_raw_cleaned(p, day_a, &label).await;
        assert_export_is_raw_cleaned(p, day_b, &label).await;

        // The same content again, by its name or another: nothing changes.
        let before = dump(&p.warehouse).await;
        let again = p.import_csv(&a).await.expect("again");
        let earlier = again.already_imported.expect("recognised");
        assert!(
            earlier.file_path.ends_with("2024/visiteurs.csv"),
            "{}",
            earlier.file_path
        );
        let copy = env.dir.path().join("fixes/copy-of-a.csv");
        std::fs::copy(&a, &copy).expect("copy");
        assert!(p
            .import_csv(&copy)
            .await
            .expect("copy")
            .already_imported
            .is_some());
        assert_eq!(p.warehouse.raw_counts().await.expect("counts"), (22, 0));
        assert_eq!(dump(&p.warehouse).await, before, "{label}: nothing changed");

        // A third file changing day A: its analytics and rollups follow.
        let fix = env.dir.path().join("fixes/visiteurs.csv");
        let rows_fix: Vec<_> = OPENING_HOURS
            .filter(|h| h % 2 == 0)
            .map(|h| (1, 2, "2024/10/14", h, Some(60 + h as i64)))
            .collect();
        std::fs::write(&fix, visitors_csv(&rows_fix)).expect("write");
        let rf = p.import_csv(&fix).await.expect("fix");
        assert_eq!(rf.days, vec![day_a]);
        assert_eq!(
            p.warehouse.raw_counts().await.expect("counts"),
            (22 + rows_fix.len() as i64, 0)
        );
        assert_export_is_raw_cleaned(p, day_a, &label).await;
        assert_export_is_raw_cleaned(p, day_b, &label).await;

        // A newer import of the same slot wins over the older one, and the overlap counts.
        let newer = env.dir.path().join("fixes/visiteurs-10h.csv");
        std::fs::write(&newer, visitors_csv(&[(1, 1, "14/10/2024", 10, Some(77))])).expect("write");
        p.import_csv(&newer).await.expect("newer");
        let filter = KpiFilter {
            store_id: Some(1),
            sensor_ids: vec![1],
            within_stores: None,
            from: day_a,
            to: day_a,
            hour_from: 10,
            hour_to: 10,
        };
        let rows = export(p, &filter).await;
        assert_eq!(
            rows.iter()
                .map(|h| (h.date, h.hour, h.store_id, h.visitors))
                .collect::<Vec<_>>(),
            vec![(day_a, 10, 1, 77)],
            "{label}: newer import wins"
        );
        let q = p.warehouse.quality_for(day_a).await.expect("quality");
        assert_eq!(quality(&q, "visiteurs", "source_conflict"), 1, "{label}");
        assert_export_is_raw_cleaned(p, day_a, &label).await;
        env.close().await;
    }
}

/// Every accepted spelling (pinned by `spelling`'s own test).
const SPELLINGS: [&str; 3] = pipeline::spelling::DATE_SPELLINGS;

#[tokio::test]
async fn collected_data_wins_over_an_import_in_any_spelling_and_overlaps_are_counted() {
    let day = d("2025-03-11");
    for env in envs(utc("2025-03-20T12:00:00Z")).await {
        let p = &env.pipeline;
        let label = env.label.clone();
        env.backfill_ok(day, day).await;
        let before = dump(&p.warehouse).await;

        // An import of the same day with other values, dates in three spellings.
        let sim = p.simulator.clone();
        let mut v_csv = String::from("store_id,sensor_id,date,heure,nb_visiteurs\n");
        let mut t_csv = String::from("store_id,date,heure,transactions,chiffre_affaires\n");
        let mut collected_valid = 0;
        let mut i = 0;
        for hour in OPENING_HOURS {
            let slot = HourSlot { date: day, hour };
            let (visitors, transactions) = simulate_hour(&sim, slot);
            for r in &visitors {
                let date = day.format(SPELLINGS[i % 3]);
                i += 1;
                collected_valid += i64::from(r.nb_visiteurs.is_some());
                let v = r.nb_visiteurs.unwrap_or(70) + 7;
                let _ = writeln!(
                    v_csv,
                    "{},{},{date},{hour:02}:00:00,{v}",
                    r.store_id, r.sensor_id
                );
            }
            for r in &transactions {
                let date = day.format(SPELLINGS[i % 3]);
                i += 1;
                let tx = r.transactions.unwrap_or(0) + 3;
                let ca = r.chiffre_affaires.unwrap_or(0.0) + 12.34;
                let _ = writeln!(t_csv, "{},{date},{hour:02}:00:00,{tx},{ca:.2}", r.store_id);
            }
        }
        let (vp, tp) = (env.dir.path().join("v.csv"), env.dir.path().join("t.csv"));
        std::fs::write(&vp, v_csv).expect("write");
        std::fs::write(&tp, t_csv).expect("write");
        p.import_csv(&vp).await.expect("import visitors");
        p.import_csv(&tp).await.expect("import transactions");
        let after = dump(&p.warehouse).await;

        // Every store-hour keeps its collected sales; every genuine sensor-hour its count.
        let sales = |rows: &[String]| -> Vec<String> {
            rows.iter()
                .filter(|r| r.starts_with("t,"))
                .cloned()
                .collect()
        };
        assert_eq!(
            sales(&after),
            sales(&before),
            "{label}: collected sales kept"
        );
        assert_eq!(sales(&before).len(), 110);
        let genuine: Vec<&String> = before
            .iter()
            .filter(|r| r.starts_with("v,") && r.ends_with(",0"))
            .collect();
        for row in &genuine {
            assert!(after.contains(row), "{label}: collected count kept: {row}");
        }
        let q = p.warehouse.quality_for(day).await.expect("quality");
        assert_eq!(
            quality(&q, "transactions", "source_conflict"),
            110,
            "{label}"
        );
        assert_eq!(
            quality(&q, "visiteurs", "source_conflict"),
            collected_valid,
            "{label}"
        );
        env.close().await;
    }
}

/// Four weeks of one chain's history as CSV, some store-hours and sensor-hours left out
/// (so the cleaning fills them, with revenues on half cents among them).
fn history_csv(p: &Pipeline, from: NaiveDate, to: NaiveDate) -> (String, String) {
    let mut v_csv = String::from("store_id,sensor_id,date,heure,nb_visiteurs\n");
    let mut t_csv = String::from("store_id,date,heure,transactions,chiffre_affaires\n");
    let mut date = from;
    while date <= to {
        for hour in OPENING_HOURS {
            let (visitors, transactions) = simulate_hour(&p.simulator, HourSlot { date, hour });
            for r in &visitors {
                if (r.store_id * 7 + r.sensor_id * 5 + hour as i64 + date.ordinal() as i64) % 13
                    == 0
                {
                    continue;
                }
                let v = r.nb_visiteurs.map(|v| v.to_string()).unwrap_or_default();
                let _ = writeln!(
                    v_csv,
                    "{},{},{date},{hour:02}:00:00,{v}",
                    r.store_id, r.sensor_id
                );
            }
            for r in &transactions {
                if (r.store_id * 3 + hour as i64 + date.ordinal() as i64) % 7 == 0 {
                    continue;
                }
                let _ = writeln!(
                    t_csv,
                    "{},{date},{hour:02}:00:00,{},{:.2}",
                    r.store_id,
                    r.transactions.unwrap_or(0),
                    r.chiffre_affaires.unwrap_or(0.0)
                );
            }
        }
        date = date.succ_opt().expect("next");
    }
    (v_csv, t_csv)
}

#[tokio::test]
async fn money_is_exact_and_identical_across_runs_and_engines() {
    let now = utc("2025-03-20T12:00:00Z");
    let mut all = vec![common::sqlite_env(now).await];
    all.extend(envs(now).await);
    let (from, to) = (d("2025-02-03"), d("2025-02-28"));
    let (v_csv, t_csv) = history_csv(&all[0].pipeline, from, to);
    let mut dumps = Vec::new();
    for env in &all {
        let (vp, tp) = (env.dir.path().join("v.csv"), env.dir.path().join("t.csv"));
        std::fs::write(&vp, &v_csv).expect("write");
        std::fs::write(&tp, &t_csv).expect("write");
        let rv = env.pipeline.import_csv(&vp).await.expect("import");
        let rt = env.pipeline.import_csv(&tp).await.expect("import");
        assert!(rv.transform_errors.is_empty() && rt.transform_errors.is_empty());
        dumps.push((env.label.clone(), dump(&env.pipeline.warehouse).await));
    }
    let (first_label, first) = &dumps[0];
    let filled = first
        .iter()
        .filter(|r| r.starts_with("t,") && r.ends_with(",1"))
        .count();
    assert!(filled > 100, "store-hours were filled: {filled}");
    for (label, other) in &dumps[1..] {
        assert_eq!(other.len(), first.len(), "{first_label} vs {label}");
        for (a, b) in first.iter().zip(other) {
            assert_eq!(a, b, "{first_label} vs {label}");
        }
    }
    // The rollups add up to the rows, to the cent.
    let cents = |prefix: &str| -> i64 {
        first
            .iter()
            .filter(|r| r.starts_with(prefix))
            .map(|r| {
                r.split(',')
                    .nth(5)
                    .and_then(|c| c.parse::<i64>().ok())
                    .expect("cents")
            })
            .sum()
    };
    let (cents, chain) = (cents("t,"), cents("ch,"));
    assert_eq!(cents, chain);
    for env in all {
        env.close().await;
    }
}

#[tokio::test]
async fn dates_outside_the_service_range_are_refused_everywhere() {
    // Thursday 2025-03-20, 13:00 Paris: the last complete hour is 12h.
    for env in envs(utc("2025-03-20T12:00:00Z")).await {
        let p = &env.pipeline;
        let label = env.label.clone();
        for (from, to) in [
            (d("2019-12-30"), d("2020-01-02")),
            (d("2020-12-31"), d("2021-01-04")),
            (
                NaiveDate::from_ymd_opt(0, 1, 1).expect("year 0"),
                NaiveDate::from_ymd_opt(0, 12, 31).expect("year 0"),
            ),
            (d("2025-03-21"), d("2025-03-22")),
        ] {
            let err = p
                .backfill(from, to, RunOptions::default(), &quiet)
                .await
                .expect_err("refused");
            assert!(matches!(err, BackfillError::Range(_)), "{label}: {err}");
            assert!(err.to_string().contains("2021-01-01"), "{err}");
        }
        assert!(p
            .warehouse
            .ledger_summary()
            .await
            .expect("ledger")
            .is_empty());
        let lake = env.dir.path().join("lake");
        let files = walk(&lake);
        assert!(files.is_empty(), "{label}: nothing written: {files:?}");

        let csv = "store_id,sensor_id,date,heure,nb_visiteurs
1,1,2099-12-31,10:00:00,50
1,1,9999-12-31,10:00:00,50
1,1,31/12/2020,10:00:00,50
1,1,2025-03-20,14:00:00,50
1,1,2025-03-20,10:00:00,50
1,1,2025-03-11,10:00:00,50
1,1,2025-03-11,11:00:00,55
";
        let path = env.dir.path().join("range.csv");
        std::fs::write(&path, csv).expect("write");
        let report = p.import_csv(&path).await.expect("import");
        assert_eq!(report.outside_range, 4, "{label}");
        assert_eq!(report.loaded, 3);
        assert_eq!(report.days, vec![d("2025-03-11"), d("2025-03-20")]);
        assert!(
            report.transform_errors.is_empty(),
            "{:?}",
            report.transform_errors
        );
        assert_eq!(p.warehouse.raw_counts().await.expect("counts"), (3, 0));
        // No filled row outside the range: today stops at its last complete hour.
        let rows = dump(&p.warehouse).await;
        let today: Vec<&String> = rows
            .iter()
            .filter(|r| r.starts_with("v,1,1,2025-03-20"))
            .collect();
        assert_eq!(today.len(), 4, "{label}: 09h..12h only: {today:?}");
        assert!(rows
            .iter()
            .filter(|r| r.starts_with("v,"))
            .all(|r| r.contains(",2025-03-11,") || r.contains(",2025-03-20,")));
        env.close().await;
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let path = e.path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path);
            }
        }
    }
    out
}

#[tokio::test]
async fn broken_lake_files_are_collected_again_by_the_next_scheduled_run() {
    let day = d("2025-03-11");
    // Wednesday 05:00 Paris: Tuesday is over and due for its transform.
    for env in envs(utc("2025-03-12T04:00:00Z")).await {
        let p = &env.pipeline;
        let label = env.label.clone();
        env.backfill_ok(day, day).await;
        let clean_dump = dump(&p.warehouse).await;
        let raw_of_day = |w: &Warehouse| {
            let w = w.clone();
            async move {
                let r = w.raw_day(day).await.expect("raw");
                (r.visitors.len(), r.transactions.len())
            }
        };
        let clean_raw = raw_of_day(&p.warehouse).await;

        // Hour 10's visitor file is truncated, hour 14's sales file deleted, before
        // their ingest (a crash, then a disk problem): raw lacks them and ingest is due.
        let lake = env.dir.path().join("lake");
        let truncated = lake.join("visiteurs/date=2025-03-11/hour=10/data.parquet");
        let bytes = std::fs::read(&truncated).expect("read");
        std::fs::write(&truncated, &bytes[..bytes.len() / 2]).expect("truncate");
        std::fs::remove_file(lake.join("transactions/date=2025-03-11/hour=14/data.parquet"))
            .expect("delete");
        for hour in ["10", "14"] {
            let lot = format!("collect:2025-03-11T{hour}");
            exec(
                &p.warehouse,
                &format!("DELETE FROM raw.visiteurs WHERE lot = '{lot}'"),
            )
            .await;
            exec(
                &p.warehouse,
                &format!("DELETE FROM raw.transactions WHERE lot = '{lot}'"),
            )
            .await;
            exec(
                &p.warehouse,
                &format!(
                    "UPDATE job_ledger SET status = 'failed', attempts = 1, next_attempt_at = NULL \
                     WHERE job = 'ingest' AND partition = '2025-03-11T{hour}'"
                ),
            )
            .await;
        }
        p.warehouse
            .set_setting(START_SETTING, &day.to_string())
            .await
            .expect("start");

        // The next scheduled run repairs both, with no manual step.
        let run = p.reconcile(21).await.expect("reconcile").expect("ran");
        assert_eq!(run.total_failed(), 0, "{label}: {:?}", run.errors);
        assert_eq!(run.repaired, 2, "{label}");
        assert_eq!(raw_of_day(&p.warehouse).await, clean_raw, "{label}");
        assert_eq!(
            dump(&p.warehouse).await,
            clean_dump,
            "{label}: figures of a clean run"
        );
        assert!(is_open_day(day));
        env.close().await;
    }
}

/// The migrations 0001–0004 only, from the repository's files (same checksums).
async fn old_migrator(backend: &str) -> (tempfile::TempDir, sqlx::migrate::Migrator) {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../migrations")
        .join(backend);
    for entry in std::fs::read_dir(&source).expect("migrations") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        if name.as_str() < "0005" {
            std::fs::copy(&path, dir.path().join(&name)).expect("copy");
        }
    }
    let migrator = sqlx::migrate::Migrator::new(dir.path())
        .await
        .expect("migrator");
    (dir, migrator)
}

const OLD_ROWS: [&str; 2] = [
    "INSERT INTO analytics.transactions (store_id, date, heure, nb_transactions, chiffre_affaires, imputed) \
     VALUES (1, '2025-03-03', '10:00:00', 5, 1534.87, FALSE), (1, '2025-03-03', '11:00:00', 7, 0.29, TRUE)",
    "INSERT INTO analytics.store_hours (store_id, date, hour, visitors, transactions, revenue) \
     VALUES (1, '2025-03-03', 10, 100, 5, 1534.87), (1, '2025-03-03', 11, 120, 7, 0.29)",
];

async fn assert_upgraded(wh: &Warehouse) {
    let rows = dump(wh).await;
    for expected in [
        "t,1,2025-03-03,10:00:00,5,153487,0",
        "t,1,2025-03-03,11:00:00,7,29,1",
        "sh,1,2025-03-03,10,100,5,153487",
        "ch,2025-03-03,11,120,7,29",
    ] {
        assert!(rows.iter().any(|r| r == expected), "{expected} in {rows:?}");
    }
    let day = rows
        .iter()
        .find(|r| r.starts_with("sd,1,2025-03-03,"))
        .expect("store day rebuilt");
    assert!(
        day.ends_with(",153516"),
        "c19 = 1534.87 € + 0.29 € in cents: {day}"
    );
}

#[tokio::test]
async fn existing_warehouses_upgrade_to_cents_and_get_their_rollups_rebuilt() {
    // SQLite: the same three attached files the warehouse opens.
    let dir = tempfile::tempdir().expect("tempdir");
    let main = dir.path().join("warehouse.db");
    {
        let raw = dir.path().join("warehouse-raw.db");
        let analytics = dir.path().join("warehouse-analytics.db");
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&main)
            .create_if_missing(true);
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .after_connect(move |conn, _| {
                let (raw, analytics) = (raw.clone(), analytics.clone());
                Box::pin(async move {
                    sqlx::query("ATTACH DATABASE ?1 AS raw")
                        .bind(raw.to_string_lossy().into_owned())
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("ATTACH DATABASE ?1 AS analytics")
                        .bind(analytics.to_string_lossy().into_owned())
                        .execute(&mut *conn)
                        .await?;
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .expect("old sqlite");
        let (_keep, migrator) = old_migrator("sqlite").await;
        migrator.run(&pool).await.expect("old migrations");
        for sql in OLD_ROWS {
            sqlx::query(sql).execute(&pool).await.expect(sql);
        }
        pool.close().await;
    }
    let wh = Warehouse::connect(&format!("sqlite://{}", main.display()))
        .await
        .expect("upgrade");
    assert_upgraded(&wh).await;
    wh.close().await;

    // PostgreSQL.
    let Some(admin) = common::postgres_url() else {
        return;
    };
    let pool = sqlx::PgPool::connect(&admin).await.expect("admin");
    let db = format!("dm_upgrade_{}", std::process::id());
    sqlx::query(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
        .execute(&pool)
        .await
        .expect("drop");
    sqlx::query(&format!("CREATE DATABASE {db}"))
        .execute(&pool)
        .await
        .expect("create");
    let mut url = url::Url::parse(&admin).expect("url");
    url.set_path(&db);
    {
        let old = sqlx::PgPool::connect(url.as_str()).await.expect("old pg");
        let (_keep, migrator) = old_migrator("postgres").await;
        migrator.run(&old).await.expect("old migrations");
        for sql in OLD_ROWS {
            sqlx::query(sql).execute(&old).await.expect(sql);
        }
        old.close().await;
    }
    let wh = Warehouse::connect(url.as_str()).await.expect("upgrade");
    assert_upgraded(&wh).await;
    wh.close().await;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
        .execute(&pool)
        .await
        .expect("drop");
    pool.close().await;
}
