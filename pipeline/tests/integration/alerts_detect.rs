//! Alert detection on crafted warehouse data, on SQLite and PostgreSQL: nine weeks of an
//! ordinary small chain (simulator, incidents off), then chosen hours' raw rows replaced
//! (a silent sensor, a stuck one, a till without sales, an event day, a closure, a
//! degraded sensor) and each rule asked what it finds.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use pipeline::alerts::detect::{self, params::DetectParams};
use pipeline::alerts::{Finding, Rule};
use pipeline::jobs::collect::simulate_hour;
use pipeline::warehouse::raw::lot_of;
use pipeline::{HourSlot, Reference};

use crate::common::{d, envs_with, utc, Env};

/// Replaces the collected hour `(date, hour)` with its simulated rows changed by `edit`.
async fn rewrite_hour(
    env: &Env,
    date: NaiveDate,
    hour: u32,
    edit: impl Fn(&mut pipeline::records::VisitorRow, &mut Vec<pipeline::records::TransactionRow>),
) {
    let slot = HourSlot::new(date, hour).expect("slot");
    let (mut visitors, mut sales) = simulate_hour(&env.pipeline.simulator, slot);
    for v in visitors.iter_mut() {
        edit(v, &mut sales);
    }
    env.pipeline
        .warehouse
        .replace_raw_lot(
            &lot_of(slot),
            &visitors,
            &sales,
            utc("2024-12-01T00:00:00Z"),
        )
        .await
        .expect("replace lot");
}

/// The end of the local hour `(date, hour)`: an hourly run after it was ingested.
fn after(date: NaiveDate, hour: u32) -> DateTime<Utc> {
    HourSlot::new(date, hour).expect("slot").start_utc() + chrono::Duration::hours(1)
}

