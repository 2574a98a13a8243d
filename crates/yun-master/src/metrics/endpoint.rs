//! `GET /metrics`, never open to renters: on the HTTP listener only with the operator's
//! `--metrics-token` as a bearer token (without one configured it is not there), or on a
//! separate address (`--metrics ADDR`) that only the operator's network reaches.

use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use sha2::{Digest, Sha256};

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
const TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// OpenMetrics for a client that asks for it (Prometheus does), else the older text format
/// (what `promtool check metrics` and plain `curl` read).
async fn render(state: &AppState, headers: &HeaderMap) -> Response {
    let openmetrics = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/openmetrics-text"));
    let body = state.metrics.render(state).await;
    if openmetrics {
        ([(header::CONTENT_TYPE, OPENMETRICS)], body).into_response()
    } else {
        (
            [(header::CONTENT_TYPE, TEXT)],
            yun_core::openmetrics::as_text_format(&body),
        )
            .into_response()
    }
}

/// Compares digests, so the comparison's time says nothing about the token.
fn same_secret(given: &str, expected: &str) -> bool {
    Sha256::digest(given.as_bytes()) == Sha256::digest(expected.as_bytes())
}

async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(token) = state.config.metrics_token.as_deref() else {
        return crate::http::no_such_route().into_response();
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if given.is_some_and(|g| same_secret(g.trim(), token)) {
        return render(&state, &headers).await;
    }
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\"")],
        "send the operator's metrics token: Authorization: Bearer <--metrics-token>\n",
    )
        .into_response()
}

/// `/metrics` on the HTTP listener (behind the token).
pub fn routes() -> Router<AppState> {
    Router::new().route("/metrics", axum::routing::get(scrape))
}

/// `/metrics` alone, without a token, on the operator's separate address.
pub async fn serve_apart(
    listener: tokio::net::TcpListener,
    state: AppState,
    stop: tokio_util::sync::CancellationToken,
) {
    let app = Router::new()
        .route(
            "/metrics",
            axum::routing::get(|State(s): State<AppState>, h: HeaderMap| async move {
                render(&s, &h).await
            }),
        )
        .with_state(state);
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(stop.cancelled_owned())
        .await
    {
        tracing::error!(error = %e, "the metrics listener stopped");
    }
}
