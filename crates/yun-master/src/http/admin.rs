//! Operators' routes: nodes, users (ban), the public image catalog.

use super::auth::user_json;
use super::extract::{AdminUser, ApiJson};
use super::images::{image_json, pull_into_catalog, PullInput};
use crate::containers::view::rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::HashMap;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/nodes", get(nodes))
        .route("/admin/nodes/{id}/cordon", post(cordon))
        .route("/admin/nodes/{id}/uncordon", post(uncordon))
        .route("/admin/users", get(users))
        .route("/admin/users/{id}/ban", post(ban))
        .route("/admin/users/{id}/unban", post(unban))
        .route("/admin/images", post(add_public_image))
        .route("/admin/images/{id}", delete(remove_public_image))
}

async fn nodes(State(state): State<AppState>, _: AdminUser) -> ApiResult<Json<Value>> {
    let rows = state.store.list_nodes().await?;
    let allocations: HashMap<String, (u64, u64, u64)> = state
        .store
        .node_allocations()
        .await?
        .into_iter()
        .map(|(id, cpu, mem, n)| (id, (cpu, mem, n)))
        .collect();
    let nodes: Vec<Value> = rows
        .iter()
        .map(|n| {
            let lease = state.registry.get(&n.id);
            let node_state = lease
                .as_ref()
                .map(|l| state.registry.state_of(l).as_str())
                .unwrap_or("down");
            let (cpu, mem, count) = allocations.get(&n.id).copied().unwrap_or((0, 0, 0));
            json!({
                "id": n.id,
                "name": n.name,
                "state": node_state,
                "advertise": n.advertise,
                "public_host": n.public_host,
                "port_range": format!("{}-{}", n.port_range.0, n.port_range.1),
                "capacity": {
                    "cpu_cores": n.cpu_cores,
                    "cpu_millis": (f64::from(n.cpu_cores) * 1000.0 * state.config.cpu_overcommit) as u64,
                    "memory_bytes": n.memory_bytes,
                },
                "allocated": {"cpu_millis": cpu, "memory_bytes": mem},
                "containers": count,
                // What the node itself last reported holding, to compare with the store's count.
                "reported_containers": lease.as_ref().map(|l| l.container_count),
                "last_heartbeat": lease.map(|l| rfc3339(l.last_heartbeat_unix_ms)),
                "version": n.version,
                "unenforced_limits": n.unenforced_limits,
                "allow_unenforced_limits": n.allow_unenforced,
            })
        })
        .collect();
    Ok(Json(
        json!({ "cluster_id": state.cluster_id, "heartbeat_interval_ms": state.registry.heartbeat_interval().as_millis() as u64,
            "heartbeats_total": state.registry.heartbeats_total(), "nodes": nodes }),
    ))
}

async fn set_cordon(state: &AppState, id: &str, cordoned: bool) -> ApiResult<StatusCode> {
    if !state.store.set_cordoned(id, cordoned).await? {
        return Err(ApiError::not_found("admin/node"));
    }
    state.registry.set_cordoned(id, cordoned);
    tracing::info!(node = id, cordoned, "cordon changed");
    Ok(StatusCode::NO_CONTENT)
}

/// A cordoned node keeps running what it has and takes nothing new.
async fn cordon(
    State(state): State<AppState>,
    _: AdminUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    set_cordon(&state, &id, true).await
}

async fn uncordon(
    State(state): State<AppState>,
    _: AdminUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    set_cordon(&state, &id, false).await
}

async fn users(State(state): State<AppState>, _: AdminUser) -> ApiResult<Json<Value>> {
    let users = state.store.list_users().await?;
    Ok(Json(
        json!({ "users": users.iter().map(user_json).collect::<Vec<_>>() }),
    ))
}

async fn set_ban(state: &AppState, admin: &str, id: &str, banned: bool) -> ApiResult<Json<Value>> {
    if admin == id {
        return Err(ApiError::conflict(
            "cannot_ban_self",
            "you cannot ban your own account",
        ));
    }
    if !state.store.set_banned(id, banned).await? {
        return Err(ApiError::not_found("admin/user"));
    }
    tracing::info!(user = id, banned, by = admin, "ban changed");
    let user = state
        .store
        .user_by_id(id)
        .await?
        .ok_or_else(|| ApiError::not_found("admin/user"))?;
    Ok(Json(json!({ "user": user_json(&user) })))
}

async fn ban(
    State(state): State<AppState>,
    AdminUser(a): AdminUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    set_ban(&state, &a.id, &id, true).await
}

async fn unban(
    State(state): State<AppState>,
    AdminUser(a): AdminUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    set_ban(&state, &a.id, &id, false).await
}

/// Adds an image to the public catalog. Unlike a user's pull, an image already on the node is
/// used as is ("if not present"): operators may publish images they loaded by hand.
async fn add_public_image(
    State(state): State<AppState>,
    _: AdminUser,
    ApiJson(input): ApiJson<PullInput>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let image = pull_into_catalog(&state, "", &input.reference, false).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "image": image_json(&image) })),
    ))
}

async fn remove_public_image(
    State(state): State<AppState>,
    _: AdminUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let image = state
        .store
        .image_by_id(&id)
        .await?
        .filter(|i| i.owner_id.is_empty())
        .ok_or_else(|| ApiError::not_found("admin/image"))?;
    state.store.delete_image(&image.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
