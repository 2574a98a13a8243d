//! The fleet's trust: a cluster CA kept by the master, Swarm-shaped join tokens, node
//! certificates signed from each worker's own request, and mutual TLS for tonic with
//! certificates that can be replaced while connections stay open.
//!
//! Who is who is written in a certificate's DNS names, never looked up: the master's name is
//! [`MASTER_NAME`], a node's is [`node_name`]. Each side verifies the other's certificate for the
//! name it expects, so a node's certificate cannot act as the master and cannot answer for
//! another node.

mod ca;
mod checks;
mod client;
mod error;
mod identity;
mod peer;
mod server;
mod slot;
mod token;

pub use ca::{ClusterCa, Issued};
pub use checks::{peer_of, RequireMaster};
pub use client::{join_config, node_config, plain_uri, Connector, Contact};
pub use error::TrustError;
pub use identity::{Identity, KeyRequest};
pub use peer::{Peer, PeerInfo, Role};
pub use server::{master_config, worker_config, TlsConn, TlsIncoming};
pub use slot::CertSlot;
pub use token::JoinToken;

/// The name in every master's certificate, and the name a worker expects of the master.
pub const MASTER_NAME: &str = "master.fleet.yun";
const NODE_SUFFIX: &str = ".node.fleet.yun";

/// The name in node `node_id`'s certificate, and the name the master expects of that node.
pub fn node_name(node_id: &str) -> String {
    format!("{node_id}{NODE_SUFFIX}")
}

/// A certificate's validity starts this long before it is issued, so a clock a little behind
/// the master's does not refuse it.
pub const CLOCK_SKEW: std::time::Duration = std::time::Duration::from_secs(60);

/// One crypto provider for everything here: the workspace builds rustls with `ring` only.
/// Made once; every handshake of a join's verifier asks for it, and the master's HTTPS uses it.
pub fn provider() -> std::sync::Arc<rustls::crypto::CryptoProvider> {
    static PROVIDER: std::sync::OnceLock<std::sync::Arc<rustls::crypto::CryptoProvider>> =
        std::sync::OnceLock::new();
    PROVIDER
        .get_or_init(|| std::sync::Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}
