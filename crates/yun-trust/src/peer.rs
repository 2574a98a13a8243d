//! Who is on the other end of a connection, read from a certificate that TLS already verified
//! against the cluster CA.

use crate::{TrustError, MASTER_NAME, NODE_SUFFIX};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use x509_parser::extensions::GeneralName;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    Master,
    Node(String),
}

#[derive(Debug, Clone)]
pub struct Peer {
    pub role: Role,
    /// Lowercase hex.
    pub serial: String,
    pub not_before: SystemTime,
    pub not_after: SystemTime,
}

impl Peer {
    pub fn from_der(der: &[u8]) -> Result<Self, TrustError> {
        let (_, cert) = x509_parser::parse_x509_certificate(der)
            .map_err(|e| TrustError::cert("a certificate", e))?;
        let mut role = None;
        if let Ok(Some(san)) = cert.subject_alternative_name() {
            for name in &san.value.general_names {
                if let GeneralName::DNSName(dns) = name {
                    if *dns == MASTER_NAME {
                        role = Some(Role::Master);
                    } else if let Some(id) = dns.strip_suffix(NODE_SUFFIX) {
                        role = Some(Role::Node(id.to_string()));
                    }
                }
            }
        }
        let role = role.ok_or_else(|| {
            TrustError::Certificate("the certificate names neither the master nor a node".into())
        })?;
        let time = |t: x509_parser::time::ASN1Time| {
            SystemTime::UNIX_EPOCH + Duration::from_secs(t.timestamp().max(0) as u64)
        };
        Ok(Self {
            role,
            serial: hex::encode(cert.tbs_certificate.raw_serial()),
            not_before: time(cert.validity().not_before),
            not_after: time(cert.validity().not_after),
        })
    }

    pub fn node_id(&self) -> Option<&str> {
        match &self.role {
            Role::Node(id) => Some(id),
            Role::Master => None,
        }
    }
}

/// What tonic puts in every request's extensions for a connection accepted by [`crate::TlsIncoming`].
#[derive(Debug, Clone)]
pub struct PeerInfo {
    pub remote: Option<SocketAddr>,
    /// None when the client showed no certificate (only `Join` accepts that).
    pub peer: Option<Arc<Peer>>,
}
