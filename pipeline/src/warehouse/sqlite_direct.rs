//! Bulk work on a pooled SQLite connection's own database handle.
//!
//! sqlx runs every SQLite statement on the connection's worker thread and hands each row
//! through a bounded channel. For the few bulk statements (a day's 231,000 raw rows read
//! back, a day's raw and analytics rows written) the warehouse borrows the connection's
//! handle instead (`lock_handle`: sqlx's worker waits meanwhile) and steps one prepared
//! statement with rusqlite, on the same connection and so inside the transaction sqlx
//! opened. Measured on the 1,000-store day (BENCHMARKS.md, session 6): the raw read went
//! from about 165 to 126 ms; the writes hardly moved, SQLite's own b-tree work being most
//! of them. Everything else goes through sqlx.

use sqlx::SqliteConnection;

use super::{placeholders, sqlite, WarehouseError};

/// `INSERT INTO table (columns) VALUES (?1, …)`: one row, a placeholder per column.
pub(crate) fn insert_statement(table: &str, columns: &str) -> String {
    let n = columns.split(',').count();
    sqlite(&format!(
        "INSERT INTO {table} ({columns}) VALUES ({})",
        placeholders(n)
    ))
}

/// Runs `work` with direct access to `conn`'s database, in its open transaction if any.
/// On a multi-threaded runtime the work runs in place of the worker thread's other tasks
/// (`block_in_place`), as sqlx's own worker thread would run it.
pub(crate) async fn with_direct<R>(
    conn: &mut SqliteConnection,
    work: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<R>,
) -> Result<R, WarehouseError> {
    let mut locked = conn.lock_handle().await?;
    let handle = locked.as_raw_handle();
    let result = run_blocking(|| {
        // SAFETY: `locked` gives this thread the handle alone until it is dropped, after
        // `direct`; a connection made by `from_handle` never closes the handle.
        let direct = unsafe { rusqlite::Connection::from_handle(handle.as_ptr()) }?;
        work(&direct)
    });
    drop(locked);
    result.map_err(WarehouseError::Direct)
}

/// `f` on this thread, telling a multi-threaded tokio runtime that it blocks.
fn run_blocking<R>(f: impl FnOnce() -> R) -> R {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}
