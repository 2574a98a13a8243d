//! Containers created with a lifetime (`expires_in`) are removed when it ends, and their
//! deposit comes back as with any removal.

use super::{Action, Billing};

pub async fn tick(billing: &Billing) -> Vec<Action> {
    match billing.store.expired_containers().await {
        Ok(ids) => ids
            .into_iter()
            .map(|container| Action::Expire { container })
            .collect(),
        Err(e) => {
            tracing::warn!(error = %e, "could not look for expired containers");
            Vec::new()
        }
    }
}
