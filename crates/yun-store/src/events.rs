//! Container events, as the triggers of migration 0005 record them: read by seq, pruned by age.

use super::{Store, StoreResult};
use sqlx::Row;

#[derive(Debug, Clone)]
pub struct EventRow {
    pub seq: i64,
    pub container_id: String,
    pub owner_id: String,
    pub name: String,
    /// A container state, or `removed`.
    pub state: String,
    pub exit_code: Option<i64>,
    pub status_reason: Option<String>,
    pub at: i64,
}

impl Store {
    /// Events after `since`, oldest first, at most `limit`.
    pub async fn events_after(&self, since: i64, limit: i64) -> StoreResult<Vec<EventRow>> {
        let rows = sqlx::query("SELECT * FROM container_events WHERE seq > ? ORDER BY seq LIMIT ?")
            .bind(since)
            .bind(limit)
            .fetch_all(&self.read)
            .await?;
        Ok(rows
            .iter()
            .map(|r| EventRow {
                seq: r.get("seq"),
                container_id: r.get("container_id"),
                owner_id: r.get("owner_id"),
                name: r.get("name"),
                state: r.get("state"),
                exit_code: r.get("exit_code"),
                status_reason: r.get("status_reason"),
                at: r.get("at"),
            })
            .collect())
    }

    /// The newest event's seq (0 when there is none).
    pub async fn last_event_seq(&self) -> StoreResult<i64> {
        let seq: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM container_events")
            .fetch_one(&self.read)
            .await?;
        Ok(seq.unwrap_or(0))
    }

    /// Forgets events older than `before_ms`, but never the newest (its seq is where the next
    /// one continues); returns how many went.
    pub async fn prune_events(&self, before_ms: i64) -> StoreResult<u64> {
        let mut tx = self.begin().await?;
        let n = sqlx::query(
            "DELETE FROM container_events WHERE at < ? \
             AND seq < (SELECT MAX(seq) FROM container_events)",
        )
        .bind(before_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(n)
    }
}
