//! Billing's background work, one tick a second: the meter (buy the next interval, give back
//! unused time, find whoever cannot pay), container lifetimes, and order expiry. Money itself
//! only moves inside store transactions (`yun-store`'s ledger and metering). Billing calls
//! neither containers nor workers: what must happen to containers because of money or time
//! comes back as an [`Action`], which the containers' service carries out
//! (`containers/billed.rs`).

mod check;
mod lifetime;
mod meter;

use crate::metrics::MasterMetrics;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use yun_core::pricing::Pricing;
use yun_store::Store;

/// What billing asks of containers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// The user's balance cannot pay the next interval: stop their running containers (not
    /// remove them), telling them why.
    Suspend { user: String, reason: String },
    /// The container's lifetime (`expires_in`) ended: remove it.
    Expire { container: String },
}

/// What billing reads and counts into; cheap to clone.
#[derive(Clone)]
pub struct Billing {
    pub store: Store,
    pub metrics: Arc<MasterMetrics>,
    pub pricing: Pricing,
}

const TICK: Duration = Duration::from_secs(1);

impl Billing {
    /// One tick: what the meter, lifetimes and orders need now, and what containers must do
    /// because of it.
    pub async fn tick(&self) -> Vec<Action> {
        let started = std::time::Instant::now();
        let mut actions = meter::tick(self).await;
        self.metrics
            .meter_tick_duration
            .observe(started.elapsed().as_secs_f64());
        actions.extend(lifetime::tick(self).await);
        match self.store.expire_orders().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(orders = n, "unpaid orders expired"),
            Err(e) => tracing::warn!(error = %e, "could not expire orders"),
        }
        actions
    }

    /// Ticks until `shutdown`, handing each tick's actions to `act`; also starts the
    /// balance check.
    pub fn spawn(self, act: impl Fn(Action) + Send + 'static, shutdown: CancellationToken) {
        check::spawn(self.clone(), shutdown.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(TICK);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    () = shutdown.cancelled() => return,
                }
                for action in self.tick().await {
                    act(action);
                }
            }
        });
    }
}
