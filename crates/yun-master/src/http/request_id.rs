//! Every request has an id: the client's `X-Request-Id` when it is short and plain, else one
//! made here. It is answered in `X-Request-Id` and in the error envelope, is on every log line
//! the request writes (a span), and goes to the worker in gRPC metadata, so one create can be
//! followed across both processes.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

pub const HEADER: &str = "x-request-id";

/// An id a client may choose: 1 to 64 letters, digits, `-`, `_` or `.` (nothing that could
/// forge a log line or carry a secret's shape).
fn acceptable(v: &str) -> bool {
    (1..=64).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

pub async fn layer(req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map(str::to_string)
        .unwrap_or_else(yun_core::new_id);
    let span = tracing::info_span!("request", request_id = %id);
    let mut response = crate::request::id::scope(id.clone(), next.run(req).instrument(span)).await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HEADER, v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::acceptable;

    #[test]
    fn only_short_plain_ids_are_taken() {
        assert!(acceptable("trace-me_1.2"));
        assert!(!acceptable(""));
        assert!(!acceptable(&"x".repeat(65)));
        for bad in ["a b", "a\nb", "a\"b", "ä"] {
            assert!(!acceptable(bad), "{bad:?}");
        }
    }
}
