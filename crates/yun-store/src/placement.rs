//! The first step of the create path: one short write transaction that admits a batch of
//! requests, chooses their nodes, allocates their ports and writes their rows as `creating`.
//! The rules are `yun_core::admission`'s; this file only reads the facts each request needs and
//! writes what admission answers. Because every write goes through the one writer connection,
//! placements are serialised: two requests can never book the same port or the same last
//! gigabyte. A batch shares one transaction (one commit), each request inside a savepoint, and
//! runs directly on the writer's handle (`db/sqlite.rs`): its statements cost no thread
//! hand-offs.

use super::containers::{insert_in, set_actual_states_in, NewContainer, PortRow};
use super::db::{args, Tx, Value};
use super::ledger::balance_of;
use super::metering::charge_run;
use super::{Store, StoreError, StoreResult};
use std::collections::{HashMap, HashSet};
use yun_core::admission::{self, Facts, Policy, Refusal, Request, WantedPort};
use yun_core::scheduler::NodeSnapshot;
use yun_core::ContainerState;

/// One create to place: its row as it will be written (node and ports still empty).
#[derive(Debug, Clone)]
pub struct PlaceRequest {
    pub row: NewContainer,
    /// The name to use if `row.name` was made up and is taken; None when the renter chose it.
    pub fallback_name: Option<String>,
    pub wanted: Vec<WantedPort>,
}

/// A placed create: the row as written, and its node's port range (for a port swapped later).
#[derive(Debug, Clone)]
pub struct Placed {
    pub row: NewContainer,
    pub port_range: (u16, u16),
}

/// Why one request of a batch was not placed; the others are unaffected.
#[derive(Debug)]
pub enum NotPlaced {
    Refused(Refusal),
    Store(StoreError),
}

impl From<StoreError> for NotPlaced {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

/// An outcome of an earlier create, recorded in the same commit: (id, state, exit code).
pub type Outcome = (String, ContainerState, Option<i64>);

impl Store {
    /// Records `outcomes`, then admits and places each request in order against `nodes` (the
    /// ready nodes, their reservations still to be read), in one transaction and one commit.
    /// Each request sees the ones before it (their ports, their memory). An error of the whole
    /// transaction (the commit) is the outer one; nothing of the batch is kept then.
    pub async fn place(
        &self,
        requests: &[PlaceRequest],
        outcomes: &[Outcome],
        mut nodes: Vec<NodeSnapshot>,
        policy: &Policy,
    ) -> StoreResult<Vec<Result<Placed, NotPlaced>>> {
        self.write(async |db| {
            set_actual_states_in(db, outcomes).await?;
            if !requests.is_empty() {
                add_reservations(db, &mut nodes).await?;
            }
            let mut placed = Vec::with_capacity(requests.len());
            for r in requests {
                // Each request keeps its writes only if it is placed.
                db.execute("SAVEPOINT placement", &[]).await?;
                let one = place_one(db, r, &mut nodes, policy).await;
                if one.is_err() {
                    db.execute("ROLLBACK TO placement", &[]).await?;
                }
                db.execute("RELEASE placement", &[]).await?;
                placed.push(one);
            }
            Ok(placed)
        })
        .await
    }
}

async fn place_one(
    db: &mut Tx<'_>,
    r: &PlaceRequest,
    nodes: &mut [NodeSnapshot],
    policy: &Policy,
) -> Result<Placed, NotPlaced> {
    let mut row = r.row.clone();
    let facts = facts(db, &row, !r.wanted.is_empty()).await?;
    let request = Request {
        name: &row.name,
        fallback_name: r.fallback_name.as_deref(),
        plan: &row.plan,
        cpu_millis: row.cpu_millis.into(),
        memory_bytes: row.memory_bytes,
        wanted: &r.wanted,
        deposit: row.deposit,
        usage: row.charged,
    };
    let admitted = admission::admit(&request, &facts, nodes, policy).map_err(NotPlaced::Refused)?;
    let node = &mut nodes[admitted.node];
    let used = used_ports(db, &node.id).await?;
    let ports = admission::assign_ports(&r.wanted, node, &used).map_err(NotPlaced::Refused)?;
    if !charge_run(db, &row.owner_id, &row.id, admitted.charge).await? {
        // The facts said it could pay, in this same transaction: this cannot happen unless the
        // store changed under it, and then the write is refused rather than overdrawn.
        let balance = balance_of(db, &row.owner_id).await?.unwrap_or(0);
        return Err(NotPlaced::Refused(Refusal::CannotPay {
            require: admitted.charge.require,
            minimum: policy.min_balance_to_run,
            deposit: admitted.charge.deposit,
            usage: admitted.charge.usage,
            seconds: policy.interval_secs,
            plan: row.plan,
            balance,
        }));
    }
    row.name = admitted.name;
    row.node_id = node.id.clone();
    row.ports = ports
        .into_iter()
        .map(|p| PortRow {
            container_port: p.container_port,
            host_port: p.host_port,
            protocol: p.protocol.as_str().to_string(),
        })
        .collect();
    insert_in(db, &row).await?;
    node.reserved_cpu_millis += u64::from(row.cpu_millis);
    node.reserved_memory_bytes += row.memory_bytes;
    Ok(Placed {
        port_range: node.port_range,
        row,
    })
}

async fn count(db: &mut Tx<'_>, sql: &str, params: &[Value<'_>]) -> StoreResult<u64> {
    Ok(db.int(sql, params).await? as u64)
}

