//! The shared state every handler and background task sees.

use crate::config::MasterConfig;
use crate::nodes::Registry;
use crate::reconciler::Reconciler;
use crate::store::Store;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub registry: Registry,
    pub config: Arc<MasterConfig>,
    pub locks: ContainerLocks,
    pub reconciler: Reconciler,
    pub placer: crate::containers::Placer,
    pub outcomes: crate::containers::Outcomes,
    /// Live stats feeds, one per watched container.
    pub stats: crate::live::StatsRelay,
    /// Container state changes, tailed from the store for every events subscriber.
    pub events: crate::live::EventRelay,
    /// The payment provider orders are paid through.
    pub payments: Arc<dyn crate::payments::PaymentProvider>,
    /// Scopes every Docker label this cluster writes.
    pub cluster_id: String,
}

/// One lock per container serialises its power actions, as Wings does per server.
#[derive(Clone, Default)]
pub struct ContainerLocks {
    inner: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
}

impl ContainerLocks {
    pub fn get(&self, id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.inner.lock().expect("locks");
        // Drop locks nobody holds any more so the map does not grow forever.
        if map.len() > 1024 {
            map.retain(|_, l| Arc::strong_count(l) > 1);
        }
        map.entry(id.to_string()).or_default().clone()
    }
}
