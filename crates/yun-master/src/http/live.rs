//! WebSockets for the owner of a container: live stats and the exec console. Authentication
//! (bearer or cookie) and ownership are answered with 401 and 404 before any upgrade.

use super::containers::scope;
use super::extract::AuthUser;
use crate::containers::{self, check_command};
use crate::error::{ApiError, ApiResult};
use crate::live::exec::{relay, ExecRequest};
use crate::live::stats::state_frame;
use crate::state::AppState;
use crate::store::ContainerRow;
use axum::extract::ws::{
    rejection::WebSocketUpgradeRejection, Message, WebSocket, WebSocketUpgrade,
};
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use yun_core::ContainerState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/containers/{id}/stats", get(stats))
        .route("/containers/{id}/exec", get(exec))
}

/// The server pings this often, so dead connections are found and proxies keep live ones.
const PING: Duration = Duration::from_secs(20);

fn upgrade(ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>) -> ApiResult<WebSocketUpgrade> {
    ws.map_err(|_| {
        ApiError::new(
            StatusCode::UPGRADE_REQUIRED,
            "websocket_required",
            "open this URL as a WebSocket (Upgrade: websocket)",
        )
    })
}

async fn stats(
    State(state): State<AppState>,
    AuthUser(u): AuthUser,
    Path(id): Path<String>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> ApiResult<Response> {
    let row = containers::find(&state, scope(&u), &id).await?;
    Ok(upgrade(ws)?.on_upgrade(move |socket| stats_socket(socket, state, row)))
}

async fn stats_socket(mut socket: WebSocket, state: AppState, row: ContainerRow) {
    let mut feed = state.stats.subscribe(&state, &row);
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
        }
    }
    let _ = socket.send(Message::Close(None)).await;
}

fn exec_request(query: Option<&str>) -> ApiResult<ExecRequest> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query.unwrap_or("")).map_err(|e| {
            ApiError::bad_request("invalid_query", format!("the query is not valid: {e}"))
        })?;
    let mut command = Vec::new();
    let (mut cols, mut rows) = (80u16, 24u16);
    for (k, v) in pairs {
        let size = |v: &str| {
            v.parse::<u16>()
                .ok()
                .filter(|n| (1..=1000).contains(n))
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "invalid_query",
                        format!("{k}={v}: give a size from 1 to 1000"),
                    )
                })
        };
        match k.as_str() {
            "command" => command.push(v),
            "cols" => cols = size(&v)?,
            "rows" => rows = size(&v)?,
            other => {
                return Err(ApiError::bad_request(
                    "invalid_query",
                    format!("unknown parameter '{other}'; use command (repeated), cols, rows"),
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
    })
}

/// `GET /containers/{id}/exec?command=sh&command=-c&command=…&cols=&rows=` as a WebSocket.
async fn exec(
    State(state): State<AppState>,
    AuthUser(u): AuthUser,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> ApiResult<Response> {
    let row = containers::find(&state, scope(&u), &id).await?;
    let req = exec_request(query.as_deref())?;
    if row.state != ContainerState::Running {
        return Err(ApiError::conflict(
            "not_running",
            format!(
                "container {} is {}; start it before opening a console",
                row.id, row.state
            ),
        ));
    }
    let client = containers::node_client(&state, &row)?;
    let ws = upgrade(ws)?;
    tracing::info!(container = row.id, user = u.id, "console opened");
    Ok(ws.on_upgrade(move |socket| relay(socket, client, row.id, req)))
}
