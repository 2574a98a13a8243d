//! `GET /events`: the caller's container state changes as they happen (operators: everyone's
//! with `all=true`), over a WebSocket or as an NDJSON stream, resumable with `since`.

use super::extract::{ApiQuery, AuthUser};
use crate::http::api_error::{ApiError, ApiResult};
use crate::http::state::AppState;
use crate::wire;
use axum::body::Body;
use axum::extract::ws::{
    rejection::WebSocketUpgradeRejection, Message, WebSocket, WebSocketUpgrade,
};
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::time::Duration;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};
use yun_api::events::{ContainerEvent, EventState};
use yun_api::ErrorCode;
use yun_store::{EventRow, SessionUser};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(events))
}

pub(super) const ERRORS: &[(&str, &[ErrorCode])] = &[("container_events", &[])];

/// How many stored events a request without `follow` answers at most.
const BACKLOG: i64 = 1000;
const PING: Duration = Duration::from_secs(20);

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct EventsQuery {
    /// Operators: every user's containers.
    all: Option<bool>,
    /// Only events after this `seq` (the last one seen), to resume; events are kept an hour.
    #[param(minimum = 0)]
    since: Option<i64>,
    /// NDJSON: keep the answer open and send events as they happen (a WebSocket always does).
    /// Without it the stored events after `since` are answered and the stream ends.
    follow: Option<bool>,
}

fn event_state(s: &str) -> EventState {
    use yun_core::ContainerState as S;
    match S::parse(s) {
        Some(S::Creating) => EventState::Creating,
        Some(S::Running) => EventState::Running,
        Some(S::Stopping) => EventState::Stopping,
        Some(S::Stopped) => EventState::Stopped,
        Some(S::Exited) => EventState::Exited,
        Some(S::Restarting) => EventState::Restarting,
        Some(S::Suspended) => EventState::Suspended,
        Some(S::Lost) => EventState::Lost,
        Some(S::Removing) => EventState::Removing,
        Some(S::Failed) => EventState::Failed,
        // The trigger writes `removed` when the row goes.
        None => EventState::Removed,
    }
}

fn event(row: &EventRow) -> ContainerEvent {
    ContainerEvent {
        seq: row.seq,
        container_id: row.container_id.clone(),
        name: row.name.clone(),
        state: event_state(&row.state),
        exit_code: row.exit_code,
        status_reason: row.status_reason.clone(),
        at: wire::rfc3339(row.at),
    }
}

/// Whose events a caller sees: their own, or (an operator asking for all) everyone's.
fn owner(u: &SessionUser, all: bool) -> Option<String> {
    (!(all && u.role.is_admin())).then(|| u.id.clone())
}

/// Whether a caller who sees `owner`'s events (None: everyone's) sees this one.
fn visible(owner: &Option<String>, row: &EventRow) -> bool {
    owner.as_ref().is_none_or(|o| *o == row.owner_id)
}

fn json(row: &EventRow) -> String {
    serde_json::to_string(&event(row)).expect("an event is plain JSON")
}

fn line(row: &EventRow) -> bytes::Bytes {
    (json(row) + "\n").into()
}

/// Container state changes: over a WebSocket (text frames, one `ContainerEvent` each), or as
/// NDJSON, one a line. `since` resumes after the last event seen.
#[utoipa::path(get, path = "/events", tag = "live", operation_id = "container_events",
    params(EventsQuery),
    responses(
        (status = 200, description = "Events as NDJSON, one `ContainerEvent` a line", content_type = "application/x-ndjson", body = ContainerEvent),
        (status = 101, description = "Switching to a WebSocket of `ContainerEvent` text frames", body = ContainerEvent)))]
async fn events(
    State(state): State<AppState>,
    AuthUser(u): AuthUser,
    ApiQuery(q): ApiQuery<EventsQuery>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> ApiResult<Response> {
    if q.since.is_some_and(|s| s < 0) {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            "since is the seq of an event you have seen, 0 or more",
        )
        .on("since"));
    }
    let owner = owner(&u, q.all.unwrap_or(false));
    if let Ok(ws) = ws {
        let sub = state.events.subscribe(q.since).await?;
        let guard = state.streams.open(&u);
        return Ok(ws.on_upgrade(move |socket| socket_loop(socket, sub, owner, guard)));
    }
    let body = if q.follow.unwrap_or(false) {
        let mut sub = state.events.subscribe(q.since).await?;
        let guard = state.streams.open(&u);
        let stream = async_stream::stream! {
            loop {
                match sub.next().await {
                    Ok(row) if visible(&owner, &row) => {
                        yield Ok::<_, std::io::Error>(line(&row));
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "events stream");
                        break;
                    }
                }
            }
        };
        Body::from_stream(futures::StreamExt::take_until(stream, guard.into_ended()))
    } else {
        let rows = state
            .store
            .events_after(q.since.unwrap_or(0), BACKLOG)
            .await?;
        let mut out = Vec::new();
        for row in rows.iter().filter(|r| visible(&owner, r)) {
            out.extend_from_slice(&line(row));
        }
        Body::from(out)
    };
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(resp)
}

async fn socket_loop(
    mut socket: WebSocket,
    mut sub: crate::live::events::Subscription,
    owner: Option<String>,
    guard: crate::live::sessions::StreamGuard,
) {
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + PING, PING);
    loop {
        tokio::select! {
            row = sub.next() => match row {
                Ok(row) if visible(&owner, &row) => {
                    if socket.send(Message::Text(json(&row).into())).await.is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "events socket");
                    break;
                }
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
