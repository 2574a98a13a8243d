//! Containers created with a lifetime (`expires_in`) are removed when it ends, and their
//! deposit comes back as with any removal.

use super::InFlight;
use crate::state::AppState;

/// `removing` holds containers whose removal is under way, so a slow one is not started twice.
pub async fn tick(state: &AppState, removing: &InFlight) {
    let ids = match state.store.expired_containers().await {
        Ok(ids) => ids,
        Err(e) => {
            tracing::warn!(error = %e, "could not look for expired containers");
            return;
        }
    };
    for id in ids {
        if !removing.claim(&id) {
            continue;
        }
        let (state, removing) = (state.clone(), removing.clone());
        tokio::spawn(async move {
            match crate::containers::remove(&state, None, &id).await {
                Ok(_) => tracing::info!(container = id, "lifetime ended; removed"),
                Err(e) => {
                    tracing::warn!(container = id, error = %e, "lifetime ended but removal failed; retrying")
                }
            }
            removing.release(&id);
        });
    }
}
