//! Messages of the WebSockets: live stats and the console.

use crate::containers::ContainerState;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What `GET /containers/{id}/stats` sends: a `state` first and on every change, a `stats`
/// about once a second while it runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum StatsMessage {
    State {
        state: ContainerState,
        exit_code: Option<i64>,
    },
    Stats(StatsFrame),
}

/// One sample (the fields of a `stats` message beside its `type`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StatsFrame {
    /// Unix milliseconds of the sample.
    pub ts: i64,
    /// 100 = one core.
    pub cpu_percent: f64,
    /// 100 = the plan's whole CPU.
    pub cpu_limit_percent: f64,
    /// Usage less inactive file cache, as the docker CLI shows it.
    pub memory_bytes: u64,
    pub memory_limit_bytes: u64,
    pub pids: u64,
    pub net_rx_bytes: u64,
    pub net_tx_bytes: u64,
    pub blk_read_bytes: u64,
    pub blk_write_bytes: u64,
    /// Where the numbers came from: `cgroup-v2`, `cgroup-v1` or `docker-api`.
    pub source: String,
}

/// Text messages the console sends (the terminal itself travels in binary frames).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ExecServerMessage {
    /// The command ended.
    Exit { exit_code: i64 },
    /// The console could not start or broke off.
    Error { message: String },
}

/// Text messages the console takes (keys travel in binary frames).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ExecClientMessage {
    /// The terminal's new size (with a TTY).
    Resize { cols: u16, rows: u16 },
    /// No more stdin: the command sees end of input.
    StdinClose,
}
