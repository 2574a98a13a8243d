//! Creating, inspecting, listing and removing containers, with the hardening every tenant gets.

use super::super::{ContainerStatus, DockerState, RuntimeError, RuntimeResult};
use super::{
    docker_name, is_not_found, DockerRuntime, LABEL_CLUSTER, LABEL_CONTAINER, LABEL_DISK,
    LABEL_NODE, LABEL_OWNER, LABEL_SPEC,
};
use bollard::container::{
    Config, CreateContainerOptions, InspectContainerOptions, ListContainersOptions,
    NetworkingConfig, RemoveContainerOptions,
};
use bollard::models::{
    ContainerInspectResponse, ContainerStateStatusEnum, ContainerSummary, EndpointSettings,
    HostConfig, HostConfigLogConfig, PortBinding,
};
use futures::StreamExt;
use std::collections::HashMap;
use yun_core::ContainerSpec;

/// Capabilities no tenant needs. Dropping ALL would break ordinary images such as nginx.
const DROPPED_CAPABILITIES: [&str; 5] =
    ["NET_RAW", "MKNOD", "AUDIT_WRITE", "SETFCAP", "SYS_CHROOT"];
const CPU_PERIOD_US: i64 = 100_000;

impl DockerRuntime {
    pub(super) async fn create(&self, spec: &ContainerSpec) -> RuntimeResult<ContainerStatus> {
        let scope = self.scope()?;
        let hash = spec.hash();
        let (image, volumes) = super::images::pinned(
            &self.docker,
            &spec.image,
            &spec.image_id,
            &scope.allowed_registries,
        )
        .await?;
        // Two creates of one container (a retry beside a first attempt) meet here, and the
        // second finds the first's container; other containers of the owner go on in parallel.
        let container_lock = self.container_locks.get(&spec.container_id);
        let _container = container_lock.lock().await;
        let owner_lock = self.owner_locks.get(&spec.owner_id);
        let _owner = owner_lock.read().await;
        if let Some(existing) = self.inspect_owned(&spec.container_id).await? {
            if existing.spec_hash != hash {
                return Err(RuntimeError::SpecConflict {
                    container_id: spec.container_id.clone(),
                });
            }
            // A retried create finishes what the first attempt began.
            if existing.state != DockerState::Running {
                return self.start(&spec.container_id).await;
            }
            return Ok(existing);
        }
        let network = self.ensure_tenant_network(&scope, &spec.owner_id).await?;
        let labels = HashMap::from([
            (LABEL_CLUSTER.to_string(), scope.cluster_id.clone()),
            (LABEL_NODE.to_string(), scope.node_id.clone()),
            (LABEL_CONTAINER.to_string(), spec.container_id.clone()),
            (LABEL_OWNER.to_string(), spec.owner_id.clone()),
            (LABEL_SPEC.to_string(), hash),
            (LABEL_DISK.to_string(), spec.limits.disk_bytes.to_string()),
        ]);
        let mut config = container_config(spec, labels, &network, self.options.publish_address);
        // An image's VOLUMEs would be anonymous volumes that no disk check counts: each gets a
        // tmpfs instead, as large as the plan's disk, counted in its memory, emptied when it
        // stops (volumes that keep data are their own resource).
        if let Some(hc) = config.host_config.as_mut() {
            let size = match spec.limits.disk_bytes {
                0 => spec.limits.memory_bytes,
                disk => disk,
            };
            let tmpfs = hc.tmpfs.get_or_insert_with(HashMap::new);
            for path in volumes {
                tmpfs
                    .entry(path)
                    .or_insert_with(|| format!("rw,nosuid,nodev,size={size}"));
            }
            if tmpfs.is_empty() {
                hc.tmpfs = None;
            }
        }
        if self.enforces_disk() && spec.limits.disk_bytes > 0 {
            if let Some(hc) = config.host_config.as_mut() {
                hc.storage_opt = Some(HashMap::from([(
                    "size".to_string(),
                    spec.limits.disk_bytes.to_string(),
                )]));
            }
        }
        // The pinned content, not whatever the tag names now.
        config.image = Some(image);
        let name = docker_name(&spec.container_id);
        let created = self
            .docker
            .create_container(
                Some(CreateContainerOptions {
                    name: name.clone(),
                    platform: None,
                }),
                config,
            )
            .await?;
        // Docker drops limits the kernel cannot enforce with only a warning; we do not run those.
        if !created.warnings.is_empty() {
            self.force_remove(&name).await;
            return Err(RuntimeError::CreateWarning(created.warnings.join("; ")));
        }
        if let Err(e) = self.docker.start_container::<String>(&name, None).await {
            self.force_remove(&name).await;
            return Err(port_error(&e, spec)
                .or_else(|| command_error(&e))
                .unwrap_or(RuntimeError::Docker(e)));
        }
        self.inspect(&spec.container_id).await
    }

