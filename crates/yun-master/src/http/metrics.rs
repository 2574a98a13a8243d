//! `GET /metrics`, never open to renters: on the HTTP listener only with the operator's
//! `--metrics-token` as a bearer token (without one configured it is not there), or on a
//! separate address (`--metrics ADDR`) that only the operator's network reaches.

use crate::http::state::AppState;
use crate::metrics::Present;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::collections::HashMap;

fn header_of(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// What the master holds in memory now, for the scrape.
fn present(state: &AppState) -> Present {
    let mut nodes: HashMap<&str, i64> = HashMap::new();
    let mut node_names = HashMap::new();
    for lease in state.registry.snapshot() {
        *nodes
            .entry(state.registry.state_of(&lease).as_str())
            .or_default() += 1;
        node_names.insert(lease.node.id.clone(), lease.node.name.clone());
    }
    Present {
        nodes: nodes.into_iter().map(|(s, n)| (s.into(), n)).collect(),
        node_names,
        master_certificate_expires: state.trust.master_expires_at(),
        open_streams: state.streams.count(),
    }
}

async fn render(state: &AppState, headers: &HeaderMap) -> Response {
    let text = state.metrics.render(&state.store, present(state)).await;
    let (content_type, body) =
        yun_core::openmetrics::negotiated(text, header_of(headers, header::ACCEPT));
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(token) = state.config.metrics_token.as_deref() else {
        return super::no_such_route().into_response();
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
