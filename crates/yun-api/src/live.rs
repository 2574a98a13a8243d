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

/// Text messages the terminal (`GET /containers/{id}/terminal`) sends: the screen as the
/// master's terminal emulator sees it, a few at most every 16 ms, each with only the rows that
/// changed (the first, and the one after a resize or a scroll, has them all).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum TerminalServerMessage {
    Screen(ScreenUpdate),
    /// The command ended.
    Exit {
        exit_code: i64,
    },
    /// The terminal could not start or broke off.
    Error {
        message: String,
    },
}

/// What changed on the screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScreenUpdate {
    pub cols: u16,
    pub rows: u16,
    /// Changed rows, each whole.
    pub lines: Vec<ScreenLine>,
    pub cursor: TerminalCursor,
    /// How keys must be sent now.
    pub modes: TerminalModes,
    /// How many rows back the view is scrolled (0: the live screen), of how many kept.
    pub scrollback: u32,
    pub scrollback_available: u32,
    /// The window title the program set, if any.
    pub title: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScreenLine {
    pub row: u16,
    pub spans: Vec<ScreenSpan>,
}

/// A run of cells with the same look. Colours are `iN` (the 256-colour palette) or `#rrggbb`;
/// absent means the default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScreenSpan {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fg: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bg: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub bold: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub italic: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub underline: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub inverse: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TerminalCursor {
    pub row: u16,
    pub col: u16,
    pub visible: bool,
}

/// The emulator's input modes: the page encodes keys by them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TerminalModes {
    /// Arrow keys send `ESC O A` rather than `ESC [ A`.
    pub application_cursor: bool,
    /// The keypad sends application sequences.
    pub application_keypad: bool,
    /// A paste is wrapped in `ESC [200~` … `ESC [201~`.
    pub bracketed_paste: bool,
    /// A full-screen program (an editor, `top`) has the alternate screen; there is no
    /// scrollback there.
    pub alternate_screen: bool,
}

/// Text messages the terminal takes (keys travel in binary frames, already encoded).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum TerminalClientMessage {
    /// The page's new size in cells.
    Resize { cols: u16, rows: u16 },
    /// Show the screen `offset` rows back in the scrollback (0: live).
    Scroll { offset: u32 },
}
