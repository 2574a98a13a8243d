//! Operators' routes: nodes, users (ban), the public image catalog.

use super::extract::{AdminUser, ApiJson, ApiQuery};
use super::images::{pull_into_catalog, PULL_ERRORS};
use super::paging::{self, PageQuery};
use crate::http::api_error::{ApiError, ApiResult};
use crate::http::state::AppState;
use crate::wire;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use std::collections::HashMap;
use utoipa_axum::{router::OpenApiRouter, routes};
use yun_api::accounts::UserAnswer;
use yun_api::admin::{
    NewAccount, Node, NodeAllocated, NodeCallFailure, NodeCalls, NodeCapacity, NodeList, NodeState,
    UserList,
};
use yun_api::images::{ImageAnswer, PullRequest};
use yun_api::ErrorCode;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(nodes))
        .routes(routes!(cordon))
        .routes(routes!(uncordon))
        .routes(routes!(users, create_user))
        .routes(routes!(ban))
        .routes(routes!(unban))
        .routes(routes!(add_public_image))
        .routes(routes!(remove_public_image))
}

pub(super) const ERRORS: &[(&str, &[ErrorCode])] = &[
    ("list_nodes", &[]),
    ("cordon_node", &[ErrorCode::NotFound]),
    ("uncordon_node", &[ErrorCode::NotFound]),
    ("list_users", &[]),
    ("create_user", &[ErrorCode::UsernameTaken]),
    ("ban_user", &[ErrorCode::NotFound, ErrorCode::CannotBanSelf]),
    (
        "unban_user",
        &[ErrorCode::NotFound, ErrorCode::CannotBanSelf],
    ),
    ("publish_image", PULL_ERRORS),
    ("unpublish_image", &[ErrorCode::NotFound]),
];

fn node_state(s: crate::nodes::NodeState) -> NodeState {
    use crate::nodes::NodeState as N;
    match s {
        N::Joining => NodeState::Joining,
        N::Ready => NodeState::Ready,
        N::Cordoned => NodeState::Cordoned,
        N::Down => NodeState::Down,
    }
}

/// The fleet: every node's state, capacity, what is allocated on it and its last heartbeat.
#[utoipa::path(get, path = "/admin/nodes", tag = "admin", operation_id = "list_nodes",
    params(PageQuery),
    responses((status = 200, description = "The nodes, by name", body = NodeList)))]
async fn nodes(
    State(state): State<AppState>,
    _: AdminUser,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<NodeList>> {
    let page = paging::page(q.limit, q.cursor.as_deref(), "nodes")?;
    let mut rows = state.store.nodes_page(&page).await?;
    let next_cursor = paging::finish(&mut rows, &page, "nodes", |n| n.name.clone());
    let allocations: HashMap<String, (u64, u64, u64)> = state
        .store
        .node_allocations()
        .await?
        .into_iter()
        .map(|(id, cpu, mem, n)| (id, (cpu, mem, n)))
        .collect();
    // A plaintext fleet's certificates are issued at joins but never shown on a connection.
    let certificates = if state.trust.plaintext() {
        HashMap::new()
    } else {
        state.store.node_certificate_expiry().await?
    };
    let nodes = rows
        .iter()
        .map(|n| {
            let lease = state.registry.get(&n.id);
            let node_state = lease
                .as_ref()
                .map(|l| node_state(state.registry.state_of(l)))
                .unwrap_or(NodeState::Down);
            let (cpu, mem, count) = allocations.get(&n.id).copied().unwrap_or((0, 0, 0));
            let calls = lease.as_ref().map_or_else(NodeCalls::default, |l| {
                let (total, failed, last) = l.client.calls().read();
                NodeCalls {
                    total,
                    failed,
                    last_failure: last.map(|f| NodeCallFailure {
                        method: f.method,
                        outcome: f.outcome.into(),
                        at: wire::rfc3339(f.at_unix_ms),
                    }),
                }
            });
            Node {
                id: n.id.clone(),
                name: n.name.clone(),
                state: node_state,
                advertise: n.advertise.clone(),
                public_host: n.public_host.clone(),
                port_range: format!("{}-{}", n.port_range.0, n.port_range.1),
                capacity: NodeCapacity {
                    cpu_cores: n.cpu_cores,
                    cpu_millis: (f64::from(n.cpu_cores) * 1000.0 * state.config.cpu_overcommit)
                        as u64,
                    memory_bytes: n.memory_bytes,
                },
                allocated: NodeAllocated {
                    cpu_millis: cpu,
                    memory_bytes: mem,
                },
                containers: count,
                reported_containers: lease.as_ref().map(|l| u64::from(l.container_count)),
                last_heartbeat: lease.map(|l| wire::rfc3339(l.last_heartbeat_unix_ms)),
                version: n.version.clone(),
                unenforced_limits: n.unenforced_limits.clone(),
                allow_unenforced_limits: n.allow_unenforced,
                public_host_is_console: state.console.is_named(&n.public_host),
                certificate_expires_at: certificates.get(&n.id).map(|ms| wire::rfc3339(*ms)),
                calls,
            }
        })
        .collect();
    Ok(Json(NodeList {
        cluster_id: state.cluster_id.clone(),
        ca_digest: format!("sha256:{}", state.trust.ca_digest()),
        insecure_plaintext: state.trust.plaintext(),
        heartbeat_interval_ms: state.registry.heartbeat_interval().as_millis() as u64,
        heartbeats_total: state.registry.heartbeats_total(),
        nodes,
        next_cursor,
    }))
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
#[utoipa::path(post, path = "/admin/nodes/{id}/cordon", tag = "admin", operation_id = "cordon_node",
    params(("id" = String, Path, description = "The node's id")),
    responses((status = 204, description = "The node takes nothing new")))]
