//! The dashboard's figures come from rollups (store-hours, sensor-days, store-days,
//! store-months, chain-hours): they must equal what the hourly analytics rows say, for every kind of
//! filter, on both backends — and a warehouse written before the rollups existed gets them
//! built when it is opened.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDate, NaiveTime, Timelike};
use pipeline::kpi::{KpiFilter, StoreSums, Totals};
use pipeline::Warehouse;

use crate::common::{d, envs, envs_with, utc};

/// Every analytics row, read with plain SQL: visitors (store, sensor, date, hour, count,
/// imputed) and transactions (store, date, hour, count, revenue in cents).
type VisitorRow = (i64, i64, NaiveDate, NaiveTime, i64, bool);
type TransactionRow = (i64, NaiveDate, NaiveTime, i64, i64);

async fn hourly_rows(wh: &Warehouse) -> (Vec<VisitorRow>, Vec<TransactionRow>) {
    let v = "SELECT CAST(store_id AS BIGINT), CAST(sensor_id AS BIGINT), date, heure, \
             CAST(nb_visiteurs AS BIGINT), imputed FROM analytics.visiteurs";
    let t = "SELECT CAST(store_id AS BIGINT), date, heure, CAST(nb_transactions AS BIGINT), \
             CAST(chiffre_affaires_centimes AS BIGINT) FROM analytics.transactions";
    match wh {
        Warehouse::Sqlite(p) => (
            sqlx::query_as(v).fetch_all(p).await.expect("visitors"),
            sqlx::query_as(t).fetch_all(p).await.expect("transactions"),
        ),
        Warehouse::Postgres(p) => (
            sqlx::query_as(v).fetch_all(p).await.expect("visitors"),
            sqlx::query_as(t).fetch_all(p).await.expect("transactions"),
        ),
    }
}

/// What the figures must be, by brute force over the hourly rows.
struct Expected {
    totals: Totals,
    /// Daily visitors of every store (all its sensors) in the period and hours.
    store_daily: BTreeMap<u32, BTreeMap<NaiveDate, i64>>,
    by_store: BTreeMap<u32, StoreSums>,
    daily: BTreeMap<u32, BTreeMap<NaiveDate, i64>>,
    by_date_hour: BTreeMap<(NaiveDate, u32), StoreSums>,
}

fn expected(f: &KpiFilter, v: &[VisitorRow], t: &[TransactionRow]) -> Expected {
    let in_period = |date: &NaiveDate, heure: &NaiveTime| {
        *date >= f.from && *date <= f.to && (f.hour_from..=f.hour_to).contains(&heure.hour())
    };
    let store_ok = |s: i64| f.store_id.is_none_or(|x| x as i64 == s);
    let sensor_ok = |s: i64| f.sensor_ids.is_empty() || f.sensor_ids.contains(&(s as u32));
    let mut e = Expected {
        totals: Totals::default(),
        store_daily: BTreeMap::new(),
        by_store: BTreeMap::new(),
        daily: BTreeMap::new(),
        by_date_hour: BTreeMap::new(),
    };
    let mut active = BTreeSet::new();
    for (store, sensor, date, heure, n, imputed) in v {
        if !in_period(date, heure) {
            continue;
        }
        e.by_store.entry(*store as u32).or_default().visitors += n;
        *e.store_daily
            .entry(*store as u32)
            .or_default()
            .entry(*date)
            .or_default() += n;
        if !store_ok(*store) {
            continue;
        }
        e.totals.store_visitors += n;
        e.by_date_hour
            .entry((*date, heure.hour()))
            .or_default()
            .visitors += n;
        let selected = f.store_id.is_none() || sensor_ok(*sensor);
        if selected {
            e.totals.visitors += n;
            if !imputed && *n > 0 {
                active.insert((*store, *sensor));
            }
        }
        if f.store_id.is_some() && selected {
            *e.daily
                .entry(*sensor as u32)
                .or_default()
                .entry(*date)
                .or_default() += n;
        }
    }
    for (store, date, heure, n, cents) in t {
        if !in_period(date, heure) {
            continue;
        }
        let revenue = &(*cents as f64 / 100.0);
        let s = e.by_store.entry(*store as u32).or_default();
        s.transactions += n;
        s.revenue += revenue;
        if !store_ok(*store) {
            continue;
        }
        e.totals.transactions += n;
        e.totals.revenue += revenue;
        let x = e.by_date_hour.entry((*date, heure.hour())).or_default();
        x.transactions += n;
        x.revenue += revenue;
    }
    e.totals.active_sensors = active.len() as i64;
    e
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * a.abs().max(1.0)
}

