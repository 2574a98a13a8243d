//! The certificate a process shows, replaceable while it runs: a renewal puts the new one here
//! and the next handshake uses it; connections already open keep going.

use crate::{Identity, Peer, TrustError};
use rustls::client::ResolvesClientCert;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::SignatureScheme;
use std::sync::{Arc, RwLock};

#[derive(Debug, Clone)]
pub struct CertSlot {
    inner: Arc<RwLock<Current>>,
}

#[derive(Debug)]
struct Current {
    key: Arc<CertifiedKey>,
    identity: Identity,
    peer: Peer,
}

impl CertSlot {
    pub fn new(identity: Identity) -> Result<Self, TrustError> {
        Ok(Self {
            inner: Arc::new(RwLock::new(Self::current(identity)?)),
        })
    }

    fn current(identity: Identity) -> Result<Current, TrustError> {
        Ok(Current {
            key: identity.certified_key()?,
            peer: identity.peer()?,
            identity,
        })
    }

    pub fn replace(&self, identity: Identity) -> Result<(), TrustError> {
        let next = Self::current(identity)?;
        *self.inner.write().expect("certificate slot") = next;
        Ok(())
    }

    pub fn identity(&self) -> Identity {
        self.inner
            .read()
            .expect("certificate slot")
            .identity
            .clone()
    }

    /// The current certificate's names, serial and validity.
    pub fn peer(&self) -> Peer {
        self.inner.read().expect("certificate slot").peer.clone()
    }

    /// How long until the current certificate is due for renewal (two thirds of its life);
    /// zero when it is already due.
    pub fn renew_in(&self) -> std::time::Duration {
        self.identity()
            .renew_at()
            .ok()
            .and_then(|at| at.duration_since(std::time::SystemTime::now()).ok())
            .unwrap_or_default()
    }

    fn key(&self) -> Arc<CertifiedKey> {
        self.inner.read().expect("certificate slot").key.clone()
    }
}

impl ResolvesServerCert for CertSlot {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.key())
    }
}

impl ResolvesClientCert for CertSlot {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        Some(self.key())
    }

    fn has_certs(&self) -> bool {
        true
    }
}
