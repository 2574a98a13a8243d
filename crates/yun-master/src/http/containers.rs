//! Container routes: parse, call `containers::*`, answer. Another user's container is a 404.

use super::extract::{accepts_ndjson, ApiJson, AuthUser};
use crate::containers::{self, ContainerView, CreateInput, LogFormat, LogsQuery};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::SessionUser;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/containers", post(create).get(list))
        .route("/containers/{id}", get(show).delete(remove))
        .route("/containers/{id}/start", post(start))
        .route("/containers/{id}/stop", post(stop))
        .route("/containers/{id}/restart", post(restart))
        .route("/containers/{id}/logs", get(logs))
}

fn one(row: &crate::store::ContainerRow) -> Json<Value> {
    Json(json!({ "container": ContainerView::from(row) }))
}

/// Admins act on any container; everyone else only on their own.
pub(super) fn scope(u: &SessionUser) -> Option<&str> {
    (u.role != "admin").then_some(u.id.as_str())
}

async fn create(
    State(state): State<AppState>,
    AuthUser(u): AuthUser,
    headers: HeaderMap,
    ApiJson(input): ApiJson<CreateInput>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .map_err(|_| {
                    ApiError::bad_request("invalid_header", "Idempotency-Key must be plain text")
                })?
                .to_string(),
        ),
    };
    let (row, made) = containers::create(&state, &u, input, key).await?;
    // A repeat of an earlier request made nothing new.
    let status = if made {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, one(&row)))
}

#[derive(Deserialize)]
struct ListQuery {
    all: Option<bool>,
}

async fn list(
    State(state): State<AppState>,
    AuthUser(u): AuthUser,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    let all = q.all.unwrap_or(false) && u.role == "admin";
    let rows = state
        .store
        .list_containers((!all).then_some(u.id.as_str()))
        .await?;
    let views: Vec<ContainerView> = rows.iter().map(ContainerView::from).collect();
    Ok(Json(json!({ "containers": views })))
}

async fn show(
    State(state): State<AppState>,
    AuthUser(u): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let row = containers::find(&state, scope(&u), &id).await?;
    let row = containers::refresh(&state, row).await;
    Ok(one(&row))
}

async fn start(
    State(state): State<AppState>,
    AuthUser(u): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(one(&containers::start(&state, scope(&u), &id).await?))
}

async fn stop(
    State(state): State<AppState>,
    AuthUser(u): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(one(&containers::stop(&state, scope(&u), &id).await?))
}

async fn restart(
    State(state): State<AppState>,
    AuthUser(u): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(one(&containers::restart(&state, scope(&u), &id).await?))
}

/// 204 when the container is gone; 202 with the container (now `removing`) when its node is
/// down and the removal finishes once the node is back.
async fn remove(
    State(state): State<AppState>,
    AuthUser(u): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    match containers::remove(&state, scope(&u), &id).await? {
        containers::Removal::Done => Ok(StatusCode::NO_CONTENT.into_response()),
        containers::Removal::Deferred => {
            let row = containers::find(&state, scope(&u), &id).await?;
            Ok((StatusCode::ACCEPTED, one(&row)).into_response())
        }
    }
}

#[derive(Deserialize)]
struct LogsParams {
    tail: Option<String>,
    follow: Option<String>,
    download: Option<String>,
    /// `ndjson`: one JSON object per line with its stream; also chosen by
    /// `Accept: application/x-ndjson`.
    format: Option<String>,
}

fn flag(v: &Option<String>, name: &str) -> ApiResult<bool> {
    match v.as_deref() {
        None | Some("0") | Some("false") => Ok(false),
        Some("") | Some("1") | Some("true") => Ok(true),
        Some(other) => Err(ApiError::bad_request(
            "invalid_query",
            format!("{name}={other} is not a flag; use {name}=true or {name}=false"),
        )),
    }
}

async fn logs(
    State(state): State<AppState>,
    AuthUser(u): AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(p): Query<LogsParams>,
) -> ApiResult<Response> {
    let format = match p.format.as_deref() {
        None if accepts_ndjson(&headers) => LogFormat::Ndjson,
        None | Some("raw") => LogFormat::Raw,
        Some("ndjson") => LogFormat::Ndjson,
        Some(other) => {
            return Err(ApiError::bad_request(
                "invalid_query",
                format!("format={other} is not known; use format=raw or format=ndjson"),
            ))
        }
    };
    let tail = match p.tail.as_deref() {
        None | Some("all") => None,
        Some(n) => Some(n.parse::<u32>().map_err(|_| {
            ApiError::bad_request(
                "invalid_query",
                format!("tail={n} is not a number of lines; use e.g. tail=100 or tail=all"),
            )
        })?),
    };
    let query = LogsQuery {
        tail,
        follow: flag(&p.follow, "follow")?,
    };
    let download = flag(&p.download, "download")?;
    let (row, stream) = containers::open_logs(&state, scope(&u), &id, query, format).await?;
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
