//! Nodes as registered under the id they joined with (`store::trust`); a worker that registers again keeps it.
//! Leases and heartbeats live in memory (`nodes::registry`), never here.

use super::db::{args, Row};
use super::{now_ms, Store, StoreResult};

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

fn node_from(r: &Row) -> NodeRow {
    NodeRow {
        id: r.text("id"),
        name: r.text("name"),
        advertise: r.text("advertise"),
        public_host: r.text("public_host"),
        port_range: (r.int("port_start") as u16, r.int("port_end") as u16),
        cpu_cores: r.int("cpu_cores") as u32,
        memory_bytes: r.int("memory_bytes") as u64,
        version: r.text("version"),
        unenforced_limits: r
            .text("unenforced_limits")
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        allow_unenforced: r.flag("allow_unenforced"),
        registered_at: r.int("registered_at"),
        cordoned: r.flag("cordoned"),
        boot_id: r.text("boot_id"),
    }
}

impl Store {
    /// Records a registration and returns the node, and whether its host rebooted since the
    /// last one; a known name keeps its id.
    pub async fn upsert_node(&self, n: &NodeUpsert) -> StoreResult<(NodeRow, bool)> {
        self.write(async |tx| {
            let known = tx
                .row("SELECT boot_id FROM nodes WHERE id = ?1", args![&n.id])
                .await?
                .and_then(|r| r.first_text());
            let rebooted = known.as_ref().is_some_and(|boot| {
                !boot.is_empty() && !n.boot_id.is_empty() && *boot != n.boot_id
            });
            let limits = n.unenforced_limits.join(",");
            tx.execute(
                "INSERT INTO nodes (id, name, advertise, public_host, port_start, port_end, cpu_cores, memory_bytes, \
                 version, unenforced_limits, allow_unenforced, registered_at, boot_id) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) \
                 ON CONFLICT (id) DO UPDATE SET advertise = excluded.advertise, public_host = excluded.public_host, \
                 port_start = excluded.port_start, port_end = excluded.port_end, cpu_cores = excluded.cpu_cores, \
                 memory_bytes = excluded.memory_bytes, version = excluded.version, \
                 unenforced_limits = excluded.unenforced_limits, allow_unenforced = excluded.allow_unenforced, \
                 registered_at = excluded.registered_at, boot_id = excluded.boot_id",
                args![
                    &n.id,
                    &n.name,
                    &n.advertise,
                    &n.public_host,
                    n.port_range.0,
                    n.port_range.1,
                    n.cpu_cores,
                    n.memory_bytes as i64,
                    &n.version,
                    limits.as_str(),
                    n.allow_unenforced,
                    now_ms(),
                    &n.boot_id
                ],
            )
            .await?;
            let row = tx
                .row("SELECT * FROM nodes WHERE id = ?1", args![&n.id])
                .await?
                .ok_or_else(|| super::StoreError::Decode("the node just written is gone".into()))?;
            Ok((node_from(&row), rebooted))
        })
        .await
    }

    /// Returns false when no such node exists.
    pub async fn set_cordoned(&self, node_id: &str, cordoned: bool) -> StoreResult<bool> {
        self.write(async |tx| {
            Ok(tx
                .execute(
                    "UPDATE nodes SET cordoned = ?1 WHERE id = ?2",
                    args![cordoned, node_id],
                )
                .await?
                > 0)
        })
        .await
    }

    /// Nodes by name; `page.after` is a node name.
    pub async fn nodes_page(&self, page: &super::Page) -> StoreResult<Vec<NodeRow>> {
        self.read(async |db| {
            let rows = db
                .rows(
                    "SELECT * FROM nodes WHERE (?1 IS NULL OR name > ?1) ORDER BY name LIMIT ?2",
                    args![page.after.as_deref(), page.limit],
                )
                .await?;
            Ok(rows.iter().map(node_from).collect())
        })
        .await
    }

    pub async fn list_nodes(&self) -> StoreResult<Vec<NodeRow>> {
        self.read(async |db| {
            let rows = db.rows("SELECT * FROM nodes ORDER BY name", &[]).await?;
            Ok(rows.iter().map(node_from).collect())
        })
        .await
    }

    /// Per node: (cpu millis, memory bytes, containers) reserved by containers not yet removed.
    pub async fn node_allocations(&self) -> StoreResult<Vec<(String, u64, u64, u64)>> {
        self.read(async |db| {
            let rows = db
                .rows(
                    "SELECT node_id, cpu_millis AS cpu, memory_bytes AS mem, containers AS n FROM node_usage",
                    &[],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|r| {
                    (
                        r.text("node_id"),
                        r.int("cpu") as u64,
                        r.int("mem") as u64,
                        r.int("n") as u64,
                    )
                })
                .collect())
        })
        .await
    }
}
