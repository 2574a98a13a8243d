//! What the metrics read at a scrape: counts by state and the ledger's totals by kind, which
//! triggers keep (a few rows, whatever the size of the fleet or the ledger).

use super::{Store, StoreResult};

impl Store {
    pub async fn containers_by_state(&self) -> StoreResult<Vec<(String, i64)>> {
        self.read(async |db| {
            let rows = db
                .rows("SELECT state, containers FROM container_state_counts", &[])
                .await?;
            Ok(rows
                .iter()
                .map(|r| (r.text("state"), r.int("containers")))
                .collect())
        })
        .await
    }

    pub async fn orders_by_state(&self) -> StoreResult<Vec<(String, i64)>> {
        self.read(async |db| {
            let rows = db
                .rows("SELECT state, orders FROM order_state_counts", &[])
                .await?;
            Ok(rows
                .iter()
                .map(|r| (r.text("state"), r.int("orders")))
                .collect())
        })
        .await
    }

    /// Ledger entries and credits moved (either way) by kind, since the store began:
    /// (kind, entries, credits).
    pub async fn ledger_totals(&self) -> StoreResult<Vec<(String, i64, i64)>> {
        self.read(async |db| {
            let rows = db
                .rows("SELECT kind, entries, credits FROM ledger_totals", &[])
                .await?;
            Ok(rows
                .iter()
                .map(|r| (r.text("kind"), r.int("entries"), r.int("credits")))
                .collect())
        })
        .await
    }
}
