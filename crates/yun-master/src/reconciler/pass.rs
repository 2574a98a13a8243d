//! The periodic pass: every node's inventory against the store.

use crate::containers::observed_state;
use crate::nodes::NodeState;
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

async fn pass(state: &AppState, orphans: &mut HashMap<(String, String), Instant>) {
    let mut seen_orphans = HashSet::new();
    for lease in state.registry.snapshot() {
        let node_id = lease.node.id.clone();
        match state.registry.state_of(&lease) {
            NodeState::Joining => continue,
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
                continue;
            }
            NodeState::Ready | NodeState::Cordoned => {}
        }
        let Ok(inventory) = lease.client.list().await else {
            continue;
        };
        let Ok(rows) = state.store.containers_on_node(&node_id).await else {
            continue;
        };
        let on_node: HashMap<&str, &str> = inventory
            .iter()
            .map(|c| (c.container_id.as_str(), c.docker_state.as_str()))
            .collect();
        let owned: HashSet<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        for row in &rows {
            let settled = match on_node.get(row.id.as_str()) {
                Some(docker_state) => {
                    row.state != ContainerState::Lost
                        && observed_state(docker_state, row.desired_state) == row.state
                }
                // Missing and already lost: nothing more to learn.
                None => row.state == ContainerState::Lost,
            };
            if !settled {
                state.reconciler.enqueue(&row.id);
            }
        }
        // Labelled for this cluster and node, yet no record owns it: removed after the grace.
        for c in inventory
            .iter()
            .filter(|c| !owned.contains(c.container_id.as_str()))
        {
            let key = (node_id.clone(), c.container_id.clone());
            seen_orphans.insert(key.clone());
            let first_seen = *orphans.entry(key).or_insert_with(Instant::now);
            if first_seen.elapsed() >= state.config.orphan_grace {
                tracing::warn!(
                    node = lease.node.name,
                    container = c.container_id,
                    "removing a container no record owns"
                );
                if let Err(e) = lease.client.remove(&c.container_id).await {
                    tracing::warn!(error = %e, "could not remove an orphan");
                }
            }
        }
    }
    orphans.retain(|k, _| seen_orphans.contains(k));
}
