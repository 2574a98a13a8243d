//! The periodic pass: every node's inventory against the store.

use super::Reconciler;
use crate::containers::observed_state;
use crate::nodes::{NodeLease, NodeState};
use std::collections::{HashMap, HashSet};
use std::time::Instant;
use tokio_util::sync::CancellationToken;
use yun_core::ContainerState;

/// An engine container of this cluster and node that no record owns, keyed by its Docker id.
struct Orphan {
    lease: NodeLease,
    docker_id: String,
    /// Its container label (empty when it has none) and engine name, for the log.
    container_id: String,
    docker_name: String,
}

/// Runs a pass every `reconcile_interval` until `shutdown`; every `disk_check_interval` the
/// pass also measures each container's writable layer.
pub async fn run_passes(reconciler: Reconciler, shutdown: CancellationToken) {
    let mut orphans: HashMap<(String, String), Instant> = HashMap::new();
    let mut ticker = tokio::time::interval(reconciler.containers.config.reconcile_interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_disk_check: Option<Instant> = None;
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            () = shutdown.cancelled() => return,
        }
        let sizes = last_disk_check
            .is_none_or(|at| at.elapsed() >= reconciler.containers.config.disk_check_interval);
        if sizes {
            last_disk_check = Some(Instant::now());
        }
        pass(&reconciler, &mut orphans, sizes).await;
    }
}

/// Stops a running container that wrote more than its plan's disk: it keeps its files and
/// deposit and shows `suspended` with the reason.
fn over_disk(reconciler: &Reconciler, row: &yun_store::ContainerBrief, size_rw: u64) {
    if row.disk_bytes == 0 || size_rw <= row.disk_bytes || !row.state.is_billed() {
        return;
    }
    let reason = format!(
        "it wrote {} MiB to its filesystem and its plan allows {} MiB: remove it, or run it on a plan with more disk",
        size_rw >> 20,
        row.disk_bytes >> 20
    );
    tracing::warn!(
        container = row.id,
        size_rw,
        limit = row.disk_bytes,
        "stopping a container over its plan's disk"
    );
    reconciler.metrics.reconciled("disk_stopped", 1);
    let (reconciler, id) = (reconciler.clone(), row.id.clone());
    tokio::spawn(async move {
        if let Err(e) = crate::containers::suspend(&reconciler.containers, &id, &reason).await {
            reconciler.metrics.reconcile_failed("disk_stop");
            tracing::warn!(container = id, error = %e, "could not stop a container over its disk");
        }
    });
}

/// Diffs one node's inventory against the store; returns the containers on it that no
/// record owns: a label no record has, no container label at all, or a record's label on a
/// container that is not the record's own (`yun-<id>`, the name its create gave it).
async fn check_node(reconciler: &Reconciler, lease: NodeLease, sizes: bool) -> Vec<Orphan> {
    let node_id = lease.node.id.clone();
    match reconciler.containers.registry.state_of(&lease) {
        NodeState::Joining => return Vec::new(),
        NodeState::Down => {
            match reconciler.containers.store.mark_node_lost(&node_id).await {
                Ok(0) => {}
                Ok(n) => {
                    reconciler.metrics.reconciled("lost", n);
                    tracing::warn!(
                        node = lease.node.name,
                        containers = n,
                        "node is down; its containers are lost"
                    )
                }
                Err(e) => {
                    reconciler.metrics.reconcile_failed("mark_lost");
                    tracing::warn!(error = %e, "could not mark containers lost")
                }
            }
            return Vec::new();
        }
        NodeState::Ready | NodeState::Cordoned => {}
    }
    let inventory = match lease.client.list(sizes).await {
        Ok(inventory) => inventory,
        Err(e) => {
            reconciler.metrics.reconcile_failed("inventory");
            tracing::warn!(node = lease.node.name, error = %e, "could not list the node's containers");
            return Vec::new();
        }
    };
    let rows = match reconciler
        .containers
        .store
        .container_briefs_on_node(&node_id)
        .await
    {
        Ok(rows) => rows,
        Err(e) => {
            reconciler.metrics.reconcile_failed("inventory");
            tracing::warn!(node = lease.node.name, error = %e, "could not read the node's containers");
            return Vec::new();
        }
    };
    let genuine = |c: &yun_core::node::ContainerStatus| {
        // `yun-<id>`, compared without making the name for every container of every pass.
        !c.container_id.is_empty()
            && c.docker_name.strip_prefix("yun-") == Some(c.container_id.as_str())
    };
    let on_node: HashMap<&str, (yun_core::node::DockerState, u64)> = inventory
        .iter()
        .filter(|c| genuine(c))
        .map(|c| (c.container_id.as_str(), (c.state, c.size_rw)))
        .collect();
    for row in &rows {
        let settled = match on_node.get(row.id.as_str()) {
            Some((docker_state, size_rw)) => {
                if sizes {
                    over_disk(reconciler, row, *size_rw);
                }
                row.state != ContainerState::Lost
                    && observed_state(*docker_state, row.desired_state) == row.state
                    && !super::container::wants_restart(row)
            }
            // Missing and already lost: nothing more to learn.
            None => row.state == ContainerState::Lost,
        };
        if !settled {
            reconciler.enqueue(&row.id);
        }
    }
    let owned: HashSet<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    inventory
        .iter()
        .filter(|c| !(genuine(c) && owned.contains(c.container_id.as_str())))
        .map(|c| Orphan {
            lease: lease.clone(),
            docker_id: c.docker_id.clone(),
            container_id: c.container_id.clone(),
            docker_name: c.docker_name.clone(),
        })
        .collect()
}

/// One pass over every node at once, so a frozen node holds up no other.
async fn pass(
    reconciler: &Reconciler,
    orphans: &mut HashMap<(String, String), Instant>,
    sizes: bool,
) {
    let checks = reconciler
        .containers
        .registry
        .snapshot()
        .into_iter()
        .map(|lease| check_node(reconciler, lease, sizes));
    let found: Vec<Orphan> = futures::future::join_all(checks)
        .await
        .into_iter()
        .flatten()
        .collect();
    // Labelled for this cluster and node, yet no record owns it: removed after the grace.
    let mut seen = HashSet::new();
    for orphan in found {
        let key = (orphan.lease.node.id.clone(), orphan.docker_id.clone());
        let first_seen = *orphans.entry(key.clone()).or_insert_with(Instant::now);
        seen.insert(key);
        if first_seen.elapsed() >= reconciler.containers.config.orphan_grace {
            tracing::warn!(
                node = orphan.lease.node.name,
                docker_id = orphan.docker_id,
                name = orphan.docker_name,
                label = orphan.container_id,
                "removing a container no record owns"
            );
            match orphan.lease.client.remove_orphan(&orphan.docker_id).await {
                Ok(()) => reconciler.metrics.reconciled("orphan_removed", 1),
                Err(e) => {
                    reconciler.metrics.reconcile_failed("orphan_removal");
                    tracing::warn!(error = %e, "could not remove an orphan")
                }
            }
        }
    }
    orphans.retain(|k, _| seen.contains(k));
}
