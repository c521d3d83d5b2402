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
///
/// `work` must never commit, roll back or begin a transaction: the transaction is sqlx's
/// (debug builds assert it, see below).
#[allow(unsafe_code)] // one of the two places allowed (root Cargo.toml)
pub(crate) async fn with_direct<R>(
    conn: &mut SqliteConnection,
    work: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<R>,
) -> Result<R, WarehouseError> {
    let mut locked = conn.lock_handle().await?;
    let handle = locked.as_raw_handle();
    let result = run_blocking(|| {
        // SAFETY: every invariant `from_handle` relies on, and who keeps it:
        // 1. One SQLite library: sqlx-sqlite and rusqlite link the same `libsqlite3-sys`
        //    (Cargo.lock holds exactly one, checked by `one_libsqlite3_sys_in_the_lock`
        //    below), so the `sqlite3*` sqlx opened is a handle of the very library rusqlite
        //    calls. Two copies would be two SQLite libraries with separate global state.
        // 2. Exclusive use: `locked` gives this thread the handle alone (sqlx's worker
        //    waits) until it is dropped, which happens after `direct` is.
        // 3. Ownership: a connection made by `from_handle` never closes the handle; its
        //    prepared statements (and rusqlite's statement cache) are finalized when
        //    `direct` drops, inside this closure, before the handle goes back to sqlx.
        // 4. The transaction stays sqlx's: `work` never commits, rolls back or begins one,
        //    or sqlx's idea of the connection's state would be wrong. Asserted below (in
        //    every build, the tests' optimised one included): the autocommit state is the
        //    same before and after `work`.
        let direct = unsafe { rusqlite::Connection::from_handle(handle.as_ptr()) }?;
        let autocommit = direct.is_autocommit();
        let result = work(&direct);
        assert_eq!(
            direct.is_autocommit(),
            autocommit,
            "with_direct's work committed, rolled back or began a transaction"
        );
        result
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

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::{Connection, Executor};

    /// Invariant 1 of `with_direct`'s SAFETY comment: one `libsqlite3-sys` in the lock.
    #[test]
    fn one_libsqlite3_sys_in_the_lock() {
        let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock"))
            .expect("Cargo.lock");
        let copies = lock
            .lines()
            .filter(|l| l.trim() == "name = \"libsqlite3-sys\"")
            .count();
        assert_eq!(copies, 1, "sqlx and rusqlite must share one SQLite library");
    }

    /// Invariant 4: the work runs inside sqlx's transaction, which it leaves open; one
    /// that commits it is caught in debug builds.
    #[tokio::test]
    async fn the_work_stays_inside_sqlx_transaction() {
        let mut conn = SqliteConnection::connect("sqlite::memory:")
            .await
            .expect("open");
        conn.execute("CREATE TABLE t (x INTEGER)")
            .await
            .expect("create");
        let mut tx = conn.begin().await.expect("begin");
        let n = with_direct(&mut tx, |c| {
            c.execute("INSERT INTO t (x) VALUES (1)", [])?;
            c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get::<_, i64>(0))
        })
        .await
        .expect("direct");
        assert_eq!(n, 1);
        tx.rollback().await.expect("rollback");
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t")
            .fetch_one(&mut conn)
            .await
            .expect("count");
        assert_eq!(left, 0, "the direct insert was part of sqlx's transaction");
        let mut tx = conn.begin().await.expect("begin");
        let committed =
            std::panic::AssertUnwindSafe(with_direct(&mut tx, |c| c.execute_batch("COMMIT")));
        let caught = futures::FutureExt::catch_unwind(committed).await;
        assert!(caught.is_err(), "a commit inside the work is caught");
    }
}
