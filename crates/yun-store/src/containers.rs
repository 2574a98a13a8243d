//! Containers and their host ports as the store knows them (the desired state and the last
//! actual state a worker reported).

use super::db::{args, Row, Tx, Value};
use super::{now_ms, Store, StoreResult};
use std::collections::HashMap;
use yun_core::state::sql_list;
use yun_core::{ContainerState, DesiredState, EnvVar};

#[derive(Debug, Clone)]
pub struct PortRow {
    pub container_port: u16,
    pub host_port: u16,
    pub protocol: String,
}

#[derive(Debug, Clone)]
pub struct ContainerRow {
    pub id: String,
    pub owner_id: String,
    pub name: String,
    pub image_id: String,
    pub image_ref: String,
    /// The engine's image id it is created from ('' for rows from before pins).
    pub image_pin: String,
    pub plan: String,
    pub cpu_millis: u32,
    pub memory_bytes: u64,
    pub pids: u32,
    /// What it may write to its own filesystem (0: no limit, for rows from before it).
    pub disk_bytes: u64,
    pub node_id: String,
    pub node_name: String,
    pub public_host: String,
    pub state: ContainerState,
    pub desired_state: DesiredState,
    pub exit_code: Option<i64>,
    pub command: Vec<String>,
    pub env: Vec<EnvVar>,
    pub ports: Vec<PortRow>,
    pub restart: RestartPolicy,
    pub restart_count: u32,
    pub created_at: i64,
    pub price_per_hour: i64,
    pub deposit: i64,
    /// Credits charged for running time so far (paid in advance, net of refunds).
    pub charged: i64,
    /// Running time so far, in milliseconds, the open span included.
    pub run_ms: i64,
    pub expires_at: Option<i64>,
    /// Why the platform stopped it (e.g. a balance that ran out), if it did.
    pub status_reason: Option<String>,
    /// Its root filesystem is read-only (with a small writable /tmp).
    pub read_only: bool,
    /// Its last exit was the kernel's OOM kill (cleared when it runs again).
    pub oom_killed: bool,
}

pub use yun_core::RestartPolicy;

/// The few fields the reconcile pass compares, for every container of a node.
#[derive(Debug, Clone)]
pub struct ContainerBrief {
    pub id: String,
    pub state: ContainerState,
    pub desired_state: DesiredState,
    pub exit_code: Option<i64>,
    pub restart: RestartPolicy,
    pub restart_count: u32,
    /// The plan's disk (0: no limit).
    pub disk_bytes: u64,
}

impl From<&ContainerRow> for ContainerBrief {
    fn from(r: &ContainerRow) -> Self {
        Self {
            id: r.id.clone(),
            state: r.state,
            desired_state: r.desired_state,
            exit_code: r.exit_code,
            restart: r.restart,
            restart_count: r.restart_count,
            disk_bytes: r.disk_bytes,
        }
    }
}

/// What the create path writes in its first transaction.
#[derive(Debug, Clone)]
pub struct NewContainer {
    pub id: String,
    pub owner_id: String,
    pub name: String,
    pub image_id: String,
    pub image_ref: String,
    pub image_pin: String,
    pub plan: String,
    pub cpu_millis: u32,
    pub memory_bytes: u64,
    pub pids: u32,
    pub disk_bytes: u64,
    pub node_id: String,
    pub command: Vec<String>,
    pub env: Vec<EnvVar>,
    pub ports: Vec<PortRow>,
    pub restart: RestartPolicy,
    pub idempotency_key: Option<String>,
    pub price_per_hour: i64,
    pub deposit: i64,
    /// Running time paid in advance at placement, and what it cost.
    pub paid_ms: i64,
    pub charged: i64,
    pub expires_at: Option<i64>,
    pub created_at: i64,
    pub read_only: bool,
}

impl NewContainer {
    /// The row as `insert_in` writes it, on a node of that name: what a create answers
    /// without reading it back.
    pub fn into_row(self, node_name: String, public_host: String) -> ContainerRow {
        ContainerRow {
            id: self.id,
            owner_id: self.owner_id,
            name: self.name,
            image_id: self.image_id,
            image_ref: self.image_ref,
            image_pin: self.image_pin,
            plan: self.plan,
            cpu_millis: self.cpu_millis,
            memory_bytes: self.memory_bytes,
            pids: self.pids,
            disk_bytes: self.disk_bytes,
            node_id: self.node_id,
            node_name,
            public_host,
            state: ContainerState::Creating,
            desired_state: DesiredState::Running,
            exit_code: None,
            command: self.command,
            env: self.env,
            ports: self.ports,
            restart: self.restart,
            restart_count: 0,
            created_at: self.created_at,
            price_per_hour: self.price_per_hour,
            deposit: self.deposit,
            charged: self.charged,
            run_ms: 0,
            expires_at: self.expires_at,
            status_reason: None,
            read_only: self.read_only,
            oom_killed: false,
        }
    }
}

