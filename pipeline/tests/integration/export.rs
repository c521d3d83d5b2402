//! The export's store-hours: one row per store and hour of the filter, in (date, hour,
//! store) order, whose columns sum to the dashboard's totals, on both backends; streamed
//! through a bounded channel (a small one here: the query must wait for the reader).

use pipeline::kpi::{ExportHour, KpiFilter};

use crate::common::{d, envs, export, utc};

fn filters() -> Vec<KpiFilter> {
    let f = |store_id, sensor_ids: Vec<u32>, from, to, h0, h1| KpiFilter {
        store_id,
        sensor_ids,
        within_stores: None,
        from: d(from),
        to: d(to),
        hour_from: h0,
        hour_to: h1,
    };
    vec![
        f(None, vec![], "2025-03-03", "2025-03-09", 9, 19),
        f(Some(3), vec![], "2025-03-01", "2025-03-14", 9, 19),
        f(Some(3), vec![2, 5], "2025-03-03", "2025-03-14", 10, 16),
        f(None, vec![], "2025-03-10", "2025-03-10", 12, 12),
        // Start after end, hours inverted: nothing.
        f(None, vec![], "2025-03-10", "2025-03-09", 9, 19),
        f(Some(1), vec![], "2025-03-03", "2025-03-09", 15, 14),
    ]
}

#[tokio::test]
async fn export_rows_sum_to_the_dashboard_totals() {
    for env in envs(utc("2025-03-20T12:00:00Z")).await {
        let p = &env.pipeline;
        env.backfill_ok(d("2025-02-24"), d("2025-03-16")).await;
        for f in filters() {
            let label = format!("{}: {f:?}", env.label);
            let (rows, sent) = export(&p.warehouse, &f).await;
            assert_eq!(rows.len() as u64, sent, "{label}");
            let totals = p
                .warehouse
                .dashboard_figures(&f)
                .await
                .expect("figures")
                .totals;
            let sum = |g: fn(&ExportHour) -> i64| rows.iter().map(g).sum::<i64>();
            assert_eq!(sum(|r| r.visitors), totals.visitors, "{label}");
            assert_eq!(sum(|r| r.store_visitors), totals.store_visitors, "{label}");
            assert_eq!(sum(|r| r.transactions), totals.transactions, "{label}");
            let revenue: f64 = rows.iter().map(|r| r.revenue).sum();
            assert!(
                (revenue - totals.revenue).abs() < 1e-6 * totals.revenue.max(1.0),
                "{label}"
            );
            // Ordered by (date, hour, store), one row per store-hour, inside the filter.
            let keys: Vec<_> = rows.iter().map(|r| (r.date, r.hour, r.store_id)).collect();
            assert!(keys.windows(2).all(|w| w[0] < w[1]), "{label}: order");
            assert!(
                rows.iter().all(|r| r.date >= f.from
                    && r.date <= f.to
                    && (f.hour_from..=f.hour_to).contains(&r.hour)
                    && f.store_id.is_none_or(|s| s == r.store_id)
                    && r.visitors <= r.store_visitors),
                "{label}"
            );
            if f.from <= f.to && f.hour_from <= f.hour_to {
                assert!(!rows.is_empty(), "{label}: rows expected");
            } else {
                assert!(rows.is_empty(), "{label}: nothing expected");
            }
        }
        // A reader that goes away stops the query without an error.
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        drop(rx);
        let sent = p
            .warehouse
            .export_hours(&filters()[1], &tx)
            .await
            .expect("stops quietly");
        assert_eq!(sent, 0, "{}", env.label);
        env.close().await;
    }
}
