//! WebSockets for the owner of a container: live stats and the exec console. Authentication
//! (bearer or cookie) and ownership are answered with 401 and 404 before any upgrade.

use super::containers::scope;
use super::extract::AuthUser;
use crate::containers::{self, check_command};
use crate::http::api_error::{ApiError, ApiResult};
use crate::http::state::AppState;
use crate::live::exec::{relay, ExecRequest};
use crate::live::stats::state_frame;
use axum::extract::ws::{
    rejection::WebSocketUpgradeRejection, Message, WebSocket, WebSocketUpgrade,
};
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use utoipa_axum::{router::OpenApiRouter, routes};
use yun_api::live::{
    ExecClientMessage, ExecServerMessage, StatsMessage, TerminalClientMessage,
    TerminalServerMessage,
};
use yun_api::ErrorCode;
use yun_core::ContainerState;
use yun_store::ContainerRow;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(stats))
        .routes(routes!(exec))
        .routes(routes!(terminal))
}

pub(super) const ERRORS: &[(&str, &[ErrorCode])] = &[
    (
        "container_stats",
        &[ErrorCode::NotFound, ErrorCode::WebsocketRequired],
    ),
    (
        "container_exec",
        &[
            ErrorCode::NotFound,
            ErrorCode::InvalidQuery,
            ErrorCode::InvalidInput,
            ErrorCode::NotRunning,
            ErrorCode::NodeUnavailable,
            ErrorCode::WebsocketRequired,
        ],
    ),
    (
        "container_terminal",
        &[
            ErrorCode::NotFound,
            ErrorCode::InvalidQuery,
            ErrorCode::InvalidInput,
            ErrorCode::NotRunning,
            ErrorCode::NodeUnavailable,
            ErrorCode::WebsocketRequired,
        ],
    ),
];

/// The server pings this often, so dead connections are found and proxies keep live ones.
const PING: Duration = Duration::from_secs(20);

fn upgrade(ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>) -> ApiResult<WebSocketUpgrade> {
    ws.map_err(|_| {
        ApiError::new(
            ErrorCode::WebsocketRequired,
            "open this URL as a WebSocket (Upgrade: websocket)",
        )
    })
}

/// Live stats (WebSocket): a `state` message first and on every change, a `stats` message
/// about once a second while it runs (text frames, one `StatsMessage` each).
#[utoipa::path(get, path = "/containers/{id}/stats", tag = "live", operation_id = "container_stats",
    params(("id" = String, Path, description = "The container's id")),
    responses((status = 101, description = "Switching to a WebSocket of `StatsMessage` text frames", body = StatsMessage)))]
async fn stats(
    State(state): State<AppState>,
    AuthUser(u): AuthUser,
    Path(id): Path<String>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> ApiResult<Response> {
    let row = containers::find(&state.containers, scope(&u), &id).await?;
    let guard = state.streams.open(&u);
    Ok(upgrade(ws)?.on_upgrade(move |socket| stats_socket(socket, state, row, guard)))
}

async fn stats_socket(
    mut socket: WebSocket,
    state: AppState,
    row: ContainerRow,
    guard: crate::live::sessions::StreamGuard,
) {
    let mut feed = state.stats.subscribe(&row);
    let first = state_frame(row.state, row.exit_code);
    if socket.send(Message::Text(first)).await.is_err() {
        return;
    }
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + PING, PING);
    loop {
        tokio::select! {
            frame = feed.recv() => match frame {
                Ok(f) => {
                    if socket.send(Message::Text(f)).await.is_err() {
                        return;
                    }
                }
                // A slow reader skips samples rather than holding the others back.
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => break,
            },
            _ = ping.tick() => {
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    return;
                }
            }
            msg = socket.recv() => match msg {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => {}
            },
            _ = guard.ended() => break,
        }
    }
    let _ = socket.send(Message::Close(None)).await;
}

fn exec_request(query: Option<&str>) -> ApiResult<ExecRequest> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query.unwrap_or("")).map_err(|e| {
            ApiError::new(
                ErrorCode::InvalidQuery,
                format!("the query is not valid: {e}"),
            )
        })?;
    let mut command = Vec::new();
    let (mut cols, mut rows) = (80u16, 24u16);
    let mut tty = true;
    for (k, v) in pairs {
        let size = |v: &str| {
            v.parse::<u16>()
                .ok()
                .filter(|n| (1..=1000).contains(n))
                .ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::InvalidQuery,
                        format!("{k}={v}: give a size from 1 to 1000"),
                    )
                })
        };
        match k.as_str() {
            "command" => command.push(v),
            "cols" => cols = size(&v)?,
            "rows" => rows = size(&v)?,
            "tty" => {
                tty = match v.as_str() {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    other => {
                        return Err(ApiError::new(
                            ErrorCode::InvalidQuery,
                            format!("tty={other} is not a flag; use tty=true or tty=false"),
                        )
                        .on("tty"))
                    }
                }
            }
            other => {
                return Err(ApiError::new(
                    ErrorCode::InvalidQuery,
                    format!("unknown parameter '{other}'; use command (repeated), cols, rows, tty"),
                ))
            }
        }
    }
    if command.is_empty() {
        command.push("/bin/sh".into());
    }
    check_command(&command)?;
    Ok(ExecRequest {
        command,
        cols,
        rows,
        tty,
    })
}

