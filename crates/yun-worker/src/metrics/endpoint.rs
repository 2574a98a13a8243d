//! `GET /metrics` of a worker, on its own address (`--metrics ADDR`), with the worker's own
//! token when one is given (`--metrics-token`): a worker's series name its containers, which
//! no renter may read.

use crate::runtime::Runtime;
use crate::stats::StatsHub;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use sha2::{Digest, Sha256};
use std::sync::Arc;

struct Scrape<R> {
    metrics: Arc<super::WorkerMetrics>,
    runtime: Arc<R>,
    stats: Arc<StatsHub<R>>,
    token: Option<String>,
}

async fn scrape<R: Runtime>(State(s): State<Arc<Scrape<R>>>, headers: HeaderMap) -> Response {
    if let Some(token) = &s.token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        // Digests compared, so the time says nothing about the token.
        let ok = given.is_some_and(|g| Sha256::digest(g) == Sha256::digest(token.as_bytes()));
        if !ok {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\"")],
                "send this worker's metrics token: Authorization: Bearer <--metrics-token>\n",
            )
                .into_response();
        }
    }
    let body = s.metrics.render(s.runtime.as_ref(), s.stats.as_ref()).await;
    // OpenMetrics for a client that asks for it (Prometheus does), else the text format.
    let openmetrics = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/openmetrics-text"));
    if openmetrics {
        (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            body,
        )
            .into_response()
    } else {
        (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            yun_core::openmetrics::as_text_format(&body),
        )
            .into_response()
    }
}

/// Serves `/metrics` on `listener` until `stop`.
pub async fn serve<R: Runtime>(
    listener: tokio::net::TcpListener,
    metrics: Arc<super::WorkerMetrics>,
    runtime: Arc<R>,
    stats: Arc<StatsHub<R>>,
    token: Option<String>,
    stop: tokio_util::sync::CancellationToken,
) {
    let state = Arc::new(Scrape {
        metrics,
        runtime,
        stats,
        token,
    });
    let app = Router::new()
        .route("/metrics", axum::routing::get(scrape::<R>))
        .with_state(state);
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(stop.cancelled_owned())
        .await
    {
        tracing::error!(error = %e, "the metrics listener stopped");
    }
}
