//! The sizes a renter can pick.

use crate::state::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

pub fn router() -> Router<AppState> {
    Router::new().route("/plans", get(list))
}

async fn list(State(state): State<AppState>) -> Json<Value> {
    let plans: Vec<Value> = state
        .config
        .plans
        .iter()
        .map(|p| {
            json!({
                "name": p.name,
                "cpu": f64::from(p.cpu_millis) / 1000.0,
                "cpu_millis": p.cpu_millis,
                "memory_mib": p.memory_mib,
                "pids": p.pids,
                "default": p.name == state.config.default_plan,
            })
        })
        .collect();
    Json(json!({ "plans": plans }))
}
