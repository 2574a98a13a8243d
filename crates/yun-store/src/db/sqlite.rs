//! SQLite: WAL mode, many readers beside one writer connection (every write transaction is
//! `BEGIN IMMEDIATE` on it, so concurrent writes queue instead of failing with SQLITE_BUSY),
//! and a checkpointer. sqlx creates the file and runs the migrations; after that the store
//! holds its own rusqlite connections (built on sqlx's libsqlite3-sys), so each keeps its
//! prepared statements across transactions and a transaction of many statements runs in one
//! go on the calling thread, with no hand-off per statement.

use super::{Cell, DbError, DbResult, Row, Tx, Value};
use crate::{timing::StoreTimings, StoreResult};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::OpenFlags;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// The writer's page cache (negative: KiB). The default 2 MiB makes every write to the ledger's
/// and containers' indexes of a large fleet a page read.
const CACHE_KIB: i64 = -65536;
/// What a restarted WAL file is trimmed to: room for a few seconds of writes, so a busy
/// writer reuses the file's blocks instead of growing it.
const WAL_KEEP_BYTES: i64 = 67_108_864;
/// Readers beside the writer.
const READERS: usize = 8;
/// Statements each connection keeps prepared (the store has about a hundred).
const STATEMENTS_KEPT: usize = 256;

#[derive(Clone)]
pub(crate) struct Sqlite {
    inner: Arc<Inner>,
}

struct Inner {
    /// Exactly one: writes are serialised here rather than racing for the lock.
    writer: tokio::sync::Mutex<rusqlite::Connection>,
    /// Idle readers; `free` counts them for the ones waiting.
    readers: std::sync::Mutex<Vec<rusqlite::Connection>>,
    free: tokio::sync::Semaphore,
    /// Copies the WAL back into the database in the background (see `checkpoint`).
    checkpointer: tokio::sync::Mutex<rusqlite::Connection>,
}

impl Sqlite {
    pub(crate) async fn open(url: &str) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let mut migrator = options.connect().await?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&mut migrator)
            .await?;
        migrator.close().await?;
        let path = options.get_filename().to_path_buf();
        // The writer never checkpoints inline (a commit that has to copy the WAL back stalls
        // every queued write); `checkpoint` does it beside it. Durability is the commit's fsync.
        // Only the writer gets the large cache: it is the one that must not wait for pages.
        let writer = connect(&path, false)?;
        writer.pragma_update(None, "wal_autocheckpoint", 0)?;
        writer.pragma_update(None, "journal_size_limit", WAL_KEEP_BYTES)?;
        writer.pragma_update(None, "cache_size", CACHE_KIB)?;
        let checkpointer = connect(&path, false)?;
        let readers = (0..READERS)
            .map(|_| connect(&path, true))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            inner: Arc::new(Inner {
                writer: tokio::sync::Mutex::new(writer),
                readers: std::sync::Mutex::new(readers),
                free: tokio::sync::Semaphore::new(READERS),
                checkpointer: tokio::sync::Mutex::new(checkpointer),
            }),
        })
    }

    /// Copies committed WAL frames into the database and lets the WAL start over.
    ///
    /// The bulk is copied beside the writer (PASSIVE on its own connection), so no write waits
    /// for it. Under sustained writes that copy never catches up, and SQLite restarts the WAL
    /// only once every frame is copied: the WAL grew by gigabytes in the scale benchmark, and
    /// each write then paid for the file's growth. So the rest (what was written meanwhile) is
    /// copied holding the writer, when nothing can be appended; the next write then starts the
    /// WAL from the beginning, and `journal_size_limit` trims a file a burst left large.
    pub(crate) async fn checkpoint(&self) -> StoreResult<()> {
        for conn in [&self.inner.checkpointer, &self.inner.writer] {
            let conn = conn.lock().await;
            blocking(|| conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())))?;
        }
        Ok(())
    }

    /// (pool, busy, idle) of the readers and the writer.
    pub(crate) fn connections(&self) -> [(&'static str, u32, u32); 2] {
        let idle = u32::try_from(self.inner.free.available_permits()).unwrap_or(0);
        let writing = u32::from(self.inner.writer.try_lock().is_err());
        [
            ("read", READERS as u32 - idle.min(READERS as u32), idle),
            ("write", writing, 1 - writing),
        ]
    }

    /// Runs `f` in one write transaction (`BEGIN IMMEDIATE` … `COMMIT`) on the writer, timed
    /// from the moment it asked; nothing is kept if it fails.
    pub(crate) async fn write<R>(
        &self,
        timings: &Arc<StoreTimings>,
        f: impl AsyncFnOnce(&mut Tx<'_>) -> StoreResult<R>,
    ) -> StoreResult<R> {
        let queued = std::time::Instant::now();
        let mut db = self.inner.writer.lock().await;
        let mut held = timings.held(queued);
        let out = here(async || {
            if !db.is_autocommit() {
                // A transaction a panic left open; nothing of it was committed.
                execute(&db, "ROLLBACK", &[])?;
            }
            execute(&db, "BEGIN IMMEDIATE", &[])?;
            match f(&mut Tx::Sqlite(&mut db)).await {
                Ok(v) => {
                    execute(&db, "COMMIT", &[])?;
                    Ok(v)
                }
                Err(e) => {
                    execute(&db, "ROLLBACK", &[])?;
                    Err(e)
                }
            }
        })
        .await?;
        held.committed();
        Ok(out)
    }

    /// Runs `f` on a reader, each statement in its own snapshot.
    pub(crate) async fn read<R>(
        &self,
        f: impl AsyncFnOnce(&mut Tx<'_>) -> StoreResult<R>,
    ) -> StoreResult<R> {
        let _permit = self
            .inner
            .free
            .acquire()
            .await
            .expect("the readers stay open");
        let mut reader = Reader {
            inner: &self.inner,
            conn: self.inner.readers.lock().expect("readers").pop(),
        };
        let conn = reader.conn.as_mut().expect("a permit means an idle reader");
        here(async || f(&mut Tx::Sqlite(conn)).await).await
    }
}

/// A reader taken from the idle ones, put back however its use ends.
struct Reader<'a> {
    inner: &'a Inner,
    conn: Option<rusqlite::Connection>,
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        if let Some(c) = self.conn.take() {
            self.inner.readers.lock().expect("readers").push(c);
        }
    }
}

