//! A renter's money: the ledger, and orders that buy credits.

use super::extract::{ApiJson, AuthUser};
use crate::containers::view::rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::payments::amount::format_minor;
use crate::state::AppState;
use crate::store::{LedgerRow, NewOrder, OrderRow, OrderState};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/billing/ledger", get(ledger))
        .route("/orders", post(create_order).get(list_orders))
        .route("/orders/{id}", get(get_order))
        .route("/orders/{id}/cancel", post(cancel_order))
}

const PAGE_MAX: i64 = 200;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PageQuery {
    /// Entries older than this entry id (the `next_before` of the previous page).
    before: Option<i64>,
    limit: Option<i64>,
}

fn entry_json(e: &LedgerRow) -> Value {
    json!({
        "id": e.id,
        "kind": e.kind,
        "amount": e.amount,
        "balance_after": e.balance_after,
        "reference": e.reference,
        "note": e.note,
        "created_at": rfc3339(e.created_at),
    })
}

async fn ledger(
    State(state): State<AppState>,
    AuthUser(u): AuthUser,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<Value>> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=PAGE_MAX).contains(&limit) {
        return Err(ApiError::from(yun_core::Invalid {
            field: "limit",
            message: format!("use 1 to {PAGE_MAX}"),
        }));
    }
    let rows = state.store.ledger_page(&u.id, q.before, limit).await?;
    let balance = state.store.balance(&u.id).await?.unwrap_or(0);
    let next = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|e| e.id))
        .flatten();
    Ok(Json(json!({
        "balance": balance,
        "entries": rows.iter().map(entry_json).collect::<Vec<_>>(),
        "next_before": next,
    })))
}

pub fn order_json(o: &OrderRow) -> Value {
    json!({
        "id": o.id,
        "credits": o.credits,
        "amount": format_minor(o.amount_minor),
        "currency": o.currency,
        "provider": o.provider,
        "state": o.state.as_str(),
        "created_at": rfc3339(o.created_at),
        "expires_at": rfc3339(o.expires_at),
        "settled_at": o.settled_at.map(rfc3339),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrderInput {
    credits: i64,
}

async fn create_order(
    State(state): State<AppState>,
    AuthUser(u): AuthUser,
    ApiJson(input): ApiJson<OrderInput>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let p = &state.config.payments;
    if !(p.min_order_credits..=p.max_order_credits).contains(&input.credits) {
        return Err(ApiError::from(yun_core::Invalid {
            field: "credits",
            message: format!(
                "buy from {} to {} credits at a time",
                p.min_order_credits, p.max_order_credits
            ),
        }));
    }
    let order = state
        .store
        .create_order(NewOrder {
            user_id: u.id.clone(),
            credits: input.credits,
            amount_minor: input.credits * p.minor_per_credit,
            currency: p.currency.clone(),
            provider: state.payments.name().to_string(),
            ttl_ms: p.order_ttl.as_millis() as i64,
        })
        .await?;
    let checkout = state.payments.checkout(&order);
    tracing::info!(
        order = order.id,
        user = u.id,
        credits = order.credits,
        "order placed"
    );
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "order": order_json(&order),
            "payment": {
                "provider": state.payments.name(),
                "url": checkout.url,
                "instructions": checkout.instructions,
            },
        })),
    ))
}

async fn list_orders(
    State(state): State<AppState>,
    AuthUser(u): AuthUser,
) -> ApiResult<Json<Value>> {
    let orders = state.store.list_orders(Some(&u.id), PAGE_MAX).await?;
    Ok(Json(
        json!({ "orders": orders.iter().map(order_json).collect::<Vec<_>>() }),
    ))
}

async fn get_order(
    State(state): State<AppState>,
    AuthUser(u): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let order = state
        .store
        .order(Some(&u.id), &id)
        .await?
        .ok_or_else(|| ApiError::not_found("order"))?;
    Ok(Json(json!({ "order": order_json(&order) })))
}

async fn cancel_order(
    State(state): State<AppState>,
    AuthUser(u): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let order = state
        .store
        .cancel_order(&u.id, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("order"))?;
    if order.state != OrderState::Cancelled {
        return Err(ApiError::conflict(
            "order_not_pending",
            format!(
                "order {} is {}; only a pending order can be cancelled",
                order.id,
                order.state.as_str()
            ),
        ));
    }
    Ok(Json(json!({ "order": order_json(&order) })))
}
