//! Extractors: JSON whose rejections use the API's error shape, and the signed-in user
//! (bearer token for the CLI, HttpOnly cookie for the console).

use crate::accounts::{hash_token, SESSION_COOKIE};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::SessionUser;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use serde::de::DeserializeOwned;

pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(rejection) => Err(json_error(rejection)),
        }
    }
}

fn json_error(r: JsonRejection) -> ApiError {
    let status = r.status();
    match r {
        _ if status == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            status,
            "body_too_large",
            "the request body is too large; send less than 64 KiB of JSON",
        ),
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as JSON with 'Content-Type: application/json'",
        ),
        JsonRejection::JsonDataError(e) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            format!("the JSON does not fit this request: {}", e.body_text()),
        ),
        other => ApiError::bad_request(
            "malformed_json",
            format!("the body is not valid JSON: {}", other.body_text()),
        ),
    }
}

/// The caller's session token: the bearer header first, then the console's cookie.
pub fn session_token(parts: &Parts) -> Option<String> {
    if let Some(v) = parts.headers.get(header::AUTHORIZATION) {
        return v
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| t.trim().to_string());
    }
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_string())
}

/// A signed-in, not banned user.
pub struct AuthUser(pub SessionUser);

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = session_token(parts).ok_or_else(ApiError::unauthorized)?;
        let user = state
            .store
            .session_user(&hash_token(&token))
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        if user.banned {
            return Err(ApiError::forbidden(
                "account_banned",
                "this account is banned; contact the operator",
            ));
        }
        Ok(Self(user))
    }
}

/// A signed-in admin.
pub struct AdminUser(pub SessionUser);

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let AuthUser(user) = AuthUser::from_request_parts(parts, state).await?;
        if user.role != "admin" {
            // Operators' routes do not exist for renters.
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "no_such_route",
                "there is no such API route; see README.md for the list",
            ));
        }
        Ok(Self(user))
    }
}

/// Whether the client asked for NDJSON (`Accept: application/x-ndjson`), for streamed answers.
pub fn accepts_ndjson(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/x-ndjson"))
}