    pub(super) async fn inspect(&self, id: &str) -> RuntimeResult<ContainerStatus> {
        Ok(self
            .inspect_owned(id)
            .await?
            .unwrap_or_else(|| ContainerStatus::missing(id)))
    }

    /// Inspects `yun-<id>` and returns it only if it belongs to this cluster and node.
    pub(super) async fn inspect_owned(&self, id: &str) -> RuntimeResult<Option<ContainerStatus>> {
        Ok(self
            .owned(id)
            .await?
            .map(|(labels, c)| status_from_inspect(id, &labels, &c)))
    }

    /// Docker's whole inspect answer for `yun-<id>`, and its labels, if it is ours.
    pub(super) async fn owned(
        &self,
        id: &str,
    ) -> RuntimeResult<
        Option<(
            HashMap<String, String>,
            bollard::models::ContainerInspectResponse,
        )>,
    > {
        self.owned_named(&docker_name(id)).await
    }

    /// The same for an engine name or id: only a container with this cluster's and node's
    /// labels is ours.
    async fn owned_named(
        &self,
        name: &str,
    ) -> RuntimeResult<
        Option<(
            HashMap<String, String>,
            bollard::models::ContainerInspectResponse,
        )>,
    > {
        let scope = self.scope()?;
        match self
            .docker
            .inspect_container(name, None::<InspectContainerOptions>)
            .await
        {
            Ok(c) => {
                let labels = c
                    .config
                    .as_ref()
                    .and_then(|cfg| cfg.labels.clone())
                    .unwrap_or_default();
                let ours = labels.get(LABEL_CLUSTER) == Some(&scope.cluster_id)
                    && labels.get(LABEL_NODE) == Some(&scope.node_id);
                Ok(ours.then_some((labels, c)))
            }
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// This cluster's containers on this node; `with_sizes` also measures each writable layer
    /// (the engine walks their files: only for the periodic disk check).
    pub(super) async fn list(&self, with_sizes: bool) -> RuntimeResult<Vec<ContainerStatus>> {
        let scope = self.scope()?;
        let filters = HashMap::from([(
            "label".to_string(),
            vec![
                format!("{LABEL_CLUSTER}={}", scope.cluster_id),
                format!("{LABEL_NODE}={}", scope.node_id),
            ],
        )]);
        let list = self
            .docker
            .list_containers(Some(ListContainersOptions {
                all: true,
                filters,
                size: with_sizes,
                ..Default::default()
            }))
            .await?;
        let mut statuses: Vec<ContainerStatus> =
            list.iter().filter_map(status_from_summary).collect();
        if with_sizes {
            // What a running container holds counts wherever it wrote: its layer, and files
            // it deleted but keeps open, which no walk of the layer sees.
            let running: Vec<Option<String>> = statuses
                .iter()
                .map(|s| (s.state == DockerState::Running).then(|| s.docker_id.clone()))
                .collect();
            let held = futures::stream::iter(running)
                .map(|docker_id| async move {
                    match docker_id {
                        Some(docker_id) => self.held_in_deleted_files(&docker_id).await,
                        None => 0,
                    }
                })
                .buffered(4)
                .collect::<Vec<u64>>()
                .await;
            for (status, held) in statuses.iter_mut().zip(held) {
                status.size_rw += held;
            }
        }
        Ok(statuses)
    }

    pub(super) async fn remove(&self, id: &str) -> RuntimeResult<()> {
        let scope = self.scope()?;
        let Some(status) = self.inspect_owned(id).await? else {
            return Ok(());
        };
        let container_lock = self.container_locks.get(id);
        let _container = container_lock.lock().await;
        self.force_remove(&docker_name(id)).await;
        let owner_lock = self.owner_locks.get(&status.owner_id);
        let _owner = owner_lock.write().await;
        self.remove_tenant_network_if_unused(&scope, &status.owner_id)
            .await;
        Ok(())
    }

    /// Removes one engine container by its Docker id (an orphan: whatever its name, and
    /// whatever its container label says), if it carries this cluster's and node's labels.
    pub(super) async fn remove_orphan(&self, docker_id: &str) -> RuntimeResult<()> {
        let scope = self.scope()?;
        let Some((labels, _)) = self.owned_named(docker_id).await? else {
            return Ok(());
        };
        self.force_remove(docker_id).await;
        if let Some(owner) = labels.get(LABEL_OWNER) {
            let owner_lock = self.owner_locks.get(owner);
            let _owner = owner_lock.write().await;
            self.remove_tenant_network_if_unused(&scope, owner).await;
        }
        Ok(())
    }

    pub(super) async fn force_remove(&self, name: &str) {
        let options = RemoveContainerOptions {
            force: true,
            v: true,
            ..Default::default()
        };
        match self.docker.remove_container(name, Some(options)).await {
            Ok(()) => {}
            Err(e) if is_not_found(&e) => {}
            Err(e) => tracing::warn!(container = name, error = %e, "could not remove container"),
        }
    }

    /// Whether the owner still has a container of this cluster and node.
    pub(super) async fn owner_has_containers(
        &self,
        scope: &super::Scope,
        owner: &str,
    ) -> RuntimeResult<bool> {
        let list = self
            .docker
            .list_containers(Some(ListContainersOptions {
                all: true,
                filters: super::network::owner_labels(scope, owner),
                limit: Some(1),
                ..Default::default()
            }))
            .await?;
        Ok(!list.is_empty())
    }
}

/// The Docker settings of one tenant container: limits, hardening, ports, network, log cap.
/// Public so the lifecycle benchmark can give Docker exactly what the worker gives it.
pub fn container_config(
    spec: &ContainerSpec,
    labels: HashMap<String, String>,
    network: &str,
    publish_address: std::net::IpAddr,
) -> Config<String> {
    let mut exposed = HashMap::new();
    let mut bindings = HashMap::new();
    for p in &spec.ports {
        let key = format!("{}/{}", p.container_port, p.protocol.as_str());
        exposed.insert(key.clone(), HashMap::new());
        bindings.insert(
            key,
            Some(vec![PortBinding {
                host_ip: Some(publish_address.to_string()),
                host_port: Some(p.host_port.to_string()),
            }]),
        );
    }
    let memory = spec.limits.memory_bytes as i64;
    let host_config = HostConfig {
        memory: Some(memory),
        // Swap equal to memory means no swap at all on top of the limit.
        memory_swap: Some(memory),
        cpu_period: Some(CPU_PERIOD_US),
        cpu_quota: Some(i64::from(spec.limits.cpu_millis) * CPU_PERIOD_US / 1000),
        pids_limit: Some(i64::from(spec.limits.pids)),
        privileged: Some(false),
        security_opt: Some(vec!["no-new-privileges:true".into()]),
        cap_drop: Some(DROPPED_CAPABILITIES.iter().map(|c| c.to_string()).collect()),
        network_mode: Some(network.to_string()),
        port_bindings: Some(bindings),
        publish_all_ports: Some(false),
        binds: None,
        mounts: None,
        // Read-only: the image's files cannot be changed; /tmp is a small tmpfs, counted in
        // the memory limit, where nothing can be executed.
        readonly_rootfs: Some(spec.read_only),
        tmpfs: spec.read_only.then(|| {
            HashMap::from([(
                "/tmp".to_string(),
                "rw,noexec,nosuid,nodev,size=64m".to_string(),
            )])
        }),
        log_config: Some(HostConfigLogConfig {
            typ: Some("json-file".into()),
            config: Some(HashMap::from([
                ("max-size".to_string(), "10m".to_string()),
                ("max-file".to_string(), "5".to_string()),
            ])),
        }),
        ..Default::default()
    };
    Config {
        image: Some(spec.image.clone()),
        cmd: (!spec.command.is_empty()).then(|| spec.command.clone()),
        env: Some(
            spec.env
                .iter()
                .map(|e| format!("{}={}", e.key, e.value))
                .collect(),
        ),
        labels: Some(labels),
        exposed_ports: Some(exposed),
        host_config: Some(host_config),
        networking_config: Some(NetworkingConfig {
            endpoints_config: HashMap::from([(network.to_string(), EndpointSettings::default())]),
        }),
        ..Default::default()
    }
}

/// Recognises Docker's "port is already allocated" / "address already in use" at start.
fn port_error(e: &bollard::errors::Error, spec: &ContainerSpec) -> Option<RuntimeError> {
    let msg = e.to_string();
    if !(msg.contains("port is already allocated") || msg.contains("address already in use")) {
        return None;
    }
    let port = spec
        .ports
        .iter()
        .map(|p| p.host_port)
        .find(|p| msg.contains(&format!(":{p} ")) || msg.contains(&format!(":{p}:")))
        .or_else(|| spec.ports.first().map(|p| p.host_port))?;
    Some(RuntimeError::PortUnavailable { port })
}

/// A start the runtime refused because the command is not there or not executable: the
/// renter's input, not the node's fault. Only the runtime's reason is kept.
fn command_error(e: &bollard::errors::Error) -> Option<RuntimeError> {
    let msg = e.to_string();
    let exec_failed = msg.contains("exec:") || msg.contains("exec format error");
    let reason = [
        "executable file not found",
        "no such file or directory",
        "permission denied",
        "exec format error",
        "is a directory",
    ]
    .into_iter()
    .find(|r| msg.contains(r))?;
    exec_failed.then(|| RuntimeError::CommandCannotRun(reason.to_string()))
}

fn docker_state(s: Option<ContainerStateStatusEnum>) -> DockerState {
    match s {
        Some(ContainerStateStatusEnum::RUNNING) => DockerState::Running,
        Some(ContainerStateStatusEnum::RESTARTING) => DockerState::Restarting,
        Some(ContainerStateStatusEnum::PAUSED) => DockerState::Paused,
        Some(ContainerStateStatusEnum::DEAD) => DockerState::Dead,
        Some(ContainerStateStatusEnum::CREATED) => DockerState::Created,
        _ => DockerState::Exited,
    }
}

fn status_from_inspect(
    id: &str,
    labels: &HashMap<String, String>,
    c: &ContainerInspectResponse,
) -> ContainerStatus {
    let state = c.state.as_ref();
    ContainerStatus {
        container_id: id.to_string(),
        owner_id: labels.get(LABEL_OWNER).cloned().unwrap_or_default(),
        state: docker_state(state.and_then(|s| s.status)),
        exit_code: state.and_then(|s| s.exit_code).unwrap_or(0),
        oom_killed: state.and_then(|s| s.oom_killed).unwrap_or(false),
        spec_hash: labels.get(LABEL_SPEC).cloned().unwrap_or_default(),
        docker_id: c.id.clone().unwrap_or_default(),
        docker_name: c
            .name
            .as_deref()
            .unwrap_or_default()
            .trim_start_matches('/')
            .to_string(),
        size_rw: c.size_rw.map_or(0, |s| s.max(0) as u64),
    }
}

fn status_from_summary(c: &ContainerSummary) -> Option<ContainerStatus> {
    let labels = c.labels.as_ref()?;
    let state = match c.state.as_deref() {
        Some("running") => DockerState::Running,
        Some("restarting") => DockerState::Restarting,
        Some("paused") => DockerState::Paused,
        Some("dead") => DockerState::Dead,
        Some("created") => DockerState::Created,
        _ => DockerState::Exited,
    };
    Some(ContainerStatus {
        // A container with this cluster's and node's labels but no container label is listed
        // too (with no id): the inventory shows it as an orphan.
        container_id: labels.get(LABEL_CONTAINER).cloned().unwrap_or_default(),
        owner_id: labels.get(LABEL_OWNER).cloned().unwrap_or_default(),
        state,
        // The summary carries no exit code; callers inspect when they need it.
        exit_code: 0,
        oom_killed: false,
        spec_hash: labels.get(LABEL_SPEC).cloned().unwrap_or_default(),
        docker_id: c.id.clone().unwrap_or_default(),
        docker_name: c
            .names
            .as_ref()
            .and_then(|n| n.first())
            .map(|n| n.trim_start_matches('/').to_string())
            .unwrap_or_default(),
        size_rw: c.size_rw.map_or(0, |s| s.max(0) as u64),
    })
}