fn connect(path: &Path, read_only: bool) -> StoreResult<rusqlite::Connection> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
    } | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let db = rusqlite::Connection::open_with_flags(path, flags)?;
    db.busy_timeout(Duration::from_secs(10))?;
    // A commit is on disk before the API answers; never OFF.
    db.pragma_update(None, "synchronous", "FULL")?;
    db.pragma_update(None, "foreign_keys", true)?;
    db.set_prepared_statement_cache_capacity(STATEMENTS_KEPT);
    Ok(db)
}

/// Runs `f` (whose statements never wait on anything but SQLite) on this thread, off the
/// async executor where the runtime allows it: a batch and its durable commit may take long,
/// and the thread's other tasks move on meanwhile.
async fn here<R>(f: impl AsyncFnOnce() -> StoreResult<R>) -> StoreResult<R> {
    if multi_thread() {
        tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(f()))
    } else {
        f().await
    }
}

fn blocking<R>(f: impl FnOnce() -> rusqlite::Result<R>) -> rusqlite::Result<R> {
    if multi_thread() {
        tokio::task::block_in_place(f)
    } else {
        f()
    }
}

fn multi_thread() -> bool {
    tokio::runtime::Handle::current().runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread
}

impl From<rusqlite::Error> for crate::StoreError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Database(Box::new(e))
    }
}

fn other(e: rusqlite::Error) -> DbError {
    match &e {
        rusqlite::Error::SqliteFailure(f, message)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
        {
            // "UNIQUE constraint failed: containers.owner_id, containers.name"
            DbError::Unique(message.clone().unwrap_or_default())
        }
        _ => DbError::Other(Box::new(e)),
    }
}

impl rusqlite::ToSql for Value<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match *self {
            Value::Int(Some(v)) => ValueRef::Integer(v),
            Value::Real(Some(v)) => ValueRef::Real(v),
            Value::Text(Some(v)) => ValueRef::Text(v.as_bytes()),
            Value::Flag(Some(v)) => ValueRef::Integer(v.into()),
            Value::Int(None) | Value::Real(None) | Value::Text(None) | Value::Flag(None) => {
                ValueRef::Null
            }
        }))
    }
}

pub(super) fn execute(db: &rusqlite::Connection, sql: &str, args: &[Value<'_>]) -> DbResult<u64> {
    let mut q = db.prepare_cached(sql).map_err(other)?;
    let changed = q
        .execute(rusqlite::params_from_iter(args.iter()))
        .map_err(other)?;
    Ok(changed as u64)
}

pub(super) fn rows(db: &rusqlite::Connection, sql: &str, args: &[Value<'_>]) -> DbResult<Vec<Row>> {
    read_rows(db, sql, args, usize::MAX)
}

pub(super) fn row(
    db: &rusqlite::Connection,
    sql: &str,
    args: &[Value<'_>],
) -> DbResult<Option<Row>> {
    Ok(read_rows(db, sql, args, 1)?.pop())
}

fn read_rows(
    db: &rusqlite::Connection,
    sql: &str,
    args: &[Value<'_>],
    most: usize,
) -> DbResult<Vec<Row>> {
    let mut q = db.prepare_cached(sql).map_err(other)?;
    let names: Arc<[String]> = q.column_names().iter().map(|n| n.to_string()).collect();
    let width = names.len();
    let mut found = q
        .query(rusqlite::params_from_iter(args.iter()))
        .map_err(other)?;
    let mut out = Vec::new();
    while out.len() < most {
        let Some(r) = found.next().map_err(other)? else {
            break;
        };
        let mut cells = Vec::with_capacity(width);
        for i in 0..width {
            cells.push(match r.get_ref(i).map_err(other)? {
                ValueRef::Null => Cell::Null,
                ValueRef::Integer(v) => Cell::Int(v),
                ValueRef::Real(v) => Cell::Real(v),
                ValueRef::Text(t) | ValueRef::Blob(t) => {
                    Cell::Text(String::from_utf8_lossy(t).into_owned())
                }
            });
        }
        out.push(Row {
            names: names.clone(),
            cells,
        });
    }
    Ok(out)
}
