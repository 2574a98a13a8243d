//! Liveness and readiness for load balancers and orchestrators.

use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/readyz", get(readyz))
}

/// Ready when the store answers and at least one node holds a lease.
async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    let store_ok = state.store.ping().await.is_ok();
    let nodes = state.registry.live_nodes().len();
    let ready = store_ok && nodes > 0;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({"ready": ready, "store": store_ok, "ready_nodes": nodes})),
    )
}
