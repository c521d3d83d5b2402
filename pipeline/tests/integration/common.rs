//! Test support: the same suite runs on SQLite and on PostgreSQL.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use pipeline::calendar::OPENING_HOURS;
use pipeline::jobs::reconcile::ProgressEvent;
use pipeline::jobs::reconcile::{RunOptions, RunSummary};
use pipeline::simulator::incidents::Incidents;
use pipeline::{FixedClock, Lake, Pipeline, PipelineConfig, Reference, Simulator, Warehouse};

pub fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("valid timestamp")
        .with_timezone(&Utc)
}

/// A `YYYY-MM-DD` day.
pub fn d(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

/// A progress callback that shows nothing.
pub fn quiet(_: ProgressEvent) {}

/// A test environment: its own lake folder and warehouse.
pub struct Env {
    pub pipeline: Pipeline,
    pub clock: FixedClock,
    pub dir: tempfile::TempDir,
    pub label: String,
    /// The warehouse's URL: a second pool on it is another replica.
    pub database_url: String,
    pg_cleanup: Option<(String, String)>,
}

impl Env {
    /// Backfills `from..=to` with the default options, showing no progress; no partition
    /// may fail.
    pub async fn backfill_ok(&self, from: NaiveDate, to: NaiveDate) -> RunSummary {
        let summary = self
            .pipeline
            .backfill(from, to, RunOptions::default(), &quiet)
            .await
            .expect("backfill");
        assert_eq!(
            summary.total_failed(),
            0,
            "{}: {:?}",
            self.label,
            summary.errors
        );
        summary
    }

    /// Loses the warehouse: closes it, deletes it (the SQLite files, or the PostgreSQL
    /// database, dropped and created again empty), and opens the empty one in its place.
    /// `self.pipeline` then works on it (a new pipeline on the same lake, clock and chain).
    pub async fn lose_warehouse(&mut self) {
        self.pipeline.warehouse.close().await;
        let warehouse = match &self.pg_cleanup {
            None => {
                let db = self.dir.path().join("db");
                std::fs::remove_dir_all(&db).expect("delete the SQLite files");
                Warehouse::open_in_dir(&db)
                    .await
                    .expect("empty sqlite warehouse")
            }
            Some((admin, db)) => {
                let pool = sqlx::PgPool::connect(admin)
                    .await
                    .expect("PostgreSQL reachable");
                sqlx::query(&format!("DROP DATABASE {db} WITH (FORCE)"))
                    .execute(&pool)
                    .await
                    .expect("drop the test database");
                sqlx::query(&format!("CREATE DATABASE {db}"))
                    .execute(&pool)
                    .await
                    .expect("create it again");
                pool.close().await;
                let mut url = url::Url::parse(admin).expect("admin URL");
                url.set_path(db);
                Warehouse::connect(url.as_str())
                    .await
                    .expect("empty postgres warehouse")
            }
        };
        self.pipeline = self.pipeline_on(warehouse);
    }

    /// A new pipeline (fresh stop flag) on this environment's lake, clock and chain.
    pub fn pipeline_on(&self, warehouse: Warehouse) -> Pipeline {
        Pipeline::new(
            self.pipeline.simulator.clone(),
            self.pipeline.lake.clone(),
            warehouse,
            Arc::new(self.clock.clone()),
            PipelineConfig::default(),
        )
    }

    /// The URL of the PostgreSQL test database (`None` on SQLite).
    pub fn postgres_url(&self) -> Option<String> {
        self.pg_cleanup.as_ref().map(|(admin, db)| {
            let mut url = url::Url::parse(admin).expect("admin URL");
            url.set_path(db);
            url.to_string()
        })
    }

    pub async fn close(self) {
        self.pipeline.warehouse.close().await;
        if let Some((admin, db)) = &self.pg_cleanup {
            if let Ok(pool) = sqlx::PgPool::connect(admin).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
                    .execute(&pool)
                    .await;
                pool.close().await;
            }
        }
    }
}

