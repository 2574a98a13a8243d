//! What the metrics read at a scrape: counts by state from indexes, and the ledger's new
//! entries since the last scrape (it is append-only, so each entry is read once).

use super::{Store, StoreResult};

/// Ledger entries by kind since an entry id: (kind, entries, credits moved either way).
pub struct LedgerSince {
    pub by_kind: Vec<(String, i64, i64)>,
    /// The newest entry id read (the `after` of the next call).
    pub last_id: i64,
}

impl Store {
    pub async fn containers_by_state(&self) -> StoreResult<Vec<(String, i64)>> {
        Ok(
            sqlx::query_as("SELECT state, COUNT(*) FROM containers GROUP BY state")
                .fetch_all(&self.read)
                .await?,
        )
    }

    pub async fn orders_by_state(&self) -> StoreResult<Vec<(String, i64)>> {
        Ok(
            sqlx::query_as("SELECT state, COUNT(*) FROM orders GROUP BY state")
                .fetch_all(&self.read)
                .await?,
        )
    }

    /// The newest ledger entry's id (0 when there is none).
    pub async fn newest_ledger_id(&self) -> StoreResult<i64> {
        Ok(
            sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM ledger")
                .fetch_one(&self.read)
                .await?,
        )
    }

    pub async fn ledger_since(&self, after: i64) -> StoreResult<LedgerSince> {
        let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(
            "SELECT kind, COUNT(*), COALESCE(SUM(ABS(amount)), 0), MAX(id) FROM ledger WHERE id > ? GROUP BY kind",
        )
        .bind(after)
        .fetch_all(&self.read)
        .await?;
        let last_id = rows.iter().map(|r| r.3).max().unwrap_or(after);
        Ok(LedgerSince {
            by_kind: rows.into_iter().map(|(k, n, c, _)| (k, n, c)).collect(),
            last_id,
        })
    }
}
