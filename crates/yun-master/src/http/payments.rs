//! Payment providers' callbacks. No session: the provider's signature is the authentication,
//! and nothing is credited before it is verified (`payments/notify.rs`).

use crate::http::state::AppState;
use crate::payments::notify::{handle, Answer};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use utoipa_axum::{router::OpenApiRouter, routes};
use yun_api::ErrorCode;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(notify))
}

pub(super) const ERRORS: &[(&str, &[ErrorCode])] = &[("payment_notify", &[])];

/// The payment provider's signed callback, verified (signature, order, amount) before anything
/// is credited, and credited once. Answers as Alipay expects: the plain text `success` stops
/// its retries, anything else (here `failure`) makes it send again later.
#[utoipa::path(post, path = "/payments/{provider}/notify", tag = "billing", operation_id = "payment_notify",
    security(()),
    params(("provider" = String, Path, description = "The provider's name, such as `alipay`")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded",
        description = "The provider's signed parameters"),
    responses(
        (status = 200, description = "Verified and settled (or settled before)", body = String, content_type = "text/plain"),
        (status = 400, description = "Refused: not verified, or not payable", body = String, content_type = "text/plain")))]
async fn notify(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    body: Bytes,
) -> impl IntoResponse {
    let text = |status, body: &'static str| (status, [(header::CONTENT_TYPE, "text/plain")], body);
    let Ok(params) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body) else {
        return text(StatusCode::BAD_REQUEST, "failure");
    };
    match handle(state.payments.as_ref(), &state.store, &provider, &params).await {
        Answer::Done => text(StatusCode::OK, "success"),
        Answer::Refused(_) => text(StatusCode::BAD_REQUEST, "failure"),
    }
}