fn sums_match(a: &StoreSums, b: &StoreSums) -> bool {
    a.visitors == b.visitors && a.transactions == b.transactions && close(a.revenue, b.revenue)
}

async fn check(wh: &Warehouse, label: &str, filters: &[KpiFilter]) {
    let (v, tr) = hourly_rows(wh).await;
    assert!(
        !v.is_empty() && !tr.is_empty(),
        "{label}: no analytics rows"
    );
    for f in filters {
        let e = expected(f, &v, &tr);
        let got = wh.dashboard_figures(f).await.expect("figures");
        let ctx = format!("{label} {f:?}");
        let g = &got.totals;
        assert_eq!(
            (
                g.visitors,
                g.store_visitors,
                g.transactions,
                g.active_sensors
            ),
            (
                e.totals.visitors,
                e.totals.store_visitors,
                e.totals.transactions,
                e.totals.active_sensors
            ),
            "{ctx}"
        );
        assert!(close(g.revenue, e.totals.revenue), "{ctx}: revenue");
        let t = wh.period_totals(f).await.expect("totals");
        assert_eq!(
            (
                t.visitors,
                t.store_visitors,
                t.transactions,
                t.active_sensors
            ),
            (
                g.visitors,
                g.store_visitors,
                g.transactions,
                g.active_sensors
            ),
            "{ctx}: period_totals = the figures' totals"
        );
        assert!(close(t.revenue, g.revenue), "{ctx}: period_totals revenue");
        assert_eq!(got.by_store.len(), e.by_store.len(), "{ctx}: ranking");
        for (store, s) in &e.by_store {
            assert!(
                got.by_store.get(store).is_some_and(|x| sums_match(x, s)),
                "{ctx}: store {store}: {:?} vs {s:?}",
                got.by_store.get(store)
            );
        }
        assert_eq!(got.by_date_hour.len(), e.by_date_hour.len(), "{ctx}");
        for (k, s) in &e.by_date_hour {
            assert!(
                got.by_date_hour.get(k).is_some_and(|x| sums_match(x, s)),
                "{ctx}: {k:?}"
            );
        }
        if f.store_id.is_some() {
            assert_eq!(got.daily_series, e.daily, "{ctx}: per-sensor days");
        } else {
            // The busiest stores' daily lines, day by day.
            assert_eq!(got.series_of, e.by_store.len(), "{ctx}");
            let mut busiest: Vec<(u32, i64)> =
                e.by_store.iter().map(|(s, x)| (*s, x.visitors)).collect();
            busiest.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            busiest.truncate(pipeline::kpi::STORE_SERIES_CAP);
            let want: BTreeMap<u32, BTreeMap<NaiveDate, i64>> = busiest
                .iter()
                .map(|(s, _)| (*s, e.store_daily[s].clone()))
                .collect();
            assert_eq!(got.daily_series, want, "{ctx}: busiest stores per day");
        }
        // One day: visitors per series and hour, for the series drawn.
        if f.is_single_day() {
            let mut want: BTreeMap<u32, BTreeMap<u32, i64>> = BTreeMap::new();
            for (store, sensor, date, heure, n, _) in &v {
                let key = match f.store_id {
                    Some(s) if *store as u32 == s && sensor_selected(f, *sensor) => *sensor as u32,
                    None => *store as u32,
                    _ => continue,
                };
                if *date == f.from
                    && (f.hour_from..=f.hour_to).contains(&heure.hour())
                    && got.daily_series.contains_key(&key)
                {
                    *want
                        .entry(key)
                        .or_default()
                        .entry(heure.hour())
                        .or_default() += n;
                }
            }
            assert!(!want.is_empty() || e.totals.visitors == 0, "{ctx}");
            assert_eq!(got.hourly_series, want, "{ctx}: hours of the day");
        } else {
            assert!(got.hourly_series.is_empty(), "{ctx}");
        }
        // The comparison period: the same totals and sums as its own figures, and the
        // same series as the current period.
        let c = f.previous();
        let (cur, other) = wh
            .dashboard_with_comparison(f, Some(&c))
            .await
            .expect("comparison");
        let other = other.expect("comparison figures");
        let direct = wh.dashboard_figures(&c).await.expect("figures");
        assert_eq!(cur.totals.visitors, got.totals.visitors, "{ctx}");
        assert_eq!(
            (other.totals.visitors, other.totals.transactions),
            (direct.totals.visitors, direct.totals.transactions),
            "{ctx}: comparison totals"
        );
        assert_eq!(other.by_date_hour.len(), direct.by_date_hour.len(), "{ctx}");
        assert!(other
            .daily_series
            .keys()
            .all(|k| cur.daily_series.contains_key(k)));
        let ce = expected(&c, &v, &tr);
        for (k, series) in &other.daily_series {
            for (day, n) in series {
                let e = &ce;
                let want = match c.store_id {
                    Some(_) => e.daily.get(k).and_then(|d| d.get(day)),
                    None => e.store_daily.get(k).and_then(|d| d.get(day)),
                };
                assert_eq!(Some(n), want, "{ctx}: comparison {k} {day}");
            }
        }
    }
}

