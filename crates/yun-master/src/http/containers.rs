//! Container routes: parse, call `containers::*`, answer. Another user's container is a 404.

use super::extract::{ApiJson, ApiQuery, AuthUser};
use super::format::ndjson_chosen;
use super::paging;
use crate::containers::{self, CreateInput, LogFormat, LogsQuery, PortInput, RestartInput};
use crate::http::api_error::{ApiError, ApiResult};
use crate::http::state::AppState;
use crate::wire;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};
use yun_api::containers::{ContainerAnswer, ContainerList, CreateContainer, LogLine};
use yun_api::ErrorCode;
use yun_store::SessionUser;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(show, remove))
        .routes(routes!(start))
        .routes(routes!(stop))
        .routes(routes!(restart))
        .routes(routes!(logs))
}

/// What a power action on a container can meet.
const POWER_ERRORS: &[ErrorCode] = &[
    ErrorCode::NotFound,
    ErrorCode::InvalidState,
    ErrorCode::NodeUnavailable,
    ErrorCode::NodeRefused,
    ErrorCode::GoneFromNode,
];

pub(super) const ERRORS: &[(&str, &[ErrorCode])] = &[
    (
        "create_container",
        &[
            ErrorCode::InvalidHeader,
            ErrorCode::InsufficientBalance,
            ErrorCode::QuotaExceeded,
            ErrorCode::UnknownImage,
            ErrorCode::NameTaken,
            ErrorCode::PortTaken,
            ErrorCode::PortUnavailable,
            ErrorCode::PortOutOfRange,
            ErrorCode::NodeResources,
            ErrorCode::NodeRefused,
            ErrorCode::CommandCannotRun,
            ErrorCode::Conflict,
            ErrorCode::NoCapacity,
            ErrorCode::NoFreePort,
            ErrorCode::NodeUnavailable,
            ErrorCode::ShuttingDown,
        ],
    ),
    ("list_containers", &[]),
    ("show_container", &[ErrorCode::NotFound]),
    ("start_container", START_ERRORS),
    ("stop_container", POWER_ERRORS),
    ("restart_container", START_ERRORS),
    (
        "remove_container",
        &[
            ErrorCode::NotFound,
            ErrorCode::InvalidState,
            ErrorCode::NodeRefused,
        ],
    ),
    (
        "container_logs",
        &[ErrorCode::NotFound, ErrorCode::NodeUnavailable],
    ),
];

const START_ERRORS: &[ErrorCode] = &[
    ErrorCode::NotFound,
    ErrorCode::InvalidState,
    ErrorCode::InsufficientBalance,
    ErrorCode::NodeUnavailable,
    ErrorCode::NodeRefused,
    ErrorCode::GoneFromNode,
];

fn one(row: &yun_store::ContainerRow) -> Json<ContainerAnswer> {
    Json(wire::container_answer(row))
}

/// Admins act on any container; everyone else only on their own.
pub(super) fn scope(u: &SessionUser) -> Option<&str> {
    (!u.role.is_admin()).then_some(u.id.as_str())
}

/// The wire's create request as the create path takes it.
fn create_input(c: CreateContainer) -> CreateInput {
    CreateInput {
        image: c.image,
        name: c.name,
        plan: c.plan,
        command: c.command,
        env: c.env,
        ports: c.ports.map(|ps| {
            ps.into_iter()
                .map(|p| PortInput {
                    container_port: p.container_port,
                    host_port: p.host_port,
                    protocol: p.protocol,
                })
                .collect()
        }),
        restart_policy: c.restart_policy.map(|r| RestartInput {
            name: r.name,
            max_retries: r.max_retries,
        }),
        expires_in: c.expires_in,
        read_only: c.read_only.unwrap_or(false),
    }
}

/// Runs a container: admits (balance, quota), places it on a node, allocates its ports and
/// starts it. A repeat with the same `Idempotency-Key` answers the first container (200).
#[utoipa::path(post, path = "/containers", tag = "containers", operation_id = "create_container",
    params(("idempotency-key" = Option<String>, Header, description = "1 to 255 characters; a repeat with the same key makes nothing new")),
    request_body = CreateContainer,
    responses(
        (status = 201, description = "The container, running", body = ContainerAnswer),
        (status = 200, description = "The container an earlier request with this Idempotency-Key made", body = ContainerAnswer)))]
