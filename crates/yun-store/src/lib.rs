//! All SQL lives here. Callers see typed rows and operations, so PostgreSQL can plug in behind
//! the same API later. SQLite runs in WAL mode; every write goes through one writer connection
//! with `BEGIN IMMEDIATE`, so concurrent requests queue instead of failing with SQLITE_BUSY.

mod access_tokens;
mod containers;
mod devices;
mod direct;
mod events;
mod figures;
mod images;
mod ledger;
mod metering;
mod nodes;
mod orders;
mod placement;
mod sessions;
mod timing;
mod trust;
mod url;
mod users;

pub use access_tokens::{AccessTokenRow, TokenRefusal, MAX_PER_USER as ACCESS_TOKENS_MAX};
pub use containers::{ContainerBrief, ContainerRow, NewContainer, PortRow, RestartPolicy};
pub use devices::DEVICE_LIFETIME_MS;
pub use events::EventRow;
pub use images::ImageRow;
pub use ledger::{Adjusted, AuditRow, Entry, EntryKind, LedgerRow};
pub use metering::{MeterTick, Prepaid};
pub use nodes::{NodeRow, NodeUpsert};
pub use orders::{NewOrder, OrderRow, OrderState, Settled};
pub use placement::{NotPlaced, Outcome, PlaceRequest, Placed};
pub use sessions::{CredentialKind, NewSession, Purged, SessionRow, SessionUser};
pub use timing::StoreTimings;
pub use trust::{ForgetRefusal, JoinRefusal, JoinTokenRow, Joining, NewJoinToken, NodeForgotten};
pub use url::redacted as redacted_url;

pub use users::UserRow;

/// One page of a list in its order: the rows after `after` (a key of the last row of the page
/// before), at most `limit` of them.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub after: Option<String>,
    pub limit: i64,
}

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use std::str::FromStr;
use std::time::Duration;

/// The unique key a write ran into: the caller says what it means for the renter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unique {
    ContainerName,
    Username,
    HostPort,
    LedgerKey,
    IdempotencyKey,
}

/// What went wrong in the store, without prose for a renter (the master words it) and without
/// the driver's types (so a second engine fits behind the same API).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("a unique key is taken: {0:?}")]
    Conflict(Unique),
    /// An image record cannot go while containers use it.
    #[error("{containers} container(s) still use the image")]
    ImageInUse { containers: u64 },
    /// The database failed or refused a statement; the driver's error, for the logs.
    #[error("database: {0}")]
    Database(Box<dyn std::error::Error + Send + Sync>),
    #[error("migrating the database: {0}")]
    Migrate(Box<dyn std::error::Error + Send + Sync>),
    #[error("unreadable data in the store: {0}")]
    Decode(String),
    #[error("unsupported database URL {0}: use sqlite://PATH")]
    UnsupportedUrl(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Clone)]
pub struct Store {
    /// Many readers (WAL lets them run beside the writer).
    read: SqlitePool,
    /// Exactly one connection: writes are serialised here rather than racing for the lock.
    write: SqlitePool,
    /// Copies the WAL back into the database in the background (see `checkpoint`).
    checkpointer: SqlitePool,
    timings: std::sync::Arc<StoreTimings>,
}

