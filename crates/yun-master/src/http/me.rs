//! What a signed-in user manages about their own access: their login sessions (listed, ended
//! one by one), their password (changing it ends every other session), and personal access
//! tokens for scripts and CI (made with a name and an expiry, shown once, listed, revoked).

use super::extract::{ApiJson, AuthUser};
use crate::accounts::{hash_password, hash_token, new_access_token, policy, verify_password};
use crate::http::api_error::{ApiError, ApiResult};
use crate::http::state::AppState;
use crate::wire::rfc3339;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use utoipa_axum::{router::OpenApiRouter, routes};
use yun_api::accounts::{
    AccessToken, AccessTokenCreated, AccessTokenList, NewAccessToken, PasswordChange,
    PasswordChanged, Session, SessionList,
};
use yun_api::ErrorCode;
use yun_store::{AccessTokenRow, CredentialKind, SessionRow, SessionUser, TokenRefusal};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_sessions))
        .routes(routes!(end_session))
        .routes(routes!(change_password))
        .routes(routes!(create_access_token, list_access_tokens))
        .routes(routes!(revoke_access_token))
}

pub(super) const ERRORS: &[(&str, &[ErrorCode])] = &[
    ("list_sessions", &[ErrorCode::SessionRequired]),
    (
        "end_session",
        &[ErrorCode::SessionRequired, ErrorCode::NotFound],
    ),
    (
        "change_password",
        &[
            ErrorCode::SessionRequired,
            ErrorCode::WrongCredentials,
            ErrorCode::TooManyRequests,
        ],
    ),
    (
        "create_access_token",
        &[ErrorCode::SessionRequired, ErrorCode::QuotaExceeded],
    ),
    ("list_access_tokens", &[ErrorCode::SessionRequired]),
    (
        "revoke_access_token",
        &[ErrorCode::SessionRequired, ErrorCode::NotFound],
    ),
];

fn session(s: &SessionRow, idle_ms: i64, current: &str) -> Session {
    Session {
        id: s.id.clone(),
        created_at: rfc3339(s.created_at),
        last_used_at: rfc3339(s.last_used_at),
        expires_at: rfc3339(s.expires_at.min(s.last_used_at.saturating_add(idle_ms))),
        source: s.source.clone(),
        user_agent: s.user_agent.clone(),
        current: s.id == current,
    }
}

/// A leaked access token must not be able to mint more of itself or take the account.
fn session_required(u: &SessionUser, what: &str) -> ApiResult<()> {
    if u.kind == CredentialKind::AccessToken {
        return Err(ApiError::new(
            ErrorCode::SessionRequired,
            format!("{what} needs a login session, not an access token: log in with your password (yun login, or the console)"),
        ));
    }
    Ok(())
}

/// My live sessions, newest first; `current` marks the one asking.
#[utoipa::path(get, path = "/me/sessions", tag = "accounts", operation_id = "list_sessions",
    responses((status = 200, description = "My sessions", body = SessionList)))]
async fn list_sessions(
    State(state): State<AppState>,
    AuthUser(u): AuthUser,
) -> ApiResult<Json<SessionList>> {
    session_required(&u, "listing sessions")?;
    let idle = state.config.session_idle_ms();
    let rows = state.store.list_sessions(&u.id, idle).await?;
    Ok(Json(SessionList {
        sessions: rows.iter().map(|s| session(s, idle, &u.session)).collect(),
    }))
}

/// Ends one of my sessions (this one too, if named); its consoles and streams close at once.
#[utoipa::path(delete, path = "/me/sessions/{id}", tag = "accounts", operation_id = "end_session",
    params(("id" = String, Path, description = "The session's id")),
    responses((status = 204, description = "Ended")))]
async fn end_session(
    State(state): State<AppState>,
    AuthUser(u): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    session_required(&u, "ending a session")?;
    let why = if id == u.session {
        "ended by its owner".to_string()
    } else {
        format!("ended from session {}", u.session)
    };
    if !state
        .store
        .end_credential(CredentialKind::Session, &u.actor(), &u.id, &id, &why)
        .await?
    {
        return Err(ApiError::not_found("me/session"));
    }
    state.streams.end_session(&id);
    Ok(StatusCode::NO_CONTENT)
}

/// Changes my password, proved by the current one; every other session ends (with its
/// streams), this one stays. Access tokens stay (the answer counts them): revoke them
/// separately.
#[utoipa::path(post, path = "/me/password", tag = "accounts", operation_id = "change_password",
    request_body = PasswordChange,
    responses((status = 200, description = "Changed", body = PasswordChanged)))]
