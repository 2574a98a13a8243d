//! The Docker implementation of `Runtime`, over bollard. Docker labels are the worker's only
//! memory: every object it makes carries `yun.cluster` and `yun.node`, and it lists, touches
//! and removes nothing else, so clusters, test runs and workers can share one engine.

mod container;
pub use container::container_config;
pub use engine::check_endpoint;
mod engine;
mod events;
mod exec;
mod firewall;
mod held_files;
mod images;
mod log_reader;
mod logs;
mod network;
mod power;
mod scratch;
pub use scratch::ScratchImage;
mod stats;

use super::{
    ContainerEvent, ContainerProcess, ContainerStatus, Counters, EngineInfo, ExecSession,
    ImageInfo, LogChunk, LogsQuery, PullProgress, Runtime, RuntimeError, RuntimeResult, Scope,
};
use bollard::Docker;
use futures::stream::BoxStream;
use ipnet::Ipv4Net;
use std::sync::RwLock;
use yun_core::{ContainerSpec, KeyedLocks};

pub const LABEL_CLUSTER: &str = "yun.cluster";
pub const LABEL_NODE: &str = "yun.node";
pub const LABEL_CONTAINER: &str = "yun.container";
pub const LABEL_OWNER: &str = "yun.owner";
pub const LABEL_SPEC: &str = "yun.spec";
/// The plan's disk in bytes, so a start can refuse a container that still holds more.
pub const LABEL_DISK: &str = "yun.disk";

#[derive(Debug, Clone)]
pub struct DockerOptions {
    /// `unix:///var/run/docker.sock` or `tcp://host:2375`.
    pub endpoint: String,
    pub tenant_subnets: Ipv4Net,
    /// The size of each owner's subnet on this node, as a prefix length (26: 61 containers).
    pub tenant_prefix_len: u8,
    pub allow_unenforced_limits: bool,
    /// Whether tenant containers' connections to this host's own addresses are refused.
    pub shield_host: HostShield,
    /// The one address renters' ports are published on (`--publish-address`, by default the
    /// public host's): never every interface unless asked, so a renter's service does not also
    /// answer on the hosts where the console lives.
    pub publish_address: std::net::IpAddr,
}

/// How the worker keeps tenant containers off this host's own services.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostShield {
    /// Rules in the host's firewall, or no containers (`yun worker`'s default).
    Required,
    /// Rules when the firewall can be changed, else a warning (`yun dev` run without root).
    BestEffort,
    /// No rules (`--allow-host-access`).
    Off,
}

pub struct DockerRuntime {
    docker: Docker,
    options: DockerOptions,
    scope: RwLock<Option<Scope>>,
    /// Limits the engine cannot enforce, read once at start.
    unenforced: Vec<String>,
    /// Per container: a create and a retry of it, or a create and a removal, never interleave.
    container_locks: KeyedLocks<tokio::sync::Mutex<()>>,
    /// Per owner: creates share it, so one renter's burst runs in parallel; removing the
    /// owner's tenant network takes it alone, so no create is between its network and its
    /// container when the network goes.
    owner_locks: KeyedLocks<tokio::sync::RwLock<()>>,
    /// Per owner: making the tenant network, so two creates do not both make one.
    network_locks: KeyedLocks<tokio::sync::Mutex<()>>,
    /// The host's firewall rules: changed by one task at a time, and known to be in place.
    firewall: tokio::sync::Mutex<()>,
    shielded: std::sync::atomic::AtomicBool,
    logs: log_reader::LogReader,
}

impl DockerRuntime {
    /// Connects, agrees an API version with the engine and reads which limits it enforces.
    pub async fn connect(options: DockerOptions) -> RuntimeResult<Self> {
        let docker = engine::connect(&options.endpoint).await?;
        let unenforced = engine::unenforced_limits(&docker).await?;
        let logs = log_reader::LogReader::start(&options.endpoint).await?;
        Ok(Self {
            docker,
            options,
            scope: RwLock::new(None),
            unenforced,
            container_locks: KeyedLocks::default(),
            owner_locks: KeyedLocks::default(),
            network_locks: KeyedLocks::default(),
            firewall: tokio::sync::Mutex::new(()),
            shielded: std::sync::atomic::AtomicBool::new(false),
            logs,
        })
    }

    pub fn unenforced_limits(&self) -> &[String] {
        &self.unenforced
    }