const SELECT: &str = "SELECT c.*, n.name AS node_name, n.public_host FROM containers c JOIN nodes n ON n.id = c.node_id";

fn container_from(r: &Row) -> ContainerRow {
    ContainerRow {
        id: r.text("id"),
        owner_id: r.text("owner_id"),
        name: r.text("name"),
        image_id: r.text("image_id"),
        image_ref: r.text("image_ref"),
        image_pin: r.text("image_pin"),
        plan: r.text("plan"),
        cpu_millis: r.int("cpu_millis") as u32,
        memory_bytes: r.int("memory_bytes") as u64,
        pids: r.int("pids") as u32,
        disk_bytes: r.int("disk_bytes").max(0) as u64,
        node_id: r.text("node_id"),
        node_name: r.text("node_name"),
        public_host: r.text("public_host"),
        state: ContainerState::parse(&r.text("state")).unwrap_or(ContainerState::Failed),
        desired_state: DesiredState::parse(&r.text("desired_state"))
            .unwrap_or(DesiredState::Stopped),
        exit_code: r.opt_int("exit_code"),
        command: serde_json::from_str(&r.text("command")).unwrap_or_default(),
        env: serde_json::from_str::<Vec<(String, String)>>(&r.text("env"))
            .unwrap_or_default()
            .into_iter()
            .map(|(key, value)| EnvVar { key, value })
            .collect(),
        ports: Vec::new(),
        restart: RestartPolicy::from_stored(&r.text("restart_policy"), r.int("max_restarts")),
        restart_count: r.int("restart_count") as u32,
        created_at: r.int("created_at"),
        price_per_hour: r.int("price_per_hour"),
        deposit: r.int("deposit"),
        charged: r.int("charged"),
        run_ms: r.int("run_ms") + r.opt_int("run_since").map_or(0, |s| (now_ms() - s).max(0)),
        expires_at: r.opt_int("expires_at"),
        status_reason: r.opt_text("status_reason"),
        read_only: r.flag("read_only"),
        oom_killed: r.flag("oom_killed"),
    }
}

