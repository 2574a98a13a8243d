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

#[derive(Debug, Clone)]
pub struct ContainerStatus {
    pub container_id: String,
    pub owner_id: String,
    pub state: DockerState,
    pub exit_code: i64,
    pub oom_killed: bool,
    pub spec_hash: String,
    pub docker_id: String,
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