async fn create(
    State(state): State<AppState>,
    AuthUser(u): AuthUser,
    headers: HeaderMap,
    ApiJson(input): ApiJson<CreateContainer>,
) -> ApiResult<(StatusCode, Json<ContainerAnswer>)> {
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .map_err(|_| {
                    ApiError::new(
                        ErrorCode::InvalidHeader,
                        "Idempotency-Key must be plain text",
                    )
                    .on("Idempotency-Key")
                })?
                .to_string(),
        ),
    };
    let started = std::time::Instant::now();
    let created = containers::create(&state.containers, &u, create_input(input), key)
        .await
        .map_err(ApiError::from);
    let outcome = match &created {
        Ok((_, true)) => {
            state
                .metrics
                .placement_duration
                .observe(started.elapsed().as_secs_f64());
            "placed".to_string()
        }
        Ok((_, false)) => "repeated".to_string(),
        Err(e) => e.code.as_str().to_string(),
    };
    state
        .metrics
        .placements
        .get_or_create(&crate::metrics::OutcomeLabels { outcome })
        .inc();
    let (row, made) = created?;
    // A repeat of an earlier request made nothing new.
    let status = if made {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, one(&row)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    /// Operators: every user's containers.
    all: Option<bool>,
    /// Only containers in this state (`running`, `exited`, …).
    state: Option<String>,
    /// 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// The previous page's `next_cursor`.
    cursor: Option<String>,
}

/// The caller's containers in the order they were made, a page at a time (operators:
/// `?all=true` for everyone's), optionally only those in one `state`.
#[utoipa::path(get, path = "/containers", tag = "containers", operation_id = "list_containers",
    params(ListQuery),
    responses((status = 200, description = "The containers", body = ContainerList)))]
async fn list(
    State(state): State<AppState>,
    AuthUser(u): AuthUser,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<ContainerList>> {
    let all = q.all.unwrap_or(false) && u.role.is_admin();
    let wanted = match q.state.as_deref() {
        None => None,
        Some(s) => Some(yun_core::ContainerState::parse(s).ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidQuery,
                format!("state={s} is not a container state; use one of creating, running, stopping, stopped, exited, restarting, suspended, lost, removing, failed"),
            )
            .on("state")
        })?),
    };
    let page = paging::page(q.limit, q.cursor.as_deref(), "containers")?;
    let mut rows = state
        .store
        .list_containers((!all).then_some(u.id.as_str()), wanted, &page)
        .await?;
    let next_cursor = paging::finish(&mut rows, &page, "containers", |r| r.id.clone());
    Ok(Json(ContainerList {
        containers: rows.iter().map(wire::container).collect(),
        next_cursor,
    }))
}

/// One container, as its node sees it now.
#[utoipa::path(get, path = "/containers/{id}", tag = "containers", operation_id = "show_container",
    params(("id" = String, Path, description = "The container's id")),
    responses((status = 200, description = "The container", body = ContainerAnswer)))]
async fn show(
    State(state): State<AppState>,
    AuthUser(u): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<ContainerAnswer>> {
    let row = containers::find(&state.containers, scope(&u), &id).await?;
    let row = containers::refresh(&state.containers, row).await;
    Ok(one(&row))
}

/// Starts a stopped, exited or suspended container (paying its first interval ahead).
#[utoipa::path(post, path = "/containers/{id}/start", tag = "containers", operation_id = "start_container",
    params(("id" = String, Path, description = "The container's id")),
    responses((status = 200, description = "The container", body = ContainerAnswer)))]
async fn start(
    State(state): State<AppState>,
    AuthUser(u): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<ContainerAnswer>> {
    Ok(one(
        &containers::start(&state.containers, scope(&u), &id).await?
    ))
}

/// Stops a container; its unused paid seconds come back.
#[utoipa::path(post, path = "/containers/{id}/stop", tag = "containers", operation_id = "stop_container",
    params(("id" = String, Path, description = "The container's id")),
    responses((status = 200, description = "The container", body = ContainerAnswer)))]
async fn stop(
    State(state): State<AppState>,
    AuthUser(u): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<ContainerAnswer>> {
    Ok(one(
        &containers::stop(&state.containers, scope(&u), &id).await?
    ))
}

/// Restarts a container.
#[utoipa::path(post, path = "/containers/{id}/restart", tag = "containers", operation_id = "restart_container",
    params(("id" = String, Path, description = "The container's id")),
    responses((status = 200, description = "The container", body = ContainerAnswer)))]
