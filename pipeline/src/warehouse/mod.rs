//! The SQL warehouse through sqlx: a SQLite file by default, PostgreSQL when the URL says
//! so. Both hold the same tables (`raw.*`, `analytics.*`, the job ledger); SQL text is
//! written once with `$1` placeholders and adapted for SQLite (`?1`).

pub mod analytics;
pub mod ledger;
pub mod raw;
pub mod rollups;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::Executor;

#[derive(Debug, thiserror::Error)]
pub enum WarehouseError {
    #[error("invalid database URL: {0}")]
    Url(String),
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Data(String),
}

/// Which database engine holds the warehouse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A connection pool to the warehouse.
#[derive(Debug, Clone)]
pub enum Warehouse {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

impl Warehouse {
    /// Opens `sqlite://path/to/warehouse.db` (created if missing, with `-raw.db` and
    /// `-analytics.db` beside it) or `postgres://user@host/db`, then applies migrations.
    pub async fn connect(url: &str) -> Result<Self, WarehouseError> {
        let warehouse = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(30))
                .connect(url)
                .await?;
            Warehouse::Postgres(pool)
        } else if url.starts_with("sqlite:") {
            Warehouse::Sqlite(open_sqlite(url).await?)
        } else {
            return Err(WarehouseError::Url(format!(
                "{} (expected sqlite://… or postgres://…)",
                redact(url)
            )));
        };
        warehouse.migrate().await?;
        Ok(warehouse)
    }

    /// The SQLite warehouse in a data directory: `<dir>/warehouse.db`.
    pub async fn open_in_dir(dir: &Path) -> Result<Self, WarehouseError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| WarehouseError::Url(format!("{}: {e}", dir.display())))?;
        Self::connect(&format!("sqlite://{}", dir.join("warehouse.db").display())).await
    }

    pub async fn migrate(&self) -> Result<(), WarehouseError> {
        match self {
            Warehouse::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await?,
            Warehouse::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        self.build_missing_rollups().await
    }

    pub fn backend(&self) -> Backend {
        match self {
            Warehouse::Sqlite(_) => Backend::Sqlite,
            Warehouse::Postgres(_) => Backend::Postgres,
        }
    }

    pub async fn close(&self) {
        match self {
            Warehouse::Sqlite(p) => p.close().await,
            Warehouse::Postgres(p) => p.close().await,
        }
    }

    /// Reads a pipeline setting.
    pub async fn setting(&self, key: &str) -> Result<Option<String>, WarehouseError> {
        let sql = "SELECT value FROM pipeline_settings WHERE key = $1";
        Ok(match self {
            Warehouse::Sqlite(p) => {
                sqlx::query_scalar(&sqlite(sql))
                    .bind(key)
                    .fetch_optional(p)
                    .await?
            }
            Warehouse::Postgres(p) => sqlx::query_scalar(sql).bind(key).fetch_optional(p).await?,
        })
    }

    /// Writes a pipeline setting.
    pub async fn set_setting(&self, key: &str, value: &str) -> Result<(), WarehouseError> {
        let sql = "INSERT INTO pipeline_settings (key, value) VALUES ($1, $2) \
                   ON CONFLICT (key) DO UPDATE SET value = excluded.value";
        match self {
            Warehouse::Sqlite(p) => {
                sqlx::query(&sqlite(sql))
                    .bind(key)
                    .bind(value)
                    .execute(p)
                    .await?;
            }
            Warehouse::Postgres(p) => {
                sqlx::query(sql).bind(key).bind(value).execute(p).await?;
            }
        }
        Ok(())
    }
}

/// Adapts `$1`-style SQL to SQLite's numbered `?1` parameters.
pub fn sqlite(sql: &str) -> String {
    sql.replace('$', "?")
}

fn companion(main: &Path, suffix: &str) -> PathBuf {
    let stem = main
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "warehouse".into());
    main.with_file_name(format!("{stem}-{suffix}.db"))
}

async fn open_sqlite(url: &str) -> Result<SqlitePool, WarehouseError> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| WarehouseError::Url(e.to_string()))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(30))
        .foreign_keys(true);
    let main = options.get_filename().to_path_buf();
    if let Some(parent) = main.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| WarehouseError::Url(format!("{}: {e}", parent.display())))?;
    }
    let raw = companion(&main, "raw").to_string_lossy().into_owned();
    let analytics = companion(&main, "analytics").to_string_lossy().into_owned();
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .after_connect(move |conn, _meta| {
            let raw = raw.clone();
            let analytics = analytics.clone();
            Box::pin(async move {
                sqlx::query("ATTACH DATABASE ?1 AS raw")
                    .bind(&raw)
                    .execute(&mut *conn)
                    .await?;
                sqlx::query("ATTACH DATABASE ?1 AS analytics")
                    .bind(&analytics)
                    .execute(&mut *conn)
                    .await?;
                conn.execute(
                    "PRAGMA raw.journal_mode = WAL; PRAGMA analytics.journal_mode = WAL; \
                     PRAGMA raw.synchronous = NORMAL; PRAGMA analytics.synchronous = NORMAL;",
                )
                .await?;
                Ok(())
            })
        })
        .connect_with(options)
        .await?;
    Ok(pool)
}

/// A database URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            u.to_string()
        }
        Err(_) => "<unparseable URL>".into(),
    }
}