/// The PostgreSQL admin URL: required in CI, optional on a laptop.
pub fn postgres_url() -> Option<String> {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("TEST_DATABASE_URL must be set in CI: the PostgreSQL tests must run");
            }
            eprintln!("TEST_DATABASE_URL not set: PostgreSQL variant skipped on this machine");
            None
        }
    }
}

async fn make(
    reference: Arc<Reference>,
    warehouse: Warehouse,
    dir: tempfile::TempDir,
    now: DateTime<Utc>,
    label: &str,
    database_url: String,
    pg: Option<(String, String)>,
) -> Env {
    let clock = FixedClock::new(now);
    let lake = Lake::local(&dir.path().join("lake")).expect("lake");
    // The suite pins figures of the seed rules: the simulator's incidents stay off here
    // (they have their own tests: simulator::incidents, alerts_detect).
    let simulator = Arc::new(Simulator::new(reference).with_incidents(Incidents::Off));
    let pipeline = Pipeline::new(
        simulator,
        lake,
        warehouse,
        Arc::new(clock.clone()),
        PipelineConfig::default(),
    );
    Env {
        pipeline,
        clock,
        dir,
        label: label.to_string(),
        database_url,
        pg_cleanup: pg,
    }
}

pub async fn sqlite_env(now: DateTime<Utc>) -> Env {
    sqlite_env_with(now, Arc::new(Reference::embedded())).await
}

async fn sqlite_env_with(now: DateTime<Utc>, reference: Arc<Reference>) -> Env {
    let dir = tempfile::tempdir().expect("tempdir");
    let warehouse = Warehouse::open_in_dir(&dir.path().join("db"))
        .await
        .expect("sqlite warehouse");
    let url = format!(
        "sqlite://{}",
        dir.path().join("db").join("warehouse.db").display()
    );
    make(reference, warehouse, dir, now, "sqlite", url, None).await
}

async fn postgres_env(now: DateTime<Utc>, reference: Arc<Reference>) -> Option<Env> {
    let admin = postgres_url()?;
    let pool = sqlx::PgPool::connect(&admin)
        .await
        .expect("PostgreSQL reachable");
    let db = format!("dm_test_{}_{}", std::process::id(), rand_suffix());
    sqlx::query(&format!("CREATE DATABASE {db}"))
        .execute(&pool)
        .await
        .expect("create test database");
    pool.close().await;
    let mut url = url::Url::parse(&admin).expect("admin URL");
    url.set_path(&db);
    let warehouse = Warehouse::connect(url.as_str())
        .await
        .expect("postgres warehouse");
    let dir = tempfile::tempdir().expect("tempdir");
    Some(
        make(
            reference,
            warehouse,
            dir,
            now,
            "postgres",
            url.to_string(),
            Some((admin, db)),
        )
        .await,
    )
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(0);
    nanos * 100 + N.fetch_add(1, Ordering::SeqCst)
}

/// Every backend available here: SQLite always, PostgreSQL when configured.
pub async fn envs(now: DateTime<Utc>) -> Vec<Env> {
    envs_with(now, Arc::new(Reference::embedded())).await
}

/// Every backend available here, for another chain than the embedded one.
pub async fn envs_with(now: DateTime<Utc>, reference: Arc<Reference>) -> Vec<Env> {
    let mut v = vec![sqlite_env_with(now, reference.clone()).await];
    if let Some(pg) = postgres_env(now, reference).await {
        v.push(pg);
    }
    v
}

