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
        ([(header::CONTENT_TYPE, TEXT)], text_format(&body)).into_response()
    }
}

/// The OpenMetrics rendering in the Prometheus text format: a counter family's HELP and TYPE
/// name its `_total` samples, and the UNIT and EOF lines go.
fn text_format(openmetrics: &str) -> String {
    let mut out = String::with_capacity(openmetrics.len());
    let mut help: Option<(&str, &str)> = None;
    for line in openmetrics.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            help = rest.split_once(' ').or(Some((rest, "")));
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or((rest, "untyped"));
            let name = if kind == "counter" {
                format!("{name}_total")
            } else {
                name.to_string()
            };
            if let Some((_, text)) = help.take() {
                out.push_str(&format!("# HELP {name} {text}\n"));
            }
            out.push_str(&format!("# TYPE {name} {kind}\n"));
            continue;
        }
        if line.starts_with("# UNIT ") || line == "# EOF" {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
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

#[cfg(test)]
mod tests {
    use super::text_format;

    #[test]
    fn counters_are_named_by_their_samples_in_the_text_format() {
        let om = "# HELP yun_heartbeats Heartbeats.\n# TYPE yun_heartbeats counter\nyun_heartbeats_total 3\n# HELP yun_t Time.\n# TYPE yun_t_seconds histogram\n# UNIT yun_t_seconds seconds\nyun_t_seconds_count 1\n# EOF\n";
        assert_eq!(
            text_format(om),
            "# HELP yun_heartbeats_total Heartbeats.\n# TYPE yun_heartbeats_total counter\nyun_heartbeats_total 3\n# HELP yun_t_seconds Time.\n# TYPE yun_t_seconds histogram\nyun_t_seconds_count 1\n"
        );
    }
}
