//! Container events, as the triggers of migration 0005 record them: read by seq, pruned by age.

use super::db::args;
use super::{Store, StoreResult};

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
        let rows = self
            .read(async |db| {
                Ok(db
                    .rows(
                        "SELECT * FROM container_events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                        args![since, limit],
                    )
                    .await?)
            })
            .await?;
        Ok(rows
            .iter()
            .map(|r| EventRow {
                seq: r.int("seq"),
                container_id: r.text("container_id"),
                owner_id: r.text("owner_id"),
                name: r.text("name"),
                state: r.text("state"),
                exit_code: r.opt_int("exit_code"),
                status_reason: r.opt_text("status_reason"),
                at: r.int("at"),
            })
            .collect())
    }

    /// The newest event's seq (0 when there is none).
    pub async fn last_event_seq(&self) -> StoreResult<i64> {
        self.read(async |db| {
            Ok(db
                .int("SELECT COALESCE(MAX(seq), 0) FROM container_events", &[])
                .await?)
        })
        .await
    }

    /// Forgets events older than `before_ms`, but never the newest (its seq is where the next
    /// one continues); returns how many went.
    pub async fn prune_events(&self, before_ms: i64) -> StoreResult<u64> {
        self.write(async |tx| {
            Ok(tx
                .execute(
                    "DELETE FROM container_events WHERE at < ?1 \
                     AND seq < (SELECT MAX(seq) FROM container_events)",
                    args![before_ms],
                )
                .await?)
        })
        .await
    }
}
