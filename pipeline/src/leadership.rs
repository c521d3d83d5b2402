//! Exactly one runner of jobs among several replicas. On PostgreSQL a session-level
//! advisory lock is held on a dedicated connection for as long as this process lives (or
//! until that connection breaks); when the holder dies, PostgreSQL releases the lock and
//! the next replica to ask takes over. On SQLite (one machine, one file) every process
//! may run jobs; jobs are idempotent either way.

use sqlx::postgres::PgConnection;
use sqlx::Connection;

use crate::warehouse::{Warehouse, WarehouseError};

/// The advisory lock key ("DM360JOB" as an integer).
pub const LOCK_KEY: i64 = 0x444D_3336_304A_4F42;

/// This process's claim on running the jobs.
#[derive(Debug, Default)]
pub struct Leadership {
    held: tokio::sync::Mutex<Option<PgConnection>>,
}

impl Leadership {
    /// True if this process may run jobs now: it holds the lock, or just took it.
    pub async fn acquire(&self, warehouse: &Warehouse) -> Result<bool, WarehouseError> {
        let Warehouse::Postgres(pool) = warehouse else {
            return Ok(true);
        };
        let mut held = self.held.lock().await;
        if let Some(conn) = held.as_mut() {
            if conn.ping().await.is_ok() {
                return Ok(true);
            }
            tracing::warn!("lost the connection holding the job lock");
            *held = None;
        }
        let mut conn = pool.acquire().await?.detach();
        let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(LOCK_KEY)
            .fetch_one(&mut conn)
            .await?;
        if got {
            tracing::info!("this replica now runs the scheduled jobs");
            *held = Some(conn);
        } else {
            let _ = conn.close().await;
        }
        Ok(got)
    }

    /// Whether this process currently holds the lock (without trying to take it).
    pub async fn is_held(&self) -> bool {
        self.held.lock().await.is_some()
    }

    /// Gives the lock up (shutdown). Unlocks explicitly before closing: PostgreSQL only
    /// drops a closed session's locks once its backend has exited, which can be after
    /// another replica (or the next command) has already asked for the lock.
    pub async fn release(&self) {
        if let Some(mut conn) = self.held.lock().await.take() {
            if let Err(e) = sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(LOCK_KEY)
                .execute(&mut conn)
                .await
            {
                tracing::warn!(error = %e, "could not unlock the job lock; closing its connection");
            }
            let _ = conn.close().await;
        }
    }
}
