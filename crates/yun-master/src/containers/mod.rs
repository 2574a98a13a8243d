//! What a renter does with containers: create (the three-step create path), power actions,
//! removal, logs. Handlers in `http/containers.rs` only parse and answer.

mod batch;
mod billed;
mod create;
mod error;
mod log_lines;
mod logs;
mod outcomes;
mod placer;
mod power;
mod remove;

pub use billed::InFlight;
pub use create::{check_command, create, CreateInput, PortInput, RestartInput};
pub use error::{ContainerError, ContainerResult, Refusal};
pub use logs::{open_logs, LogFormat, LogsQuery};
pub use outcomes::Outcomes;
pub use placer::Placer;
pub use power::{refresh, restart, start, stop, suspend};
pub use remove::{remove, Removal};

use crate::config::MasterConfig;
use crate::nodes::{Registry, WorkerClient};
use std::sync::Arc;

use yun_core::node::{ContainerStatus, DockerState};
use yun_core::{ContainerSpec, ContainerState, DesiredState, Limits, PortBinding, Protocol};
use yun_store::{ContainerRow, Store};

/// One lock per container serialises its power actions, as Wings does per server.
pub type ContainerLocks = yun_core::KeyedLocks<tokio::sync::Mutex<()>>;

/// What a renter's container actions need, and nothing else: the store, the fleet to call,
/// the operator's rules, one lock per container, and the create path's batchers.
#[derive(Clone)]
pub struct Containers {
    pub store: Store,
    pub registry: Registry,
    pub config: Arc<MasterConfig>,
    pub locks: ContainerLocks,
    pub placer: Placer,
    pub outcomes: Outcomes,
}

impl Containers {
    pub fn new(store: Store, registry: Registry, config: Arc<MasterConfig>) -> Self {
        Self {
            store,
            registry,
            config,
            locks: ContainerLocks::default(),
            placer: Placer::default(),
            outcomes: Outcomes::default(),
        }
    }

    /// Runs the create path's batcher until `shutdown`.
    pub fn spawn(&self, shutdown: tokio_util::sync::CancellationToken) {
        self.placer.spawn(self.clone(), &self.outcomes, shutdown);
    }
}

/// The renter-facing state for what a worker reports.
pub fn observed_state(docker_state: DockerState, desired: DesiredState) -> ContainerState {
    match docker_state {
        DockerState::Running | DockerState::Paused => ContainerState::Running,
        DockerState::Restarting => ContainerState::Restarting,
        DockerState::Missing => ContainerState::Lost,
        _ if desired == DesiredState::Running => ContainerState::Exited,
        _ => ContainerState::Stopped,
    }
}

/// The state and exit code to record for what a worker reported; a running container has no
/// exit code.
pub fn observed(status: &ContainerStatus, desired: DesiredState) -> (ContainerState, Option<i64>) {
    let state = observed_state(status.state, desired);
    (
        state,
        (state != ContainerState::Running).then_some(status.exit_code),
    )
}

/// The container if `owner` may see it (None = an admin, who sees all); else 404, never 403.
pub async fn find(
    containers: &Containers,
    owner: Option<&str>,
    id: &str,
) -> ContainerResult<ContainerRow> {
    if !yun_core::id::looks_like_id(id) {
        return Err(ContainerError::NotFound);
    }
    containers
        .store
        .get_container(owner, id)
        .await?
        .ok_or(ContainerError::NotFound)
}

pub fn node_client(
    containers: &Containers,
    row: &ContainerRow,
) -> ContainerResult<std::sync::Arc<WorkerClient>> {
    containers
        .registry
        .ready_client(&row.node_id)
        .ok_or_else(|| ContainerError::NodeDown {
            node: row.node_name.clone(),
        })
}

/// What the node needs to run this container; the same row always gives the same spec (and
/// spec hash), so a create can be repeated safely.
pub fn spec_of(row: &ContainerRow) -> ContainerSpec {
    ContainerSpec {
        container_id: row.id.clone(),
        owner_id: row.owner_id.clone(),
        image: row.image_ref.clone(),
        image_id: row.image_pin.clone(),
        command: row.command.clone(),
        env: row.env.clone(),
        ports: row
            .ports
            .iter()
            .map(|p| PortBinding {
                container_port: p.container_port,
                host_port: p.host_port,
                protocol: Protocol::parse(&p.protocol).unwrap_or(Protocol::Tcp),
            })
            .collect(),
        limits: Limits {
            cpu_millis: row.cpu_millis,
            memory_bytes: row.memory_bytes,
            pids: row.pids,
            disk_bytes: row.disk_bytes,
        },
        read_only: row.read_only,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exits_read_by_intent() {
        assert_eq!(
            observed_state(DockerState::Exited, DesiredState::Running),
            ContainerState::Exited
        );
        assert_eq!(
            observed_state(DockerState::Exited, DesiredState::Stopped),
            ContainerState::Stopped
        );
        assert_eq!(
            observed_state(DockerState::Running, DesiredState::Stopped),
            ContainerState::Running
        );
        assert_eq!(
            observed_state(DockerState::Missing, DesiredState::Running),
            ContainerState::Lost
        );
    }
}