/// The rows `sql` answers, with their ports.
async fn containers_with_ports(
    db: &mut Tx<'_>,
    sql: &str,
    params: &[Value<'_>],
) -> StoreResult<Vec<ContainerRow>> {
    let mut rows: Vec<ContainerRow> = db
        .rows(sql, params)
        .await?
        .iter()
        .map(container_from)
        .collect();
    if rows.is_empty() {
        return Ok(rows);
    }
    let marks = vec!["?"; rows.len()].join(",");
    let sql = format!(
        "SELECT container_id, container_port, host_port, protocol FROM port_allocations \
         WHERE container_id IN ({marks}) ORDER BY container_port"
    );
    let ids: Vec<Value> = rows.iter().map(|r| Value::from(&r.id)).collect();
    let mut by_container: HashMap<String, Vec<PortRow>> = HashMap::new();
    for p in db.rows(&sql, &ids).await? {
        by_container
            .entry(p.text("container_id"))
            .or_default()
            .push(PortRow {
                container_port: p.int("container_port") as u16,
                host_port: p.int("host_port") as u16,
                protocol: p.text("protocol"),
            });
    }
    for r in rows.iter_mut() {
        r.ports = by_container.remove(&r.id).unwrap_or_default();
    }
    Ok(rows)
}

impl Store {
    /// One container; with `owner` set, only if that user owns it.
    pub async fn get_container(
        &self,
        owner: Option<&str>,
        id: &str,
    ) -> StoreResult<Option<ContainerRow>> {
        let sql = format!("{SELECT} WHERE c.id = ?1 AND (?2 IS NULL OR c.owner_id = ?2)");
        self.read(async |db| {
            Ok(containers_with_ports(db, &sql, args![id, owner])
                .await?
                .pop())
        })
        .await
    }

    /// Containers in the order they were made (ids grow with time), of `owner` (None: all), in
    /// `state` when given; `page.after` is a container id.
    pub async fn list_containers(
        &self,
        owner: Option<&str>,
        state: Option<ContainerState>,
        page: &super::Page,
    ) -> StoreResult<Vec<ContainerRow>> {
        let sql = format!(
            "{SELECT} WHERE (?1 IS NULL OR c.owner_id = ?1) AND (?2 IS NULL OR c.state = ?2) \
             AND (?3 IS NULL OR c.id > ?3) ORDER BY c.id LIMIT ?4"
        );
        let state = state.map(|s| s.as_str());
        self.read(async |db| {
            containers_with_ports(
                db,
                &sql,
                args![owner, state, page.after.as_deref(), page.limit],
            )
            .await
        })
        .await
    }

    /// Moves a container to `to` if its state is one of `from`; false when it was not.
    pub async fn transition(
        &self,
        id: &str,
        from: &[ContainerState],
        to: ContainerState,
        desired: Option<DesiredState>,
    ) -> StoreResult<bool> {
        let marks = vec!["?"; from.len()].join(",");
        let sql = format!(
            "UPDATE containers SET state = ?, desired_state = COALESCE(?, desired_state), updated_at = ? \
             WHERE id = ? AND state IN ({marks})"
        );
        let mut params = vec![
            Value::from(to.as_str()),
            Value::from(desired.map(DesiredState::as_str)),
            Value::from(now_ms()),
            Value::from(id),
        ];
        params.extend(from.iter().map(|st| Value::from(st.as_str())));
        self.write(async |tx| Ok(tx.execute(&sql, &params).await? > 0))
            .await
    }

    /// Records that the container's last exit was the kernel's OOM kill.
    pub async fn mark_oom_killed(&self, id: &str) -> StoreResult<()> {
        self.write(async |tx| {
            tx.execute(
                "UPDATE containers SET oom_killed = TRUE WHERE id = ? AND state != 'running'",
                args![id],
            )
            .await?;
            Ok(())
        })
        .await
    }

    /// Records the state a worker reported.
    pub async fn set_actual_state(
        &self,
        id: &str,
        state: ContainerState,
        exit_code: Option<i64>,
    ) -> StoreResult<()> {
        self.set_actual_states(&[(id.to_string(), state, exit_code)])
            .await
    }

    /// Every container the store places on a node.
    pub async fn containers_on_node(&self, node_id: &str) -> StoreResult<Vec<ContainerRow>> {
        let sql = format!("{SELECT} WHERE c.node_id = ? ORDER BY c.created_at");
        self.read(async |db| containers_with_ports(db, &sql, args![node_id]).await)
            .await
    }

    /// Briefs of every container on a node: the few fields the reconcile pass compares.
    pub async fn container_briefs_on_node(
        &self,
        node_id: &str,
    ) -> StoreResult<Vec<ContainerBrief>> {
        let rows = self
            .read(async |db| {
                Ok(db
                    .rows(
                        "SELECT id, state, desired_state, exit_code, restart_policy, max_restarts, \
                         restart_count, disk_bytes FROM containers WHERE node_id = ?",
                        args![node_id],
                    )
                    .await?)
            })
            .await?;
        Ok(rows
            .iter()
            .map(|r| ContainerBrief {
                id: r.text("id"),
                state: ContainerState::parse(&r.text("state")).unwrap_or(ContainerState::Failed),
                desired_state: DesiredState::parse(&r.text("desired_state"))
                    .unwrap_or(DesiredState::Stopped),
                exit_code: r.opt_int("exit_code"),
                restart: RestartPolicy::from_stored(
                    &r.text("restart_policy"),
                    r.int("max_restarts"),
                ),
                restart_count: r.int("restart_count") as u32,
                disk_bytes: r.int("disk_bytes").max(0) as u64,
            })
            .collect())
    }

    /// The container an earlier create with this Idempotency-Key made, if any.
    pub async fn container_by_idempotency_key(
        &self,
        owner_id: &str,
        key: &str,
    ) -> StoreResult<Option<ContainerRow>> {
        let sql = format!("{SELECT} WHERE c.owner_id = ? AND c.idempotency_key = ?");
        self.read(async |db| {
            Ok(containers_with_ports(db, &sql, args![owner_id, key])
                .await?
                .pop())
        })
        .await
    }

    /// Marks every container of a node that stopped answering as `lost`, except those being
    /// created or removed (their own paths settle them). Returns how many changed.
    pub async fn mark_node_lost(&self, node_id: &str) -> StoreResult<u64> {
        let sql = format!(
            "UPDATE containers SET state = '{lost}', updated_at = ? \
             WHERE node_id = ? AND state NOT IN ('{lost}', {held})",
            lost = ContainerState::Lost,
            held = sql_list(&ContainerState::HELD_BY_ITS_PATH)
        );
        self.write(async |tx| Ok(tx.execute(&sql, args![now_ms(), node_id]).await?))
            .await
    }

    /// Counts one more automatic restart; a deliberate start resets the count to zero.
    pub async fn set_restart_count(&self, id: &str, count: u32) -> StoreResult<()> {
        self.write(async |tx| {
            tx.execute(
                "UPDATE containers SET restart_count = ? WHERE id = ?",
                args![count, id],
            )
            .await?;
            Ok(())
        })
        .await
    }

    /// Records several reported states in one transaction (one durable commit).
    pub async fn set_actual_states(
        &self,
        updates: &[(String, ContainerState, Option<i64>)],
    ) -> StoreResult<()> {
        self.write(async |tx| set_actual_states_in(tx, updates).await)
            .await
    }

    /// Forgets a container, frees its ports and settles its money (unused running time and
    /// the deposit come back) in one transaction.
    pub async fn delete_container(&self, id: &str) -> StoreResult<()> {
        self.write(async |tx| {
            let _refunded = super::metering::close_account(tx, id).await?;
            tx.execute(
                "DELETE FROM port_allocations WHERE container_id = ?",
                args![id],
            )
            .await?;
            tx.execute("DELETE FROM containers WHERE id = ?", args![id])
                .await?;
            Ok(())
        })
        .await
    }

    /// Replaces a host port Docker could not bind with the next free one in the node's range,
    /// skipping `bad`. Returns the new port, or None when the range is full.
    pub async fn replace_port(
        &self,
        container_id: &str,
        node_id: &str,
        bad: u16,
        range: (u16, u16),
        skip: &[u16],
    ) -> StoreResult<Option<u16>> {
        self.write(async |tx| {
            let used: std::collections::HashSet<u16> = tx
                .rows(
                    "SELECT host_port FROM port_allocations WHERE node_id = ?",
                    args![node_id],
                )
                .await?
                .iter()
                .map(|r| r.first_int() as u16)
                .collect();
            let Some(port) =
                (range.0..=range.1).find(|p| *p != bad && !used.contains(p) && !skip.contains(p))
            else {
                return Ok(None);
            };
            tx.execute(
                "UPDATE port_allocations SET host_port = ? WHERE node_id = ? AND host_port = ? AND container_id = ?",
                args![port, node_id, bad, container_id],
            )
            .await?;
            Ok(Some(port))
        })
        .await
    }
}

/// Records what workers reported, on a handle already in a transaction.
pub(super) async fn set_actual_states_in(
    tx: &mut Tx<'_>,
    updates: &[(String, ContainerState, Option<i64>)],
) -> StoreResult<()> {
    let now = now_ms();
    // A container the platform suspended stays suspended while it is stopped; once it runs
    // again the reason no longer applies.
    for (id, state, exit_code) in updates {
        tx.execute(
            "UPDATE containers SET state = CASE WHEN state = 'suspended' AND ?1 = 'stopped' \
             THEN 'suspended' ELSE ?1 END, exit_code = ?2, updated_at = ?3, \
             oom_killed = CASE WHEN ?1 = 'running' THEN FALSE ELSE oom_killed END, \
             status_reason = CASE WHEN ?1 = 'running' THEN NULL ELSE status_reason END WHERE id = ?4",
            args![state.as_str(), *exit_code, now, id],
        )
        .await?;
    }
    Ok(())
}

pub(super) async fn insert_in(tx: &mut Tx<'_>, c: &NewContainer) -> StoreResult<()> {
    let now = c.created_at;
    let env: Vec<(&str, &str)> = c
        .env
        .iter()
        .map(|e| (e.key.as_str(), e.value.as_str()))
        .collect();
    let command = serde_json::to_string(&c.command).expect("command serialises");
    let env = serde_json::to_string(&env).expect("env serialises");
    tx.execute(
        "INSERT INTO containers (id, owner_id, name, image_id, image_ref, plan, cpu_millis, memory_bytes, pids, \
         node_id, state, desired_state, exit_code, command, env, created_at, updated_at, restart_policy, max_restarts, \
         idempotency_key, price_per_hour, deposit, paid_ms, charged, expires_at, image_pin, read_only, disk_bytes) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, NULL, ?13, ?14, ?15, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26)",
        args![
            &c.id,
            &c.owner_id,
            &c.name,
            &c.image_id,
            &c.image_ref,
            &c.plan,
            c.cpu_millis,
            c.memory_bytes as i64,
            c.pids,
            &c.node_id,
            ContainerState::Creating.as_str(),
            DesiredState::Running.as_str(),
            command.as_str(),
            env.as_str(),
            now,
            c.restart.name(),
            c.restart.max_retries(),
            &c.idempotency_key,
            c.price_per_hour,
            c.deposit,
            c.paid_ms,
            c.charged,
            c.expires_at,
            &c.image_pin,
            c.read_only,
            c.disk_bytes as i64,
        ],
    )
    .await
    .map_err(|e| {
        e.unique(|constraint| {
            if constraint.contains("idempotency") {
                super::Unique::IdempotencyKey
            } else {
                super::Unique::ContainerName
            }
        })
    })?;
    for p in &c.ports {
        tx.execute(
            "INSERT INTO port_allocations (node_id, host_port, container_id, container_port, protocol) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            args![&c.node_id, p.host_port, &c.id, p.container_port, &p.protocol],
        )
        .await
        .map_err(|e| e.unique(|_| super::Unique::HostPort))?;
    }
    Ok(())
}
