//! The meter: each tick buys the next interval for the running containers of users whose paid
//! time ends soon (one purchase per user) and settles those that stopped running. A user whose
//! balance cannot pay is named for suspension: stopped, not removed, with the reason.

use super::{Action, Billing};
use yun_core::pricing::lead;

pub async fn tick(billing: &Billing) -> Vec<Action> {
    let interval = billing.pricing.metering_interval;
    let result = billing
        .store
        .meter_tick(
            lead(interval).as_millis() as i64,
            interval.as_millis() as i64,
        )
        .await;
    let tick = match result {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!(error = %e, "metering failed; the next tick retries");
            return Vec::new();
        }
    };
    if tick.charged > 0 || tick.refunded > 0 {
        tracing::debug!(charged = tick.charged, refunded = tick.refunded, "metered");
    }
    let minutes = interval.as_secs().div_ceil(60);
    let reason = format!(
        "your balance cannot pay the next {minutes} minute(s) of running; top up (POST /api/v1/orders), then start it again"
    );
    tick.short
        .into_iter()
        .map(|user| Action::Suspend {
            user,
            reason: reason.clone(),
        })
        .collect()
}
