//! The shared state every handler and background task sees.

use crate::config::MasterConfig;
use crate::nodes::Registry;
use crate::reconciler::Reconciler;
use std::sync::Arc;
use yun_store::Store;

#[derive(Clone)]
pub struct AppState {
    /// The console's host and its addresses, where no node may publish.
    pub console: Arc<crate::console_host::ConsoleHost>,
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
    /// Every open stream by its session, so a logout or a ban ends them at once.
    pub streams: crate::live::sessions::SessionStreams,
    /// The payment provider orders are paid through.
    pub payments: Arc<dyn crate::payments::PaymentProvider>,
    /// The cluster CA, the master's certificate and the revoked serials.
    pub trust: crate::nodes::FleetTrust,
    /// Failed logins by account and source; sign-ups by source.
    pub login_throttle: Arc<crate::accounts::throttle::LoginThrottle>,
    pub signup_throttle: Arc<crate::accounts::throttle::SignupThrottle>,
    /// This master's metrics (its own registry).
    pub metrics: Arc<crate::metrics::MasterMetrics>,
    /// Scopes every Docker label this cluster writes.
    pub cluster_id: String,
}

/// One lock per container serialises its power actions, as Wings does per server.
pub type ContainerLocks = yun_core::KeyedLocks<tokio::sync::Mutex<()>>;
