//! What billing asks of containers (`billing::Action`), carried out here: billing decides,
//! the containers' service acts, each action at most once at a time (a slow suspension or
//! removal is not started again by the next tick).

use super::Containers;
use crate::billing::Action;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// Keys (users, containers) an action is under way for.
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

impl Containers {
    /// Starts carrying out `action` unless the same one is under way.
    pub fn carry_out(&self, action: Action, in_flight: &InFlight) {
        let key = match &action {
            Action::Suspend { user, .. } => format!("user:{user}"),
            Action::Expire { container } => format!("container:{container}"),
        };
        if !in_flight.claim(&key) {
            return;
        }
        let (containers, in_flight) = (self.clone(), in_flight.clone());
        tokio::spawn(async move {
            match action {
                Action::Suspend { user, reason } => {
                    containers.suspend_all(&user, &reason).await;
                }
                Action::Expire { container } => {
                    match super::remove(&containers, None, &container).await {
                        Ok(_) => tracing::info!(container, "lifetime ended; removed"),
                        Err(e) => {
                            tracing::warn!(container, error = %e, "lifetime ended but removal failed; retrying")
                        }
                    }
                }
            }
            in_flight.release(&key);
        });
    }

    async fn suspend_all(&self, user: &str, reason: &str) {
        let ids = match self.store.running_containers_of(user).await {
            Ok(ids) => ids,
            Err(e) => {
                tracing::warn!(user, error = %e, "could not list containers to suspend");
                return;
            }
        };
        for id in ids {
            match super::suspend(self, &id, reason).await {
                Ok(()) => tracing::info!(user, container = id, "suspended: balance ran out"),
                Err(e) => {
                    tracing::warn!(user, container = id, error = %e, "could not suspend; the next tick retries")
                }
            }
        }
    }
}
