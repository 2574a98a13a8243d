//! The sizes a renter can pick, with their prices and what running costs beyond them.

use crate::http::state::AppState;
use axum::extract::State;
use axum::Json;
use utoipa_axum::{router::OpenApiRouter, routes};
use yun_api::plans::{Plan, PlanList, Pricing};
use yun_api::ErrorCode;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

pub(super) const ERRORS: &[(&str, &[ErrorCode])] = &[("list_plans", &[])];

/// Plans and prices; open to anyone, signed in or not.
#[utoipa::path(get, path = "/plans", tag = "plans", operation_id = "list_plans", security(()),
    responses((status = 200, description = "The plans and what running costs", body = PlanList)))]
async fn list(State(state): State<AppState>) -> Json<PlanList> {
    let plans = state
        .config
        .plans
        .iter()
        .map(|p| Plan {
            name: p.name.clone(),
            cpu: f64::from(p.cpu_millis) / 1000.0,
            cpu_millis: p.cpu_millis,
            memory_mib: p.memory_mib,
            disk_mib: p.disk_mib,
            pids: p.pids,
            price_per_hour: p.price_per_hour,
            default: p.name == state.config.default_plan,
        })
        .collect();
    let pricing = &state.config.pricing;
    Json(PlanList {
        plans,
        pricing: Pricing {
            min_balance_to_run: pricing.min_balance_to_run,
            run_deposit: pricing.run_deposit,
            pull_price_per_mib: pricing.pull_price_per_mib,
            metering_interval_seconds: pricing.metering_interval.as_secs(),
        },
    })
}
