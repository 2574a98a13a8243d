//! The events stream (`GET /events`): container state changes as they happen.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A container's new state; `removed` when it is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventState {
    Creating,
    Running,
    Stopping,
    Stopped,
    Exited,
    Restarting,
    Suspended,
    Lost,
    Removing,
    Failed,
    Removed,
}

/// One change of one container: a text frame on the WebSocket, a line of the NDJSON stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContainerEvent {
    /// Increases with every event; pass the last one seen as `since` to resume.
    pub seq: i64,
    pub container_id: String,
    pub name: String,
    pub state: EventState,
    pub exit_code: Option<i64>,
    /// Why the platform changed it (e.g. a balance that ran out), when it did.
    pub status_reason: Option<String>,
    /// RFC 3339.
    pub at: String,
}