async fn change_password(
    State(state): State<AppState>,
    AuthUser(u): AuthUser,
    super::extract::ClientIp(source): super::extract::ClientIp,
    ApiJson(c): ApiJson<PasswordChange>,
) -> ApiResult<Json<PasswordChanged>> {
    session_required(&u, "changing the password")?;
    // Counted by this session alone: a stranger's guesses at the account do not stop its
    // owner changing the password, and a stolen session guesses no faster than a device.
    let by_session = format!("session:{}", u.session);
    let attempt = crate::accounts::throttle::Attempt::Known(&by_session);
    if let Some(wait) = state.login_throttle.wait(attempt) {
        return Err(ApiError::too_many(
            "too many wrong passwords for this account; try again later",
            wait,
        ));
    }
    let stored = state
        .store
        .user_by_id(&u.id)
        .await?
        .ok_or_else(ApiError::unauthorized)?
        .password_hash;
    if !verify_password(c.current_password, Some(stored)).await {
        super::auth::login_failed(&state, attempt, &u.username, Some(&u.id), source).await;
        return Err(
            ApiError::new(ErrorCode::WrongCredentials, "the current password is wrong")
                .on("current_password"),
        );
    }
    policy::check(&c.new_password, &u.username)
        .map_err(|e| ApiError::from(e).on("new_password"))?;
    let hash = hash_password(c.new_password)
        .await
        .map_err(ApiError::internal)?;
    let ended = state
        .store
        .change_password(&u.actor(), &u.id, &hash, &u.session)
        .await?;
    for id in &ended {
        state.streams.end_session(id);
    }
    tracing::info!(
        user = u.id,
        sessions_ended = ended.len(),
        "password changed"
    );
    let kept = state.store.list_access_tokens(&u.id).await?.len();
    Ok(Json(PasswordChanged {
        sessions_ended: u32::try_from(ended.len()).unwrap_or(u32::MAX),
        access_tokens_kept: u32::try_from(kept).unwrap_or(u32::MAX),
    }))
}

fn access_token(t: &AccessTokenRow) -> AccessToken {
    AccessToken {
        id: t.id.clone(),
        name: t.name.clone(),
        created_at: rfc3339(t.created_at),
        expires_at: rfc3339(t.expires_at),
        last_used_at: t.last_used_at.map(rfc3339),
    }
}

/// Makes a personal access token: `token` is in this answer only. Use it as
/// `Authorization: Bearer <token>`; it is never taken as a cookie.
#[utoipa::path(post, path = "/me/tokens", tag = "accounts", operation_id = "create_access_token",
    request_body = NewAccessToken,
    responses((status = 201, description = "Made; the token is shown this once", body = AccessTokenCreated)))]
async fn create_access_token(
    State(state): State<AppState>,
    AuthUser(u): AuthUser,
    ApiJson(t): ApiJson<NewAccessToken>,
) -> ApiResult<(StatusCode, Json<AccessTokenCreated>)> {
    session_required(&u, "making an access token")?;
    let name = t.name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(ApiError::new(
            ErrorCode::InvalidInput,
            "name the token in 1 to 64 printable characters, such as 'ci-deploy'",
        )
        .on("name"));
    }
    if !(1..=365).contains(&t.expires_in_days) {
        return Err(ApiError::new(
            ErrorCode::InvalidInput,
            "expires_in_days must be 1 to 365; make a new token when it runs out",
        )
        .on("expires_in_days"));
    }
    let token = new_access_token();
    let expires_at = yun_store::now_ms() + i64::from(t.expires_in_days) * 86_400_000;
    let row = match state
        .store
        .create_access_token(&u.actor(), &u.id, name, &hash_token(&token), expires_at)
        .await?
    {
        Ok(row) => row,
        Err(TokenRefusal::TooMany) => {
            return Err(ApiError::new(
                ErrorCode::QuotaExceeded,
                format!(
                    "you hold {} live access tokens, the most allowed; revoke one first",
                    yun_store::ACCESS_TOKENS_MAX
                ),
            ))
        }
    };
    tracing::info!(user = u.id, token = row.id, "access token made");
    Ok((
        StatusCode::CREATED,
        Json(AccessTokenCreated {
            token,
            access_token: access_token(&row),
        }),
    ))
}

/// My unexpired access tokens, newest first (never their secrets).
#[utoipa::path(get, path = "/me/tokens", tag = "accounts", operation_id = "list_access_tokens",
    responses((status = 200, description = "My tokens", body = AccessTokenList)))]
async fn list_access_tokens(
    State(state): State<AppState>,
    AuthUser(u): AuthUser,
) -> ApiResult<Json<AccessTokenList>> {
    session_required(&u, "listing access tokens")?;
    let rows = state.store.list_access_tokens(&u.id).await?;
    Ok(Json(AccessTokenList {
        access_tokens: rows.iter().map(access_token).collect(),
    }))
}

/// Revokes one of my access tokens; requests and streams using it stop at once.
#[utoipa::path(delete, path = "/me/tokens/{id}", tag = "accounts", operation_id = "revoke_access_token",
    params(("id" = String, Path, description = "The token's id")),
    responses((status = 204, description = "Revoked")))]
async fn revoke_access_token(
    State(state): State<AppState>,
    AuthUser(u): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    session_required(&u, "revoking an access token")?;
    if !state
        .store
        .end_credential(
            CredentialKind::AccessToken,
            &u.actor(),
            &u.id,
            &id,
            "revoked",
        )
        .await?
    {
        return Err(ApiError::not_found("me/token"));
    }
    state.streams.end_session(&id);
    Ok(StatusCode::NO_CONTENT)
}
