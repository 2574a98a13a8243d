//! The fleet as the master sees it: the in-memory registry of leases, the gRPC service
//! workers join and register with, the client the master calls workers through, and the
//! fleet's trust (CA, certificates, revocations).

mod ca_check;
mod client;
mod error;
mod registry;
mod service;
pub mod tokens;
mod trust;

pub use ca_check::{open_checked as open_trust, CaRefusal};
pub use client::WorkerClient;
pub use error::NodeError;
pub use registry::{NodeLease, NodeState, Registry};
pub use service::RegistryGrpc;
pub use trust::{Caller, FleetTls, FleetTrust};

/// What the registry service hears from nodes, for the reconciler (which owns the channel:
/// the fleet reports, it never calls up).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeEvent {
    /// The engine said something happened to this container: look at it.
    ContainerChanged { container_id: String },
    /// The node's host booted since it last registered.
    Rebooted { node_id: String },
}
