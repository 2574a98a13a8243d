//! What a node's engine reports of one container: the worker's answer and the master's
//! reading of it (the protobuf form is converted in `yun-proto`).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DockerState {
    Created,
    Running,
    Restarting,
    Exited,
    Paused,
    Dead,
    Missing,
}

impl DockerState {
    pub const ALL: [DockerState; 7] = [
        Self::Created,
        Self::Running,
        Self::Restarting,
        Self::Exited,
        Self::Paused,
        Self::Dead,
        Self::Missing,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Running => "running",
            Self::Restarting => "restarting",
            Self::Exited => "exited",
            Self::Paused => "paused",
            Self::Dead => "dead",
            Self::Missing => "missing",
        }
    }

    /// The state named by `as_str`; a name no engine state has reads as `missing`.
    pub fn parse(s: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .unwrap_or(Self::Missing)
    }
}

/// The one limit an engine may leave unenforced without its node refusing containers: the
/// master measures each container's writable layer and stops one over its plan's disk.
pub const DISK_LIMIT: &str = "disk";

/// Of the limits an engine cannot enforce, those that make its node refuse containers (unless
/// the operator allows them).
pub fn limits_that_refuse(unenforced: &[String]) -> Vec<&str> {
    unenforced
        .iter()
        .map(String::as_str)
        .filter(|l| *l != DISK_LIMIT)
        .collect()
}

#[derive(Debug, Clone)]
pub struct ContainerStatus {
    pub container_id: String,
    pub owner_id: String,
    pub state: DockerState,
    pub exit_code: i64,
    pub oom_killed: bool,
    pub spec_hash: String,
    pub docker_id: String,
    /// The engine's name for it: `yun-<container id>` for the one its record owns; a
    /// container that carries the label under another name is not that record's.
    pub docker_name: String,
    /// Bytes in its writable layer, when the inventory was asked to measure (else 0).
    pub size_rw: u64,
}

impl ContainerStatus {
    pub fn missing(container_id: &str) -> Self {
        Self {
            container_id: container_id.to_string(),
            owner_id: String::new(),
            state: DockerState::Missing,
            exit_code: 0,
            oom_killed: false,
            spec_hash: String::new(),
            docker_id: String::new(),
            docker_name: String::new(),
            size_rw: 0,
        }
    }
}

/// A piece of a container's output as its node read it.
#[derive(Debug, Clone)]
pub struct LogChunk {
    pub stderr: bool,
    /// When the engine received it (RFC 3339 with nanoseconds); empty if unknown.
    pub ts: String,
    pub data: Vec<u8>,
}

/// One live sample of a container, as its node read it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatsSample {
    pub ts_unix_ms: i64,
    /// 100 = one full core.
    pub cpu_percent: f64,
    /// Usage less inactive file cache (the docker CLI's figure).
    pub memory_bytes: u64,
    pub memory_limit_bytes: u64,
    pub pids: u64,
    pub net_rx_bytes: u64,
    pub net_tx_bytes: u64,
    pub blk_read_bytes: u64,
    pub blk_write_bytes: u64,
    /// `cgroup-v2`, `cgroup-v1` or `docker-api`.
    pub source: String,
    pub running: bool,
}

/// An image on a node.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageInfo {
    pub reference: String,
    pub docker_id: String,
    pub size_bytes: u64,
    /// `(port, protocol)` pairs from the image's EXPOSE lines.
    pub exposed_ports: Vec<(u16, String)>,
    /// Fetched from a registry by this pull (false: it was on the host already).
    pub pulled: bool,
}

/// A step of a pull, in the engine's words.
#[derive(Debug, Clone, PartialEq)]
pub struct PullProgress {
    pub status: String,
    pub layer: String,
    pub current: u64,
    pub total: u64,
    /// Bytes fetched from the registry by the pull so far.
    pub downloaded: u64,
}

/// What a pull under way says: progress, then the image once it is on the host.
#[derive(Debug, Clone, PartialEq)]
pub enum PullUpdate {
    Progress(PullProgress),
    Done(ImageInfo),
}

/// What a console sends its node.
#[derive(Debug, Clone, PartialEq)]
pub enum ExecInput {
    /// Always first: which container, what to run, and the terminal (None: no TTY).
    Start {
        container_id: String,
        command: Vec<String>,
        terminal: Option<(u16, u16)>,
    },
    Stdin(Vec<u8>),
    Resize {
        cols: u16,
        rows: u16,
    },
    /// End of input: the command reads end of file.
    StdinClose,
}

/// What a console's node sends back.
#[derive(Debug, Clone, PartialEq)]
pub enum ExecOutput {
    /// Output; without a TTY `stderr` tells the streams apart.
    Data { stderr: bool, data: Vec<u8> },
    /// The command ended.
    Exited { exit_code: i64 },
}
