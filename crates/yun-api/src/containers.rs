//! Containers: what a create asks for, and a container as its owner sees it.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// `POST /containers`: what to run.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateContainer {
    /// An image id, or a reference in the public catalog or among the caller's own images.
    #[schema(min_length = 1, max_length = 255, example = "nginx:1.27")]
    pub image: String,
    /// Unique among the caller's containers; made up when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$", example = "web")]
    pub name: Option<String>,
    /// A plan's name (`GET /plans`); the default plan when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
    /// The command and its arguments (at most 256, each under 4 KiB); the image's own when
    /// left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 256)]
    pub command: Option<Vec<String>>,
    /// At most 128 variables; names of letters, digits and `_`, not starting with a digit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<BTreeMap<String, String>>,
    /// Left out: the image's exposed ports are published. `[]`: nothing is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 32)]
    pub ports: Option<Vec<PortRequest>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_policy: Option<RestartPolicyRequest>,
    /// Seconds the container may live (60 to a year); then it is removed and its deposit
    /// refunded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 60, maximum = 31_622_400)]
    pub expires_in: Option<i64>,
    /// Run with a read-only root filesystem: the image's files cannot be changed, and a
    /// 64 MiB `/tmp` (memory, counted in the plan's) is the only writable place. Off when left
    /// out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PortRequest {
    #[schema(minimum = 1, maximum = 65535, example = 80)]
    pub container_port: i64,
    /// A host port from the node's range; any free one when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 65535)]
    pub host_port: Option<i64>,
    /// `tcp` (the default) or `udp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^(tcp|udp)$")]
    pub protocol: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestartPolicyRequest {
    /// `no` or `on-failure`.
    #[schema(pattern = "^(no|on-failure)$")]
    pub name: String,
    /// For `on-failure`: 1 to 100 (default 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 100)]
    pub max_retries: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    Tcp,
    Udp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContainerState {
    Creating,
    Running,
    Stopping,
    Stopped,
    Exited,
    Restarting,
    /// Stopped by the platform because the balance could not pay; starts again after a top-up.
    Suspended,
    /// Its node is down; it is re-attached when the node returns, never recreated elsewhere.
    Lost,
    Removing,
    Failed,
}

impl ContainerState {
    /// Every state, in the order a container meets them.
    pub const ALL: [ContainerState; 10] = [
        Self::Creating,
        Self::Running,
        Self::Stopping,
        Self::Stopped,
        Self::Exited,
        Self::Restarting,
        Self::Suspended,
        Self::Lost,
        Self::Removing,
        Self::Failed,
    ];

    /// The state as it appears on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Creating => "creating",
            Self::Running => "running",
            Self::Stopping => "stopping",
            Self::Stopped => "stopped",
            Self::Exited => "exited",
            Self::Restarting => "restarting",
            Self::Suspended => "suspended",
            Self::Lost => "lost",
            Self::Removing => "removing",
            Self::Failed => "failed",
        }
    }
}

impl std::fmt::Display for ContainerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DesiredState {
    Running,
    Stopped,
    Removed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Container {
    pub id: String,
    pub name: String,
    /// The image reference it was created from.
    pub image: String,
    pub plan: String,
    /// The node's name.
    pub node: String,
    pub state: ContainerState,
    pub desired_state: DesiredState,
    pub ports: Vec<Port>,
    /// The command it runs; empty: the image's own.
    pub command: Vec<String>,
    /// Its environment, as given at its create.
    pub env: BTreeMap<String, String>,
    /// The last exit code, when it is not running.
    pub exit_code: Option<i64>,
    /// The last exit was the kernel killing it for using more memory than its plan has (its
    /// `exit_code` is then 137). (Absent from masters before it: false.)
    #[serde(default)]
    pub oom_killed: bool,
    /// Its root filesystem is read-only (a small writable `/tmp` beside it).
    #[serde(default)]
    pub read_only: bool,
    pub restart_policy: RestartPolicy,
    /// Why the platform stopped it (e.g. a balance that ran out), when it did.
    pub status_reason: Option<String>,
    pub billing: ContainerBilling,
    /// RFC 3339: when its lifetime ends and it is removed, if it has one.
    pub expires_at: Option<String>,
    /// RFC 3339.
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Port {
    pub container_port: u16,
    pub host_port: u16,
    pub protocol: Protocol,
    /// `<node public host>:<host port>`: where the service is reached.
    pub endpoint: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestartPolicy {
    /// `no` or `on-failure`.
    pub name: String,
    pub max_retries: u32,
    /// Automatic restarts since the last deliberate start.
    pub restarts: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContainerBilling {
    pub price_per_hour: i64,
    /// Held while the container exists; refunded on removal.
    pub deposit: i64,
    /// Seconds it has run (time spent stopped or lost is free).
    pub run_seconds: i64,
    /// Credits charged for running so far, net of refunds (paid in advance per interval).
    pub charged: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContainerAnswer {
    pub container: Container,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContainerList {
    pub containers: Vec<Container>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// One line of `GET /containers/{id}/logs?format=ndjson`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogLine {
    pub stream: LogStream,
    /// When the engine received the line (RFC 3339 with nanoseconds).
    pub ts: String,
    /// The line without its newline; a line over 64 KiB comes in pieces.
    pub line: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LogStream {
    Stdout,
    Stderr,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_read_as_on_the_wire() {
        for state in ContainerState::ALL {
            assert_eq!(serde_json::to_value(state).unwrap(), state.as_str());
        }
    }
}