/// The console (WebSocket): a command in the running container. With a TTY (the default),
/// binary frames carry the terminal both ways and the client sends `{"type":"resize"}` text
/// frames. With `tty=false`, the server's binary frames start with one byte that tells the
/// stream (1 stdout, 2 stderr), the client's binary frames are stdin as they are, and
/// `{"type":"stdin_close"}` ends stdin. The server ends with `{"type":"exit","exit_code"}`.
/// `command` may repeat, one argument each.
#[utoipa::path(get, path = "/containers/{id}/exec", tag = "live", operation_id = "container_exec",
    params(("id" = String, Path, description = "The container's id"),
        ("command" = Option<Vec<String>>, Query, description = "The command, one argument each (default `/bin/sh`)"),
        ("cols" = Option<u16>, Query, description = "1 to 1000 (default 80)"),
        ("rows" = Option<u16>, Query, description = "1 to 1000 (default 24)"),
        ("tty" = Option<bool>, Query, description = "false: no TTY; stdout and stderr apart in tagged frames (default true)")),
    responses((status = 101, description = "Switching to the console's WebSocket; its text frames from the server are `ExecServerMessage`s, from the client `ExecClientMessage`s",
        content((ExecServerMessage = "application/json"), (ExecClientMessage = "application/vnd.yun.exec-client+json")))))]
async fn exec(
    State(state): State<AppState>,
    AuthUser(u): AuthUser,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> ApiResult<Response> {
    let c = open_console(&state, &u, &id, query.as_deref(), ws, Console::Exec).await?;
    Ok(c.ws.on_upgrade(move |socket| relay(socket, c.client, c.row.id, c.req, c.guard)))
}

/// The two consoles: the raw exec stream, and the browser's terminal (always with a TTY).
#[derive(Clone, Copy, PartialEq)]
enum Console {
    Exec,
    Terminal,
}

/// What both consoles start from.
struct ConsoleStart {
    row: ContainerRow,
    req: ExecRequest,
    client: std::sync::Arc<crate::nodes::WorkerClient>,
    ws: WebSocketUpgrade,
    guard: crate::live::sessions::StreamGuard,
}

/// The caller's running container, the command asked for and its node, checked in that order
/// before the upgrade (so refusals are plain HTTP answers); the stream then belongs to the
/// caller's session.
async fn open_console(
    state: &AppState,
    u: &yun_store::SessionUser,
    id: &str,
    query: Option<&str>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    kind: Console,
) -> ApiResult<ConsoleStart> {
    let row = containers::find(&state.containers, scope(u), id).await?;
    let req = exec_request(query)?;
    if kind == Console::Terminal && !req.tty {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            "the terminal always has a TTY; for tty=false use /exec",
        )
        .on("tty"));
    }
    let client = console_node(state, &row)?;
    let ws = upgrade(ws)?;
    let terminal = kind == Console::Terminal;
    tracing::info!(container = row.id, user = u.id, terminal, "console opened");
    let guard = state.streams.open(u);
    Ok(ConsoleStart {
        row,
        req,
        client,
        ws,
        guard,
    })
}

/// The node of a running container, for a console.
fn console_node(
    state: &AppState,
    row: &ContainerRow,
) -> ApiResult<std::sync::Arc<crate::nodes::WorkerClient>> {
    if row.state != ContainerState::Running {
        return Err(ApiError::new(
            ErrorCode::NotRunning,
            format!(
                "container {} is {}; start it before opening a console",
                row.id, row.state
            ),
        ));
    }
    Ok(containers::node_client(&state.containers, row)?)
}

/// The browser's terminal (WebSocket): the command runs with a TTY and its output goes through
/// a terminal emulator on the master; the server sends `TerminalServerMessage`s (the changed
/// rows of the screen as styled spans, the cursor, the input modes, then the exit code), the
/// client sends keys as binary frames (already encoded for the modes) and
/// `TerminalClientMessage`s (resize, scroll back). Same query as the console, without `tty`.
#[utoipa::path(get, path = "/containers/{id}/terminal", tag = "live", operation_id = "container_terminal",
    params(("id" = String, Path, description = "The container's id"),
        ("command" = Option<Vec<String>>, Query, description = "The command, one argument each (default `/bin/sh`)"),
        ("cols" = Option<u16>, Query, description = "1 to 1000 (default 80)"),
        ("rows" = Option<u16>, Query, description = "1 to 1000 (default 24)")),
    responses((status = 101, description = "Switching to the terminal's WebSocket; its text frames from the server are `TerminalServerMessage`s, from the client `TerminalClientMessage`s",
        content((TerminalServerMessage = "application/json"), (TerminalClientMessage = "application/vnd.yun.terminal-client+json")))))]
async fn terminal(
    State(state): State<AppState>,
    AuthUser(u): AuthUser,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> ApiResult<Response> {
    let c = open_console(&state, &u, &id, query.as_deref(), ws, Console::Terminal).await?;
    Ok(c.ws.on_upgrade(move |socket| {
        crate::live::terminal::relay(socket, c.client, c.row.id, c.req, c.guard)
    }))
}
