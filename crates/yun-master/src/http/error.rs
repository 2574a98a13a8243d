//! How an `ApiError` goes over the wire: its code's status and `{"error": {"code", "message",
//! "field"?}}`.

use crate::http::api_error::ApiError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use yun_api::{ErrorBody, ErrorEnvelope};

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        super::code_log::record(self.code);
        let status =
            StatusCode::from_u16(self.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry_after = self.retry_after;
        let set_cookies = self.set_cookies;
        let body = ErrorEnvelope {
            error: ErrorBody {
                code: self.code,
                message: self.message,
                field: self.field,
                request_id: crate::request::id::current(),
            },
        };
        let mut resp = (status, Json(body)).into_response();
        // For the metrics layer, which counts errors by code.
        resp.extensions_mut().insert(self.code);
        if status == StatusCode::SERVICE_UNAVAILABLE {
            // Every designed 503 (no capacity, a node down, the master stopping) passes soon.
            resp.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("5"),
            );
        }
        if let Some(secs) = retry_after {
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        for c in set_cookies {
            if let Ok(v) = axum::http::HeaderValue::from_str(&c) {
                resp.headers_mut().append(axum::http::header::SET_COOKIE, v);
            }
        }
        resp
    }
}
