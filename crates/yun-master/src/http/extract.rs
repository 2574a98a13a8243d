//! Extractors: JSON whose rejections use the API's error shape, and the signed-in user
//! (bearer token for the CLI, HttpOnly cookie for the console).

use crate::accounts::{hash_token, is_access_token, SECURE_SESSION_COOKIE, SESSION_COOKIE};
use crate::http::api_error::ApiError;
use crate::http::state::AppState;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use yun_api::ErrorCode;
use yun_store::SessionUser;

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

/// A query string, whose rejections use the API's error shape.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Self(v)),
            Err(rejection) => Err(query_error(rejection)),
        }
    }
}

fn query_error(r: QueryRejection) -> ApiError {
    ApiError::new(
        ErrorCode::InvalidQuery,
        format!(
            "the query string does not fit this route: {}",
            r.body_text()
        ),
    )
}

fn json_error(r: JsonRejection) -> ApiError {
    match r {
        _ if r.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            ErrorCode::BodyTooLarge,
            "the request body is too large; send less than 64 KiB of JSON",
        ),
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "send the body as JSON with 'Content-Type: application/json'",
        ),
        JsonRejection::JsonDataError(e) => {
            let text = e.body_text();
            // serde_path_to_error names the field first: "path: what is wrong".
            let field = text
                .strip_prefix("Failed to deserialize the JSON body into the target type: ")
                .and_then(|t| t.split_once(": "))
                .map(|(path, _)| path.to_string())
                .filter(|p| !p.is_empty() && p != "." && !p.contains(' '));
            let err = ApiError::new(
                ErrorCode::InvalidInput,
                format!("the JSON does not fit this request: {text}"),
            );
            match field {
                Some(f) => err.on(f),
                None => err,
            }
        }
        other => ApiError::new(
            ErrorCode::MalformedJson,
            format!("the body is not valid JSON: {}", other.body_text()),
        ),
    }
}

/// How the caller sent its session.
pub enum Credential {
    Bearer(String),
    /// The console's HttpOnly cookie: checked by `origin` before it counts.
    Cookie(String),
}

/// Every value the request's cookies carry under `name`, in their order.
pub fn cookie_values<'a>(parts: &'a Parts, name: &'a str) -> impl Iterator<Item = String> + 'a {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .filter(move |(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// The caller's credential: the bearer header first, then the console's cookie, under the one
/// name this master sets (`__Host-yun_session` over HTTPS, which browsers hold to `Path=/`
/// and no `Domain`). Two cookies of that name mean some page on this host set one of its own
/// (cookie tossing): the request is refused, never resolved by order, and the answer clears
/// every copy it could have come from.
pub fn credential(parts: &Parts, https: bool) -> Result<Option<Credential>, ApiError> {
    if let Some(v) = parts.headers.get(header::AUTHORIZATION) {
        return Ok(v
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| Credential::Bearer(t.trim().to_string())));
    }
    let name = if https {
        SECURE_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    };
    let mut sessions = cookie_values(parts, name);
    let first = sessions.next();
    if sessions.next().is_some() {
        tracing::warn!(
            path = %parts.uri.path(),
            "a request carried more than one session cookie; refused and cleared"
        );
        let mut refusal = ApiError::new(
            ErrorCode::AmbiguousSession,
            "this browser sent more than one session cookie for the console (a page on this host set one of its own), \
             so none is taken; they are cleared now: log in again",
        );
        refusal.set_cookies = super::session_cookie::clear_every_copy(parts, name, https);
        return Err(refusal);
    }
    Ok(first.map(Credential::Cookie))
}

/// The user behind the caller's credential, if it is valid: a session (bearer or cookie, the
/// cookie after the origin policy) or an access token (bearer only, never a cookie).
async fn caller(state: &AppState, parts: &Parts) -> Result<Option<SessionUser>, ApiError> {
    let idle_ms = state.config.session_idle_ms();
    let user = match credential(parts, state.config.serves_https())? {
        None => return Err(ApiError::unauthorized()),
        Some(Credential::Bearer(t)) if is_access_token(&t) => {
            state.store.access_token_user(&hash_token(&t)).await?
        }
        Some(Credential::Bearer(t)) => state.store.session_user(&hash_token(&t), idle_ms).await?,
        Some(Credential::Cookie(t)) => {
            super::origin::check_cookie_request(state, parts)?;
            if is_access_token(&t) {
                return Ok(None);
            }
            state.store.session_user(&hash_token(&t), idle_ms).await?
        }
    };
    if let Some(u) = &user {
        touch(state, u);
    }
    Ok(user)
}

/// Records the use for the idle limit and the lists, at most once a minute per credential and
/// off the request's path.
fn touch(state: &AppState, user: &SessionUser) {
    if !user.due_for_touch(yun_store::now_ms()) {
        return;
    }
    let (store, id, kind) = (state.store.clone(), user.session.clone(), user.kind);
    tokio::spawn(async move {
        if let Err(e) = store.touch_credential(kind, &id).await {
            tracing::warn!(error = %e, "recording a session's use failed");
        }
    });
}

/// A signed-in, not banned user.
pub struct AuthUser(pub SessionUser);

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let user = caller(state, parts)
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        if user.banned {
            return Err(super::auth::banned());
        }
        Ok(Self(user))
    }
}

/// The client's address: the peer, or what a trusted proxy forwarded.
pub struct ClientIp(pub std::net::IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map_or(std::net::Ipv4Addr::UNSPECIFIED.into(), |c| c.0.ip());
        Ok(Self(crate::listener::source::client_ip(
            peer,
            &parts.headers,
            &state.config.trusted_proxies,
        )))
    }
}

/// A signed-in admin.
pub struct AdminUser(pub SessionUser);

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let AuthUser(user) = AuthUser::from_request_parts(parts, state).await?;
        if !user.role.is_admin() {
            // Operators' routes do not exist for renters.
            return Err(super::no_such_route());
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
