//! A master's or node's identity: its key and the certificate chain it shows (its own
//! certificate, then the CA's), kept by a worker in one PEM file so the two never disagree.

use crate::{provider, Peer, TrustError};
use rcgen::{CertificateParams, DistinguishedName, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::sign::CertifiedKey;
use std::sync::Arc;
use std::time::SystemTime;

#[derive(Clone)]
pub struct Identity {
    cert: Vec<u8>,
    ca: Vec<u8>,
    /// PKCS#8 DER.
    key: Vec<u8>,
}

impl std::fmt::Debug for Identity {
    // The key never reaches a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity").finish_non_exhaustive()
    }
}

impl Identity {
    pub fn new(cert: Vec<u8>, ca: Vec<u8>, key: Vec<u8>) -> Self {
        Self { cert, ca, key }
    }

    pub fn cert_der(&self) -> &[u8] {
        &self.cert
    }

    pub fn ca_der(&self) -> &[u8] {
        &self.ca
    }

    /// Who the certificate names, its serial and validity.
    pub fn peer(&self) -> Result<Peer, TrustError> {
        Peer::from_der(&self.cert)
    }

    /// When to ask for the next certificate: two thirds into this one's life.
    pub fn renew_at(&self) -> Result<SystemTime, TrustError> {
        let peer = self.peer()?;
        let life = peer
            .not_after
            .duration_since(peer.not_before)
            .unwrap_or_default();
        Ok(peer.not_before + life * 2 / 3)
    }

    pub(crate) fn certified_key(&self) -> Result<Arc<CertifiedKey>, TrustError> {
        let key = provider()
            .key_provider
            .load_private_key(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
                self.key.clone(),
            )))
            .map_err(|e| TrustError::cert("the private key", e))?;
        let chain = vec![
            CertificateDer::from(self.cert.clone()),
            CertificateDer::from(self.ca.clone()),
        ];
        Ok(Arc::new(CertifiedKey::new(chain, key)))
    }

    /// The certificate, the CA's and the key, in that order.
    pub fn to_pem(&self) -> String {
        pem::encode_many(&[
            pem::Pem::new("CERTIFICATE", self.cert.clone()),
            pem::Pem::new("CERTIFICATE", self.ca.clone()),
            pem::Pem::new("PRIVATE KEY", self.key.clone()),
        ])
    }

    pub fn from_pem(text: &str) -> Result<Self, TrustError> {
        let parts = pem::parse_many(text).map_err(|e| TrustError::cert("the identity file", e))?;
        match parts.as_slice() {
            [cert, ca, key]
                if cert.tag() == "CERTIFICATE"
                    && ca.tag() == "CERTIFICATE"
                    && key.tag() == "PRIVATE KEY" =>
            {
                Ok(Self::new(
                    cert.contents().to_vec(),
                    ca.contents().to_vec(),
                    key.contents().to_vec(),
                ))
            }
            _ => Err(TrustError::Certificate(
                "the identity file should hold a certificate, the CA's certificate and a private key"
                    .into(),
            )),
        }
    }
}

/// A new key and the request a worker sends the master to have it certified.
pub struct KeyRequest {
    key: KeyPair,
    pub csr_der: Vec<u8>,
}

impl KeyRequest {
    pub fn new() -> Result<Self, TrustError> {
        let key = KeyPair::generate().map_err(|e| TrustError::cert("making a key", e))?;
        let mut params = CertificateParams::default();
        // The master decides every name; the request only proves the key.
        params.distinguished_name = DistinguishedName::new();
        let csr = params
            .serialize_request(&key)
            .map_err(|e| TrustError::cert("making a certificate request", e))?;
        Ok(Self {
            csr_der: csr.der().to_vec(),
            key,
        })
    }

    /// The identity the master's answer makes of this key.
    pub fn into_identity(self, cert: Vec<u8>, ca: Vec<u8>) -> Result<Identity, TrustError> {
        let identity = Identity::new(cert, ca, self.key.serialize_der());
        // A certificate for another key would fail every handshake later; say so now.
        identity.certified_key()?.keys_match().map_err(|e| {
            TrustError::cert("the master's certificate is not for this worker's key", e)
        })?;
        Ok(identity)
    }
}
