//! Who called: the peer a [`crate::TlsIncoming`] connection recorded, for handlers and
//! interceptors to check the role and the node.

use crate::{Peer, PeerInfo, Role};
use std::sync::Arc;
use tonic::{Request, Status};

/// The certificate the caller showed on this connection, if any.
pub fn peer_of<T>(req: &Request<T>) -> Option<Arc<Peer>> {
    req.extensions()
        .get::<PeerInfo>()
        .and_then(|info| info.peer.clone())
}

/// A worker's interceptor: only the master (a certificate naming it) may command this node.
/// On a plaintext fleet (`--insecure-plaintext`) nothing is checked.
#[derive(Clone)]
pub struct RequireMaster {
    pub tls: bool,
}

impl tonic::service::Interceptor for RequireMaster {
    fn call(&mut self, req: Request<()>) -> Result<Request<()>, Status> {
        if !self.tls {
            return Ok(req);
        }
        match peer_of(&req) {
            Some(peer) if peer.role == Role::Master => Ok(req),
            Some(_) => Err(Status::permission_denied(
                "only the master's certificate may command a worker; a node's cannot",
            )),
            None => Err(Status::unauthenticated(
                "a worker takes calls only from the master's certificate",
            )),
        }
    }
}
