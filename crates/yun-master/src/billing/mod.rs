//! Billing's background work, one tick a second: the meter (buy the next interval, give back
//! unused time, suspend whoever cannot pay), container lifetimes, and order expiry. Money
//! itself only moves inside store transactions (`store/ledger.rs`, `store/metering.rs`).

mod check;
mod lifetime;
mod meter;

use crate::state::AppState;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Keys (users, containers) a background task is working on, so a slow one is not started
/// again by the next tick.
#[derive(Clone, Default)]
pub struct InFlight(Arc<Mutex<HashSet<String>>>);

impl InFlight {
    fn claim(&self, key: &str) -> bool {
        self.0.lock().expect("in flight").insert(key.to_string())
    }

    fn release(&self, key: &str) {
        self.0.lock().expect("in flight").remove(key);
    }
}

const TICK: Duration = Duration::from_secs(1);

pub fn spawn(state: AppState, shutdown: CancellationToken) {
    check::spawn(state.clone(), shutdown.clone());
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let (suspending, removing) = (InFlight::default(), InFlight::default());
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = shutdown.cancelled() => return,
            }
            let started = std::time::Instant::now();
            meter::tick(&state, &suspending).await;
            state
                .metrics
                .meter_tick_duration
                .observe(started.elapsed().as_secs_f64());
            lifetime::tick(&state, &removing).await;
            match state.store.expire_orders().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(orders = n, "unpaid orders expired"),
                Err(e) => tracing::warn!(error = %e, "could not expire orders"),
            }
        }
    });
}