/// What admission needs to know of the request's owner, as this transaction sees it.
async fn facts(db: &mut Tx<'_>, row: &NewContainer, asks_ports: bool) -> StoreResult<Facts> {
    let owner = row.owner_id.as_str();
    let ports_held = if asks_ports {
        count(
            db,
            "SELECT COUNT(*) FROM port_allocations p JOIN containers c ON c.id = p.container_id \
             WHERE c.owner_id = ?1",
            args![owner],
        )
        .await?
    } else {
        0
    };
    Ok(Facts {
        containers: count(
            db,
            "SELECT COUNT(*) FROM containers WHERE owner_id = ?1",
            args![owner],
        )
        .await?,
        ports_held,
        name_taken: count(
            db,
            "SELECT COUNT(*) FROM containers WHERE owner_id = ?1 AND name = ?2",
            args![owner, row.name.as_str()],
        )
        .await?
            > 0,
        balance: balance_of(db, owner).await?.unwrap_or(0),
    })
}

/// Adds the CPU millis and memory bytes reserved on each node, read once per batch (reading
/// 1,000 nodes' usage for every placement was a large part of each one); the batch then keeps
/// its own count as it places.
async fn add_reservations(db: &mut Tx<'_>, nodes: &mut [NodeSnapshot]) -> StoreResult<()> {
    let reserved: HashMap<String, (u64, u64)> = db
        .rows(
            "SELECT node_id, cpu_millis, memory_bytes FROM node_usage",
            &[],
        )
        .await?
        .iter()
        .map(|r| {
            (
                r.text("node_id"),
                (r.int("cpu_millis") as u64, r.int("memory_bytes") as u64),
            )
        })
        .collect();
    for n in nodes {
        if let Some((cpu, memory)) = reserved.get(&n.id) {
            n.reserved_cpu_millis += cpu;
            n.reserved_memory_bytes += memory;
        }
    }
    Ok(())
}

async fn used_ports(db: &mut Tx<'_>, node_id: &str) -> StoreResult<HashSet<u16>> {
    Ok(db
        .rows(
            "SELECT host_port FROM port_allocations WHERE node_id = ?1",
            args![node_id],
        )
        .await?
        .iter()
        .map(|r| r.first_int() as u16)
        .collect())
}
