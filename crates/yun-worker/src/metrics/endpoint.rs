//! `GET /metrics` of a worker, on its own address (`--metrics ADDR`), with the worker's own
//! token when one is given (`--metrics-token`): a worker's series name its containers, which
//! no renter may read.

use crate::runtime::Runtime;
use crate::stats::StatsHub;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::sync::Arc;

struct Scrape<R> {
    metrics: Arc<super::WorkerMetrics>,
    runtime: Arc<R>,
    stats: Arc<StatsHub<R>>,
    token: Option<String>,
}

async fn scrape<R: Runtime>(State(s): State<Arc<Scrape<R>>>, headers: HeaderMap) -> Response {
    let header_of = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    if let Some(token) = &s.token {
        if !yun_core::openmetrics::bearer_matches(header_of(header::AUTHORIZATION), token) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\"")],
                "send this worker's metrics token: Authorization: Bearer <--metrics-token>\n",
            )
                .into_response();
        }
    }
    let (content_type, body) = yun_core::openmetrics::negotiated(
        s.metrics.render(s.runtime.as_ref(), s.stats.as_ref()).await,
        header_of(header::ACCEPT),
    );
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
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
