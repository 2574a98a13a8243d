//! Orders for credits. An order moves out of `pending` exactly once, by a conditional update:
//! paid (and credited in the same transaction), cancelled by its owner, or expired by the
//! sweeper. Whichever comes first wins; the others change nothing.

use super::db::{args, Row};
use super::ledger::{audit, credit, Entry, EntryKind};
use super::{now_ms, Store, StoreResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderState {
    Pending,
    Paid,
    Cancelled,
    Expired,
}

impl OrderState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Paid => "paid",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "paid" => Self::Paid,
            "cancelled" => Self::Cancelled,
            "expired" => Self::Expired,
            _ => Self::Pending,
        }
    }
}

#[derive(Debug, Clone)]
pub struct OrderRow {
    pub id: String,
    pub user_id: String,
    pub credits: i64,
    pub amount_minor: i64,
    pub currency: String,
    pub provider: String,
    pub state: OrderState,
    pub provider_trade_no: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub settled_at: Option<i64>,
}

pub struct NewOrder {
    pub user_id: String,
    pub credits: i64,
    pub amount_minor: i64,
    pub currency: String,
    pub provider: String,
    pub ttl_ms: i64,
}

/// How a payment confirmation ended.
#[derive(Debug)]
pub enum Settled {
    /// The order was pending: it is paid now and its credits are on the balance.
    Credited(OrderRow),
    /// It was paid before (a repeated notify): nothing more is credited.
    AlreadyPaid(OrderRow),
    /// Cancelled or expired: nothing is credited; the audit log has it for an operator.
    NotPayable(OrderRow),
    Unknown,
}

fn order_from(r: &Row) -> OrderRow {
    OrderRow {
        id: r.text("id"),
        user_id: r.text("user_id"),
        credits: r.int("credits"),
        amount_minor: r.int("amount_minor"),
        currency: r.text("currency"),
        provider: r.text("provider"),
        state: OrderState::parse(&r.text("state")),
        provider_trade_no: r.opt_text("provider_trade_no"),
        created_at: r.int("created_at"),
        expires_at: r.int("expires_at"),
        settled_at: r.opt_int("settled_at"),
    }
}

impl Store {
    /// Places an order, unless the account already holds `max_pending` unpaid ones that have
    /// not expired (then `None`): counted in the write transaction, so a burst cannot pass it.
    pub async fn create_order(
        &self,
        o: NewOrder,
        max_pending: u32,
    ) -> StoreResult<Option<OrderRow>> {
        let now = now_ms();
        let row = OrderRow {
            id: yun_core::new_id(),
            user_id: o.user_id,
            credits: o.credits,
            amount_minor: o.amount_minor,
            currency: o.currency,
            provider: o.provider,
            state: OrderState::Pending,
            provider_trade_no: None,
            created_at: now,
            expires_at: now + o.ttl_ms,
            settled_at: None,
        };
        self.write(async |tx| {
            let pending = tx
                .int(
                    "SELECT COUNT(*) FROM orders WHERE user_id = ? AND state = 'pending' AND expires_at > ?",
                    args![&row.user_id, now],
                )
                .await?;
            if pending >= i64::from(max_pending) {
                return Ok(None);
            }
            tx.execute(
                "INSERT INTO orders (id, user_id, credits, amount_minor, currency, provider, state, created_at, expires_at) \
                 VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
                args![
                    &row.id,
                    &row.user_id,
                    row.credits,
                    row.amount_minor,
                    &row.currency,
                    &row.provider,
                    row.created_at,
                    row.expires_at
                ],
            )
            .await?;
            Ok(Some(row.clone()))
        })
        .await
    }

    /// One order; with `owner` set, only if that user placed it.
    pub async fn order(&self, owner: Option<&str>, id: &str) -> StoreResult<Option<OrderRow>> {
        self.read(async |db| {
            let row = db
                .row(
                    "SELECT * FROM orders WHERE id = ?1 AND (?2 IS NULL OR user_id = ?2)",
                    args![id, owner],
                )
                .await?;
            Ok(row.as_ref().map(order_from))
        })
        .await
    }

