//! What the metrics read at a scrape: counts by state and the ledger's totals by kind, which
//! triggers keep (a few rows, whatever the size of the fleet or the ledger).

use super::{Store, StoreResult};

impl Store {
    pub async fn containers_by_state(&self) -> StoreResult<Vec<(String, i64)>> {
        Ok(
            sqlx::query_as("SELECT state, containers FROM container_state_counts")
                .fetch_all(&self.read)
                .await?,
        )
    }

    pub async fn orders_by_state(&self) -> StoreResult<Vec<(String, i64)>> {
        Ok(
            sqlx::query_as("SELECT state, orders FROM order_state_counts")
                .fetch_all(&self.read)
                .await?,
        )
    }

    /// Ledger entries and credits moved (either way) by kind, since the store began:
    /// (kind, entries, credits).
    pub async fn ledger_totals(&self) -> StoreResult<Vec<(String, i64, i64)>> {
        Ok(
            sqlx::query_as("SELECT kind, entries, credits FROM ledger_totals")
                .fetch_all(&self.read)
                .await?,
        )
    }
}