fn rules(found: &[Finding]) -> Vec<(Rule, i64, Option<i64>)> {
    let mut v: Vec<_> = found
        .iter()
        .map(|f| (f.rule, f.store_id, f.sensor_id))
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn each_rule_finds_its_condition_and_nothing_else() {
    // Tuesday 2024-10-15; history from nine weeks before.
    let day = d("2024-10-15");
    let monday = d("2024-10-14");
    let now = utc("2024-10-17T04:00:00Z");
    let reference = Arc::new(Reference::synthetic(3, 11).expect("chain"));
    let p = DetectParams::default();
    for env in envs_with(now, reference.clone()).await {
        let label = env.label.clone();
        env.backfill_ok(d("2024-08-12"), d("2024-10-16")).await;
        let wh = &env.pipeline.warehouse;

        // An ordinary chain: nothing, hour or day.
        for hour in [10, 15, 19] {
            let found = detect::hourly(wh, &reference, after(day, hour), &p)
                .await
                .expect("hourly");
            assert!(found.is_empty(), "{label} {hour}h: {found:?}");
        }
        let found = detect::nightly(wh, &reference, day, &p)
            .await
            .expect("nightly");
        assert!(found.is_empty(), "{label}: {found:?}");

        // Store 1 sensor 2 silent from 10h; store 2 sensor 1 stuck at zero from 13h;
        // store 3's till without sales from 15h.
        for hour in 10..=19 {
            rewrite_hour(&env, day, hour, |v, sales| {
                if v.store_id == 1 && v.sensor_id == 2 {
                    v.nb_visiteurs = None;
                }
                if v.store_id == 2 && v.sensor_id == 1 && hour >= 13 {
                    v.nb_visiteurs = Some(0);
                }
                if hour >= 15 {
                    for s in sales.iter_mut().filter(|s| s.store_id == 3) {
                        s.transactions = Some(0);
                        s.chiffre_affaires = Some(0.0);
                    }
                }
            })
            .await;
        }
        // The 3-hour boundary: after 11h, two missing hours: nothing yet.
        let found = detect::hourly(wh, &reference, after(day, 11), &p)
            .await
            .expect("hourly");
        assert!(found.is_empty(), "{label}: {found:?}");
        // After 12h, the third: silent since 10h.
        let found = detect::hourly(wh, &reference, after(day, 12), &p)
            .await
            .expect("hourly");
        assert_eq!(
            rules(&found),
            vec![(Rule::SensorSilent, 1, Some(2))],
            "{label}"
        );
        let silent_start = found[0].start;
        assert_eq!(
            silent_start,
            HourSlot::new(day, 10).expect("slot").start_utc()
        );
        // After 16h: the same silence (same start, same key), stuck since 13h, the till
        // down since 15h.
        let found = detect::hourly(wh, &reference, after(day, 16), &p)
            .await
            .expect("hourly");
        assert_eq!(
            rules(&found),
            vec![
                (Rule::SensorSilent, 1, Some(2)),
                (Rule::SensorStuckZero, 2, Some(1)),
                (Rule::TillFeedDown, 3, None),
            ],
            "{label}"
        );
        let by_rule = |r: Rule| found.iter().find(|f| f.rule == r).expect("finding");
        assert_eq!(by_rule(Rule::SensorSilent).start, silent_start);
        assert_eq!(
            by_rule(Rule::SensorStuckZero).start,
            HourSlot::new(day, 13).expect("slot").start_utc()
        );
        assert_eq!(
            by_rule(Rule::TillFeedDown).start,
            HourSlot::new(day, 15).expect("slot").start_utc()
        );
        // The next morning, after 9h, still silent: the start is found back yesterday.
        rewrite_hour(&env, d("2024-10-16"), 9, |v, _| {
            if v.store_id == 1 && v.sensor_id == 2 {
                v.nb_visiteurs = None;
            }
        })
        .await;
        let found = detect::hourly(wh, &reference, after(d("2024-10-16"), 9), &p)
            .await
            .expect("hourly");
        let silent = found
            .iter()
            .find(|f| f.rule == Rule::SensorSilent)
            .expect("still silent");
        assert_eq!(silent.start, silent_start, "{label}");
        assert_eq!(
            silent.dedupe_key(),
            by_rule(Rule::SensorSilent).dedupe_key()
        );

        // The day: store 2 an event (×2), store 3 closed (zeros counted), store 1 sensor 1
        // at half its count since Monday.
        for date in [monday, day] {
            for hour in 0..24 {
                rewrite_hour(&env, date, hour, |v, sales| {
                    let Some(n) = v.nb_visiteurs else { return };
                    if v.store_id == 1 && v.sensor_id == 1 {
                        v.nb_visiteurs = Some(n / 2);
                    }
                    if date == day && v.store_id == 2 {
                        v.nb_visiteurs = Some(n * 2);
                    }
                    if date == day && v.store_id == 3 {
                        v.nb_visiteurs = Some(0);
                        for s in sales.iter_mut().filter(|s| s.store_id == 3) {
                            s.transactions = Some(0);
                            s.chiffre_affaires = Some(0.0);
                        }
                    }
                })
                .await;
            }
            env.pipeline.transform(date).await.expect("transform");
        }
        let found = detect::nightly(wh, &reference, day, &p)
            .await
            .expect("nightly");
        assert_eq!(
            rules(&found),
            vec![
                (Rule::SensorDegraded, 1, Some(1)),
                (Rule::StoreClosed, 3, None),
                (Rule::TrafficHigh, 2, None),
            ],
            "{label}: {found:?}"
        );
        let degraded = found
            .iter()
            .find(|f| f.rule == Rule::SensorDegraded)
            .expect("degraded");
        assert_eq!(
            degraded.start,
            HourSlot::new(monday, 9).expect("slot").start_utc(),
            "{label}: degraded since Monday"
        );
        let high = found
            .iter()
            .find(|f| f.rule == Rule::TrafficHigh)
            .expect("high");
        let (observed, expected) = (high.observed.expect("obs"), high.expected.expect("exp"));
        assert!(
            observed > 1.8 * expected,
            "{label}: {observed} vs {expected}"
        );

        // The band of store 2 holds its ordinary Monday and not its event Tuesday.
        let band = detect::expected_band(wh, 2, monday, day, &p)
            .await
            .expect("band");
        assert_eq!(band.len(), 22, "{label}");
        assert!(band.iter().all(|b| b.low <= b.median && b.median <= b.high));
        env.close().await;
    }
}