async fn cordon(
    State(state): State<AppState>,
    _: AdminUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    set_cordon(&state, &id, true).await
}

/// The node takes new containers again.
#[utoipa::path(post, path = "/admin/nodes/{id}/uncordon", tag = "admin", operation_id = "uncordon_node",
    params(("id" = String, Path, description = "The node's id")),
    responses((status = 204, description = "The node takes new containers")))]
async fn uncordon(
    State(state): State<AppState>,
    _: AdminUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    set_cordon(&state, &id, false).await
}

/// Every account.
#[utoipa::path(get, path = "/admin/users", tag = "admin", operation_id = "list_users",
    params(PageQuery),
    responses((status = 200, description = "The users, in the order they registered", body = UserList)))]
async fn users(
    State(state): State<AppState>,
    _: AdminUser,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<UserList>> {
    let page = paging::page(q.limit, q.cursor.as_deref(), "users")?;
    let mut users = state.store.list_users(&page).await?;
    let next_cursor = paging::finish(&mut users, &page, "users", |u| u.id.clone());
    Ok(Json(UserList {
        users: users.iter().map(wire::user).collect(),
        next_cursor,
    }))
}

/// Opens an account for someone, whatever `--registration` says: how an operator who closed
/// registration lets a renter in. It gets the sign-up credits; its owner changes the password
/// on first login (`POST /me/password`).
#[utoipa::path(post, path = "/admin/users", tag = "admin", operation_id = "create_user",
    request_body = NewAccount,
    responses((status = 201, description = "The new account", body = UserAnswer)))]
async fn create_user(
    State(state): State<AppState>,
    AdminUser(a): AdminUser,
    ApiJson(n): ApiJson<NewAccount>,
) -> ApiResult<(StatusCode, Json<UserAnswer>)> {
    super::auth::acceptable_account(&n.username, &n.password)?;
    let user = super::auth::open_account(&state, &n.username, n.password, Some(&a.actor())).await?;
    tracing::info!(
        user = user.id,
        username = user.username,
        by = a.id,
        "account opened by an operator"
    );
    Ok((
        StatusCode::CREATED,
        Json(UserAnswer {
            user: wire::user(&user),
        }),
    ))
}

async fn set_ban(
    state: &AppState,
    admin: &yun_store::SessionUser,
    id: &str,
    banned: bool,
) -> ApiResult<Json<UserAnswer>> {
    if admin.id == id {
        return Err(ApiError::new(
            ErrorCode::CannotBanSelf,
            "you cannot ban your own account",
        ));
    }
    if !state.store.set_banned(&admin.actor(), id, banned).await? {
        return Err(ApiError::not_found("admin/user"));
    }
    let ended = if banned {
        state.streams.end_user(id)
    } else {
        0
    };
    tracing::info!(
        user = id,
        banned,
        by = admin.id,
        streams_ended = ended,
        "ban changed"
    );
    let user = state
        .store
        .user_by_id(id)
        .await?
        .ok_or_else(|| ApiError::not_found("admin/user"))?;
    Ok(Json(UserAnswer {
        user: wire::user(&user),
    }))
}

/// Bans an account: its sessions stop working and it can no longer log in.
#[utoipa::path(post, path = "/admin/users/{id}/ban", tag = "admin", operation_id = "ban_user",
    params(("id" = String, Path, description = "The user's id")),
    responses((status = 200, description = "The user", body = UserAnswer)))]
async fn ban(
    State(state): State<AppState>,
    AdminUser(a): AdminUser,
    Path(id): Path<String>,
) -> ApiResult<Json<UserAnswer>> {
    set_ban(&state, &a, &id, true).await
}

/// Lifts a ban.
#[utoipa::path(post, path = "/admin/users/{id}/unban", tag = "admin", operation_id = "unban_user",
    params(("id" = String, Path, description = "The user's id")),
    responses((status = 200, description = "The user", body = UserAnswer)))]
async fn unban(
    State(state): State<AppState>,
    AdminUser(a): AdminUser,
    Path(id): Path<String>,
) -> ApiResult<Json<UserAnswer>> {
    set_ban(&state, &a, &id, false).await
}

/// Adds an image to the public catalog. Unlike a user's pull, an image already on the node is
/// used as is ("if not present"): operators may publish images they loaded by hand.
#[utoipa::path(post, path = "/admin/images", tag = "admin", operation_id = "publish_image",
    request_body = PullRequest,
    responses((status = 201, description = "The catalog entry", body = ImageAnswer)))]
async fn add_public_image(
    State(state): State<AppState>,
    _: AdminUser,
    ApiJson(input): ApiJson<PullRequest>,
) -> ApiResult<(StatusCode, Json<ImageAnswer>)> {
    let image = pull_into_catalog(&state, "", &input.reference, false).await?;
    Ok((
        StatusCode::CREATED,
        Json(ImageAnswer {
            image: wire::image(&image),
        }),
    ))
}

/// Takes an image out of the public catalog.
#[utoipa::path(delete, path = "/admin/images/{id}", tag = "admin", operation_id = "unpublish_image",
    params(("id" = String, Path, description = "The image's id")),
    responses((status = 204, description = "The image is out of the catalog")))]
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
    crate::images::forget(&state.store, &state.registry, &image.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
