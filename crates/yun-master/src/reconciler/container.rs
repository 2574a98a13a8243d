//! Reconciling one container: ask its node what is true, record it, and act where desired and
//! actual state disagree. Runs under the container's lock; a busy container is looked at again
//! shortly after.

use super::Reconciler;
use crate::containers::{observed, spec_of};
use crate::nodes::{NodeError, WorkerClient};
use std::time::Duration;
use yun_core::node::DockerState;
use yun_core::{ContainerState, DesiredState};
use yun_store::{ContainerBrief, ContainerRow, RestartPolicy, StoreError};

/// Why one reconcile did not finish; the next pass tries again.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("node: {0}")]
    Node(#[from] NodeError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

const BUSY_RETRY: Duration = Duration::from_secs(1);

pub async fn reconcile(reconciler: &Reconciler, id: &str) {
    let lock = reconciler.containers.locks.get(id);
    let Ok(_guard) = lock.try_lock() else {
        // A power action or a create holds it; it records its own outcome, and we look again.
        reconciler.requeue_after(id.to_string(), BUSY_RETRY);
        return;
    };
    if let Err(e) = reconcile_locked(reconciler, id).await {
        reconciler.metrics.reconcile_failed("container");
        tracing::warn!(
            container = id,
            error = %e,
            "reconcile failed; the next pass retries"
        );
    }
}

async fn reconcile_locked(reconciler: &Reconciler, id: &str) -> Result<(), ReconcileError> {
    let Some(row) = reconciler.containers.store.get_container(None, id).await? else {
        return Ok(());
    };
    // A down node is the pass's business (it marks the containers lost).
    let Some(client) = reconciler.containers.registry.ready_client(&row.node_id) else {
        return Ok(());
    };
    let status = client.inspect(id).await?;
    let present = status.state != DockerState::Missing;
    let store = &reconciler.containers.store;
    if row.desired_state == DesiredState::Removed || row.state == ContainerState::Removing {
        if present {
            client.remove(id).await?;
        }
        tracing::info!(container = id, "finished an interrupted removal");
        reconciler.metrics.reconciled("removal_finished", 1);
        return Ok(store.delete_container(id).await?);
    }
    if row.state == ContainerState::Creating {
        return finish_create(reconciler, &row, &client).await;
    }
    if !present {
        if row.state != ContainerState::Lost {
            tracing::warn!(
                container = id,
                node = row.node_name,
                "container is gone from its node"
            );
            store
                .set_actual_state(id, ContainerState::Lost, row.exit_code)
                .await?;
            reconciler.metrics.reconciled("gone", 1);
        }
        return Ok(());
    }
    let mut status = status;
    if row.desired_state == DesiredState::Stopped && status.state == DockerState::Running {
        status = client.stop(id).await?;
    }
    let (observed, code) = observed(&status, row.desired_state);
    if observed != row.state || code != row.exit_code {
        if row.state == ContainerState::Lost {
            tracing::info!(
                container = id,
                node = row.node_name,
                "re-attached to its node"
            );
            reconciler.metrics.reconciled("reattached", 1);
        }
        store.set_actual_state(id, observed, code).await?;
        reconciler.metrics.reconciled("state_recorded", 1);
    }
    if status.oom_killed && observed != ContainerState::Running && !row.oom_killed {
        store.mark_oom_killed(id).await?;
    }
    // Whoever saw the exit first (an event, a create, a refresh), the policy decides here.
    let after = ContainerRow {
        state: observed,
        exit_code: code,
        ..row
    };
    if wants_restart(&ContainerBrief::from(&after)) {
        schedule_restart(reconciler, &after);
    }
    Ok(())
}

/// A `creating` row that no create in this master is working on: its master died between the
/// row and the outcome. The create is repeated (it is idempotent by label and spec hash), so
/// it ends as it would have: the container runs, or the row goes and frees its ports.
async fn finish_create(
    reconciler: &Reconciler,
    row: &ContainerRow,
    client: &WorkerClient,
) -> Result<(), ReconcileError> {
    match client.create(&spec_of(row)).await {
        Ok(s) => {
            tracing::info!(container = row.id, "finished an interrupted create");
            let (observed, code) = observed(&s, DesiredState::Running);
            Ok(reconciler
                .containers
                .store
                .set_actual_state(&row.id, observed, code)
                .await?)
        }
        // The node answered and refused: the create fails for good, as it would have.
        Err(e) if !e.is_unreachable() => {
            tracing::warn!(container = row.id, error = %e, "an interrupted create failed; dropping it");
            let _ = client.remove(&row.id).await;
            Ok(reconciler
                .containers
                .store
                .delete_container(&row.id)
                .await?)
        }
        Err(e) => Err(e.into()),
    }
}

/// Releases a container's restart claim however the restart task ends.
struct RestartClaim<'a>(&'a Reconciler, &'a str);

impl Drop for RestartClaim<'_> {
    fn drop(&mut self) {
        self.0.release_restart(self.1);
    }
}

/// Backoff before the n-th automatic restart: 1 s, 2 s, 4 s … at most a minute.
pub fn restart_backoff(restarts_so_far: u32) -> Duration {
    Duration::from_secs(1u64 << restarts_so_far.min(6)).min(Duration::from_secs(60))
}

/// Whether the on-failure policy wants this container started again: it exited non-zero
/// while meant to run, and has restarts left. Lost containers never qualify.
pub(super) fn wants_restart(row: &ContainerBrief) -> bool {
    let RestartPolicy::OnFailure { max_retries } = row.restart else {
        return false;
    };
    row.state == ContainerState::Exited
        && row.desired_state == DesiredState::Running
        && row.exit_code.is_some_and(|c| c != 0)
        && row.restart_count < max_retries
}

/// Restarts after a backoff. It acts only on exits a live worker reported (the caller has just
/// asked the node), and once per exit.
fn schedule_restart(reconciler: &Reconciler, row: &ContainerRow) {
    if !reconciler.claim_restart(&row.id) {
        return;
    }
    let delay = restart_backoff(row.restart_count);
    tracing::info!(
        container = row.id,
        exit_code = ?row.exit_code,
        ?delay,
        "restarting after a failure"
    );
    let (reconciler, id, count) = (reconciler.clone(), row.id.clone(), row.restart_count + 1);
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        let _claim = RestartClaim(&reconciler, &id);
        let lock = reconciler.containers.locks.get(&id);
        let _guard = lock.lock().await;
        let Ok(Some(row)) = reconciler.containers.store.get_container(None, &id).await else {
            return;
        };
        // Only if nothing changed meanwhile: still exited, still meant to run.
        if row.state != ContainerState::Exited || row.desired_state != DesiredState::Running {
            return;
        }
        let Some(client) = reconciler.containers.registry.ready_client(&row.node_id) else {
            return;
        };
        match client.start(&id).await {
            Ok(s) => {
                let (observed, code) = observed(&s, DesiredState::Running);
                let _ = reconciler
                    .containers
                    .store
                    .set_restart_count(&id, count)
                    .await;
                let _ = reconciler
                    .containers
                    .store
                    .set_actual_state(&id, observed, code)
                    .await;
            }
            Err(e) => {
                reconciler.metrics.reconcile_failed("restart");
                tracing::warn!(container = id, error = %e, "automatic restart failed")
            }
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
