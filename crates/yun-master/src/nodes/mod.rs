//! The fleet as the master sees it: the in-memory registry of leases, the gRPC service
//! workers register with, and the client the master calls workers through.

mod client;
mod error;
mod registry;
mod service;

pub use client::WorkerClient;
pub use error::NodeError;
pub use registry::{NodeLease, NodeState, Registry};
pub use service::RegistryGrpc;
