//! The SQL warehouse through sqlx: a SQLite file by default, PostgreSQL when the URL says
//! so. Both hold the same tables (`raw.*`, `analytics.*`, the job ledger); SQL text is
//! written once with `$1` placeholders and adapted for SQLite (`?1`).

/// Runs one statement on either backend: `$body` is written once, and expanded once per
/// backend with `$q` bound to the SQL text for it (`$sql` itself on PostgreSQL, its
/// [`sqlite`] adaptation on SQLite) and `$pool` bound to the variant's content. This is
/// the warehouse's one way of writing a statement whose SQL differs between the backends
/// only in placeholders; only the bulk writers are written per backend.
///
/// `per_backend!(warehouse, sql, |q, pool| body)` matches a [`Warehouse`];
/// `per_backend!(Enum; value, sql, |q, conn| body)` matches another enum with `Sqlite` and
/// `Postgres` variants (e.g. a transaction of either backend). `$pool` is a pattern
/// (`mut tx` to consume a transaction).
// Defined before the submodules, so that they see it by textual scope too.
macro_rules! per_backend {
    (@match [$($ty:tt)+] $wh:expr, $sql:expr, |$q:ident, $pool:pat_param| $body:expr) => {
        match $wh {
            $($ty)+::Sqlite($pool) => {
                let owned = $crate::warehouse::sqlite($sql);
                let $q: &str = &owned;
                $body
            }
            $($ty)+::Postgres($pool) => {
                let $q: &str = $sql;
                $body
            }
        }
    };
    ($ty:ident; $wh:expr, $sql:expr, |$q:ident, $pool:pat_param| $body:expr) => {
        $crate::warehouse::per_backend!(@match [$ty] $wh, $sql, |$q, $pool| $body)
    };
    ($wh:expr, $sql:expr, |$q:ident, $pool:pat_param| $body:expr) => {
        $crate::warehouse::per_backend!(
            @match [$crate::warehouse::Warehouse] $wh, $sql, |$q, $pool| $body
        )
    };
}
pub(crate) use per_backend;

pub mod accounts;
pub mod alerts;
pub mod analytics;
pub mod dashboard;
pub mod detection;
pub mod ledger;
mod pg_binary;
pub mod raw;
pub mod rollups;
mod sqlite_direct;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{ConnectOptions, Connection, Executor};

/// How long a query waits for a pooled connection before failing: a database outage
/// answers in seconds, not after half a minute.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);
/// How long the first connection of a process may take (DNS, TLS, authentication).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The PostgreSQL advisory lock held while migrating ("DM360MIG" as an integer).
pub const MIGRATE_LOCK_KEY: i64 = 0x444D_3336_304D_4947;

