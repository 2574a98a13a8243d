//! Money: the ledger, orders that buy credits, and how to pay them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Why a balance changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    SignupCredit,
    TopUp,
    Deposit,
    DepositRefund,
    Usage,
    UsageRefund,
    Pull,
    AdminAdjustment,
}

/// One change of a balance; the ledger is append-only and sums to the balance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LedgerEntry {
    pub id: i64,
    pub kind: EntryKind,
    /// Signed credits: positive added, negative taken.
    pub amount: i64,
    pub balance_after: i64,
    /// What it is about (a container, an order, an image).
    pub reference: String,
    pub note: String,
    /// RFC 3339.
    pub created_at: String,
}

/// A page of the ledger, newest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LedgerPage {
    pub balance: i64,
    pub entries: Vec<LedgerEntry>,
    /// Pass as `before` for the next (older) page; null on the last page.
    pub next_before: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderState {
    Pending,
    Paid,
    Cancelled,
    Expired,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Order {
    pub id: String,
    pub credits: i64,
    /// The price as a decimal string in `currency` (never a float), e.g. `"10.00"`.
    pub amount: String,
    pub currency: String,
    pub provider: String,
    pub state: OrderState,
    /// RFC 3339.
    pub created_at: String,
    pub expires_at: String,
    pub settled_at: Option<String>,
    /// Whose order it is: only in operators' answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

/// `POST /orders`: how many credits to buy.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderRequest {
    /// 100 to 10,000,000 by default (`min_order_credits`, `max_order_credits`).
    #[schema(minimum = 100, maximum = 10_000_000, example = 1000)]
    pub credits: i64,
}

/// How to pay an order: a link to the provider's page, or instructions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Payment {
    pub provider: String,
    /// The provider's payment page, when it has one.
    pub url: Option<String>,
    /// What to do, for a person.
    pub instructions: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderCreated {
    pub order: Order,
    pub payment: Payment,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderAnswer {
    pub order: Order,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderList {
    pub orders: Vec<Order>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}
