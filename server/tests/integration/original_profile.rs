//! The `original` simulator profile answers what the original service answers: 2,000
//! random store/sensor/date/hour queries over 2021–2026 against a reference computed by
//! CPython's own `hashlib` and `random` (`original_reference.py`, stdlib only, written from
//! SEED.md), for every form of `/visiteurs` and for `/transactions`.

use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;

use app::services::Services;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use pipeline::runs::Job;
use pipeline::{FixedClock, Profile, Reference, Simulator};
use serde_json::Value;

use super::common::{lake_rows, oneshot, pipeline_in, utc, Gen};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../pipeline/data");
const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/integration/original_reference.py"
);

/// After every queried date: 2027-01-04 12:00 UTC.
fn now() -> DateTime<Utc> {
    utc("2027-01-04T12:00:00Z")
}

/// The last Sunday of a month: Europe's DST change days.
fn last_sunday(year: i32, month: u32) -> NaiveDate {
    let mut d = NaiveDate::from_ymd_opt(year, month + 1, 1).expect("date") - Duration::days(1);
    while d.weekday() != Weekday::Sun {
        d -= Duration::days(1);
    }
    d
}

#[derive(Debug)]
struct Query {
    kind: &'static str,
    city: String,
    sensor: Option<u32>,
    date: NaiveDate,
    hour: Option<u32>,
}

fn queries(reference: &Reference) -> Vec<Query> {
    let mut g = Gen(2021);
    let first = NaiveDate::from_ymd_opt(2021, 1, 1).expect("date");
    let days = (NaiveDate::from_ymd_opt(2026, 12, 31).expect("date") - first).num_days() as u64;
    let dst: Vec<NaiveDate> = (2021..=2026)
        .flat_map(|y| [last_sunday(y, 3), last_sunday(y, 10)])
        .collect();
    let mut out = Vec::new();
    for i in 0..2000 {
        let store = &reference.stores()[g.below(reference.stores().len() as u64) as usize];
        let sensors = reference.sensors_of(store.store_id).len() as u64;
        let date = match i % 20 {
            // Both DST change days of every year (Sundays: closed, hour 2 odd).
            0 => dst[g.below(dst.len() as u64) as usize],
            _ => first + Duration::days(g.below(days + 1) as i64),
        };
        let hour = match g.below(10) {
            0 => 19,
            1 => g.below(9) as u32,      // night, before opening
            2 => 20 + g.below(4) as u32, // night, after closing
            _ => g.below(24) as u32,
        };
        // Case variations of the city, as clients write it.
        let city = match g.below(3) {
            0 => store.city_store.to_uppercase(),
            1 => store.city_store.to_lowercase(),
            _ => store.city_store.clone(),
        };
        let q = match g.below(8) {
            0 | 1 => Query {
                kind: "transactions",
                city,
                sensor: None,
                date,
                hour: Some(hour),
            },
            2..=4 => Query {
                kind: "visiteurs",
                city,
                sensor: Some(1 + g.below(sensors) as u32),
                date,
                hour: Some(hour),
            },
            5 => Query {
                kind: "visiteurs",
                city,
                sensor: None,
                date,
                hour: Some(hour),
            },
            6 => Query {
                kind: "visiteurs",
                city,
                sensor: Some(1 + g.below(sensors) as u32),
                date,
                hour: None,
            },
            _ => Query {
                kind: "visiteurs",
                city,
                sensor: None,
                date,
                hour: None,
            },
        };
        out.push(q);
    }
    out
}