/// Every analytics table and rollup with its content columns (ids left out) and its key
/// order: (table, columns, order). The transform's fingerprint pins them all.
pub fn analytics_tables() -> Vec<(&'static str, Vec<String>, &'static str)> {
    let hours = |family: char| OPENING_HOURS.map(move |h| format!("{family}{h:02}"));
    let cols = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let store_values: Vec<String> = hours('v').chain(hours('t')).chain(hours('c')).collect();
    // A store rollup: the store, its period column, then the value columns.
    let store_rollup = |table, period: &str, order| {
        let columns = cols(&["store_id", period])
            .into_iter()
            .chain(store_values.iter().cloned())
            .collect();
        (table, columns, order)
    };
    vec![
        (
            "visiteurs",
            cols(&[
                "store_id",
                "sensor_id",
                "date",
                "heure",
                "nb_visiteurs",
                "imputed",
            ]),
            "date, store_id, sensor_id, heure",
        ),
        (
            "transactions",
            cols(&[
                "store_id",
                "date",
                "heure",
                "nb_transactions",
                "chiffre_affaires_centimes",
                "imputed",
            ]),
            "date, store_id, heure",
        ),
        (
            "quality",
            cols(&["date", "feed", "rule", "count"]),
            "date, feed, rule",
        ),
        (
            "store_hours",
            cols(&[
                "store_id",
                "date",
                "hour",
                "visitors",
                "transactions",
                "revenue_cents",
            ]),
            "date, store_id, hour",
        ),
        (
            "sensor_days",
            cols(&["store_id", "sensor_id", "date"])
                .into_iter()
                .chain(hours('v'))
                .chain(["genuine".to_string()])
                .collect(),
            "date, store_id, sensor_id",
        ),
        store_rollup("store_days", "date", "date, store_id"),
        store_rollup("store_months", "month", "month, store_id"),
        (
            "chain_hours",
            cols(&["date", "hour", "visitors", "transactions", "revenue_cents"]),
            "date, hour",
        ),
        (
            "sensors",
            cols(&["store_id", "sensor_id"]),
            "store_id, sensor_id",
        ),
    ]
}

/// The raw tables, the imports' records and the ledger as (table, SQL text of a row,
/// order): what arrived, from which lot and line, and what the ledger says of each
/// partition. Nulls read `~`; an import's place in the import order is its rank.
pub fn raw_tables() -> Vec<(&'static str, String, &'static str)> {
    let text = |columns: &[&str]| {
        columns
            .iter()
            .map(|c| format!("COALESCE(CAST({c} AS TEXT), '~')"))
            .collect::<Vec<_>>()
            .join(" || ',' || ")
    };
    vec![
        (
            "raw.visiteurs",
            text(&[
                "store_id",
                "sensor_id",
                "date",
                "heure",
                "nb_visiteurs",
                "lot",
                "line",
            ]),
            "lot, line",
        ),
        (
            "raw.transactions",
            text(&[
                "store_id",
                "date",
                "heure",
                "transactions",
                "chiffre_affaires",
                "lot",
                "line",
            ]),
            "lot, line",
        ),
        (
            "raw.imports",
            text(&[
                "(SELECT COUNT(*) FROM raw.imports earlier WHERE earlier.seq <= raw.imports.seq)",
                "lot",
                "feed",
                "sha256",
                "file_name",
                "file_path",
                "rows_loaded",
                "lines_bad",
                "rows_outside_range",
                "imported_at",
            ]),
            "seq",
        ),
        // The ledger of what the lake rebuilds: detection's partitions (alerts) are not in
        // the lake, and `rebuild` does not re-run them.
        (
            "(SELECT * FROM job_ledger WHERE job <> 'detect') job_ledger",
            text(&["job", "partition", "status"]),
            "job, partition",
        ),
    ]
}

/// One row's `columns` as one SQL text, `a,b,c`: each cast to text, `imputed` written 1
/// or 0 (alike on both engines).
pub fn row_text(columns: &[String]) -> String {
    columns
        .iter()
        .map(|c| {
            if c == "imputed" {
                "CASE WHEN imputed THEN '1' ELSE '0' END".to_string()
            } else {
                format!("CAST({c} AS TEXT)")
            }
        })
        .collect::<Vec<_>>()
        .join(" || ',' || ")
}

/// The export's rows of `f` and the count the query reports, read through a small channel
/// (the query must wait for the reader).
pub async fn export(
    wh: &Warehouse,
    f: &pipeline::kpi::KpiFilter,
) -> (Vec<pipeline::kpi::ExportHour>, u64) {
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    let reader = tokio::spawn(async move {
        let mut rows = Vec::new();
        while let Some(r) = rx.recv().await {
            rows.push(r);
        }
        rows
    });
    let sent = wh.export_hours(f, &tx).await.expect("export query");
    drop(tx);
    (reader.await.expect("reader"), sent)
}
