//! `GET /metrics`, never open to renters: on the HTTP listener only with the operator's
//! `--metrics-token` as a bearer token (without one configured it is not there), or on a
//! separate address (`--metrics ADDR`) that only the operator's network reaches.

use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;

fn header_of(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

async fn render(state: &AppState, headers: &HeaderMap) -> Response {
    let (content_type, body) = yun_core::openmetrics::negotiated(
        state.metrics.render(state).await,
        header_of(headers, header::ACCEPT),
    );
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(token) = state.config.metrics_token.as_deref() else {
        return crate::http::no_such_route().into_response();
    };
    if yun_core::openmetrics::bearer_matches(header_of(&headers, header::AUTHORIZATION), token) {
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
