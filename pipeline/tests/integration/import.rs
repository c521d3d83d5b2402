//! Importing historical CSV files: messy values parsed, garbage lines reported by number,
//! re-import idempotent, days cleaned into analytics — on every backend.

use crate::common;

use common::{envs, utc};

const VISITORS: &str = "store_id,sensor_id,date,heure,nb_visiteurs
1,1,2024-10-14,10:00:00,50
1,1,2024/10/14,11h00,55
1,1,14/10/2024,1200,60
1,2,2024-10-14,10:00:00,
999,1,2024-10-14,10:00:00,40
\"898\",1,2024-10-14,10:00:00,40
abc,1,2024-10-14,10:00:00,40
1,3,2024-10-14
1,3,not-a-date,10:00:00,40
1,3,2024-10-14,10:00:00,4x
1,4,2024-10-14,10:00:00,48.0
";

const TRANSACTIONS: &str = "store_id,date,heure,transactions,chiffre_affaires
1,2024-10-14,10:00:00,20,1500.5
1,14/10/2024,11h00,22,\"1600,25\"
1,2024-10-14,12:00:00,x,10
";

#[tokio::test]
async fn import_loads_good_lines_reports_bad_ones_and_cleans_the_days() {
    for env in envs(utc("2025-03-20T12:00:00Z")).await {
        let p = &env.pipeline;
        let v_path = env.dir.path().join("visiteurs_2024.csv");
        let t_path = env.dir.path().join("transactions_2024.csv");
        std::fs::write(&v_path, VISITORS).expect("write");
        std::fs::write(&t_path, TRANSACTIONS).expect("write");

        let report = p.import_csv(&v_path).await.expect("import");
        let bad: Vec<u64> = report.bad.iter().map(|b| b.line).collect();
        assert_eq!(bad, vec![8, 9, 10, 11], "{}: {:?}", env.label, report.bad);
        assert!(report.bad[0].reason.contains("store_id"));
        assert!(report.bad[1].reason.contains("fields"));
        assert!(report.bad[2].reason.contains("date"));
        assert!(report.bad[3].reason.contains("nb_visiteurs"));
        assert_eq!(report.loaded, 7);
        assert_eq!(report.days.len(), 1);
        assert!(
            report.transform_errors.is_empty(),
            "{:?}",
            report.transform_errors
        );

        let t_report = p.import_csv(&t_path).await.expect("import");
        assert_eq!(t_report.loaded, 2);
        assert_eq!(
            t_report.bad.iter().map(|b| b.line).collect::<Vec<_>>(),
            vec![4]
        );

        let raw = p.warehouse.raw_counts().await.expect("counts");
        assert_eq!(raw, (7, 2));
        // Re-importing the same files replaces their lots: no duplicates.
        p.import_csv(&v_path).await.expect("again");
        p.import_csv(&t_path).await.expect("again");
        assert_eq!(p.warehouse.raw_counts().await.expect("counts"), raw);

        // The day is cleaned: the sensors with valid readings (1 and 4 of Paris) get all
        // 11 open hours, gaps filled with their mean; the store gets its 11 store-hours.
        // Sensors without any valid reading that day cannot be filled and are counted.
        let fp = p.warehouse.analytics_fingerprint().await.expect("fp");
        assert_eq!(
            (fp.visitor_rows, fp.transaction_rows),
            (2 * 11, 11),
            "{}",
            env.label
        );
        let quality = p
            .warehouse
            .quality_for("2024-10-14".parse().expect("date"))
            .await
            .expect("quality");
        let get = |feed: &str, rule: &str| {
            quality
                .iter()
                .find(|q| q.feed == feed && q.rule.key() == rule)
                .map(|q| q.count)
        };
        assert_eq!(get("visiteurs", "rows_in"), Some(7));
        assert_eq!(get("visiteurs", "null_dropped"), Some(1));
        assert_eq!(get("visiteurs", "unknown_id"), Some(2));
        assert_eq!(get("visiteurs", "unfillable"), Some(81 * 11));
        assert_eq!(get("visiteurs", "slots_filled"), Some(8 + 10));
        assert_eq!(get("transactions", "rows_in"), Some(2));
        assert_eq!(get("transactions", "slots_filled"), Some(9));
        env.close().await;
    }
}

#[tokio::test]
async fn an_unknown_layout_is_refused_with_the_expected_columns() {
    let env = common::sqlite_env(utc("2025-03-20T12:00:00Z")).await;
    let path = env.dir.path().join("other.csv");
    std::fs::write(&path, "a,b,c\n1,2,3\n").expect("write");
    let err = env.pipeline.import_csv(&path).await.expect_err("refused");
    assert!(
        err.to_string()
            .contains("store_id,sensor_id,date,heure,nb_visiteurs"),
        "{err}"
    );
    assert_eq!(
        env.pipeline.warehouse.raw_counts().await.expect("counts"),
        (0, 0)
    );
    env.close().await;
}
