//! Statements run directly on a connection's SQLite handle, in the calling thread.
//!
//! sqlx runs each statement on the connection's own thread and hands the results back, so a
//! transaction of N statements costs N thread hand-offs (two context switches each). On the
//! hot write paths (a placement round with its outcomes, the meter, a ledger posting) that was
//! most of the cost: a fifth of the master's samples sat in `finish_task_switch`. Here the
//! handle is locked away from sqlx's thread once, and every statement of the block runs
//! synchronously through rusqlite (built on the same libsqlite3-sys), as one hand-off.

use super::{StoreError, StoreResult, Unique};
use rusqlite::ffi;
use sqlx::SqliteConnection;

/// Runs `f` on `conn`'s SQLite handle, inside whatever transaction `conn` has open.
pub(super) async fn direct<R>(
    conn: &mut SqliteConnection,
    f: impl FnOnce(&rusqlite::Connection) -> StoreResult<R>,
) -> StoreResult<R> {
    let mut handle = conn.lock_handle().await?;
    let raw = handle.as_raw_handle();
    // SAFETY: `handle` keeps sqlx's thread off this SQLite handle until it drops, after
    // `db`; a connection made by `from_handle` does not close the handle when dropped, and
    // dropping it finalizes every statement it prepared.
    let db = unsafe { rusqlite::Connection::from_handle(raw.as_ptr()) }?;
    let out = f(&db);
    drop(db);
    drop(handle);
    out
}

/// Runs `f` as `direct` does, off the async executor where it may block for long (a batch
/// and its durable commit): with a multi-threaded runtime the thread's other tasks move on.
pub(super) async fn direct_blocking<R>(
    conn: &mut SqliteConnection,
    f: impl FnOnce(&rusqlite::Connection) -> StoreResult<R>,
) -> StoreResult<R> {
    let multi_thread = tokio::runtime::Handle::current().runtime_flavor()
        == tokio::runtime::RuntimeFlavor::MultiThread;
    direct(conn, |db| {
        if multi_thread {
            tokio::task::block_in_place(|| f(db))
        } else {
            f(db)
        }
    })
    .await
}

/// Turns a unique-constraint failure into the key it ran into; `key` picks it from the
/// constraint SQLite names ("UNIQUE constraint failed: containers.owner_id, containers.name").
pub(super) fn conflict_on_unique(
    e: rusqlite::Error,
    key: impl FnOnce(&str) -> Unique,
) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(f, message)
            if f.extended_code == ffi::SQLITE_CONSTRAINT_UNIQUE
                || f.extended_code == ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
        {
            StoreError::Conflict(key(message.as_deref().unwrap_or_default()))
        }
        _ => e.into(),
    }
}
