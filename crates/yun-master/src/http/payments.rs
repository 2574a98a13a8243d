//! Payment providers' callbacks. No session: the provider's signature is the authentication,
//! and nothing is credited before it is verified (`payments/notify.rs`).

use crate::payments::notify::{handle, Answer};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new().route("/payments/{provider}/notify", post(notify))
}

/// Answers as Alipay expects: the plain text `success` stops its retries, anything else (here
/// `failure`) makes it send again later.
async fn notify(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    body: Bytes,
) -> impl IntoResponse {
    let text = |status, body: &'static str| (status, [(header::CONTENT_TYPE, "text/plain")], body);
    let Ok(params) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body) else {
        return text(StatusCode::BAD_REQUEST, "failure");
    };
    match handle(&state, &provider, &params).await {
        Answer::Done => text(StatusCode::OK, "success"),
        Answer::Refused(_) => text(StatusCode::BAD_REQUEST, "failure"),
    }
}
