//! The lake's Parquet files are readable by pyarrow with the original's column names and
//! types. The interpreter comes from DATAMAG_PYTHON (set by scripts/test.sh).

use crate::common;

use common::{sqlite_env, utc};
use pipeline::jobs::reconcile::RunOptions;

#[tokio::test]
async fn pyarrow_reads_the_lake_with_the_seed_columns() {
    let env = sqlite_env(utc("2025-03-20T12:00:00Z")).await;
    let day = "2025-03-14".parse().expect("date");
    env.pipeline
        .backfill(day, day, RunOptions::default(), &|_| {})
        .await
        .expect("backfill");
    let lake = env.dir.path().join("lake");
    let python = std::env::var("DATAMAG_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = r#"
import sys, pyarrow.parquet as pq
root = sys.argv[1]
v = pq.read_table(root + "/visiteurs/date=2025-03-14/hour=10/data.parquet")
t = pq.read_table(root + "/transactions/date=2025-03-14/hour=10/data.parquet")
print(v.schema.to_string(show_schema_metadata=False).replace("\n", ";"))
print(t.schema.to_string(show_schema_metadata=False).replace("\n", ";"))
print(v.num_rows, t.num_rows)
print(v.column("heure")[0].as_py(), v.column("date")[0].as_py())
# The whole lake as one hive-partitioned dataset, as Spark or DuckDB would see it.
import pyarrow.dataset as ds
d = ds.dataset(root + "/visiteurs", format="parquet", partitioning="hive")
print(d.count_rows())
"#;
    let output = std::process::Command::new(&python)
        .arg("-c")
        .arg(script)
        .arg(&lake)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e} (run scripts/setup.sh)"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "pyarrow failed: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[0],
        "store_id: int64 not null;sensor_id: int64 not null;date: string not null;heure: string not null;nb_visiteurs: int64"
    );
    assert_eq!(
        lines[1],
        "store_id: int64 not null;date: string not null;heure: string not null;transactions: int64;chiffre_affaires: double"
    );
    assert_eq!(lines[2], "83 10");
    assert_eq!(lines[3], "10:00:00 2025-03-14");
    assert_eq!(lines[4], (24 * 83).to_string());
    env.close().await;
}
