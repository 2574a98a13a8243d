//! The one place that decides whether a request carrying the console's session cookie may act.
//! Browsers scope cookies by host, not port, so a renter's service on a node's public host
//! would receive the console's cookie if the console shared that host, and a renter's page could
//! make the browser act with an operator's cookie. So the cookie is refused on a node's public
//! host, and every cookie-authenticated change or WebSocket upgrade must come from the console's
//! own origin. Bearer tokens are not sent by browsers on their own and need neither check.

use crate::http::api_error::ApiError;
use crate::http::state::AppState;
use axum::http::{header, request::Parts, HeaderMap, Method};
use yun_api::ErrorCode;

pub use crate::request::console_host::hostname;

fn request_host(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::HOST).and_then(|v| v.to_str().ok())
}

/// The console's address, when the operator gave one (`--public-url`).
pub fn console_url(state: &AppState) -> Option<&str> {
    state
        .config
        .public_url
        .as_deref()
        .map(|u| u.trim_end_matches('/'))
}

/// Whether this request came to a node's public host.
pub fn on_node_host(state: &AppState, headers: &HeaderMap) -> bool {
    request_host(headers).is_some_and(|h| state.registry.is_public_host(&hostname(h)))
}

pub fn node_host_refusal(state: &AppState) -> ApiError {
    let open = match console_url(state) {
        Some(url) => format!("open the console at {url}"),
        None => "open the console at a host name no node's endpoints use (for `yun dev`, http://localhost:8088)".into(),
    };
    ApiError::new(
        ErrorCode::NodeHost,
        format!("this host serves renters' containers, so the console's session is not accepted here; {open}"),
    )
}

/// Whether `origin` is the console's: `--public-url`'s origin, or else the request's own host.
fn is_console_origin(state: &AppState, headers: &HeaderMap, origin: &str) -> bool {
    let origin = origin.trim_end_matches('/').to_ascii_lowercase();
    if let Some(url) = console_url(state) {
        return origin == url.to_ascii_lowercase();
    }
    let Some(host) = request_host(headers) else {
        return false;
    };
    let host = host.to_ascii_lowercase();
    origin == format!("http://{host}") || origin == format!("https://{host}")
}

fn changes_something(parts: &Parts) -> bool {
    let upgrade = parts
        .headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    upgrade || !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Checks a cookie-authenticated request before anything else happens.
pub fn check_cookie_request(state: &AppState, parts: &Parts) -> Result<(), ApiError> {
    if on_node_host(state, &parts.headers) {
        return Err(node_host_refusal(state));
    }
    if !changes_something(parts) {
        return Ok(());
    }
    let origin = parts
        .headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok());
    match origin {
        Some(o) if is_console_origin(state, &parts.headers, o) => Ok(()),
        other => {
            tracing::warn!(
                origin = other.unwrap_or("(none)"),
                path = %parts.uri.path(),
                "a cookie-authenticated change from another origin was refused"
            );
            Err(ApiError::new(
                ErrorCode::ForeignOrigin,
                "this request carries the console's session cookie but did not come from the console's own page; \
                 use the console, or send a bearer token from a script",
            ))
        }
    }
}
