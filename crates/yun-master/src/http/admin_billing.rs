//! Operators' money routes: balance adjustments with a reason, orders, and marking an order
//! paid when there is no payment provider.

use super::billing::order_json;
use super::extract::{AdminUser, ApiJson};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{Adjusted, Settled};
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/users/{id}/credits", post(adjust))
        .route("/admin/orders", get(orders))
        .route("/admin/orders/{id}/paid", post(mark_paid))
        .route("/admin/billing/check", get(check))
        .route("/admin/audit", get(audit))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Adjustment {
    /// Positive adds credits, negative takes them.
    amount: i64,
    reason: String,
}

async fn adjust(
    State(state): State<AppState>,
    AdminUser(a): AdminUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<Adjustment>,
) -> ApiResult<Json<Value>> {
    let reason = input.reason.trim();
    if reason.is_empty() || reason.len() > 500 {
        return Err(ApiError::from(yun_core::Invalid {
            field: "reason",
            message: "say why, in 1 to 500 characters".into(),
        }));
    }
    if input.amount == 0 || input.amount.abs() > 1_000_000_000 {
        return Err(ApiError::from(yun_core::Invalid {
            field: "amount",
            message: "give a non-zero amount of at most 1,000,000,000 credits either way".into(),
        }));
    }
    match state
        .store
        .adjust_balance(&a.id, &id, input.amount, reason)
        .await?
    {
        Adjusted::Done(balance) => {
            tracing::info!(
                user = id,
                amount = input.amount,
                by = a.id,
                "balance adjusted"
            );
            Ok(Json(json!({ "user_id": id, "balance": balance })))
        }
        Adjusted::NoSuchUser => Err(ApiError::not_found("admin/user")),
        Adjusted::WouldGoNegative(balance) => Err(ApiError::conflict(
            "balance_too_low",
            format!(
                "the balance is {balance}; a balance never goes below zero, so take at most that"
            ),
        )),
    }
}

async fn orders(State(state): State<AppState>, _: AdminUser) -> ApiResult<Json<Value>> {
    let orders = state.store.list_orders(None, 500).await?;
    Ok(Json(json!({
        "orders": orders.iter().map(|o| {
            let mut v = order_json(o);
            v["user_id"] = json!(o.user_id);
            v
        }).collect::<Vec<_>>()
    })))
}

/// For the `manual` provider: the operator received the money and confirms it.
async fn mark_paid(
    State(state): State<AppState>,
    AdminUser(a): AdminUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    if !state.payments.manual() {
        return Err(ApiError::conflict(
            "provider_confirms_payments",
            "orders here are paid through the payment provider, which confirms them itself",
        ));
    }
    let actor = format!("admin:{}", a.id);
    match state.store.settle_order(&id, None, &actor).await? {
        // Both carry the order as it is after the settlement.
        Settled::Credited(o) | Settled::AlreadyPaid(o) => {
            Ok(Json(json!({ "order": order_json(&o) })))
        }
        Settled::NotPayable(o) => Err(ApiError::conflict(
            "order_not_pending",
            format!(
                "order {} is {}; it can no longer be paid",
                o.id,
                o.state.as_str()
            ),
        )),
        Settled::Unknown => Err(ApiError::not_found("admin/order")),
    }
}

/// Every balance against its ledger: an empty list is the expected answer.
async fn check(State(state): State<AppState>, _: AdminUser) -> ApiResult<Json<Value>> {
    let off = state.store.unbalanced_users().await?;
    Ok(Json(json!({
        "unbalanced": off.iter().map(|(id, balance, sum)| json!({"user_id": id, "balance": balance, "ledger_sum": sum})).collect::<Vec<_>>()
    })))
}

/// What operators should look at: adjustments, payments confirmed, and payments that could not
/// be honoured (a cancelled or expired order, an amount that did not match).
async fn audit(State(state): State<AppState>, _: AdminUser) -> ApiResult<Json<Value>> {
    let rows = state.store.audit_log(500).await?;
    Ok(Json(json!({
        "entries": rows.iter().map(|r| json!({
            "at": crate::containers::view::rfc3339(r.at),
            "actor": r.actor,
            "action": r.action,
            "subject": r.subject,
            "detail": r.detail,
        })).collect::<Vec<_>>()
    })))
}
