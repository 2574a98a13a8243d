//! Counting every HTTP request by its route's template, and timing those that are not
//! streams.

use crate::http::state::AppState;
use crate::metrics::{CodeLabels, RequestLabels, RouteLabels};
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http_body::Body as _;
use std::time::Instant;

fn route_of(req: &Request) -> String {
    if let Some(p) = req.extensions().get::<MatchedPath>() {
        return p.as_str().to_string();
    }
    let path = req.uri().path();
    if path == "/api" || path.starts_with("/api/") {
        "unmatched".into()
    } else {
        "console".into()
    }
}

pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = route_of(&req);
    let method = req.method().as_str().to_string();
    let started = Instant::now();
    let response = next.run(req).await;
    let m = &state.metrics;
    let status = response.status().as_u16();
    m.http_requests
        .get_or_create(&RequestLabels {
            route: route.clone(),
            method: method.clone(),
            status,
        })
        .inc();
    if let Some(code) = response.extensions().get::<yun_api::ErrorCode>() {
        m.api_errors
            .get_or_create(&CodeLabels {
                code: code.as_str().into(),
            })
            .inc();
    }
    // A WebSocket (101) or an answer of unknown length (a followed log, an event stream) lasts
    // as long as its reader: its time says nothing about the API's speed.
    let stream = status == 101 || response.body().size_hint().exact().is_none();
    if !stream {
        m.http_duration
            .get_or_create(&RouteLabels { route, method })
            .observe(started.elapsed().as_secs_f64());
    }
    response
}
