//! The meter: each tick buys the next interval for containers whose paid time ends soon (one
//! batch per user) and settles those that stopped running. A user whose balance cannot pay
//! the batch has their running containers suspended: stopped, not removed, with the reason.

use super::InFlight;
use crate::state::AppState;
use yun_core::pricing::lead;

/// `suspending` holds users whose containers are being suspended now.
pub async fn tick(state: &AppState, suspending: &InFlight) {
    let interval = state.config.pricing.metering_interval;
    let result = state
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
            return;
        }
    };
    if tick.charged > 0 || tick.refunded > 0 {
        tracing::debug!(charged = tick.charged, refunded = tick.refunded, "metered");
    }
    for user in tick.short {
        if !suspending.claim(&user) {
            continue;
        }
        let (state, suspending) = (state.clone(), suspending.clone());
        tokio::spawn(async move {
            suspend_all(&state, &user).await;
            suspending.release(&user);
        });
    }
}

async fn suspend_all(state: &AppState, user: &str) {
    let ids = match state.store.running_containers_of(user).await {
        Ok(ids) => ids,
        Err(e) => {
            tracing::warn!(user, error = %e, "could not list containers to suspend");
            return;
        }
    };
    let minutes = state
        .config
        .pricing
        .metering_interval
        .as_secs()
        .div_ceil(60);
    let reason = format!(
        "your balance cannot pay the next {minutes} minute(s) of running; top up (POST /api/v1/orders), then start it again"
    );
    for id in ids {
        match crate::containers::suspend(state, &id, &reason).await {
            Ok(()) => tracing::info!(user, container = id, "suspended: balance ran out"),
            Err(e) => {
                tracing::warn!(user, container = id, error = %e, "could not suspend; the next tick retries")
            }
        }
    }
}
