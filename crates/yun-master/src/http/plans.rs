//! The sizes a renter can pick, with their prices and what running costs beyond them.

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
                "price_per_hour": p.price_per_hour,
                "default": p.name == state.config.default_plan,
            })
        })
        .collect();
    let pricing = &state.config.pricing;
    Json(json!({
        "plans": plans,
        "pricing": {
            "min_balance_to_run": pricing.min_balance_to_run,
            "run_deposit": pricing.run_deposit,
            "pull_price_per_mib": pricing.pull_price_per_mib,
            "metering_interval_seconds": pricing.metering_interval.as_secs(),
        },
    }))
}
