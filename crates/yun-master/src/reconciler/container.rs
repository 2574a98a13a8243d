//! Reconciling one container: ask its node what is true, record it, and act where desired and
//! actual state disagree. Runs under the container's lock; a busy container is looked at again
//! shortly after.

use crate::containers::observed_state;
use crate::state::AppState;
use crate::store::{ContainerRow, RestartPolicy};
use std::time::Duration;
use yun_core::{ContainerState, DesiredState};
use yun_proto::v1;

const BUSY_RETRY: Duration = Duration::from_millis(250);

pub async fn reconcile(state: &AppState, id: &str) {
    let lock = state.locks.get(id);
    let Ok(_guard) = lock.try_lock() else {
        // A power action or a create holds it; it records its own outcome, and we look again.
        state.reconciler.requeue_after(id.to_string(), BUSY_RETRY);
        return;
    };
    if let Err(e) = reconcile_locked(state, id).await {
        tracing::warn!(
            container = id,
            error = e,
            "reconcile failed; the next pass retries"
        );
    }
}

async fn reconcile_locked(state: &AppState, id: &str) -> Result<(), String> {
    let Some(row) = state
        .store
        .get_container(None, id)
        .await
        .map_err(|e| e.to_string())?
    else {
        return Ok(());
    };
    // A down node is the pass's business (it marks the containers lost).
    let Some(client) = state.registry.ready_client(&row.node_id) else {
        return Ok(());
    };
    let status = client.inspect(id).await.map_err(|e| e.to_string())?;
    let present = status.docker_state != "missing";
    let store = &state.store;
    if row.desired_state == DesiredState::Removed || row.state == ContainerState::Removing {
        if present {
            client.remove(id).await.map_err(|e| e.to_string())?;
        }
        tracing::info!(container = id, "finished an interrupted removal");
        return store.delete_container(id).await.map_err(|e| e.to_string());
    }
    if !present {
        if row.state == ContainerState::Creating {
            // The create never reached the node (its master died first): forget it, free its ports.
            tracing::info!(
                container = id,
                "dropping a create that never reached its node"
            );
            return store.delete_container(id).await.map_err(|e| e.to_string());
        }
        if row.state != ContainerState::Lost {
            tracing::warn!(
                container = id,
                node = row.node_name,
                "container is gone from its node"
            );
            store
                .set_actual_state(id, ContainerState::Lost, row.exit_code)
                .await
                .map_err(|e| e.to_string())?;
        }
        return Ok(());
    }
    let mut status = status;
    if row.desired_state == DesiredState::Stopped && status.docker_state == "running" {
        status = client.stop(id).await.map_err(|e| e.to_string())?;
    }
    let observed = observed_state(&status.docker_state, row.desired_state);
    let code = (observed != ContainerState::Running).then_some(status.exit_code);
    if observed != row.state || code != row.exit_code {
        if row.state == ContainerState::Lost {
            tracing::info!(
                container = id,
                node = row.node_name,
                "re-attached to its node"
            );
        }
        store
            .set_actual_state(id, observed, code)
            .await
            .map_err(|e| e.to_string())?;
    }
    let fresh_exit = observed == ContainerState::Exited && row.state != ContainerState::Exited;
    if fresh_exit && status.exit_code != 0 {
        schedule_restart(state, &row, &status);
    }
    Ok(())
}

/// Backoff before the n-th automatic restart: 1 s, 2 s, 4 s … at most a minute.
pub fn restart_backoff(restarts_so_far: u32) -> Duration {
    Duration::from_secs(1u64 << restarts_so_far.min(6)).min(Duration::from_secs(60))
}

/// The on-failure policy: restart after a backoff, up to its limit. It acts only on exits a
/// live worker reported, never on a lost container.
fn schedule_restart(state: &AppState, row: &ContainerRow, status: &v1::ContainerStatus) {
    let RestartPolicy::OnFailure { max_retries } = row.restart else {
        return;
    };
    if row.restart_count >= max_retries {
        tracing::info!(
            container = row.id,
            max_retries,
            "restart limit reached; leaving it exited"
        );
        return;
    }
    let delay = restart_backoff(row.restart_count);
    tracing::info!(
        container = row.id,
        exit_code = status.exit_code,
        ?delay,
        "restarting after a failure"
    );
    let (state, id, count) = (state.clone(), row.id.clone(), row.restart_count + 1);
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        let lock = state.locks.get(&id);
        let _guard = lock.lock().await;
        let Ok(Some(row)) = state.store.get_container(None, &id).await else {
            return;
        };
        // Only if nothing changed meanwhile: still exited, still meant to run.
        if row.state != ContainerState::Exited || row.desired_state != DesiredState::Running {
            return;
        }
        let Some(client) = state.registry.ready_client(&row.node_id) else {
            return;
        };
        match client.start(&id).await {
            Ok(s) => {
                let observed = observed_state(&s.docker_state, DesiredState::Running);
                let code = (observed != ContainerState::Running).then_some(s.exit_code);
                let _ = state.store.set_restart_count(&id, count).await;
                let _ = state.store.set_actual_state(&id, observed, code).await;
            }
            Err(e) => tracing::warn!(container = id, error = %e, "automatic restart failed"),
        }
    });
}

#[cfg(test)]
mod tests {
    use super::restart_backoff;
    use std::time::Duration;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(restart_backoff(0), Duration::from_secs(1));
        assert_eq!(restart_backoff(3), Duration::from_secs(8));
        assert_eq!(restart_backoff(40), Duration::from_secs(60));
    }
}
