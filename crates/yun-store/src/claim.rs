//! One master per SQLite file: a running master holds an exclusive lock on `<file>.lock`, so a
//! second master on the same file, or a move of a store still in use, is refused instead of
//! writing beside it. The kernel lets go of the lock when the process ends, however it ends.

use super::{StoreError, StoreResult};
use sqlx::sqlite::SqliteConnectOptions;
use std::path::PathBuf;
use std::str::FromStr;

/// Held while a master runs on the file (dropped: let go).
#[derive(Debug)]
pub struct Claim {
    _lock: std::fs::File,
}

/// Takes the SQLite store at `url` for this process; None for other engines (PostgreSQL
/// serialises its writers itself).
pub fn claim_sqlite(url: &str) -> StoreResult<Option<Claim>> {
    if !url.starts_with("sqlite:") {
        return Ok(None);
    }
    let path = lock_path(url)?;
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| StoreError::Database(Box::new(e)))?;
    match lock.try_lock() {
        Ok(()) => Ok(Some(Claim { _lock: lock })),
        Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::Held(path.display().to_string())),
        Err(std::fs::TryLockError::Error(e)) => Err(StoreError::Database(Box::new(e))),
    }
}

fn lock_path(url: &str) -> StoreResult<PathBuf> {
    let file = SqliteConnectOptions::from_str(url)?
        .get_filename()
        .to_path_buf();
    let mut name = file.clone().into_os_string();
    name.push(".lock");
    Ok(PathBuf::from(name))
}
