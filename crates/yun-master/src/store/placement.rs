//! The first step of the create path: one short write transaction in which the caller admits
//! requests, chooses nodes, allocates ports and writes rows as `creating`. Because every write
//! goes through the one writer connection, placements are serialised: two requests can never
//! book the same port or the same last gigabyte. A batch of requests shares one transaction
//! (one commit), each inside a savepoint.

use super::containers::{insert, NewContainer};
use super::{Store, StoreError, StoreResult};
use std::collections::{HashMap, HashSet};

pub struct Placement {
    pub(super) tx: sqlx::Transaction<'static, sqlx::Sqlite>,
}

impl Store {
    pub async fn begin_placement(&self) -> StoreResult<Placement> {
        Ok(Placement {
            tx: self.begin().await?,
        })
    }
}

impl Placement {
    pub async fn count_containers(&mut self, owner_id: &str) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM containers WHERE owner_id = ?")
            .bind(owner_id)
            .fetch_one(&mut *self.tx)
            .await?;
        Ok(n as u64)
    }

    pub async fn name_taken(&mut self, owner_id: &str, name: &str) -> StoreResult<bool> {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM containers WHERE owner_id = ? AND name = ?")
                .bind(owner_id)
                .bind(name)
                .fetch_one(&mut *self.tx)
                .await?;
        Ok(n > 0)
    }

    /// CPU millis and memory bytes reserved on each node. One row of JSON rather than a row per
    /// node: this runs inside the serialised write transaction of every placement, and with a
    /// thousand nodes the per-row overhead of the driver dominated it.
    pub async fn reserved(&mut self) -> StoreResult<HashMap<String, (u64, u64)>> {
        let json: Option<String> = sqlx::query_scalar(
            "SELECT json_group_object(node_id, json_array(cpu_millis, memory_bytes)) FROM node_usage",
        )
        .fetch_one(&mut *self.tx)
        .await?;
        match json {
            None => Ok(HashMap::new()),
            Some(j) => {
                serde_json::from_str(&j).map_err(|e| StoreError::Decode(format!("node usage: {e}")))
            }
        }
    }

    pub async fn used_ports(&mut self, node_id: &str) -> StoreResult<HashSet<u16>> {
        let ports: Vec<i64> =
            sqlx::query_scalar("SELECT host_port FROM port_allocations WHERE node_id = ?")
                .bind(node_id)
                .fetch_all(&mut *self.tx)
                .await?;
        Ok(ports.into_iter().map(|p| p as u16).collect())
    }

    pub async fn insert(&mut self, c: &NewContainer) -> StoreResult<()> {
        insert(&mut self.tx, c).await
    }

    /// Starts one request's part of a batch; `undo` takes back only that part.
    pub async fn mark(&mut self) -> StoreResult<()> {
        sqlx::query("SAVEPOINT placement")
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    pub async fn keep(&mut self) -> StoreResult<()> {
        sqlx::query("RELEASE placement")
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    pub async fn undo(&mut self) -> StoreResult<()> {
        sqlx::query("ROLLBACK TO placement")
            .execute(&mut *self.tx)
            .await?;
        sqlx::query("RELEASE placement")
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    pub async fn commit(self) -> StoreResult<()> {
        Ok(self.tx.commit().await?)
    }
}
