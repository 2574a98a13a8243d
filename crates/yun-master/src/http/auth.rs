//! Accounts: register, log in (a bearer token and an HttpOnly cookie), log out, who am I.

use super::extract::{session_token, ApiJson, AuthUser};
use crate::accounts::{
    hash_password, hash_token, new_token, verify_password, SESSION_COOKIE, SESSION_TTL_MS,
};
use crate::containers::view::rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::UserRow;
use axum::extract::State;
use axum::http::{header, request::Parts, StatusCode};
use axum::response::{AppendHeaders, IntoResponse};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/register", post(register))
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
        .route("/me", get(me))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Credentials {
    username: String,
    password: String,
}

pub fn user_json(u: &UserRow) -> Value {
    json!({
        "id": u.id,
        "username": u.username,
        "role": u.role,
        "banned": u.banned,
        "balance": u.balance,
        "created_at": rfc3339(u.created_at),
    })
}

async fn register(
    State(state): State<AppState>,
    ApiJson(c): ApiJson<Credentials>,
) -> ApiResult<(StatusCode, Json<Value>)> {
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
            crate::store::StoreError::Conflict(m) => ApiError::conflict("username_taken", m),
            other => other.into(),
        })?;
    tracing::info!(
        user = user.id,
        username = user.username,
        "account registered"
    );
    Ok((
        StatusCode::CREATED,
        Json(json!({ "user": user_json(&user) })),
    ))
}

async fn login(
    State(state): State<AppState>,
    ApiJson(c): ApiJson<Credentials>,
) -> ApiResult<impl IntoResponse> {
    let user = state.store.user_by_name(&c.username).await?;
    let ok = verify_password(c.password, user.as_ref().map(|u| u.password_hash.clone())).await;
    let Some(user) = user.filter(|_| ok) else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "wrong_credentials",
            "wrong username or password",
        ));
    };
    if user.banned {
        return Err(ApiError::forbidden(
            "account_banned",
            "this account is banned; contact the operator",
        ));
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
        Json(json!({ "token": token, "user": user_json(&user) })),
    ))
}

async fn logout(State(state): State<AppState>, parts: Parts) -> ApiResult<impl IntoResponse> {
    let token = session_token(&parts).ok_or_else(ApiError::unauthorized)?;
    state.store.delete_session(&hash_token(&token)).await?;
    let clear = format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    Ok((
        AppendHeaders([(header::SET_COOKIE, clear)]),
        StatusCode::NO_CONTENT,
    ))
}

async fn me(State(state): State<AppState>, AuthUser(u): AuthUser) -> ApiResult<Json<Value>> {
    let user = state
        .store
        .user_by_id(&u.id)
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    Ok(Json(json!({ "user": user_json(&user) })))
}