fn sensor_selected(f: &KpiFilter, sensor: i64) -> bool {
    f.sensor_ids.is_empty() || f.sensor_ids.contains(&(sensor as u32))
}

fn filters() -> Vec<KpiFilter> {
    let f = |store_id: Option<u32>, sensor_ids: Vec<u32>, from: &str, to: &str, h: (u32, u32)| {
        KpiFilter {
            store_id,
            sensor_ids,
            within_stores: None,
            from: d(from),
            to: d(to),
            hour_from: h.0,
            hour_to: h.1,
        }
    };
    vec![
        f(None, vec![], "2025-03-03", "2025-03-16", (9, 19)),
        f(None, vec![], "2025-03-05", "2025-03-11", (12, 14)),
        f(Some(1), vec![], "2025-03-03", "2025-03-16", (9, 19)),
        f(Some(1), vec![1, 2], "2025-03-04", "2025-03-12", (10, 10)),
        f(Some(3), vec![], "2025-03-10", "2025-03-16", (18, 19)),
        // Whole months (store_months) with edge days (store_days) around them.
        f(None, vec![], "2025-01-29", "2025-03-16", (9, 19)),
        f(Some(2), vec![], "2025-02-01", "2025-02-28", (12, 15)),
        f(None, vec![], "2025-01-31", "2025-03-01", (10, 18)),
        // One day: the hourly view.
        f(Some(1), vec![1, 2], "2025-03-05", "2025-03-05", (11, 15)),
        f(None, vec![], "2025-03-06", "2025-03-06", (9, 19)),
        // Outside the data: all zero, no error.
        f(None, vec![], "2024-01-01", "2024-01-07", (9, 19)),
    ]
}

