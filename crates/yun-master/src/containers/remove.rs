//! Removal: the container leaves the node first, then the store, which frees its ports.

use super::find;
use super::Containers;
use super::{ContainerError, ContainerResult};
use yun_core::{ContainerState, DesiredState};

/// How a removal ended.
pub enum Removal {
    Done,
    /// The node is down: the container is marked `removing` and goes when the node returns
    /// (its ports stay held until then, as the container may still hold them there).
    Deferred,
}

pub async fn remove(
    containers: &Containers,
    owner: Option<&str>,
    id: &str,
) -> ContainerResult<Removal> {
    let row = find(containers, owner, id).await?;
    let lock = containers.locks.get(&row.id);
    let _guard = lock.lock().await;
    let row = find(containers, owner, id).await?;
    if !row.state.can_remove() {
        return Err(ContainerError::WrongState {
            id: row.id,
            state: row.state,
            action: "be removed",
        });
    }
    containers
        .store
        .transition(
            &row.id,
            &[row.state],
            ContainerState::Removing,
            Some(DesiredState::Removed),
        )
        .await?;
    let Some(client) = containers.registry.ready_client(&row.node_id) else {
        tracing::info!(
            container = row.id,
            node = row.node_name,
            "removal waits for its node"
        );
        return Ok(Removal::Deferred);
    };
    if let Err(e) = client.remove(&row.id).await {
        // Keep the record: the container may still hold its ports on the node.
        if let Err(err) = containers
            .store
            .set_actual_state(&row.id, row.state, row.exit_code)
            .await
        {
            tracing::error!(container = row.id, error = %err, "could not restore state");
        }
        return Err(ContainerError::node(&row.node_name, e));
    }
    containers.store.delete_container(&row.id).await?;
    Ok(Removal::Done)
}