    /// Orders of `owner` (None: all), newest first; `page.after` is an order id.
    pub async fn list_orders(
        &self,
        owner: Option<&str>,
        page: &super::Page,
    ) -> StoreResult<Vec<OrderRow>> {
        self.read(async |db| {
            let rows = db
                .rows(
                    "SELECT * FROM orders WHERE (?1 IS NULL OR user_id = ?1) AND (?2 IS NULL OR id < ?2) \
                     ORDER BY id DESC LIMIT ?3",
                    args![owner, page.after.as_deref(), page.limit],
                )
                .await?;
            Ok(rows.iter().map(order_from).collect())
        })
        .await
    }

    /// Cancels a pending order of `owner`; returns the order as it now is (None: no such order).
    pub async fn cancel_order(&self, owner: &str, id: &str) -> StoreResult<Option<OrderRow>> {
        self.write(async |tx| {
            tx.execute(
                "UPDATE orders SET state = 'cancelled', settled_at = ? WHERE id = ? AND user_id = ? AND state = 'pending'",
                args![now_ms(), id, owner],
            )
            .await?;
            let row = tx
                .row(
                    "SELECT * FROM orders WHERE id = ? AND user_id = ?",
                    args![id, owner],
                )
                .await?;
            Ok(row.as_ref().map(order_from))
        })
        .await
    }

    /// Expires every pending order past its time; returns how many.
    pub async fn expire_orders(&self) -> StoreResult<u64> {
        let now = now_ms();
        self.write(async |tx| {
            Ok(tx
                .execute(
                    "UPDATE orders SET state = 'expired', settled_at = ?1 WHERE state = 'pending' AND expires_at <= ?1",
                    args![now],
                )
                .await?)
        })
        .await
    }

    /// Marks an order paid and credits it, once. `actor` is the provider or the admin who
    /// confirmed it; `trade_no` the provider's own reference.
    pub async fn settle_order(
        &self,
        id: &str,
        trade_no: Option<&str>,
        actor: &str,
    ) -> StoreResult<Settled> {
        self.write(async |tx| {
            let changed = tx
                .execute(
                    "UPDATE orders SET state = 'paid', settled_at = ?, provider_trade_no = ? WHERE id = ? AND state = 'pending'",
                    args![now_ms(), trade_no, id],
                )
                .await?
                > 0;
            let Some(order) = tx
                .row("SELECT * FROM orders WHERE id = ?", args![id])
                .await?
                .as_ref()
                .map(order_from)
            else {
                return Ok(Settled::Unknown);
            };
            let outcome = if changed {
                credit(
                    tx,
                    Entry {
                        user_id: order.user_id.clone(),
                        kind: EntryKind::TopUp,
                        amount: order.credits,
                        reference: format!("order:{id}"),
                        idempotency_key: format!("order:{id}"),
                        note: format!("paid through {}", order.provider),
                    },
                )
                .await?;
                audit(
                    tx,
                    actor,
                    "order_paid",
                    &format!("order:{id}"),
                    trade_no.unwrap_or(""),
                )
                .await?;
                Settled::Credited(order)
            } else if order.state == OrderState::Paid {
                // The same trade told again is nothing new; another trade is money received
                // twice.
                if trade_no.is_some() && trade_no != order.provider_trade_no.as_deref() {
                    audit(
                        tx,
                        actor,
                        "payment_for_paid_order",
                        &format!("order:{id}"),
                        &format!(
                            "a second payment ({}) arrived for an order already paid by {}; nothing was credited, refund it with the provider",
                            trade_no.unwrap_or(""),
                            order.provider_trade_no.as_deref().unwrap_or("an operator")
                        ),
                    )
                    .await?;
                }
                Settled::AlreadyPaid(order)
            } else {
                audit(
                    tx,
                    actor,
                    "payment_for_closed_order",
                    &format!("order:{id}"),
                    &format!(
                        "a payment ({}) arrived for an order that is {}; nothing was credited, refund it with the provider",
                        trade_no.unwrap_or("no trade number"),
                        order.state.as_str()
                    ),
                )
                .await?;
                Settled::NotPayable(order)
            };
            Ok(outcome)
        })
        .await
    }

    /// Records something an operator should look at, outside any other change.
    pub async fn audit(
        &self,
        actor: &str,
        action: &str,
        subject: &str,
        detail: &str,
    ) -> StoreResult<()> {
        self.write(async |tx| audit(tx, actor, action, subject, detail).await)
            .await
    }
}
