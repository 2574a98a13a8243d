//! Accounts: register, log in (a bearer token for scripts, or the console's HttpOnly cookie),
//! log out, who am I.

use super::extract::{session_token, ApiJson, AuthUser};
use super::origin;
use super::wire;
use crate::accounts::{hash_password, hash_token, new_token, verify_password, SESSION_COOKIE};
use crate::http::api_error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, request::Parts, StatusCode};
use axum::response::{AppendHeaders, IntoResponse, Response};
use axum::Json;
use utoipa_axum::{router::OpenApiRouter, routes};
use yun_api::accounts::{Credentials, LoginAnswer, LoginResult, SessionMode, UserAnswer};
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
        &[
            ErrorCode::WrongCredentials,
            ErrorCode::AccountBanned,
            ErrorCode::ForeignOrigin,
            ErrorCode::NodeHost,
        ],
    ),
    ("logout", &[]),
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

/// Starts a session: a bearer token in the body for scripts (`session: token`, the default),
/// or, for the console, only an HttpOnly, SameSite=Strict cookie (`session: cookie`; the answer
/// carries no token, and the login must come from the console's own page and host).
#[utoipa::path(post, path = "/auth/login", tag = "accounts", security(()),
    request_body = Credentials,
    responses((status = 200, description = "A new session: `{token, user}`, or `{user}` with the cookie", body = LoginResult,
        headers(("set-cookie" = String, description = "With `session: cookie`: the session cookie (HttpOnly, SameSite=Strict; Secure when the console is https)")))))]
async fn login(
    State(state): State<AppState>,
    parts: Parts,
    ApiJson(c): ApiJson<Credentials>,
) -> ApiResult<Response> {
    let cookie_mode = c.session == Some(SessionMode::Cookie);
    if cookie_mode {
        // A cookie set here would reach renters' services, or log a victim into someone's account.
        origin::check_cookie_request(&state, &parts)?;
    }
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
    let lifetime_ms =
        i64::try_from(state.config.session_lifetime.as_millis()).unwrap_or(i64::MAX / 2);
    state
        .store
        .create_session(&hash_token(&token), &user.id, lifetime_ms)
        .await?;
    if !cookie_mode {
        return Ok(Json(LoginResult::Token(LoginAnswer {
            token,
            user: wire::user(&user),
        }))
        .into_response());
    }
    let secure = origin::console_url(&state).is_some_and(|u| u.starts_with("https://"));
    let cookie = format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{}",
        lifetime_ms / 1000,
        if secure { "; Secure" } else { "" }
    );
    Ok((
        AppendHeaders([(header::SET_COOKIE, cookie)]),
        Json(LoginResult::Cookie(UserAnswer {
            user: wire::user(&user),
        })),
    )
        .into_response())
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
    let token = session_token(&state, &parts)?;
    let session = hash_token(&token);
    state.store.delete_session(&session).await?;
    state.streams.end_session(&session);
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
