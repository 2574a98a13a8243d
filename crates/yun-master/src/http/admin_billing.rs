//! Operators' money routes: balance adjustments with a reason, orders, and marking an order
//! paid when there is no payment provider.

use super::extract::{AdminUser, ApiJson, ApiQuery};
use super::paging::{self, PageQuery};
use crate::http::api_error::{ApiError, ApiResult};
use crate::http::state::AppState;
use crate::wire;
use axum::extract::{Path, State};
use axum::Json;
use utoipa_axum::{router::OpenApiRouter, routes};
use yun_api::admin::{Adjusted, Adjustment, AuditEntry, AuditLog, BillingCheck, Unbalanced};
use yun_api::billing::{OrderAnswer, OrderList};
use yun_api::ErrorCode;
use yun_store::{Adjusted as StoreAdjusted, Settled};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(adjust))
        .routes(routes!(orders))
        .routes(routes!(mark_paid))
        .routes(routes!(check))
        .routes(routes!(audit))
}

pub(super) const ERRORS: &[(&str, &[ErrorCode])] = &[
    (
        "adjust_credits",
        &[ErrorCode::NotFound, ErrorCode::BalanceTooLow],
    ),
    ("list_all_orders", &[]),
    (
        "mark_order_paid",
        &[
            ErrorCode::NotFound,
            ErrorCode::OrderNotPending,
            ErrorCode::ProviderConfirmsPayments,
        ],
    ),
    ("check_balances", &[]),
    ("audit_log", &[]),
];

/// Adds or takes credits, with a reason kept in the ledger and the audit log.
#[utoipa::path(post, path = "/admin/users/{id}/credits", tag = "admin", operation_id = "adjust_credits",
    params(("id" = String, Path, description = "The user's id")),
    request_body = Adjustment,
    responses((status = 200, description = "The new balance", body = Adjusted)))]
async fn adjust(
    State(state): State<AppState>,
    AdminUser(a): AdminUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<Adjustment>,
) -> ApiResult<Json<Adjusted>> {
    let reason = input.reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(ApiError::from(yun_core::Invalid {
            field: "reason",
            message: "say why, in 1 to 500 characters".into(),
        }));
    }
    // `unsigned_abs`: i64::MIN has no positive counterpart and is refused like any other.
    if input.amount == 0 || input.amount.unsigned_abs() > 1_000_000_000 {
        return Err(ApiError::from(yun_core::Invalid {
            field: "amount",
            message: "give a non-zero amount of at most 1,000,000,000 credits either way".into(),
        }));
    }
    match state
        .store
        .adjust_balance(&a.actor(), &id, input.amount, reason)
        .await?
    {
        StoreAdjusted::Done(balance) => {
            tracing::info!(
                user = id,
                amount = input.amount,
                by = a.id,
                "balance adjusted"
            );
            Ok(Json(Adjusted {
                user_id: id,
                balance,
            }))
        }
        StoreAdjusted::NoSuchUser => Err(ApiError::not_found("admin/user")),
        StoreAdjusted::WouldGoNegative(balance) => Err(ApiError::new(
            ErrorCode::BalanceTooLow,
            format!(
                "the balance is {balance}; a balance never goes below zero, so take at most that"
            ),
        )
        .on("amount")),
    }
}

/// Every user's orders, newest first, with whose they are.
#[utoipa::path(get, path = "/admin/orders", tag = "admin", operation_id = "list_all_orders",
    params(PageQuery),
    responses((status = 200, description = "The orders", body = OrderList)))]
async fn orders(
    State(state): State<AppState>,
    _: AdminUser,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<OrderList>> {
    let page = paging::page(q.limit, q.cursor.as_deref(), "all-orders")?;
    let mut orders = state.store.list_orders(None, &page).await?;
    let next_cursor = paging::finish(&mut orders, &page, "all-orders", |o| o.id.clone());
    Ok(Json(OrderList {
        orders: orders.iter().map(|o| wire::order(o, true)).collect(),
        next_cursor,
    }))
}

/// For the `manual` provider: the operator received the money and confirms it.
#[utoipa::path(post, path = "/admin/orders/{id}/paid", tag = "admin", operation_id = "mark_order_paid",
    params(("id" = String, Path, description = "The order's id")),
    responses((status = 200, description = "The order, paid", body = OrderAnswer)))]
async fn mark_paid(
    State(state): State<AppState>,
    AdminUser(a): AdminUser,
    Path(id): Path<String>,
) -> ApiResult<Json<OrderAnswer>> {
    if !state.payments.manual() {
        return Err(ApiError::new(
            ErrorCode::ProviderConfirmsPayments,
            "orders here are paid through the payment provider, which confirms them itself",
        ));
    }
    let actor = a.actor();
    match state.store.settle_order(&id, None, &actor).await? {
        // Both carry the order as it is after the settlement.
        Settled::Credited(o) | Settled::AlreadyPaid(o) => Ok(Json(OrderAnswer {
            order: wire::order(&o, false),
        })),
        Settled::NotPayable(o) => Err(ApiError::new(
            ErrorCode::OrderNotPending,
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
#[utoipa::path(get, path = "/admin/billing/check", tag = "admin", operation_id = "check_balances",
    responses((status = 200, description = "Users whose balance differs from their ledger", body = BillingCheck)))]
async fn check(State(state): State<AppState>, _: AdminUser) -> ApiResult<Json<BillingCheck>> {
    let off = state.store.unbalanced_users().await?;
    Ok(Json(BillingCheck {
        unbalanced: off
            .into_iter()
            .map(|(user_id, balance, ledger_sum)| Unbalanced {
                user_id,
                balance,
                ledger_sum,
            })
            .collect(),
    }))
}

/// What operators should look at: adjustments, payments confirmed, and payments that could not
/// be honoured (a cancelled or expired order, an amount that did not match).
#[utoipa::path(get, path = "/admin/audit", tag = "admin", operation_id = "audit_log",
    params(PageQuery),
    responses((status = 200, description = "A page of the log, newest first", body = AuditLog)))]
async fn audit(
    State(state): State<AppState>,
    _: AdminUser,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<AuditLog>> {
    let page = paging::page(q.limit, q.cursor.as_deref(), "audit")?;
    let mut rows = state.store.audit_log(&page).await?;
    let next_cursor = paging::finish(&mut rows, &page, "audit", |r| r.id.to_string());
    Ok(Json(AuditLog {
        entries: rows
            .iter()
            .map(|r| AuditEntry {
                at: wire::rfc3339(r.at),
                repeats: u32::try_from(r.repeats).unwrap_or(u32::MAX),
                last_at: wire::rfc3339(r.last_at),
                actor: r.actor.clone(),
                action: r.action.clone(),
                subject: r.subject.clone(),
                detail: r.detail.clone(),
            })
            .collect(),
        next_cursor,
    }))
}
