//! Accounts: register, log in (a bearer token and an HttpOnly cookie), log out, who am I.

use super::extract::{session_token, ApiJson, AuthUser};
use super::wire;
use crate::accounts::{
    hash_password, hash_token, new_token, verify_password, SESSION_COOKIE, SESSION_TTL_MS,
};
use crate::http::api_error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, request::Parts, StatusCode};
use axum::response::{AppendHeaders, IntoResponse};
use axum::Json;
use utoipa_axum::{router::OpenApiRouter, routes};
use yun_api::accounts::{Credentials, LoginAnswer, UserAnswer};
use yun_api::ErrorCode;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
}

pub(super) const ERRORS: &[(&str, &[ErrorCode])] = &[
    ("register", &[ErrorCode::UsernameTaken]),
    (
        "login",
        &[ErrorCode::WrongCredentials, ErrorCode::AccountBanned],
    ),
    ("logout", &[ErrorCode::Unauthorized]),
    ("me", &[]),
];

/// Opens an account with the sign-up credits.
#[utoipa::path(post, path = "/auth/register", tag = "accounts", security(()),
    request_body = Credentials,
    responses((status = 201, description = "The new account", body = UserAnswer)))]
async fn register(
    State(state): State<AppState>,
    ApiJson(c): ApiJson<Credentials>,
) -> ApiResult<(StatusCode, Json<UserAnswer>)> {
    yun_core::validate::username(&c.username)?;
    yun_core::validate::password(&c.password)?;
    let hash = hash_password(c.password)
        .await
        .map_err(ApiError::internal)?;
    let user = state
        .store
        .create_user(
            &c.username,
            &hash,
            "user",
            state.config.pricing.signup_credits,
        )
        .await
        .map_err(|e| match e {
            crate::store::StoreError::Conflict(m) => {
                ApiError::new(ErrorCode::UsernameTaken, m).on("username")
            }
            other => other.into(),
        })?;
    tracing::info!(
        user = user.id,
        username = user.username,
        "account registered"
    );
    Ok((
        StatusCode::CREATED,
        Json(UserAnswer {
            user: wire::user(&user),
        }),
    ))
}

/// Starts a session: a bearer token in the body, the same as an HttpOnly, SameSite=Strict cookie.
#[utoipa::path(post, path = "/auth/login", tag = "accounts", security(()),
    request_body = Credentials,
    responses((status = 200, description = "A new session", body = LoginAnswer,
        headers(("set-cookie" = String, description = "The session cookie (HttpOnly, SameSite=Strict)")))))]
async fn login(
    State(state): State<AppState>,
    ApiJson(c): ApiJson<Credentials>,
) -> ApiResult<impl IntoResponse> {
    let user = state.store.user_by_name(&c.username).await?;
    let ok = verify_password(c.password, user.as_ref().map(|u| u.password_hash.clone())).await;
    let Some(user) = user.filter(|_| ok) else {
        return Err(ApiError::new(
            ErrorCode::WrongCredentials,
            "wrong username or password",
        ));
    };
    if user.banned {
        return Err(banned());
    }
    let token = new_token();
    state
        .store
        .create_session(&hash_token(&token), &user.id, SESSION_TTL_MS)
        .await?;
    let cookie = format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
        SESSION_TTL_MS / 1000
    );
    Ok((
        AppendHeaders([(header::SET_COOKIE, cookie)]),
        Json(LoginAnswer {
            token,
            user: wire::user(&user),
        }),
    ))
}

pub(super) fn banned() -> ApiError {
    ApiError::new(
        ErrorCode::AccountBanned,
        "this account is banned; contact the operator",
    )
}

/// Ends the caller's session and clears the cookie.
#[utoipa::path(post, path = "/auth/logout", tag = "accounts",
    responses((status = 204, description = "The session is over")))]
async fn logout(State(state): State<AppState>, parts: Parts) -> ApiResult<impl IntoResponse> {
    let token = session_token(&parts).ok_or_else(ApiError::unauthorized)?;
    state.store.delete_session(&hash_token(&token)).await?;
    let clear = format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    Ok((
        AppendHeaders([(header::SET_COOKIE, clear)]),
        StatusCode::NO_CONTENT,
    ))
}

/// The signed-in user, with the balance.
#[utoipa::path(get, path = "/me", tag = "accounts",
    responses((status = 200, description = "The caller", body = UserAnswer)))]
async fn me(State(state): State<AppState>, AuthUser(u): AuthUser) -> ApiResult<Json<UserAnswer>> {
    let user = state
        .store
        .user_by_id(&u.id)
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    Ok(Json(UserAnswer {
        user: wire::user(&user),
    }))
}
