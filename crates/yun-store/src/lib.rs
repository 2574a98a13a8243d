//! All SQL lives here. Callers see typed rows and operations, so PostgreSQL can plug in behind
//! the same API later. SQLite runs in WAL mode; every write goes through one writer connection
//! with `BEGIN IMMEDIATE`, so concurrent requests queue instead of failing with SQLITE_BUSY.

mod access_tokens;
mod backup;
mod claim;
mod cluster;
mod containers;
mod db;
mod devices;
mod events;
mod figures;
mod images;
mod ledger;
mod metering;
mod migrate;
mod nodes;
mod orders;
mod placement;
pub mod scratch;
mod sessions;
mod timing;
mod trust;
mod url;
mod users;

pub use access_tokens::{AccessTokenRow, TokenRefusal, MAX_PER_USER as ACCESS_TOKENS_MAX};
pub use backup::{backup_sqlite, BackupFacts};
pub use claim::{claim_sqlite, Claim};
pub use cluster::CaMismatch;
pub use containers::{ContainerBrief, ContainerRow, NewContainer, PortRow, RestartPolicy};
pub use devices::DEVICE_LIFETIME_MS;
pub use events::EventRow;
pub use images::ImageRow;
pub use ledger::{Adjusted, AuditRow, Entry, EntryKind, LedgerRow};
pub use metering::{MeterTick, Prepaid};
pub use migrate::{copy_sqlite_to_postgres, Copied};
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
    #[error("unsupported database URL {0}: use sqlite://PATH or postgres://USER@HOST/DATABASE")]
    UnsupportedUrl(String),
    /// A running master holds this SQLite store (its lock file is named).
    #[error("a running master holds this store (it locks {0}): stop it first")]
    Held(String),
    /// A move of the store found the target holding tables already.
    #[error("{0} is not empty: a store is moved only into an empty database")]
    TargetNotEmpty(String),
    /// A move of the store whose copy differs from its source; nothing was kept.
    #[error("the copy differs from the store: {0}; nothing was kept")]
    CopyDiffers(String),
    /// A transaction its operation chose to undo (never leaves the store).
    #[error("the transaction was undone")]
    Undone,
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Clone)]
pub struct Store {
    engine: db::Engine,
    timings: std::sync::Arc<StoreTimings>,
}

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
        Ok(Self {
            engine: db::Engine::open(url).await?,
            timings: std::sync::Arc::default(),
        })
    }

    /// Lets the write-ahead log start over (SQLite; run every `CHECKPOINT_EVERY` by the
    /// master).
    pub async fn checkpoint(&self) -> StoreResult<()> {
        self.engine.checkpoint().await
    }

    /// How long writes wait for the writer and hold it (the metrics register these).
    pub fn timings(&self) -> &StoreTimings {
        &self.timings
    }

    /// Connections of the readers' and the writer's pools: (pool, busy, idle).
    pub fn connections(&self) -> [(&'static str, u32, u32); 2] {
        self.engine.connections()
    }

    /// Runs `f` in one write transaction; nothing is kept if it fails.
    async fn write<R>(
        &self,
        f: impl AsyncFnOnce(&mut db::Tx<'_>) -> StoreResult<R>,
    ) -> StoreResult<R> {
        self.engine.write(&self.timings, f).await
    }

    /// `write`, where `f` answering `Err(u)` keeps nothing of what it wrote and answers `u`.
    async fn write_if<R, U>(
        &self,
        f: impl AsyncFnOnce(&mut db::Tx<'_>) -> StoreResult<Result<R, U>>,
    ) -> StoreResult<Result<R, U>> {
        let mut undone = None;
        let written = self
            .write(async |tx| match f(tx).await? {
                Ok(v) => Ok(v),
                Err(u) => {
                    undone = Some(u);
                    Err(StoreError::Undone)
                }
            })
            .await;
        match (written, undone) {
            (Ok(v), _) => Ok(Ok(v)),
            (Err(StoreError::Undone), Some(u)) => Ok(Err(u)),
            (Err(e), _) => Err(e),
        }
    }

    /// Runs `f`'s reads, each statement as of its own latest commit.
    async fn read<R>(
        &self,
        f: impl AsyncFnOnce(&mut db::Tx<'_>) -> StoreResult<R>,
    ) -> StoreResult<R> {
        self.engine.read(f).await
    }

    pub async fn ping(&self) -> StoreResult<()> {
        self.read(async |db| Ok(db.int("SELECT 1", &[]).await?))
            .await?;
        Ok(())
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        Self::Database(Box::new(e))
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Self::Migrate(Box::new(e))
    }
}
