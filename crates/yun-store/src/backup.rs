//! A consistent copy of a running SQLite store, for `yun master backup`.
//!
//! `VACUUM INTO` reads the database in one read transaction, so the copy is the store as of
//! one commit, while the master goes on writing beside it (WAL: a reader never blocks the
//! writer). The copy is then opened on its own and checked before it is called a backup.

use super::{ledger::UNBALANCED, StoreError, StoreResult};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};
use std::path::Path;
use std::str::FromStr;

/// What a backup holds, as read back from the copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupFacts {
    pub users: i64,
    pub containers: i64,
    pub ledger_entries: i64,
    pub nodes: i64,
    pub join_tokens: i64,
}

/// Copies the SQLite store at `url` into the new file `to` and checks the copy: SQLite's
/// integrity check passes and every balance equals its ledger. `to` must not exist.
pub async fn backup_sqlite(url: &str, to: &Path) -> StoreResult<BackupFacts> {
    if !url.starts_with("sqlite:") {
        return Err(StoreError::UnsupportedUrl(super::redacted_url(url)));
    }
    // Read-only and never created: a backup of a mistyped path is an error, not an empty copy.
    let mut source = SqliteConnectOptions::from_str(url)?
        .read_only(true)
        .create_if_missing(false)
        .busy_timeout(std::time::Duration::from_secs(10))
        .connect()
        .await?;
    let target = to.to_str().ok_or_else(|| {
        StoreError::Decode(format!("the backup's path is not UTF-8: {}", to.display()))
    })?;
    sqlx::query("VACUUM INTO ?")
        .bind(target)
        .execute(&mut source)
        .await?;
    source.close().await?;

    let mut copy = SqliteConnectOptions::new()
        .filename(to)
        .read_only(true)
        .connect()
        .await?;
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut copy)
        .await?;
    if integrity != "ok" {
        return Err(StoreError::Decode(format!(
            "the copy fails SQLite's integrity check: {integrity}"
        )));
    }
    let unbalanced = sqlx::query(UNBALANCED).fetch_all(&mut copy).await?;
    if !unbalanced.is_empty() {
        return Err(StoreError::Decode(format!(
            "{} balance(s) in the copy differ from their ledger",
            unbalanced.len()
        )));
    }
    let mut count = async |table: &str| -> StoreResult<i64> {
        Ok(sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&mut copy)
            .await?)
    };
    let facts = BackupFacts {
        users: count("users").await?,
        containers: count("containers").await?,
        ledger_entries: count("ledger").await?,
        nodes: count("nodes").await?,
        join_tokens: count("join_tokens").await?,
    };
    copy.close().await?;
    Ok(facts)
}