/// The reference answers, one line per query.
fn reference_answers(queries: &[Query]) -> Vec<String> {
    let mut child = Command::new("python3")
        .arg(SCRIPT)
        .arg(format!("{DATA}/magasins.csv"))
        .arg(format!("{DATA}/capteurs.csv"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs (the reference needs CPython's own hashlib and random)");
    let mut input = String::new();
    for q in queries {
        input.push_str(&format!(
            "{},{},{},{},{}\n",
            q.kind,
            q.city,
            q.sensor.map(|s| s.to_string()).unwrap_or_default(),
            q.date,
            q.hour.map(|h| h.to_string()).unwrap_or_default()
        ));
    }
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("queries written");
    let output = child.wait_with_output().expect("reference finishes");
    assert!(output.status.success(), "reference failed: {output:?}");
    String::from_utf8(output.stdout)
        .expect("UTF-8")
        .lines()
        .map(str::to_string)
        .collect()
}

async fn get(router: &axum::Router, uri: &str) -> Value {
    let (status, _, bytes) = oneshot(router, uri, &[]).await;
    let body: Value = serde_json::from_slice(&bytes).expect("JSON");
    assert_eq!(status.as_u16(), 200, "{uri}: {body}");
    body
}

#[tokio::test]
async fn the_original_profile_answers_what_the_original_answers() {
    let reference = Reference::embedded();
    let queries = queries(&reference);
    let expected = reference_answers(&queries);
    assert_eq!(expected.len(), queries.len());

    let services = Services::new(
        Arc::new(Simulator::with_profile(
            Arc::new(reference),
            Profile::Original,
        )),
        Arc::new(FixedClock::new(now())),
    );
    let router = datamag360::api::router(services);
    let mut g = Gen(7);
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (q, want) in queries.iter().zip(&expected) {
        // Integers sometimes written as the original's clients wrote them.
        let int = |v: u32, g: &mut Gen| match g.below(4) {
            0 => format!("{v}.0"),
            1 => format!("%2B{v}"),
            _ => v.to_string(),
        };
        let mut uri = format!(
            "/{}?city_store={}&year={}&month={}&day={}",
            q.kind,
            q.city,
            q.date.year(),
            int(q.date.month(), &mut g),
            int(q.date.day(), &mut g)
        );
        if let Some(h) = q.hour {
            uri.push_str(&format!("&hour={}", int(h, &mut g)));
        }
        if let Some(s) = q.sensor {
            uri.push_str(&format!("&sensor_id={}", int(s, &mut g)));
        }
        let body = get(&router, &uri).await;
        let closed = q.date.weekday() == Weekday::Sat || q.date.weekday() == Weekday::Sun;
        if q.kind == "transactions" {
            if want == "closed" {
                assert_eq!(body["transactions"], -1, "{uri}");
                assert_eq!(body["chiffre_affaires"], -1, "{uri}");
                assert_eq!(body["message"], "Magasin fermé le week-end", "{uri}");
            } else {
                let (n, revenue) = want.split_once(';').expect("n;revenue");
                let n: i64 = n.parse().expect("n");
                let revenue: f64 = revenue.parse().expect("revenue");
                assert_eq!(
                    body["transactions"].as_i64(),
                    Some(n),
                    "{uri}: {body} vs {want}"
                );
                assert_eq!(
                    body["chiffre_affaires"].as_f64(),
                    Some(revenue),
                    "{uri}: {body} vs {want}"
                );
                assert!(body.get("message").is_none(), "{uri}: {body}");
            }
        } else {
            match want.as_str() {
                "closed" => {
                    assert_eq!(body["is_closed"], true, "{uri}: {body}");
                    assert_eq!(body["visiteurs"], -1, "{uri}: {body}");
                }
                "null" => assert!(body["visiteurs"].is_null(), "{uri}: {body}"),
                v => assert_eq!(
                    body["visiteurs"].as_i64(),
                    Some(v.parse::<i64>().expect("int")),
                    "{uri}: {body}"
                ),
            }
        }
        // Coverage of the cases the issue names.
        let form = match (q.kind, q.sensor.is_some(), q.hour.is_some()) {
            ("transactions", ..) => "transactions",
            (_, true, true) => "sensor-hour",
            (_, false, true) => "store-hour",
            (_, true, false) => "sensor-day",
            _ => "store-day",
        };
        *seen.entry(form).or_default() += 1;
        if closed {
            *seen.entry("weekend").or_default() += 1;
        }
        if let Some(h) = q.hour {
            if h == 19 {
                *seen.entry("19h").or_default() += 1;
            } else if !(9..19).contains(&h) {
                *seen.entry("night").or_default() += 1;
            }
        }
        if q.date.month() == 3 && q.date == last_sunday(q.date.year(), 3) {
            *seen.entry("dst-spring").or_default() += 1;
        }
        if q.date.month() == 10 && q.date == last_sunday(q.date.year(), 10) {
            *seen.entry("dst-autumn").or_default() += 1;
        }
        if want == "null" {
            *seen.entry("null").or_default() += 1;
        }
    }
    for case in [
        "transactions",
        "sensor-hour",
        "store-hour",
        "sensor-day",
        "store-day",
        "weekend",
        "19h",
        "night",
        "dst-spring",
        "dst-autumn",
        "null",
    ] {
        assert!(
            seen.get(case).copied().unwrap_or(0) >= 5,
            "{case}: {seen:?}"
        );
    }
}

/// Collect, the lake, ingest, cleaning and the analytics tables run the same on the
/// `original` profile: a weekday and a Sunday backfilled end to end.
#[tokio::test]
async fn the_pipeline_runs_on_the_original_profile() {
    use pipeline::clock::HourSlot;
    use pipeline::jobs::collect::simulate_hour;
    use pipeline::jobs::reconcile::RunOptions;

    let dir = tempfile::tempdir().expect("tempdir");
    let simulator = Arc::new(Simulator::with_profile(
        Arc::new(Reference::embedded()),
        Profile::Original,
    ));
    // Wednesday 2025-06-18 15:10 Paris.
    let p = pipeline_in(dir.path(), simulator, utc("2025-06-18T13:10:00Z")).await;
    let sunday: NaiveDate = "2025-06-15".parse().expect("date");
    let monday: NaiveDate = "2025-06-16".parse().expect("date");
    let summary = p
        .backfill(sunday, monday, RunOptions::default(), &|_| {})
        .await
        .expect("backfill runs");
    assert!(summary.failed.is_empty(), "{summary:?}");
    assert!(summary.errors.is_empty(), "{summary:?}");
    assert_eq!(summary.done.get(&Job::Collect), Some(&48), "{summary:?}");

    // The lake holds the original's values for an open hour.
    let slot = HourSlot::new(monday, 14).expect("slot");
    let stored = lake_rows(&p, slot).await;
    assert_eq!(stored, simulate_hour(&p.simulator, slot));
    assert_eq!((stored.0.len(), stored.1.len()), (83, 10));

    // Cleaning filled every open slot of the Monday (19h reads 0 on this profile and is
    // refilled like any implausible reading); the Sunday is closed.
    let pipeline::clean_rows::AnalyticsTotals {
        visitor_rows,
        visitors,
        transaction_rows,
        transactions,
        revenue_cents: cents,
    } = p
        .warehouse
        .analytics_fingerprint()
        .await
        .expect("fingerprint");
    assert_eq!((visitor_rows, transaction_rows), (83 * 11, 10 * 11));
    assert!(visitors > 0 && transactions > 0 && cents > 0);
    p.warehouse.close().await;
}
