//! The fleet as the master sees it: the in-memory registry of leases, the gRPC service
//! workers join and register with, the client the master calls workers through, and the
//! fleet's trust (CA, certificates, revocations).

mod client;
mod error;
mod registry;
mod service;
pub mod tokens;
mod trust;

pub use client::WorkerClient;
pub use error::NodeError;
pub use registry::{NodeLease, NodeState, Registry};
pub use service::RegistryGrpc;
pub use trust::{Caller, FleetTls, FleetTrust};