    /// Whether the engine caps a container's writable layer itself.
    pub(super) fn enforces_disk(&self) -> bool {
        !self
            .unenforced
            .iter()
            .any(|l| l == yun_core::node::DISK_LIMIT)
    }

    fn scope(&self) -> RuntimeResult<Scope> {
        self.scope
            .read()
            .expect("scope lock")
            .clone()
            .ok_or(RuntimeError::NotRegistered)
    }

    /// Refuses to run anything on an engine that would drop limits, unless the operator said so.
    fn check_limits_enforced(&self) -> RuntimeResult<()> {
        // Disk is enforced after the fact (the master stops a container over its plan's).
        let refusing = yun_core::node::limits_that_refuse(&self.unenforced);
        if !refusing.is_empty() && !self.options.allow_unenforced_limits {
            return Err(RuntimeError::LimitsUnenforced(refusing.join(", ")));
        }
        Ok(())
    }
}

pub fn docker_name(container_id: &str) -> String {
    format!("yun-{container_id}")
}

/// True for Docker's "no such container/image/network" answers, which idempotent calls treat as done.
fn is_not_found(e: &bollard::errors::Error) -> bool {
    matches!(
        e,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

impl Runtime for DockerRuntime {
    async fn info(&self) -> RuntimeResult<EngineInfo> {
        engine::info(&self.docker, &self.unenforced).await
    }

    fn set_scope(&self, scope: Scope) {
        *self.scope.write().expect("scope lock") = Some(scope);
    }

    async fn pull_image(
        &self,
        reference: &str,
        always: bool,
        max_bytes: u64,
        progress: tokio::sync::mpsc::Sender<PullProgress>,
    ) -> RuntimeResult<ImageInfo> {
        let policy = crate::registry::PullPolicy {
            max_bytes,
            allowed: self.scope()?.allowed_registries,
        };
        images::pull(&self.docker, reference, always, &policy, progress).await
    }

    async fn remove_image(&self, reference: &str, docker_id: &str) -> RuntimeResult<()> {
        images::remove(&self.docker, reference, docker_id).await
    }

    async fn create_container(&self, spec: &ContainerSpec) -> RuntimeResult<ContainerStatus> {
        self.check_limits_enforced()?;
        self.create(spec).await
    }

    async fn start_container(&self, id: &str) -> RuntimeResult<ContainerStatus> {
        self.start(id).await
    }

    async fn stop_container(&self, id: &str, timeout: u32) -> RuntimeResult<ContainerStatus> {
        self.stop(id, timeout).await
    }

    async fn restart_container(&self, id: &str, timeout: u32) -> RuntimeResult<ContainerStatus> {
        self.restart(id, timeout).await
    }

    async fn remove_container(&self, id: &str) -> RuntimeResult<()> {
        self.remove(id).await
    }

    async fn remove_orphan(&self, docker_id: &str) -> RuntimeResult<()> {
        Self::remove_orphan(self, docker_id).await
    }

    async fn inspect_container(&self, id: &str) -> RuntimeResult<ContainerStatus> {
        self.inspect(id).await
    }

    async fn list_containers(&self, with_sizes: bool) -> RuntimeResult<Vec<ContainerStatus>> {
        self.list(with_sizes).await
    }

    async fn logs(
        &self,
        id: &str,
        query: LogsQuery,
    ) -> RuntimeResult<BoxStream<'static, RuntimeResult<LogChunk>>> {
        self.log_stream(id, query).await
    }

    fn events(&self) -> RuntimeResult<BoxStream<'static, RuntimeResult<ContainerEvent>>> {
        self.event_stream()
    }

    async fn container_process(&self, id: &str) -> RuntimeResult<Option<ContainerProcess>> {
        self.process(id).await
    }

    async fn engine_stats(&self, id: &str) -> RuntimeResult<Option<Counters>> {
        self.one_shot_stats(id).await
    }

    async fn exec(
        &self,
        id: &str,
        command: &[String],
        size: (u16, u16),
        tty: bool,
    ) -> RuntimeResult<ExecSession> {
        self.exec_in(id, command, size, tty).await
    }

    async fn exec_resize(&self, exec_id: &str, size: (u16, u16)) -> RuntimeResult<()> {
        self.resize(exec_id, size).await
    }

    async fn exec_exit_code(&self, exec_id: &str) -> RuntimeResult<i64> {
        self.exit_code(exec_id).await
    }
}
