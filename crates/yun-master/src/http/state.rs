//! What every handler sees: the services the API calls (each holding only what it uses) and
//! the request-side parts that only the HTTP layer needs. Nothing below `http/` takes it.

use crate::config::MasterConfig;
use crate::containers::Containers;
use crate::nodes::Registry;
use crate::request::ConsoleHost;
use std::sync::Arc;
use yun_store::Store;

#[derive(Clone)]
pub struct AppState {
    /// The console's host and its addresses, where no node may publish.
    pub console: Arc<ConsoleHost>,
    pub store: Store,
    pub registry: Registry,
    pub config: Arc<MasterConfig>,
    /// A renter's container actions: create, power, removal, logs.
    pub containers: Containers,
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
