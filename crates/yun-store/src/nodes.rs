//! Nodes as registered under the id they joined with (`store::trust`); a worker that registers again keeps it.
//! Leases and heartbeats live in memory (`nodes::registry`), never here.

use super::{now_ms, Store, StoreResult};
use sqlx::Row;

#[derive(Debug, Clone)]
pub struct NodeUpsert {
    /// From the node's certificate (or its joined name, on a plaintext fleet).
    pub id: String,
    pub name: String,
    pub advertise: String,
    pub public_host: String,
    pub port_range: (u16, u16),
    pub cpu_cores: u32,
    pub memory_bytes: u64,
    pub version: String,
    pub unenforced_limits: Vec<String>,
    pub allow_unenforced: bool,
    pub boot_id: String,
}

#[derive(Debug, Clone)]
pub struct NodeRow {
    pub id: String,
    pub name: String,
    pub advertise: String,
    pub public_host: String,
    pub port_range: (u16, u16),
    pub cpu_cores: u32,
    pub memory_bytes: u64,
    pub version: String,
    pub unenforced_limits: Vec<String>,
    pub allow_unenforced: bool,
    pub registered_at: i64,
    /// Takes no new containers.
    pub cordoned: bool,
    pub boot_id: String,
}

fn node_from(r: &sqlx::sqlite::SqliteRow) -> NodeRow {
    let limits: String = r.get("unenforced_limits");
    NodeRow {
        id: r.get("id"),
        name: r.get("name"),
        advertise: r.get("advertise"),
        public_host: r.get("public_host"),
        port_range: (
            r.get::<i64, _>("port_start") as u16,
            r.get::<i64, _>("port_end") as u16,
        ),
        cpu_cores: r.get::<i64, _>("cpu_cores") as u32,
        memory_bytes: r.get::<i64, _>("memory_bytes") as u64,
        version: r.get("version"),
        unenforced_limits: limits
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        allow_unenforced: r.get::<i64, _>("allow_unenforced") != 0,
        registered_at: r.get("registered_at"),
        cordoned: r.get::<i64, _>("cordoned") != 0,
        boot_id: r.get("boot_id"),
    }
}

impl Store {
    /// Records a registration and returns the node, and whether its host rebooted since the
    /// last one; a known name keeps its id.
    pub async fn upsert_node(&self, n: &NodeUpsert) -> StoreResult<(NodeRow, bool)> {
        let mut tx = self.begin().await?;
        let known: Option<String> = sqlx::query_scalar("SELECT boot_id FROM nodes WHERE id = ?")
            .bind(&n.id)
            .fetch_optional(&mut *tx)
            .await?;
        let rebooted = known
            .as_ref()
            .is_some_and(|boot| !boot.is_empty() && !n.boot_id.is_empty() && *boot != n.boot_id);
        let id = n.id.clone();
        sqlx::query(
            "INSERT INTO nodes (id, name, advertise, public_host, port_start, port_end, cpu_cores, memory_bytes, \
             version, unenforced_limits, allow_unenforced, registered_at, boot_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT(id) DO UPDATE SET advertise = excluded.advertise, public_host = excluded.public_host, \
             port_start = excluded.port_start, port_end = excluded.port_end, cpu_cores = excluded.cpu_cores, \
             memory_bytes = excluded.memory_bytes, version = excluded.version, \
             unenforced_limits = excluded.unenforced_limits, allow_unenforced = excluded.allow_unenforced, \
             registered_at = excluded.registered_at, boot_id = excluded.boot_id",
        )
        .bind(&id)
        .bind(&n.name)
        .bind(&n.advertise)
        .bind(&n.public_host)
        .bind(i64::from(n.port_range.0))
        .bind(i64::from(n.port_range.1))
        .bind(i64::from(n.cpu_cores))
        .bind(n.memory_bytes as i64)
        .bind(&n.version)
        .bind(n.unenforced_limits.join(","))
        .bind(n.allow_unenforced as i64)
        .bind(now_ms())
        .bind(&n.boot_id)
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query("SELECT * FROM nodes WHERE id = ?")
            .bind(&id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok((node_from(&row), rebooted))
    }

    /// Returns false when no such node exists.
    pub async fn set_cordoned(&self, node_id: &str, cordoned: bool) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("UPDATE nodes SET cordoned = ? WHERE id = ?")
            .bind(cordoned as i64)
            .bind(node_id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            > 0;
        tx.commit().await?;
        Ok(done)
    }

    /// Nodes by name; `page.after` is a node name.
    pub async fn nodes_page(&self, page: &super::Page) -> StoreResult<Vec<NodeRow>> {
        let rows =
            sqlx::query("SELECT * FROM nodes WHERE (? IS NULL OR name > ?) ORDER BY name LIMIT ?")
                .bind(page.after.as_deref())
                .bind(page.after.as_deref())
                .bind(page.limit)
                .fetch_all(&self.read)
                .await?;
        Ok(rows.iter().map(node_from).collect())
    }

    pub async fn list_nodes(&self) -> StoreResult<Vec<NodeRow>> {
        let rows = sqlx::query("SELECT * FROM nodes ORDER BY name")
            .fetch_all(&self.read)
            .await?;
        Ok(rows.iter().map(node_from).collect())
    }

    /// Per node: (cpu millis, memory bytes, containers) reserved by containers not yet removed.
    pub async fn node_allocations(&self) -> StoreResult<Vec<(String, u64, u64, u64)>> {
        let rows = sqlx::query(
            "SELECT node_id, cpu_millis AS cpu, memory_bytes AS mem, containers AS n FROM node_usage",
        )
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    r.get("node_id"),
                    r.get::<i64, _>("cpu") as u64,
                    r.get::<i64, _>("mem") as u64,
                    r.get::<i64, _>("n") as u64,
                )
            })
            .collect())
    }
}