#[derive(Debug, thiserror::Error)]
pub enum WarehouseError {
    #[error("invalid database URL: {0}")]
    Url(String),
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("database error: {0}")]
    Direct(#[from] rusqlite::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Data(String),
    /// A ledger or quality row names a job, partition or rule this build does not know.
    #[error("the warehouse holds an unknown {what}: {key:?}")]
    UnknownKey { what: &'static str, key: String },
    #[error("cannot connect to {target}: {source}")]
    Connect {
        target: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("{0} did not answer within {1:?}")]
    Timeout(String, Duration),
    #[error("no warehouse at {0}: nothing has run here yet")]
    NotFound(String),
    /// The directory of the SQLite files could not be created.
    #[error("cannot create the directory {}: {source}", path.display())]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The lock file beside the SQLite warehouse could not be opened or locked.
    #[error("cannot lock {}: {source}", path.display())]
    Lock {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A blocking task of the warehouse panicked or was cancelled.
    #[error("{what} task failed: {source}")]
    Task {
        what: &'static str,
        #[source]
        source: tokio::task::JoinError,
    },
}

/// A directory created with its parents, or the error that names it.
fn create_dir(path: &Path) -> Result<(), WarehouseError> {
    std::fs::create_dir_all(path).map_err(|source| WarehouseError::CreateDir {
        path: path.to_path_buf(),
        source,
    })
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
    ///
    /// Several processes may open the same fresh database at once: migrations run in one
    /// of them, under a lock (an advisory lock on PostgreSQL, a lock file beside the SQLite
    /// file), while the others wait, then find nothing left to do.
    pub async fn connect(url: &str) -> Result<Self, WarehouseError> {
        if is_postgres(url) {
            let warehouse = Warehouse::Postgres(open_postgres(url).await?);
            warehouse.migrate_locked().await?;
            Ok(warehouse)
        } else if url.starts_with("sqlite:") {
            // The lock covers creating the files and switching them to WAL too: SQLite
            // answers "database is locked" at once, whatever the busy timeout, to a process
            // doing that while another one does.
            let main = SqliteConnectOptions::from_str(url)
                .map_err(|e| WarehouseError::Url(e.to_string()))?
                .get_filename()
                .to_path_buf();
            if let Some(parent) = main.parent().filter(|p| !p.as_os_str().is_empty()) {
                create_dir(parent)?;
            }
            let lock = MigrationLock::acquire(&main).await?;
            let opened = async {
                let (pool, _) = open_sqlite(url, SqliteMode::ReadWrite).await?;
                let warehouse = Warehouse::Sqlite(pool);
                warehouse.migrate().await?;
                Ok(warehouse)
            }
            .await;
            drop(lock);
            opened
        } else {
            Err(WarehouseError::Url(format!(
                "{} (expected sqlite://… or postgres://…)",
                crate::redact::text(url)
            )))
        }
    }

    /// Opens an existing warehouse to read it only: no migration, no file created, and on
    /// SQLite no write access needed (`status` on a read-only data directory).
    pub async fn open_read_only(url: &str) -> Result<Self, WarehouseError> {
        if is_postgres(url) {
            Ok(Warehouse::Postgres(open_postgres(url).await?))
        } else if url.starts_with("sqlite:") {
            // A WAL database needs its `-shm` index: when it is absent and cannot be created
            // (a read-only directory, no writer around), read the files as immutable.
            let pool = match open_sqlite(url, SqliteMode::ReadOnly).await {
                Ok((pool, _)) => pool,
                Err(WarehouseError::Sql(e)) => {
                    tracing::debug!(error = %e, "read-only open failed; trying immutable");
                    open_sqlite(url, SqliteMode::Immutable).await?.0
                }
                Err(e) => return Err(e),
            };
            Ok(Warehouse::Sqlite(pool))
        } else {
            Err(WarehouseError::Url(format!(
                "{} (expected sqlite://… or postgres://…)",
                crate::redact::text(url)
            )))
        }
    }

    /// [`Warehouse::open_read_only`] on the SQLite warehouse of a data directory.
    pub async fn open_in_dir_read_only(dir: &Path) -> Result<Self, WarehouseError> {
        Self::open_read_only(&format!("sqlite://{}", dir.join("warehouse.db").display())).await
    }

    /// Checks that the warehouse answers within `budget`. On failure the error names the
    /// cause (e.g. "connection refused"), not only that the pool timed out.
    pub async fn ping(&self, budget: Duration) -> Result<(), WarehouseError> {
        let attempt = async {
            match self {
                Warehouse::Sqlite(p) => p.acquire().await?.ping().await,
                Warehouse::Postgres(p) => p.acquire().await?.ping().await,
            }
        };
        let error = match tokio::time::timeout(budget, attempt).await {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(e)) if !matches!(e, sqlx::Error::PoolTimedOut) => {
                return Err(WarehouseError::Sql(e))
            }
            _ => WarehouseError::Timeout("the warehouse".into(), budget),
        };
        // The pool retries refused connections until its deadline and then only says it
        // timed out: one direct attempt tells why.
        if let Warehouse::Postgres(p) = self {
            let options = p.connect_options();
            let target = describe_pg(&options);
            match tokio::time::timeout(budget, options.connect()).await {
                Ok(Err(source)) => return Err(WarehouseError::Connect { target, source }),
                Ok(Ok(conn)) => {
                    let _ = conn.close().await;
                }
                Err(_) => {}
            }
        }
        Err(error)
    }

    /// The SQLite warehouse in a data directory: `<dir>/warehouse.db`.
    pub async fn open_in_dir(dir: &Path) -> Result<Self, WarehouseError> {
        create_dir(dir)?;
        Self::connect(&format!("sqlite://{}", dir.join("warehouse.db").display())).await
    }

    /// Migrates under the PostgreSQL advisory lock [`MIGRATE_LOCK_KEY`], held on one
    /// connection for the migrations and the rollups they may need.
    async fn migrate_locked(&self) -> Result<(), WarehouseError> {
        let Warehouse::Postgres(pool) = self else {
            return self.migrate().await;
        };
        let mut conn = pool.acquire().await?;
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(MIGRATE_LOCK_KEY)
            .execute(&mut *conn)
            .await?;
        let migrated = self.migrate().await;
        if let Err(e) = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(MIGRATE_LOCK_KEY)
            .execute(&mut *conn)
            .await
        {
            // The lock dies with the session: close it rather than return it to the pool.
            tracing::warn!(error = %e, "could not release the migration lock; closing its connection");
            let _ = conn.detach().close().await;
        }
        migrated
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
        Ok(per_backend!(self, sql, |q, p| sqlx::query_scalar(q)
            .bind(key)
            .fetch_optional(p)
            .await?))
    }

    /// Writes a pipeline setting.
    pub async fn set_setting(&self, key: &str, value: &str) -> Result<(), WarehouseError> {
        let sql = "INSERT INTO pipeline_settings (key, value) VALUES ($1, $2) \
                   ON CONFLICT (key) DO UPDATE SET value = excluded.value";
        per_backend!(self, sql, |q, p| {
            sqlx::query(q).bind(key).bind(value).execute(p).await?;
        });
        Ok(())
    }
}

/// `$1, $2, …, $n`: the placeholders of `n` bound values.
pub(crate) fn placeholders(n: usize) -> String {
    let marks: Vec<String> = (1..=n).map(|i| format!("${i}")).collect();
    marks.join(", ")
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

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// `host:port/database` of a PostgreSQL connection, for messages (never the password).
fn describe_pg(options: &PgConnectOptions) -> String {
    format!(
        "PostgreSQL {}:{}/{}",
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or("")
    )
}

/// A PostgreSQL pool whose waits are bounded by [`ACQUIRE_TIMEOUT`]. The URL's `sslmode`
/// (`disable`, `allow`, `prefer`, `require`, `verify-ca`, `verify-full`) and `sslrootcert`
/// choose TLS (rustls, the system's roots plus the given CA). One direct connection is
/// made first, so that a failure says why ("connection refused", a TLS or password error)
/// instead of "pool timed out".
async fn open_postgres(url: &str) -> Result<PgPool, WarehouseError> {
    let options = PgConnectOptions::from_str(url)
        .map_err(|e| WarehouseError::Url(format!("{}: {e}", crate::redact::text(url))))?;
    let target = describe_pg(&options);
    match tokio::time::timeout(CONNECT_TIMEOUT, options.connect()).await {
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
        }
        Ok(Err(source)) => return Err(WarehouseError::Connect { target, source }),
        Err(_) => return Err(WarehouseError::Timeout(target, CONNECT_TIMEOUT)),
    }
    Ok(PgPoolOptions::new()
        .max_connections(8)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_lazy_with(options))
}

/// An exclusive lock file beside the SQLite warehouse, held while migrating: processes
/// opening one fresh data directory at once migrate one after the other (the later ones
/// find the schema up to date). The operating system drops the lock if the holder dies.
struct MigrationLock(std::fs::File);

impl MigrationLock {
    async fn acquire(main: &Path) -> Result<Self, WarehouseError> {
        let path = main.with_file_name(format!(
            "{}.migrate.lock",
            main.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "warehouse.db".into())
        ));
        tokio::task::spawn_blocking(move || {
            let locked = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .and_then(|file| file.lock().map(|()| MigrationLock(file)));
            locked.map_err(|source| WarehouseError::Lock { path, source })
        })
        .await
        .map_err(|source| WarehouseError::Task {
            what: "migration lock",
            source,
        })?
    }
}