#[tokio::test]
async fn dashboard_figures_from_rollups_equal_the_hourly_rows() {
    for env in envs(utc("2025-03-20T12:00:00Z")).await {
        let p = &env.pipeline;
        env.backfill_ok(d("2025-01-29"), d("2025-03-16")).await;
        check(&p.warehouse, &env.label, &filters()).await;

        // Days written again keep the month masks of active sensors right: store 2's first
        // sensor goes silent for February and the month's days are transformed again.
        let february = KpiFilter {
            store_id: Some(2),
            sensor_ids: vec![],
            within_stores: None,
            from: d("2025-02-01"),
            to: d("2025-02-28"),
            hour_from: 9,
            hour_to: 19,
        };
        let active = |f: KpiFilter| async move {
            p.warehouse
                .dashboard_figures(&f)
                .await
                .expect("figures")
                .totals
                .active_sensors
        };
        let before = active(february.clone()).await;
        execute(
            &p.warehouse,
            "DELETE FROM raw.visiteurs WHERE store_id = 2 AND sensor_id = \
             (SELECT MIN(sensor_id) FROM raw.visiteurs WHERE store_id = 2) \
             AND date >= '2025-02-01' AND date <= '2025-02-28'",
        )
        .await;
        for day in d("2025-02-01").iter_days().take(28) {
            p.transform(day).await.expect("transform");
        }
        assert_eq!(
            active(february.clone()).await + 1,
            before,
            "{}: a sensor silent all month is not active",
            env.label
        );
        check(&p.warehouse, &env.label, &filters()).await;

        // Active sensors reads the hour mask: make store 1's sensor 1 genuine at 09h only
        // (imputed at every other hour) and rebuild the days' rollups.
        let imputed_after_9 = match &p.warehouse {
            Warehouse::Sqlite(_) => {
                "UPDATE analytics.visiteurs SET imputed = TRUE \
                 WHERE store_id = 1 AND sensor_id = 1 AND heure > '09:00:00'"
            }
            Warehouse::Postgres(_) => {
                "UPDATE analytics.visiteurs SET imputed = TRUE \
                 WHERE store_id = 1 AND sensor_id = 1 AND heure > TIME '09:00'"
            }
        };
        execute(&p.warehouse, imputed_after_9).await;
        let rebuilt = p
            .warehouse
            .rebuild_rollups(d("2025-01-29"), d("2025-03-16"))
            .await
            .expect("rebuild");
        assert_eq!(rebuilt, 47);
        let f = |h0, h1| KpiFilter {
            store_id: Some(1),
            sensor_ids: vec![],
            within_stores: None,
            from: d("2025-03-03"),
            to: d("2025-03-16"),
            hour_from: h0,
            hour_to: h1,
        };
        let sensors = |h0, h1| async move {
            p.warehouse
                .dashboard_figures(&f(h0, h1))
                .await
                .expect("figures")
                .totals
                .active_sensors
        };
        assert_eq!(
            sensors(10, 19).await + 1,
            sensors(9, 19).await,
            "{}: sensor 1 only active at 09h",
            env.label
        );
        check(&p.warehouse, &env.label, &filters()).await;

        // A warehouse from before the rollups (or days written by an older binary): days
        // with analytics rows but no rollups get them when the warehouse is opened.
        for table in [
            "sensor_days",
            "store_days",
            "store_months",
            "chain_hours",
            "sensors",
            "sensor_months",
        ] {
            execute(&p.warehouse, &format!("DELETE FROM analytics.{table}")).await;
        }
        let emptied = p
            .warehouse
            .dashboard_figures(&filters()[0])
            .await
            .expect("figures");
        assert_eq!(emptied.totals.visitors, 0, "{}: rollups wiped", env.label);
        p.warehouse.migrate().await.expect("migrate");
        check(&p.warehouse, &env.label, &filters()).await;
        env.close().await;
    }
}

async fn execute(wh: &Warehouse, sql: &str) {
    match wh {
        Warehouse::Sqlite(pool) => sqlx::query(sql).execute(pool).await.map(|_| ()),
        Warehouse::Postgres(pool) => sqlx::query(sql).execute(pool).await.map(|_| ()),
    }
    .expect("statement");
}

#[tokio::test]
async fn a_large_chain_draws_its_ten_busiest_stores() {
    let reference = std::sync::Arc::new(pipeline::Reference::synthetic(14, 7).expect("chain"));
    for env in envs_with(utc("2025-03-20T12:00:00Z"), reference).await {
        let p = &env.pipeline;
        env.backfill_ok(d("2025-03-10"), d("2025-03-12")).await;
        let f = KpiFilter {
            store_id: None,
            sensor_ids: vec![],
            within_stores: None,
            from: d("2025-03-10"),
            to: d("2025-03-12"),
            hour_from: 9,
            hour_to: 19,
        };
        let fig = p.warehouse.dashboard_figures(&f).await.expect("figures");
        assert_eq!(fig.series_of, 14, "{}", env.label);
        assert_eq!(fig.daily_series.len(), 10, "{}", env.label);
        check(&p.warehouse, &env.label, std::slice::from_ref(&f)).await;
        env.close().await;
    }
}
