//! A renter's money: the ledger, and orders that buy credits.

use super::extract::{ApiJson, ApiQuery, AuthUser};
use super::paging;
use crate::http::api_error::{ApiError, ApiResult};
use crate::http::state::AppState;
use crate::wire;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};
use yun_api::billing::{LedgerPage, OrderAnswer, OrderCreated, OrderList, OrderRequest, Payment};
use yun_api::ErrorCode;
use yun_store::{NewOrder, OrderState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(ledger))
        .routes(routes!(create_order, list_orders))
        .routes(routes!(get_order))
        .routes(routes!(cancel_order))
}

pub(super) const ERRORS: &[(&str, &[ErrorCode])] = &[
    ("ledger", &[]),
    ("create_order", &[]),
    ("list_orders", &[]),
    ("get_order", &[ErrorCode::NotFound]),
    (
        "cancel_order",
        &[ErrorCode::NotFound, ErrorCode::OrderNotPending],
    ),
];

const PAGE_MAX: i64 = 200;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct PageQuery {
    /// Entries older than this entry id (the `next_before` of the previous page).
    before: Option<i64>,
    /// 1 to 200 entries (default 50).
    limit: Option<i64>,
}

/// Every change of the caller's balance, newest first.
#[utoipa::path(get, path = "/billing/ledger", tag = "billing", params(PageQuery),
    responses((status = 200, description = "A page of the ledger", body = LedgerPage)))]
async fn ledger(
    State(state): State<AppState>,
    AuthUser(u): AuthUser,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<LedgerPage>> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=PAGE_MAX).contains(&limit) {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            format!("limit={limit}: use 1 to {PAGE_MAX}"),
        )
        .on("limit"));
    }
    let rows = state.store.ledger_page(&u.id, q.before, limit).await?;
    let balance = state.store.balance(&u.id).await?.unwrap_or(0);
    let next = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|e| e.id))
        .flatten();
    Ok(Json(LedgerPage {
        balance,
        entries: rows.iter().map(wire::ledger_entry).collect(),
        next_before: next,
    }))
}

/// Buys credits: a pending order and how to pay it.
#[utoipa::path(post, path = "/orders", tag = "billing", request_body = OrderRequest,
    responses((status = 201, description = "The order and how to pay it", body = OrderCreated)))]
async fn create_order(
    State(state): State<AppState>,
    AuthUser(u): AuthUser,
    ApiJson(input): ApiJson<OrderRequest>,
) -> ApiResult<(StatusCode, Json<OrderCreated>)> {
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
        }, p.max_pending_orders)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::QuotaExceeded,
                format!(
                    "you have {} orders waiting to be paid, as many as an account may hold: pay or cancel one \
                     (GET /api/v1/orders, POST /api/v1/orders/{{id}}/cancel) before making another",
                    p.max_pending_orders
                ),
            )
            .on("credits")
        })?;
    let checkout = state.payments.checkout(&order);
    tracing::info!(
        order = order.id,
        user = u.id,
        credits = order.credits,
        "order placed"
    );
    Ok((
        StatusCode::CREATED,
        Json(OrderCreated {
            order: wire::order(&order, false),
            payment: Payment {
                provider: state.payments.name().to_string(),
                url: checkout.url,
                instructions: checkout.instructions,
            },
        }),
    ))
}

/// The caller's orders, newest first.
#[utoipa::path(get, path = "/orders", tag = "billing", params(paging::PageQuery),
    responses((status = 200, description = "The caller's orders", body = OrderList)))]
async fn list_orders(
    State(state): State<AppState>,
    AuthUser(u): AuthUser,
    ApiQuery(q): ApiQuery<paging::PageQuery>,
) -> ApiResult<Json<OrderList>> {
    let page = paging::page(q.limit, q.cursor.as_deref(), "orders")?;
    let mut orders = state.store.list_orders(Some(&u.id), &page).await?;
    let next_cursor = paging::finish(&mut orders, &page, "orders", |o| o.id.clone());
    Ok(Json(OrderList {
        orders: orders.iter().map(|o| wire::order(o, false)).collect(),
        next_cursor,
    }))
}

/// One of the caller's orders.
#[utoipa::path(get, path = "/orders/{id}", tag = "billing",
    params(("id" = String, Path, description = "The order's id")),
    responses((status = 200, description = "The order", body = OrderAnswer)))]
async fn get_order(
    State(state): State<AppState>,
    AuthUser(u): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<OrderAnswer>> {
    let order = state
        .store
        .order(Some(&u.id), &id)
        .await?
        .ok_or_else(|| ApiError::not_found("order"))?;
    Ok(Json(OrderAnswer {
        order: wire::order(&order, false),
    }))
}

/// Cancels a pending order; a payment that arrives for it later credits nothing.
#[utoipa::path(post, path = "/orders/{id}/cancel", tag = "billing",
    params(("id" = String, Path, description = "The order's id")),
    responses((status = 200, description = "The cancelled order", body = OrderAnswer)))]
async fn cancel_order(
    State(state): State<AppState>,
    AuthUser(u): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<OrderAnswer>> {
    let order = state
        .store
        .cancel_order(&u.id, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("order"))?;
    if order.state != OrderState::Cancelled {
        return Err(ApiError::new(
            ErrorCode::OrderNotPending,
            format!(
                "order {} is {}; only a pending order can be cancelled",
                order.id,
                order.state.as_str()
            ),
        ));
    }
    Ok(Json(OrderAnswer {
        order: wire::order(&order, false),
    }))
}