impl Drop for MigrationLock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

/// The page cache of the analytics file on a read-write connection: up to 16 MiB, taken
/// only as pages are used.
const ANALYTICS_CACHE_PRAGMA: &str = "PRAGMA analytics.cache_size = -16384";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SqliteMode {
    ReadWrite,
    /// The files must exist; nothing is created or written.
    ReadOnly,
    /// Read-only, and no lock or `-shm` file used (no writer may be running).
    Immutable,
}

/// The SQLite pool and the main file's path; the attached `raw`/`analytics` files are
/// opened in the same mode.
async fn open_sqlite(url: &str, mode: SqliteMode) -> Result<(SqlitePool, PathBuf), WarehouseError> {
    let read_only = mode != SqliteMode::ReadWrite;
    let mut options = SqliteConnectOptions::from_str(url)
        .map_err(|e| WarehouseError::Url(e.to_string()))?
        .busy_timeout(Duration::from_secs(30))
        .foreign_keys(true);
    let main = options.get_filename().to_path_buf();
    if read_only {
        if !main.exists() {
            return Err(WarehouseError::NotFound(main.display().to_string()));
        }
        options = options
            .read_only(true)
            .immutable(mode == SqliteMode::Immutable);
    } else {
        options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal);
        if let Some(parent) = main.parent().filter(|p| !p.as_os_str().is_empty()) {
            create_dir(parent)?;
        }
    }
    let attach_name = |suffix: &str| {
        let path = companion(&main, suffix);
        if read_only {
            // A URI filename (SQLite opens with SQLITE_OPEN_URI): read-only, never created.
            let mut uri = url::Url::from_file_path(&path)
                .map(|u| u.to_string())
                .unwrap_or_else(|_| format!("file:{}", path.display()));
            uri.push_str(if mode == SqliteMode::Immutable {
                "?mode=ro&immutable=1"
            } else {
                "?mode=ro"
            });
            uri
        } else {
            path.to_string_lossy().into_owned()
        }
    };
    let raw = attach_name("raw");
    let analytics = attach_name("analytics");
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
                if !read_only {
                    conn.execute(
                        "PRAGMA raw.journal_mode = WAL; PRAGMA analytics.journal_mode = WAL; \
                         PRAGMA raw.synchronous = NORMAL; PRAGMA analytics.synchronous = NORMAL;",
                    )
                    .await?;
                    // The nightly transform inserts a day's rows into the analytics indexes
                    // at one point per store: with SQLite's default 2 MiB page cache a
                    // 1,000-store day re-reads its index pages from the file (issue 15).
                    conn.execute(ANALYTICS_CACHE_PRAGMA).await?;
                }
                Ok(())
            })
        })
        .connect_with(options)
        .await?;
    Ok((pool, main))
}
