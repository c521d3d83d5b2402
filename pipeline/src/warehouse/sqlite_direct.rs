//! Bulk work on a pooled SQLite connection's own database handle.
//!
//! sqlx runs every SQLite statement on the connection's worker thread and hands each row
//! and each bound value through it: binding a day's 106,000 analytics rows as multi-row
//! `INSERT`s, or reading a day's 231,000 raw rows back, spends most of its time there (see
//! BENCHMARKS.md, issue 15). For those few bulk statements the warehouse borrows the
//! connection's handle instead (`lock_handle`: sqlx's worker waits meanwhile) and steps
//! one prepared statement with rusqlite, on the same connection and so inside the
//! transaction sqlx opened. Everything else goes through sqlx.

use sqlx::SqliteConnection;

use super::WarehouseError;

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
