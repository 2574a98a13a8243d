//! Start, stop and restart. One lock per container serialises them; a deliberate stop passes
//! through `stopping` so that crash detection does not take it for a crash.

use super::Containers;
use super::{find, node_client, observed};
use super::{ContainerError, ContainerResult};
use yun_core::node::ContainerStatus;
use yun_core::{ContainerState, DesiredState};
use yun_store::{ContainerRow, Prepaid};

fn refused(row: &ContainerRow, action: &'static str) -> ContainerError {
    ContainerError::WrongState {
        id: row.id.clone(),
        state: row.state,
        action,
    }
}

async fn record(
    containers: &Containers,
    row: &ContainerRow,
    desired: DesiredState,
    s: &ContainerStatus,
) -> ContainerResult<()> {
    let (st, code) = observed(s, desired);
    containers.store.set_actual_state(&row.id, st, code).await?;
    Ok(())
}

/// Pays the next interval of running time before a stopped container runs again.
async fn pay_ahead(containers: &Containers, row: &ContainerRow) -> ContainerResult<()> {
    if row.state.is_billed() {
        return Ok(());
    }
    let interval = containers.config.pricing.metering_interval;
    match containers
        .store
        .prepay(&row.id, interval.as_millis() as i64)
        .await?
    {
        Prepaid::Paid(_) => Ok(()),
        Prepaid::Short { balance, needed } => Err(ContainerError::CannotPayToRun {
            id: row.id.clone(),
            seconds: interval.as_secs(),
            needed,
            balance,
        }),
    }
}

/// Puts the state back when the worker call failed, so the container is not stuck mid-action.
/// When the node said no (a container over its disk), the action is not wanted either: the
/// desired state goes back too, so the reconciler does not do it behind the renter's back.
async fn revert(containers: &Containers, row: &ContainerRow, failure: &crate::nodes::NodeError) {
    if let Err(e) = containers
        .store
        .set_actual_state(&row.id, row.state, row.exit_code)
        .await
    {
        tracing::error!(container = row.id, error = %e, "could not restore state");
    }
    if matches!(failure, crate::nodes::NodeError::Refused(_)) {
        if let Err(e) = containers
            .store
            .transition(&row.id, &[row.state], row.state, Some(row.desired_state))
            .await
        {
            tracing::error!(container = row.id, error = %e, "could not restore the desired state");
        }
    }
}

pub async fn start(
    containers: &Containers,
    owner: Option<&str>,
    id: &str,
) -> ContainerResult<ContainerRow> {
    let row = find(containers, owner, id).await?;
    let lock = containers.locks.get(&row.id);
    let _guard = lock.lock().await;
    let row = find(containers, owner, id).await?;
    if !row.state.can_start() {
        return Err(refused(&row, "start"));
    }
    let client = node_client(containers, &row)?;
    pay_ahead(containers, &row).await?;
    containers
        .store
        .transition(
            &row.id,
            &[row.state],
            row.state,
            Some(DesiredState::Running),
        )
        .await?;
    // A deliberate start gives the restart policy its full allowance again.
    containers.store.set_restart_count(&row.id, 0).await?;
    match client.start(&row.id).await {
        Ok(s) => record(containers, &row, DesiredState::Running, &s).await?,
        Err(e) => {
            revert(containers, &row, &e).await;
            return Err(ContainerError::node(&row.node_name, e));
        }
    }
    find(containers, owner, id).await
}

pub async fn stop(
    containers: &Containers,
    owner: Option<&str>,
    id: &str,
) -> ContainerResult<ContainerRow> {
    let row = find(containers, owner, id).await?;
    let lock = containers.locks.get(&row.id);
    let _guard = lock.lock().await;
    let row = find(containers, owner, id).await?;
    if !row.state.can_stop() {
        return Err(refused(&row, "stop"));
    }
    if row.state.is_at_rest() {
        containers
            .store
            .transition(
                &row.id,
                &[row.state],
                row.state,
                Some(DesiredState::Stopped),
            )
            .await?;
        return find(containers, owner, id).await;
    }
    let s = stop_on_node(containers, &row).await?;
    record(containers, &row, DesiredState::Stopped, &s).await?;
    find(containers, owner, id).await
}

pub async fn restart(
    containers: &Containers,
    owner: Option<&str>,
    id: &str,
) -> ContainerResult<ContainerRow> {
    let row = find(containers, owner, id).await?;
    let lock = containers.locks.get(&row.id);
    let _guard = lock.lock().await;
    let row = find(containers, owner, id).await?;
    if !row.state.can_restart() {
        return Err(refused(&row, "restart"));
    }
    let client = node_client(containers, &row)?;
    pay_ahead(containers, &row).await?;
    containers
        .store
        .transition(
            &row.id,
            &[row.state],
            ContainerState::Restarting,
            Some(DesiredState::Running),
        )
        .await?;
    match client.restart(&row.id).await {
        Ok(s) => record(containers, &row, DesiredState::Running, &s).await?,
        Err(e) => {
            revert(containers, &row, &e).await;
            return Err(ContainerError::node(&row.node_name, e));
        }
    }
    find(containers, owner, id).await
}

/// Stops a container on its node, passing through `stopping` (so the exit is not taken for a
/// crash); puts the state back if the node could not do it.
async fn stop_on_node(
    containers: &Containers,
    row: &ContainerRow,
) -> ContainerResult<ContainerStatus> {
    let client = node_client(containers, row)?;
    containers
        .store
        .transition(
            &row.id,
            &[row.state],
            ContainerState::Stopping,
            Some(DesiredState::Stopped),
        )
        .await?;
    match client.stop(&row.id).await {
        Ok(s) => Ok(s),
        Err(e) => {
            revert(containers, row, &e).await;
            Err(ContainerError::node(&row.node_name, e))
        }
    }
}

/// Stops a running container because its owner cannot pay for it; it keeps its filesystem and
/// deposit and shows `suspended` with the reason until they top up and start it.
pub async fn suspend(containers: &Containers, id: &str, reason: &str) -> ContainerResult<()> {
    let lock = containers.locks.get(id);
    let _guard = lock.lock().await;
    let row = find(containers, None, id).await?;
    if !row.state.is_billed() {
        return Ok(());
    }
    stop_on_node(containers, &row).await?;
    containers.store.set_suspended(&row.id, reason).await?;
    Ok(())
}

/// Asks the node for the container's actual state when it may have changed on its own
/// (it exited, or crashed). Skipped while a power action holds the container.
pub async fn refresh(containers: &Containers, row: ContainerRow) -> ContainerRow {
    if !row.state.may_change_on_its_own() {
        return row;
    }
    let lock = containers.locks.get(&row.id);
    let Ok(_guard) = lock.try_lock() else {
        return row;
    };
    let Some(client) = containers.registry.ready_client(&row.node_id) else {
        return row;
    };
    let Ok(s) = client.inspect(&row.id).await else {
        return row;
    };
    let (st, code) = observed(&s, row.desired_state);
    if st == row.state && code == row.exit_code {
        return row;
    }
    if let Err(e) = containers.store.set_actual_state(&row.id, st, code).await {
        tracing::warn!(container = row.id, error = %e, "could not record refreshed state");
        return row;
    }
    ContainerRow {
        state: st,
        exit_code: code,
        ..row
    }
}