async fn restart(
    State(state): State<AppState>,
    AuthUser(u): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<ContainerAnswer>> {
    Ok(one(
        &containers::restart(&state.containers, scope(&u), &id).await?
    ))
}

/// Removes a container, frees its ports and refunds its deposit: 204 when it is gone; 202 with
/// the container (now `removing`) when its node is down and the removal finishes once the node
/// is back.
#[utoipa::path(delete, path = "/containers/{id}", tag = "containers", operation_id = "remove_container",
    params(("id" = String, Path, description = "The container's id")),
    responses(
        (status = 204, description = "The container is gone"),
        (status = 202, description = "Its node is down; it is removed when the node returns", body = ContainerAnswer)))]
async fn remove(
    State(state): State<AppState>,
    AuthUser(u): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    match containers::remove(&state.containers, scope(&u), &id).await? {
        containers::Removal::Done => Ok(StatusCode::NO_CONTENT.into_response()),
        containers::Removal::Deferred => {
            let row = containers::find(&state.containers, scope(&u), &id).await?;
            Ok((StatusCode::ACCEPTED, one(&row)).into_response())
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct LogsParams {
    /// The last N lines, or `all` (the default).
    tail: Option<String>,
    /// Keep the answer open and send lines as they are written.
    follow: Option<String>,
    /// Answer as a file (`<name>.log`).
    download: Option<String>,
    /// `raw` (the default) or `ndjson`: one JSON object a line, telling stdout from stderr;
    /// `Accept: application/x-ndjson` chooses it too.
    format: Option<String>,
}

fn flag(v: &Option<String>, name: &str) -> ApiResult<bool> {
    match v.as_deref() {
        None | Some("0") | Some("false") => Ok(false),
        Some("") | Some("1") | Some("true") => Ok(true),
        Some(other) => Err(ApiError::new(
            ErrorCode::InvalidQuery,
            format!("{name}={other} is not a flag; use {name}=true or {name}=false"),
        )
        .on(name)),
    }
}

/// The container's output, streamed as it is written with `follow=true`.
#[utoipa::path(get, path = "/containers/{id}/logs", tag = "containers", operation_id = "container_logs",
    params(("id" = String, Path, description = "The container's id"), LogsParams,
        ("accept" = Option<String>, Header, description = "`application/x-ndjson` for NDJSON")),
    responses((status = 200, description = "The log, as text or one `LogLine` a line",
        content(
            (String = "text/plain"),
            (LogLine = "application/x-ndjson")))))]
async fn logs(
    State(state): State<AppState>,
    AuthUser(u): AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiQuery(p): ApiQuery<LogsParams>,
) -> ApiResult<Response> {
    let format = if ndjson_chosen(p.format.as_deref(), "raw", &headers)? {
        LogFormat::Ndjson
    } else {
        LogFormat::Raw
    };
    let tail = match p.tail.as_deref() {
        None | Some("all") => None,
        Some(n) => Some(n.parse::<u32>().map_err(|_| {
            ApiError::new(
                ErrorCode::InvalidQuery,
                format!("tail={n} is not a number of lines; use e.g. tail=100 or tail=all"),
            )
            .on("tail")
        })?),
    };
    let query = LogsQuery {
        tail,
        follow: flag(&p.follow, "follow")?,
    };
    let download = flag(&p.download, "download")?;
    let (row, stream) =
        containers::open_logs(&state.containers, scope(&u), &id, query, format).await?;
    // A followed log ends with its session.
    let guard = state.streams.open(&u);
    let stream = futures::StreamExt::take_until(stream, guard.into_ended());
    let mut resp = Response::new(Body::from_stream(stream));
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(match format {
            LogFormat::Raw => "text/plain; charset=utf-8",
            LogFormat::Ndjson => "application/x-ndjson",
        }),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Proxies such as nginx would otherwise hold a followed stream back.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    if download {
        let disposition = format!("attachment; filename=\"{}.log\"", row.name);
        headers.insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_str(&disposition).map_err(ApiError::internal)?,
        );
    }
    Ok(resp)
}
