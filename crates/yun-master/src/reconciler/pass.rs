//! The periodic pass: every node's inventory against the store.

use crate::containers::observed_state;
use crate::nodes::{NodeLease, NodeState};
use crate::state::AppState;
use std::collections::{HashMap, HashSet};
use std::time::Instant;
use tokio_util::sync::CancellationToken;
use yun_core::ContainerState;

/// Runs a pass every `reconcile_interval` until `shutdown`.
pub async fn run_passes(state: AppState, shutdown: CancellationToken) {
    let mut orphans: HashMap<(String, String), Instant> = HashMap::new();
    let mut ticker = tokio::time::interval(state.config.reconcile_interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            () = shutdown.cancelled() => return,
        }
        pass(&state, &mut orphans).await;
    }
}

/// Diffs one node's inventory against the store; returns the containers on it that no
/// record owns.
async fn check_node(state: &AppState, lease: NodeLease) -> Vec<(NodeLease, String)> {
    let node_id = lease.node.id.clone();
    match state.registry.state_of(&lease) {
        NodeState::Joining => return Vec::new(),
        NodeState::Down => {
            match state.store.mark_node_lost(&node_id).await {
                Ok(0) => {}
                Ok(n) => tracing::warn!(
                    node = lease.node.name,
                    containers = n,
                    "node is down; its containers are lost"
                ),
                Err(e) => tracing::warn!(error = %e, "could not mark containers lost"),
            }
            return Vec::new();
        }
        NodeState::Ready | NodeState::Cordoned => {}
    }
    let Ok(inventory) = lease.client.list().await else {
        return Vec::new();
    };
    let Ok(rows) = state.store.container_briefs_on_node(&node_id).await else {
        return Vec::new();
    };
    let on_node: HashMap<&str, yun_core::node::DockerState> = inventory
        .iter()
        .map(|c| (c.container_id.as_str(), c.state))
        .collect();
    for row in &rows {
        let settled = match on_node.get(row.id.as_str()) {
            Some(docker_state) => {
                row.state != ContainerState::Lost
                    && observed_state(*docker_state, row.desired_state) == row.state
                    && !super::container::wants_restart(row)
            }
            // Missing and already lost: nothing more to learn.
            None => row.state == ContainerState::Lost,
        };
        if !settled {
            state.reconciler.enqueue(&row.id);
        }
    }
    let owned: HashSet<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    inventory
        .iter()
        .filter(|c| !owned.contains(c.container_id.as_str()))
        .map(|c| (lease.clone(), c.container_id.clone()))
        .collect()
}

/// One pass over every node at once, so a frozen node holds up no other.
async fn pass(state: &AppState, orphans: &mut HashMap<(String, String), Instant>) {
    let checks = state
        .registry
        .snapshot()
        .into_iter()
        .map(|lease| check_node(state, lease));
    let found: Vec<(NodeLease, String)> = futures::future::join_all(checks)
        .await
        .into_iter()
        .flatten()
        .collect();
    // Labelled for this cluster and node, yet no record owns it: removed after the grace.
    let mut seen = HashSet::new();
    for (lease, container_id) in found {
        let key = (lease.node.id.clone(), container_id.clone());
        let first_seen = *orphans.entry(key.clone()).or_insert_with(Instant::now);
        seen.insert(key);
        if first_seen.elapsed() >= state.config.orphan_grace {
            tracing::warn!(
                node = lease.node.name,
                container = container_id,
                "removing a container no record owns"
            );
            if let Err(e) = lease.client.remove(&container_id).await {
                tracing::warn!(error = %e, "could not remove an orphan");
            }
        }
    }
    orphans.retain(|k, _| seen.contains(k));
}
