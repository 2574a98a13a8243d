//! The first step of the create path: one short write transaction in which the caller admits
//! requests, chooses nodes, allocates ports and writes rows as `creating`. Because every write
//! goes through the one writer connection, placements are serialised: two requests can never
//! book the same port or the same last gigabyte. A batch of requests shares one transaction
//! (one commit), each inside a savepoint. The whole batch runs directly on the writer's handle
//! (`direct.rs`): its statements cost no thread hand-offs.

use super::containers::{insert_in, set_actual_states_in, NewContainer};
use super::{Store, StoreResult};
use rusqlite::Connection;
use std::collections::{HashMap, HashSet};
use yun_core::ContainerState;

pub struct Placement<'a> {
    pub(super) db: &'a Connection,
}

impl Store {
    /// Runs `place` in one write transaction and commits it; nothing `place` wrote is kept if
    /// it fails or the commit does.
    pub async fn place_batch<R>(
        &self,
        place: impl FnOnce(&mut Placement<'_>) -> StoreResult<R>,
    ) -> StoreResult<R> {
        self.write_direct(|db| place(&mut Placement { db })).await
    }
}

impl Placement<'_> {
    fn count(&self, sql: &str, params: impl rusqlite::Params) -> StoreResult<i64> {
        Ok(self
            .db
            .prepare_cached(sql)?
            .query_row(params, |r| r.get(0))?)
    }

    pub fn count_containers(&self, owner_id: &str) -> StoreResult<u64> {
        let n = self.count(
            "SELECT COUNT(*) FROM containers WHERE owner_id = ?1",
            [owner_id],
        )?;
        Ok(n as u64)
    }

    /// Host ports the user's containers hold now.
    pub fn count_ports(&self, owner_id: &str) -> StoreResult<u64> {
        let n = self.count(
            "SELECT COUNT(*) FROM port_allocations p JOIN containers c ON c.id = p.container_id \
             WHERE c.owner_id = ?1",
            [owner_id],
        )?;
        Ok(n as u64)
    }

    pub fn name_taken(&self, owner_id: &str, name: &str) -> StoreResult<bool> {
        let n = self.count(
            "SELECT COUNT(*) FROM containers WHERE owner_id = ?1 AND name = ?2",
            [owner_id, name],
        )?;
        Ok(n > 0)
    }

    /// CPU millis and memory bytes reserved on each node, as this transaction sees them. A
    /// batch reads it once and keeps its own count as it places (reading 1,000 nodes' usage
    /// for every placement was a large part of each one).
    pub fn reserved(&self) -> StoreResult<HashMap<String, (u64, u64)>> {
        let mut map = HashMap::new();
        let mut q = self
            .db
            .prepare_cached("SELECT node_id, cpu_millis, memory_bytes FROM node_usage")?;
        let mut rows = q.query([])?;
        while let Some(r) = rows.next()? {
            let cpu: i64 = r.get(1)?;
            let memory: i64 = r.get(2)?;
            map.insert(r.get::<_, String>(0)?, (cpu as u64, memory as u64));
        }
        Ok(map)
    }

    pub fn used_ports(&self, node_id: &str) -> StoreResult<HashSet<u16>> {
        let mut q = self
            .db
            .prepare_cached("SELECT host_port FROM port_allocations WHERE node_id = ?1")?;
        let ports = q.query_map([node_id], |r| r.get::<_, i64>(0))?;
        let mut used = HashSet::new();
        for p in ports {
            used.insert(p? as u16);
        }
        Ok(used)
    }

    pub fn insert(&self, c: &NewContainer) -> StoreResult<()> {
        insert_in(self.db, c)
    }

    /// Records the outcomes of earlier creates in the same transaction (one commit for both).
    pub fn set_actual_states(
        &self,
        updates: &[(String, ContainerState, Option<i64>)],
    ) -> StoreResult<()> {
        set_actual_states_in(self.db, updates)
    }

    /// Starts one request's part of a batch; `undo` takes back only that part.
    pub fn mark(&self) -> StoreResult<()> {
        self.exec("SAVEPOINT placement")
    }

    pub fn keep(&self) -> StoreResult<()> {
        self.exec("RELEASE placement")
    }

    pub fn undo(&self) -> StoreResult<()> {
        self.exec("ROLLBACK TO placement")?;
        self.exec("RELEASE placement")
    }

    fn exec(&self, sql: &str) -> StoreResult<()> {
        self.db.prepare_cached(sql)?.execute([])?;
        Ok(())
    }
}
