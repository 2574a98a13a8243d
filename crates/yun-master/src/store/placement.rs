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
    /// What each node has reserved, read once per batch and kept up to date by `reserve` as
    /// the batch places containers (reading 1,000 nodes' usage for every placement was a
    /// large part of each one).
    reserved: Option<HashMap<String, (u64, u64)>>,
}

impl Store {
    pub async fn begin_placement(&self) -> StoreResult<Placement> {
        Ok(Placement {
            tx: self.begin().await?,
            reserved: None,
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

    /// CPU millis and memory bytes reserved on each node, as this transaction sees them. Read
    /// as one row of JSON rather than a row per node: with a thousand nodes the per-row overhead
    /// of the driver dominated it.
    pub async fn reserved(&mut self) -> StoreResult<&HashMap<String, (u64, u64)>> {
        if self.reserved.is_none() {
            let json: Option<String> = sqlx::query_scalar(
                "SELECT json_group_object(node_id, json_array(cpu_millis, memory_bytes)) FROM node_usage",
            )
            .fetch_one(&mut *self.tx)
            .await?;
            let map = match json {
                None => HashMap::new(),
                Some(j) => serde_json::from_str(&j)
                    .map_err(|e| StoreError::Decode(format!("node usage: {e}")))?,
            };
            self.reserved = Some(map);
        }
        Ok(self.reserved.as_ref().expect("just read"))
    }

    /// Counts a container just written on `node_id` in the batch's view of reserved resources.
    pub fn reserve(&mut self, node_id: &str, cpu_millis: u64, memory_bytes: u64) {
        if let Some(map) = self.reserved.as_mut() {
            let r = map.entry(node_id.to_string()).or_insert((0, 0));
            r.0 += cpu_millis;
            r.1 += memory_bytes;
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
