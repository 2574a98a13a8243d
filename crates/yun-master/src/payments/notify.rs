//! A provider's callback: verified, then checked against the order (it exists, the amount is
//! the order's, the trade succeeded), then settled once. Anything that cannot be honoured is
//! logged for an operator and credits nothing.

use super::{PaymentProvider, Rejected};
use yun_store::{Settled, Store};

/// What to answer the provider: whether it should stop retrying, and why.
pub enum Answer {
    /// Handled (credited now, before, or deliberately not): the provider stops sending.
    Done,
    /// Refused: the provider may retry, an operator looks at the log.
    Refused(String),
}

pub async fn handle(
    payments: &dyn PaymentProvider,
    store: &Store,
    provider: &str,
    params: &[(String, String)],
) -> Answer {
    if provider != payments.name() {
        return Answer::Refused(format!("provider {provider} is not configured"));
    }
    let notice = payments.verify(params);
    let notice = match notice {
        Ok(n) => n,
        Err(Rejected::BadSignature(why)) => {
            tracing::warn!(provider, why, "payment notify with a bad signature ignored");
            return Answer::Refused(why);
        }
        Err(Rejected::Invalid(why)) => {
            tracing::warn!(provider, why, "payment notify refused");
            return Answer::Refused(why);
        }
    };
    if !notice.paid {
        // e.g. WAIT_BUYER_PAY or TRADE_CLOSED: nothing to credit, nothing to retry.
        tracing::info!(
            provider,
            order = notice.order_id,
            status = notice.status,
            "payment notify without a payment"
        );
        return Answer::Done;
    }
    let order = match store.order(None, &notice.order_id).await {
        Ok(Some(o)) => o,
        Ok(None) => {
            tracing::warn!(
                provider,
                order = notice.order_id,
                "payment notify for an unknown order"
            );
            return Answer::Refused(format!("no order {}", notice.order_id));
        }
        Err(e) => return Answer::Refused(format!("store: {e}")),
    };
    if order.amount_minor != notice.amount_minor || order.provider != provider {
        let detail = format!(
            "{provider} reported {} for order {} of {}; nothing credited",
            notice.amount_minor, order.id, order.amount_minor
        );
        tracing::warn!(
            provider,
            order = order.id,
            detail,
            "payment amount does not match"
        );
        let _ = store
            .audit(
                provider,
                "payment_amount_mismatch",
                &format!("order:{}", order.id),
                &detail,
            )
            .await;
        return Answer::Refused(detail);
    }
    match store
        .settle_order(&order.id, notice.trade_no.as_deref(), provider)
        .await
    {
        Ok(Settled::Credited(o)) => {
            tracing::info!(
                provider,
                order = o.id,
                user = o.user_id,
                credits = o.credits,
                "order paid"
            );
            Answer::Done
        }
        Ok(Settled::AlreadyPaid(_)) => Answer::Done,
        Ok(Settled::NotPayable(o)) => {
            tracing::warn!(
                provider,
                order = o.id,
                state = o.state.as_str(),
                "a payment arrived for a closed order; nothing credited, see the audit log"
            );
            Answer::Done
        }
        Ok(Settled::Unknown) => Answer::Refused(format!("no order {}", order.id)),
        Err(e) => Answer::Refused(format!("store: {e}")),
    }
}
