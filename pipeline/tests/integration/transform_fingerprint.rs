//! Issue 15: the transform's output, pinned. A fixed small synthetic chain goes through
//! ingest, imports and the nightly transform over a few fixed days (history weeks with
//! gaps, a day with gaps, a conflicting import, a closed day, a partial "today"); every
//! analytics table and day rollup is then read back here with plain `SELECT … ORDER BY`
//! (independently of the writer, ids left out) and hashed. The hashes were produced by
//! the code before issue 15's rewrite of the transform: any change of a row, a figure or
//! a rollup breaks this test, on SQLite and on PostgreSQL alike.

use std::fmt::Write as _;
use std::sync::Arc;

use chrono::{Datelike, NaiveDate, TimeZone, Utc};
use pipeline::calendar::OPENING_HOURS;
use pipeline::clock::HourSlot;
use pipeline::jobs::collect::simulate_hour;
use pipeline::warehouse::raw::lot_of;
use pipeline::{Pipeline, Reference, Warehouse};
use sha2::{Digest, Sha256};

use crate::common::{analytics_tables, envs_with, row_text, utc};

fn d(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

/// What each table's rows hash to (SHA-256 of the sorted text rows, one per line).
const EXPECTED: &[(&str, &str)] = &[
    (
        "visiteurs",
        "9a0c6a525c5b26b6da6d3472dc6ca3835a4e8d941e38edcf91d679b33ae9062f",
    ),
    (
        "transactions",
        "2b06e3809749a1e9766bf7e1c444d82691c9df0dcdf0302ad1652186979bd141",
    ),
    (
        "quality",
        "c900c00e8f70273100191493956e5499defde911f401003252505aaf3400a701",
    ),
    (
        "store_hours",
        "e0b7597cabbfa46c20d773f52db10c0f6d8c821d5cfc2fcd04718ce2aabb2781",
    ),
    (
        "sensor_days",
        "e972311a966a641933e59bc49f36bc1f8ee4c0d7e64ed7f96a26888af89a4d94",
    ),
    (
        "store_days",
        "66d9f2777c5cf36b1749dbf6d66fdd2428dde8c82fe424a81d1592b4b83c3fba",
    ),
    (
        "store_months",
        "92995c7756360565f81c2cbe6a82d01f5649e083445493809db36c39b8c65f9d",
    ),
    (
        "chain_hours",
        "cd8813c2280694b622166e0bdd185d9c3858036b5c75afebc5fb28075ef0bff1",
    ),
    (
        "sensors",
        "af2e33047c2ad12e7675cb6856ec3464503bd5940a33e767bbd837805dbdcf35",
    ),
];

/// Every row of `table` as text, `a,b,c`, in the table's key order (then sorted as bytes,
/// so that no engine's text collation matters).
async fn rows(wh: &Warehouse, table: &str, columns: &[String], order: &str) -> Vec<String> {
    rows_of(wh, &format!("analytics.{table}"), &row_text(columns), order).await
}

/// Every row of `table` (schema-qualified) as the SQL text expression `text`, sorted.
async fn rows_of(wh: &Warehouse, table: &str, text: &str, order: &str) -> Vec<String> {
    let sql = format!("SELECT {text} FROM {table} ORDER BY {order}");
    let mut out: Vec<String> = match wh {
        Warehouse::Sqlite(p) => sqlx::query_scalar(&sql).fetch_all(p).await.expect(&sql),
        Warehouse::Postgres(p) => sqlx::query_scalar(&sql).fetch_all(p).await.expect(&sql),
    };
    out.sort();
    out
}

/// On SQLite, the storage class of every value: text for dates, hours and names, integer
/// for everything else (a writer binding numbers as text or floats would change them).
async fn sqlite_storage_classes(wh: &Warehouse, table: &str, columns: &[String]) {
    let Warehouse::Sqlite(p) = wh else {
        return;
    };
    let expected: Vec<&str> = columns
        .iter()
        .map(|c| match c.as_str() {
            "date" | "heure" | "month" | "feed" | "rule" => "text",
            _ => "integer",
        })
        .collect();
    let sql = format!(
        "SELECT DISTINCT {} FROM analytics.{table}",
        columns
            .iter()
            .map(|c| format!("typeof({c})"))
            .collect::<Vec<_>>()
            .join(" || ',' || ")
    );
    let found: Vec<String> = sqlx::query_scalar(&sql).fetch_all(p).await.expect(&sql);
    assert_eq!(
        found,
        vec![expected.join(",")],
        "storage classes of {table}"
    );
}

/// Loads collected hours of `date` into raw as ingest does, leaving out the rows `keep`
/// refuses (gaps), only hours up to `until`.
async fn load_day(
    p: &Pipeline,
    date: NaiveDate,
    until: Option<u32>,
    keep_visitor: impl Fn(i64, i64, u32) -> bool,
    keep_sale: impl Fn(i64, u32) -> bool,
) {
    let at = Utc.with_ymd_and_hms(2025, 3, 20, 0, 0, 0).unwrap();
    for slot in HourSlot::hours_of_day(date).filter(|s| until.is_none_or(|u| s.hour <= u)) {
        let (mut v, mut t) = simulate_hour(&p.simulator, slot);
        v.retain(|r| keep_visitor(r.store_id, r.sensor_id, slot.hour));
        t.retain(|r| keep_sale(r.store_id, slot.hour));
        p.warehouse
            .replace_raw_lot(&lot_of(slot), &v, &t, at)
            .await
            .expect("raw lot");
    }
}

/// `analytics.sensor_months` (each sensor's genuine bits per month, kept up to date by the
/// transform) equals the OR of its `sensor_days` masks per calendar month, computed here.
async fn assert_sensor_months_follow_sensor_days(wh: &Warehouse, label: &str) {
    // (store, sensor, period, genuine) of a mask table, as text.
    let masks = |table: &'static str, period: &'static str| async move {
        let columns: Vec<String> = ["store_id", "sensor_id", period, "genuine"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        rows(wh, table, &columns, "store_id").await
    };
    let days = masks("sensor_days", "date").await;
    let mut expected: std::collections::BTreeMap<String, i64> = Default::default();
    for line in &days {
        let f: Vec<&str> = line.split(',').collect();
        let month = format!("{}-01", &f[2][..7]);
        let genuine: i64 = f[3].parse().expect("genuine");
        *expected
            .entry(format!("{},{},{month}", f[0], f[1]))
            .or_default() |= genuine;
    }
    let mut expected: Vec<String> = expected
        .into_iter()
        .map(|(k, g)| format!("{k},{g}"))
        .collect();
    expected.sort();
    let found = masks("sensor_months", "month").await;
    // A month row may stay at 0 when a re-run removed its only genuine bits.
    let found: Vec<String> = found.into_iter().filter(|l| !l.ends_with(",0")).collect();
    let expected: Vec<String> = expected
        .into_iter()
        .filter(|l| !l.ends_with(",0"))
        .collect();
    assert!(!found.is_empty(), "{label}: sensor_months is empty");
    assert_eq!(found, expected, "{label}: sensor_months");
}

/// (table, hash) of a [`fingerprint`], as `EXPECTED` lists them.
fn hashes(found: &[(String, String, usize)]) -> Vec<(&str, &str)> {
    found
        .iter()
        .map(|(t, h, _)| (t.as_str(), h.as_str()))
        .collect()
}

/// SHA-256 of text lines, one per line.
fn hash_lines(lines: &[String]) -> String {
    let mut hasher = Sha256::new();
    for line in lines {
        hasher.update(line.as_bytes());
        hasher.update(b"\n");
    }
    hasher.finalize().iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The content hash of every analytics table and rollup: (table, hash, rows).
pub(crate) async fn fingerprint(wh: &Warehouse) -> Vec<(String, String, usize)> {
    let mut out = Vec::new();
    for (table, columns, order) in analytics_tables() {
        let lines = rows(wh, table, &columns, order).await;
        sqlite_storage_classes(wh, table, &columns).await;
        out.push((table.to_string(), hash_lines(&lines), lines.len()));
    }
    out
}

/// The content hash of raw, the imports' records and the ledger's statuses, read the
/// same way (what arrived and from where; `timestamp_insertion` and the ledger's timings
/// are when this warehouse wrote them, so they are left out).
pub(crate) async fn raw_fingerprint(wh: &Warehouse) -> Vec<(String, String, usize)> {
    let mut out = Vec::new();
    for (table, text, order) in crate::common::raw_tables() {
        let lines = rows_of(wh, table, &text, order).await;
        out.push((table.to_string(), hash_lines(&lines), lines.len()));
    }
    out
}

#[tokio::test]
async fn the_transform_output_is_unchanged_on_every_backend() {
    // Thursday 2025-03-20, 13:00 Paris: today is cleaned up to 12h.
    let now = utc("2025-03-20T12:00:00Z");
    let reference = Arc::new(Reference::synthetic(40, 15).expect("chain"));
    let day = d("2025-03-12"); // a Wednesday; its history weeks are Feb 12, 19, 26, Mar 5
    let today = d("2025-03-20");
    let saturday = d("2025-03-15");
    for env in envs_with(now, reference).await {
        let p = &env.pipeline;
        let label = env.label.clone();
        // History: three of the four weeks (Feb 19 missing), with gaps of their own.
        for (i, week) in [d("2025-02-12"), d("2025-02-26"), d("2025-03-05")]
            .into_iter()
            .enumerate()
        {
            let salt = i as i64 + 1;
            load_day(
                p,
                week,
                None,
                |s, c, h| (s * 7 + c * 5 + h as i64 + salt) % 17 != 0,
                |s, h| (s * 3 + h as i64 + salt) % 11 != 0,
            )
            .await;
            p.transform(week).await.expect("history week");
        }
        // The day: scattered gaps, one sensor silent all day (unfillable), one store's
        // sales missing all day (unfillable), many sales gaps filled from history.
        load_day(
            p,
            day,
            None,
            |s, c, h| (s * 7 + c * 5 + h as i64) % 11 != 0 && !(s == 3 && c == 2),
            |s, h| (s * 3 + h as i64) % 5 != 0 && s != 5,
        )
        .await;
        // Imports about the same day in other spellings: some fill the gaps, some
        // conflict with collected rows, some repeat inside the file, a few are invalid.
        let mut v_csv = String::from("store_id,sensor_id,date,heure,nb_visiteurs\n");
        let mut t_csv = String::from("store_id,date,heure,transactions,chiffre_affaires\n");
        for hour in OPENING_HOURS {
            let (visitors, transactions) =
                simulate_hour(&p.simulator, HourSlot { date: day, hour });
            for r in visitors
                .iter()
                .filter(|r| (r.store_id + r.sensor_id) % 4 == 0)
            {
                let v = r
                    .nb_visiteurs
                    .map(|v| (v + 3).to_string())
                    .unwrap_or_default();
                let line = format!(
                    "{},{},{:02}/{:02}/{},{hour:02}h00,{v}\n",
                    r.store_id,
                    r.sensor_id,
                    day.day(),
                    day.month(),
                    day.year()
                );
                v_csv.push_str(&line);
                if r.store_id % 3 == 0 {
                    v_csv.push_str(&line); // repeated inside the file
                }
            }
            for r in transactions.iter().filter(|r| r.store_id % 2 == 0) {
                let _ = writeln!(
                    t_csv,
                    "{},{},{hour:02}:00,{},{:.2}",
                    r.store_id,
                    day.format("%Y/%m/%d"),
                    r.transactions.unwrap_or(0) + 1,
                    r.chiffre_affaires.unwrap_or(0.0) + 0.005
                );
            }
        }
        v_csv.push_str("9999,1,2025-03-12,10:00:00,5\n"); // unknown store
                                                          // The Saturday after: a closed day (collect brings nothing then; a file may).
        for store in 1..=4 {
            let _ = writeln!(v_csv, "{store},1,{saturday},11:00:00,{}", 10 + store);
        }
        let (vp, tp) = (env.dir.path().join("v.csv"), env.dir.path().join("t.csv"));
        std::fs::write(&vp, &v_csv).expect("write");
        std::fs::write(&tp, &t_csv).expect("write");
        for path in [&vp, &tp] {
            let report = p.import_csv(path).await.expect("import");
            assert!(report.transform_errors.is_empty(), "{label}: {report:?}");
        }
        // Today's partial day.
        load_day(p, today, Some(12), |_, _, _| true, |_, _| true).await;
        for date in [day, saturday, today, day] {
            p.transform(date).await.expect("transform");
        }

        let wh = &p.warehouse;
        // The paths under test did run.
        let quality = wh.quality_for(day).await.expect("quality");
        for rule in [
            "slots_filled",
            "unfillable",
            "source_conflict",
            "duplicate",
            "unknown_id",
        ] {
            assert!(
                quality.iter().any(|q| q.rule.key() == rule && q.count > 0),
                "{label}: {rule} ran: {quality:?}"
            );
        }
        assert!(
            wh.quality_for(saturday)
                .await
                .expect("quality")
                .iter()
                .any(|q| q.rule.key() == "closed_day" && q.count > 0),
            "{label}: closed day"
        );

        let found = fingerprint(wh).await;
        for (table, hex, n) in &found {
            eprintln!("{label}: {table} {n} rows {hex}");
            assert!(*n > 0, "{label}: {table} is empty");
        }
        assert_eq!(
            hashes(&found),
            EXPECTED,
            "{label}: the transform's output changed"
        );
        assert_sensor_months_follow_sensor_days(wh, &label).await;
        // The rollups the transform wrote equal those the warehouse derives by SQL from
        // the stored rows (the upgrade path, `rebuild_rollups`).
        let rebuilt = wh
            .rebuild_rollups(d("2025-02-12"), today)
            .await
            .expect("rebuild");
        assert_eq!(rebuilt, 37);
        let again = fingerprint(wh).await;
        assert_eq!(
            hashes(&again),
            EXPECTED,
            "{label}: rollups rebuilt by SQL differ"
        );
        assert_sensor_months_follow_sensor_days(wh, &format!("{label}, rebuilt")).await;
        // Two transforms of one day at once (an operator's re-run during the nightly one)
        // leave one copy of each row: the day writes take the write lock before they
        // delete, and PostgreSQL's tables keep no unique key of their own (migration 0007).
        // On PostgreSQL a third transaction holds the day's rows first, so that both
        // writers are surely waiting at once when it lets go (without the lock, both would
        // then delete the same old rows and both insert theirs).
        let blocker = match wh {
            Warehouse::Postgres(pool) => {
                let mut tx = pool.begin().await.expect("blocker");
                sqlx::query("DELETE FROM analytics.visiteurs WHERE date = $1")
                    .bind(day)
                    .execute(&mut *tx)
                    .await
                    .expect("blocker holds the day's rows");
                Some(tx)
            }
            Warehouse::Sqlite(_) => None,
        };
        let release = async {
            if let Some(tx) = blocker {
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                tx.rollback().await.expect("blocker lets go");
            }
        };
        let (first, second, ()) = tokio::join!(p.transform(day), p.transform(day), release);
        first.expect("first of two concurrent transforms");
        second.expect("second of two concurrent transforms");
        let concurrent = fingerprint(wh).await;
        assert_eq!(
            hashes(&concurrent),
            EXPECTED,
            "{label}: two concurrent transforms of a day changed the output"
        );
        // The day writes commit without waiting for the disk, each for itself only
        // (`SET LOCAL`): every connection the pool hands out afterwards, the ledger's
        // included, still commits synchronously, which is what makes a day the ledger
        // calls done durable.
        if let Warehouse::Postgres(pool) = wh {
            let open = pool.size() as usize;
            assert!(open >= 2, "{label}: the transforms used the pool");
            let mut held = Vec::with_capacity(open);
            for _ in 0..open {
                held.push(pool.acquire().await.expect("connection"));
            }
            for conn in &mut held {
                let setting: String = sqlx::query_scalar("SHOW synchronous_commit")
                    .fetch_one(&mut **conn)
                    .await
                    .expect("setting");
                assert_eq!(
                    setting, "on",
                    "{label}: a connection kept the day's setting"
                );
            }
        }
        env.close().await;
    }
}
