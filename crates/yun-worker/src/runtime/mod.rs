//! The seam between the worker and a container engine. The Docker implementation lives in
//! `docker/`; the gRPC layer only ever sees this trait.

pub mod docker;
#[cfg(feature = "sim")]
pub mod sim;

use futures::stream::BoxStream;
use std::future::Future;
pub use yun_core::node::{ContainerStatus, DockerState, ImageInfo, PullProgress};
use yun_core::ContainerSpec;

/// Which cluster and node this worker acts for; known once the master has accepted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub cluster_id: String,
    pub node_id: String,
    /// The operator's `allowed_registries`, which every hop of a pull is checked against.
    pub allowed_registries: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct EngineInfo {
    pub version: String,
    pub cpu_cores: u32,
    pub memory_bytes: u64,
    /// Limits this engine would silently drop: `memory`, `swap`, `cpu_quota`, `pids`.
    pub unenforced_limits: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogStream {
    Stdout,
    Stderr,
}

#[derive(Debug, Clone)]
pub struct LogChunk {
    pub stream: LogStream,
    pub data: bytes::Bytes,
    /// When the engine received it (RFC 3339 with nanoseconds); empty if unknown.
    pub ts: String,
}

impl LogChunk {
    /// The bytes it holds, for the budgets of batches and of what may wait.
    pub fn weight(&self) -> usize {
        self.data.len() + self.ts.len()
    }
}

#[derive(Debug, Clone, Copy)]
pub struct LogsQuery {
    /// `None` means every line.
    pub tail: Option<u32>,
    pub follow: bool,
    pub since_unix: i64,
}

/// The running process behind a container, whose cgroup and network counters are read directly.
#[derive(Debug, Clone)]
pub struct ContainerProcess {
    pub pid: u32,
    /// Docker's full id, which names the container's cgroup.
    pub docker_id: String,
}

/// A container's cumulative resource counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counters {
    pub cpu_usage_ns: u64,
    /// Usage less inactive file cache, as the docker CLI shows it.
    pub memory_bytes: u64,
    /// 0 when unlimited.
    pub memory_limit_bytes: u64,
    pub pids: u64,
    pub net_rx_bytes: u64,
    pub net_tx_bytes: u64,
    pub blk_read_bytes: u64,
    pub blk_write_bytes: u64,
}

/// A command running in a container, with a TTY or without one.
pub struct ExecSession {
    pub exec_id: String,
    pub output: BoxStream<'static, RuntimeResult<ExecChunk>>,
    pub input: std::pin::Pin<Box<dyn tokio::io::AsyncWrite + Send>>,
}

/// Output of an exec: with a TTY everything is `stderr: false`.
#[derive(Debug, Clone)]
pub struct ExecChunk {
    pub stderr: bool,
    pub data: bytes::Bytes,
}

