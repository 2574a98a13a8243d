//! The billing check in the background: every few minutes, every balance against the sum of
//! its ledger, exported for the operator's alerts (computing it at every scrape would read the
//! whole ledger each time).

use super::Billing;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const EVERY: Duration = Duration::from_secs(300);

pub fn spawn(billing: Billing, shutdown: CancellationToken) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = shutdown.cancelled() => return,
            }
            match billing.store.unbalanced_users().await {
                Ok(users) => {
                    if !users.is_empty() {
                        tracing::error!(users = users.len(), "balances differ from their ledgers");
                    }
                    let m = &billing.metrics;
                    m.billing_unbalanced
                        .set(i64::try_from(users.len()).unwrap_or(i64::MAX));
                    m.billing_checked_at.set(chrono::Utc::now().timestamp());
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the billing check failed; it runs again soon")
                }
            }
        }
    });
}