/// The writer's page cache (negative: KiB). The default 2 MiB makes every write to the ledger's
/// and containers' indexes of a large fleet a page read.
const CACHE_KIB: &str = "-65536";
/// What a restarted WAL file is trimmed to: room for a few seconds of writes, so a busy
/// writer reuses the file's blocks instead of growing it.
const WAL_KEEP_BYTES: &str = "67108864";
/// How often the background checkpoint runs.
pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Store {
    pub async fn open(url: &str) -> StoreResult<Self> {
        if !url.starts_with("sqlite:") {
            return Err(StoreError::UnsupportedUrl(redacted_url(url)));
        }
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // A commit is on disk before the API answers; never OFF.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        // The writer never checkpoints inline (a commit that has to copy the WAL back stalls
        // every queued write); `checkpoint` does it beside it. Durability is the commit's fsync.
        // Only the writer gets the large cache: it is the one that must not wait for pages.
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(
                options
                    .clone()
                    .pragma("wal_autocheckpoint", "0")
                    .pragma("journal_size_limit", WAL_KEEP_BYTES)
                    .pragma("cache_size", CACHE_KIB),
            )
            .await?;
        sqlx::migrate!("./migrations").run(&write).await?;
        let checkpointer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        let read = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options.read_only(true))
            .await?;
        Ok(Self {
            read,
            write,
            checkpointer,
            timings: std::sync::Arc::default(),
        })
    }

    /// Copies committed WAL frames into the database and lets the WAL start over; run every
    /// `CHECKPOINT_EVERY` by the master.
    ///
    /// The bulk is copied beside the writer (PASSIVE on its own connection), so no write waits
    /// for it. Under sustained writes that copy never catches up, and SQLite restarts the WAL
    /// only once every frame is copied: the WAL grew by gigabytes in the scale benchmark, and
    /// each write then paid for the file's growth. So the rest (what was written meanwhile) is
    /// copied holding the writer, when nothing can be appended; the next write then starts the
    /// WAL from the beginning, and `journal_size_limit` trims a file a burst left large.
    pub async fn checkpoint(&self) -> StoreResult<()> {
        sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&self.checkpointer)
            .await?;
        sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// How long writes wait for the writer and hold it (the metrics register these).
    pub fn timings(&self) -> &StoreTimings {
        &self.timings
    }

    /// Connections of the readers' and the writer's pools: (pool, busy, idle).
    pub fn connections(&self) -> [(&'static str, u32, u32); 2] {
        let of = |pool: &SqlitePool| {
            let idle = u32::try_from(pool.num_idle()).unwrap_or(u32::MAX);
            (pool.size().saturating_sub(idle), idle)
        };
        let (read_busy, read_idle) = of(&self.read);
        let (write_busy, write_idle) = of(&self.write);
        [
            ("read", read_busy, read_idle),
            ("write", write_busy, write_idle),
        ]
    }

    /// A write transaction (`BEGIN IMMEDIATE`) on the writer, timed from the moment it asked.
    async fn begin(&self) -> StoreResult<timing::WriteTx> {
        let queued = std::time::Instant::now();
        let conn = self.write.acquire().await?;
        let held = self.timings.held(queued);
        let tx = sqlx::Transaction::begin(conn, Some("BEGIN IMMEDIATE".into())).await?;
        Ok(timing::WriteTx::new(tx, held))
    }

    /// Runs `f` in one write transaction (`BEGIN IMMEDIATE` … `COMMIT`) directly on the writer's
    /// handle, as one hand-off however many statements it runs; nothing is kept if it fails.
    async fn write_direct<R>(
        &self,
        f: impl FnOnce(&rusqlite::Connection) -> StoreResult<R>,
    ) -> StoreResult<R> {
        let queued = std::time::Instant::now();
        let mut conn = self.write.acquire().await?;
        let mut held = self.timings.held(queued);
        let out = direct::direct_blocking(&mut conn, |db| {
            let tx =
                rusqlite::Transaction::new_unchecked(db, rusqlite::TransactionBehavior::Immediate)?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        })
        .await?;
        held.committed();
        Ok(out)
    }

    /// The cluster's id, made on first start; it scopes every Docker label this cluster writes.
    pub async fn cluster_id(&self) -> StoreResult<String> {
        let mut tx = self.begin().await?;
        if let Some(id) = sqlx::query_scalar::<_, String>("SELECT id FROM cluster LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?
        {
            return Ok(id);
        }
        let id = yun_core::new_id();
        sqlx::query("INSERT INTO cluster (id, created_at) VALUES (?, ?)")
            .bind(&id)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        Self::Database(Box::new(e))
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Database(Box::new(e))
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Self::Migrate(Box::new(e))
    }
}

/// Turns a unique-constraint failure into the key it ran into.
fn conflict_on_unique(e: sqlx::Error, key: Unique) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(key),
        _ => e.into(),
    }
}