/// Something that happened to one of this node's containers.
#[derive(Debug, Clone)]
pub struct ContainerEvent {
    pub container_id: String,
    /// `start`, `die`, `oom` or `destroy`.
    pub action: String,
    pub exit_code: i64,
    pub ts_unix_ms: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("the worker has not been accepted by the master yet; retry in a moment")]
    NotRegistered,
    #[error("this engine cannot enforce {0}; start the worker with --allow-unenforced-limits to run containers anyway")]
    LimitsUnenforced(String),
    #[error("container {container_id} already exists with a different spec")]
    SpecConflict { container_id: String },
    #[error("host port {port} cannot be bound on this node")]
    PortUnavailable { port: u16 },
    #[error("image {reference} is not on this node and could not be pulled: {message}")]
    ImageUnavailable { reference: String, message: String },
    #[error("the image {reference} is {} MiB by {seen}; images here may be {} MiB at most", size >> 20, limit >> 20)]
    ImageTooLarge {
        reference: String,
        size: u64,
        limit: u64,
        /// What told: its registry's manifest, its download, or its unpacked size.
        seen: &'static str,
    },
    #[error("container {0} does not exist on this node")]
    NotFound(String),
    #[error("the engine accepted the container with a warning, so it was removed: {0}")]
    CreateWarning(String),
    #[error("it holds {} MiB in its filesystem and its plan allows {} MiB, so it cannot start again: remove it, or run a new one on a plan with more disk", held >> 20, allowed >> 20)]
    OverDisk { held: u64, allowed: u64 },
    #[error("container {0} is not running; start it first")]
    NotRunning(String),
    #[error("this runtime cannot do that: {0}")]
    Unsupported(&'static str),
    #[error("the command cannot run in this image: {0}")]
    CommandCannotRun(String),
    #[error("no free subnet is left in the tenant pool {0}")]
    SubnetsExhausted(String),
    #[error("{0}; or start the worker with --allow-host-access to run containers without that protection")]
    HostShield(String),
    #[error("docker: {0}")]
    Docker(#[from] bollard::errors::Error),
}

pub type RuntimeResult<T> = Result<T, RuntimeError>;

/// Everything the worker asks of a container engine. Every operation is idempotent:
/// creating an existing container returns it, stopping a stopped one or removing a
/// missing one succeeds.
pub trait Runtime: Send + Sync + 'static {
    fn info(&self) -> impl Future<Output = RuntimeResult<EngineInfo>> + Send;
    fn set_scope(&self, scope: Scope);

    /// Pulls `reference`; `max_bytes` (0: no limit) is the most it may weigh, compressed or
    /// unpacked.
    fn pull_image(
        &self,
        reference: &str,
        always: bool,
        max_bytes: u64,
        progress: tokio::sync::mpsc::Sender<PullProgress>,
    ) -> impl Future<Output = RuntimeResult<ImageInfo>> + Send;
    /// Removes an image yun pulled (see `RemoveImageRequest`); never one a container uses.
    fn remove_image(
        &self,
        reference: &str,
        docker_id: &str,
    ) -> impl Future<Output = RuntimeResult<()>> + Send;

    fn create_container(
        &self,
        spec: &ContainerSpec,
    ) -> impl Future<Output = RuntimeResult<ContainerStatus>> + Send;
    fn start_container(
        &self,
        id: &str,
    ) -> impl Future<Output = RuntimeResult<ContainerStatus>> + Send;
    fn stop_container(
        &self,
        id: &str,
        timeout_seconds: u32,
    ) -> impl Future<Output = RuntimeResult<ContainerStatus>> + Send;
    fn restart_container(
        &self,
        id: &str,
        timeout_seconds: u32,
    ) -> impl Future<Output = RuntimeResult<ContainerStatus>> + Send;
    fn remove_container(&self, id: &str) -> impl Future<Output = RuntimeResult<()>> + Send;
    /// Removes one engine container by its Docker id, if it is this cluster's and node's.
    fn remove_orphan(&self, docker_id: &str) -> impl Future<Output = RuntimeResult<()>> + Send;
    fn inspect_container(
        &self,
        id: &str,
    ) -> impl Future<Output = RuntimeResult<ContainerStatus>> + Send;
    /// This cluster's containers here; `with_sizes` also measures their writable layers.
    fn list_containers(
        &self,
        with_sizes: bool,
    ) -> impl Future<Output = RuntimeResult<Vec<ContainerStatus>>> + Send;
    fn logs(
        &self,
        id: &str,
        query: LogsQuery,
    ) -> impl Future<Output = RuntimeResult<BoxStream<'static, RuntimeResult<LogChunk>>>> + Send;
    /// Events of this cluster's and node's containers, as they happen.
    fn events(&self) -> RuntimeResult<BoxStream<'static, RuntimeResult<ContainerEvent>>>;

    /// The container's main process, or None when it is not running.
    fn container_process(
        &self,
        id: &str,
    ) -> impl Future<Output = RuntimeResult<Option<ContainerProcess>>> + Send;
    /// One reading from the engine's own stats API: the fallback where cgroups cannot be read.
    fn engine_stats(
        &self,
        id: &str,
    ) -> impl Future<Output = RuntimeResult<Option<Counters>>> + Send;

    /// Starts `command` in a running container, with a TTY of `size` or (`tty` false) with
    /// stdout and stderr apart.
    fn exec(
        &self,
        id: &str,
        command: &[String],
        size: (u16, u16),
        tty: bool,
    ) -> impl Future<Output = RuntimeResult<ExecSession>> + Send;
    fn exec_resize(
        &self,
        exec_id: &str,
        size: (u16, u16),
    ) -> impl Future<Output = RuntimeResult<()>> + Send;
    /// The exit code of a finished exec.
    fn exec_exit_code(&self, exec_id: &str) -> impl Future<Output = RuntimeResult<i64>> + Send;
}
