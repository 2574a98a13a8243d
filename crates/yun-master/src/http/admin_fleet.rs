//! Operators' routes for the fleet's trust: join tokens (made, listed, revoked) and forgetting
//! a node, which revokes its certificates.

use super::extract::{AdminUser, ApiJson};
use crate::http::api_error::{ApiError, ApiResult};
use crate::http::state::AppState;
use crate::nodes::tokens;
use crate::wire;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use std::time::Duration;
use utoipa_axum::{router::OpenApiRouter, routes};
use yun_api::admin::{
    Forgotten, JoinToken, JoinTokenCreated, JoinTokenList, JoinTokenState, NewJoinToken,
};
use yun_api::ErrorCode;
use yun_store::{ForgetRefusal, JoinTokenRow};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_join_token, list_join_tokens))
        .routes(routes!(revoke_join_token))
        .routes(routes!(forget_node))
}

pub(super) const ERRORS: &[(&str, &[ErrorCode])] = &[
    ("create_join_token", &[ErrorCode::InvalidInput]),
    ("list_join_tokens", &[]),
    ("revoke_join_token", &[ErrorCode::NotFound]),
    (
        "forget_node",
        &[ErrorCode::NotFound, ErrorCode::InvalidState],
    ),
];

fn join_token(row: &JoinTokenRow) -> JoinToken {
    let now = yun_store::now_ms();
    let state = if row.revoked_at.is_some() {
        JoinTokenState::Revoked
    } else if row.expires_at <= now {
        JoinTokenState::Expired
    } else if row.max_uses.is_some_and(|m| row.uses >= m) {
        JoinTokenState::UsedUp
    } else {
        JoinTokenState::Active
    };
    JoinToken {
        id: row.id.clone(),
        state,
        created_by: row.created_by.clone(),
        created_at: wire::rfc3339(row.created_at),
        expires_at: wire::rfc3339(row.expires_at),
        max_uses: row.max_uses,
        uses: row.uses,
    }
}

/// A token for `yun worker --join-token`: the cluster CA's digest and a secret. The whole
/// token is in this answer only; the master keeps a hash of the secret.
#[utoipa::path(post, path = "/admin/join-tokens", tag = "admin", operation_id = "create_join_token",
    request_body = NewJoinToken,
    responses((status = 201, description = "The token, shown this once", body = JoinTokenCreated)))]
async fn create_join_token(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiJson(ask): ApiJson<NewJoinToken>,
) -> ApiResult<(StatusCode, Json<JoinTokenCreated>)> {
    let ttl = ask
        .ttl_seconds
        .map_or(tokens::DEFAULT_TTL, Duration::from_secs);
    tokens::check(ttl, ask.uses).map_err(|m| {
        let field = if ask.uses == Some(0) {
            "uses"
        } else {
            "ttl_seconds"
        };
        ApiError::new(ErrorCode::InvalidInput, m).on(field)
    })?;
    let (token, row) =
        tokens::create(&state.store, &state.trust, &admin.username, ttl, ask.uses).await?;
    Ok((
        StatusCode::CREATED,
        Json(JoinTokenCreated {
            token,
            join_token: join_token(&row),
        }),
    ))
}

/// Every join token, newest first, with what is left of it; never a secret.
#[utoipa::path(get, path = "/admin/join-tokens", tag = "admin", operation_id = "list_join_tokens",
    responses((status = 200, description = "The tokens", body = JoinTokenList)))]
async fn list_join_tokens(
    State(state): State<AppState>,
    _: AdminUser,
) -> ApiResult<Json<JoinTokenList>> {
    let rows = state.store.join_tokens().await?;
    Ok(Json(JoinTokenList {
        join_tokens: rows.iter().map(join_token).collect(),
    }))
}

/// No worker can join with the token any more; nodes that joined with it stay.
#[utoipa::path(delete, path = "/admin/join-tokens/{id}", tag = "admin", operation_id = "revoke_join_token",
    params(("id" = String, Path, description = "The token's id")),
    responses((status = 204, description = "Revoked")))]
async fn revoke_join_token(
    State(state): State<AppState>,
    _: AdminUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    if !state.store.revoke_join_token(&id).await? {
        return Err(ApiError::not_found("admin/join-token"));
    }
    tracing::info!(token = id, "revoked a join token");
    Ok(StatusCode::NO_CONTENT)
}

/// Forgets a node that will not return: every master refuses its certificates from now on,
/// the master stops calling it, its name may join again with a new token, and its lost
/// containers are removed with their ports, their owners refunded (deposit and unused paid
/// time, in the ledger). A node that still answers, or still reports containers that are not
/// lost, is refused.
#[utoipa::path(post, path = "/admin/nodes/{id}/forget", tag = "admin", operation_id = "forget_node",
    params(("id" = String, Path, description = "The node's id")),
    responses((status = 200, description = "Forgotten; its certificates revoked, its lost containers removed and refunded", body = Forgotten)))]
async fn forget_node(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Forgotten>> {
    let down = state.registry.ready_client(&id).is_none();
    match state.store.forget_node(&admin.actor(), &id, down).await? {
        Ok(done) => {
            state.trust.revoke(done.revoked.iter().cloned());
            state.registry.forget(&id);
            tracing::warn!(
                node = id,
                revoked = done.revoked.len(),
                containers = done.removed.len(),
                refunded = done.refunded,
                "forgot a node: certificates revoked, lost containers removed and refunded"
            );
            Ok(Json(Forgotten {
                node_id: id,
                revoked_certificates: done.revoked,
                removed_containers: done.removed.into_iter().map(|(c, _)| c).collect(),
                refunded: done.refunded,
            }))
        }
        Err(ForgetRefusal::Unknown) => Err(ApiError::not_found("admin/node")),
        Err(refusal @ ForgetRefusal::HasContainers(_)) => Err(ApiError::new(
            ErrorCode::InvalidState,
            format!(
                "{refusal}; a node is forgotten only when it is down (its containers lost): stop its worker first, or remove its containers"
            ),
        )),
    }
}
