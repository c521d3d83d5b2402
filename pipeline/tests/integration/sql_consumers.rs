//! SQL consumers of the original's tables keep working: a BI query of
//! `analytics.transactions` with the original's column list (`../shared/SEED.md`) runs on
//! both backends, and its `chiffre_affaires` (euros) is the stored cents / 100, exactly.

use pipeline::jobs::reconcile::RunOptions;
use pipeline::Warehouse;
use sqlx::{Column, Row};

use crate::common::{d, envs, utc};

/// The original's `analytics.transactions(id, store_id, date, heure, nb_transactions,
/// chiffre_affaires)`.
const ORIGINAL_COLUMNS: [&str; 6] = [
    "id",
    "store_id",
    "date",
    "heure",
    "nb_transactions",
    "chiffre_affaires",
];

/// The cents written as euros: `153487` → `1534.87`.
fn euros(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

async fn check(wh: &Warehouse, label: &str) {
    let select = format!(
        "SELECT {} FROM analytics.transactions ORDER BY date, store_id, heure",
        ORIGINAL_COLUMNS.join(", ")
    );
    // The consumer's query itself: it runs and returns the original's columns.
    macro_rules! run {
        ($pool:expr) => {{
            let rows = sqlx::query(&select).fetch_all($pool).await.expect(&select);
            let columns: Option<Vec<String>> = rows
                .first()
                .map(|r| r.columns().iter().map(|c| c.name().to_string()).collect());
            (rows.len(), columns)
        }};
    }
    let (rows, columns) = match wh {
        Warehouse::Sqlite(p) => run!(p),
        Warehouse::Postgres(p) => run!(p),
    };
    assert!(rows > 0, "{label}: the day has transactions");
    assert_eq!(
        columns.expect("a row"),
        ORIGINAL_COLUMNS.map(String::from).to_vec(),
        "{label}"
    );

    // Euros equal cents / 100 exactly, row by row.
    let count = "SELECT COUNT(*) FROM analytics.transactions \
                 WHERE chiffre_affaires <> chiffre_affaires_centimes / 100.0";
    let differing: i64 = match wh {
        Warehouse::Sqlite(p) => sqlx::query_scalar(count).fetch_one(p).await.expect(count),
        Warehouse::Postgres(p) => sqlx::query_scalar(count).fetch_one(p).await.expect(count),
    };
    assert_eq!(differing, 0, "{label}");
    match wh {
        Warehouse::Sqlite(p) => {
            let sql =
                "SELECT chiffre_affaires_centimes, chiffre_affaires, typeof(chiffre_affaires) \
                       FROM analytics.transactions";
            let values: Vec<(i64, f64, String)> =
                sqlx::query_as(sql).fetch_all(p).await.expect(sql);
            assert_eq!(values.len(), rows);
            for (cents, value, class) in values {
                assert_eq!(class, "real", "{label}");
                assert_eq!(value, cents as f64 / 100.0, "{label}: {cents}");
                assert_eq!(format!("{value:.2}"), euros(cents), "{label}");
                assert_eq!((value * 100.0).round() as i64, cents, "{label}");
            }
        }
        Warehouse::Postgres(p) => {
            let sql = "SELECT chiffre_affaires_centimes, CAST(chiffre_affaires AS TEXT) \
                       FROM analytics.transactions";
            let values: Vec<(i64, String)> = sqlx::query_as(sql).fetch_all(p).await.expect(sql);
            assert_eq!(values.len(), rows);
            for (cents, text) in values {
                assert_eq!(text, euros(cents), "{label}");
            }
            let sums = "SELECT CAST(SUM(chiffre_affaires) * 100 AS TEXT), \
                        CAST(SUM(chiffre_affaires_centimes) AS TEXT) FROM analytics.transactions";
            let (euro_sum, cent_sum): (String, String) =
                sqlx::query_as(sums).fetch_one(p).await.expect(sums);
            assert_eq!(
                euro_sum.trim_end_matches('0').trim_end_matches('.'),
                cent_sum,
                "{label}: sums stay exact"
            );
        }
    }
}

#[tokio::test]
async fn the_original_transactions_columns_read_euros_exact_to_the_cent() {
    for env in envs(utc("2025-03-12T10:00:00Z")).await {
        let p = &env.pipeline;
        let day = d("2025-03-10");
        let run = p
            .backfill(day, day, RunOptions::default(), &|_| {})
            .await
            .expect("backfill");
        assert_eq!(run.total_failed(), 0, "{}: {:?}", env.label, run.errors);
        check(&p.warehouse, &env.label).await;
        env.close().await;
    }
}
