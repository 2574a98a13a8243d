//! Calling over mutual TLS: a connector for tonic's channels that shows this process's
//! certificate and checks the other side's for the name it must have.

use crate::{provider, CertSlot, TrustError};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// For every call after joining: the server must have a certificate from the cluster CA, and
/// this process shows its own.
pub fn node_config(ca_der: &[u8], slot: &CertSlot) -> Result<Arc<ClientConfig>, TrustError> {
    let mut roots = RootCertStore::empty();
    roots
        .add(ca_der.to_vec().into())
        .map_err(|e| TrustError::cert("the CA certificate", e))?;
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TrustError::cert("TLS versions", e))?
        .with_root_certificates(roots)
        .with_client_cert_resolver(Arc::new(slot.clone()));
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(config))
}

/// For `Join`: the worker has no CA yet, only the token's digest of it. The master sends its
/// CA certificate in the chain; it is trusted only if its digest is the token's.
pub fn join_config(ca_digest: &str) -> Arc<ClientConfig> {
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinnedCa {
            digest: ca_digest.to_string(),
        }))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    Arc::new(config)
}

#[derive(Debug)]
struct PinnedCa {
    digest: String,
}

impl ServerCertVerifier for PinnedCa {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let ca = intermediates
            .iter()
            .find(|c| crate::ca::digest(c) == self.digest)
            .ok_or_else(|| {
                rustls::Error::General(
                    "the master's CA is not the one the join token names (its digest differs): \
                     the token is from another cluster, or something stands between this worker and the master"
                        .into(),
                )
            })?;
        let mut roots = RootCertStore::empty();
        roots.add(ca.clone().into_owned())?;
        let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
            .build()
            .map_err(|e| rustls::Error::General(e.to_string()))?;
        verifier.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &provider().signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &provider().signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// `host:port`, `http://host:port` or `https://host:port` as the `http://` URI tonic wants
/// when the connector does the TLS.
pub fn plain_uri(addr: &str) -> String {
    let bare = addr
        .strip_prefix("https://")
        .or_else(|| addr.strip_prefix("http://"))
        .unwrap_or(addr);
    format!("http://{}", bare.trim_end_matches('/'))
}

/// Opens TLS connections for a tonic channel, expecting the server to be `name`.
#[derive(Clone)]
pub struct Connector {
    tls: TlsConnector,
    name: ServerName<'static>,
}

impl Connector {
    pub fn new(config: Arc<ClientConfig>, name: &str) -> Result<Self, TrustError> {
        Ok(Self {
            tls: TlsConnector::from(config),
            name: ServerName::try_from(name.to_string())
                .map_err(|e| TrustError::cert("a peer's name", e))?,
        })
    }
}

/// Why a first contact with the master failed.
#[derive(Debug, thiserror::Error)]
pub enum Contact {
    /// Nothing answers there yet: worth trying again.
    #[error("cannot reach {addr}: {source}")]
    Unreachable {
        addr: String,
        source: std::io::Error,
    },
    /// Something answered, and its certificate or TLS was refused: trying again will not help.
    #[error("{addr} failed the TLS check: {reason}")]
    Refused { addr: String, reason: String },
}

impl Connector {
    /// Opens one connection to `uri` and says why it failed, so a caller can tell a master
    /// that is not up yet from one it must not trust.
    pub async fn check(&self, uri: &str) -> Result<(), Contact> {
        let uri: http::Uri = uri.parse().map_err(|e| Contact::Refused {
            addr: uri.to_string(),
            reason: format!("not an address: {e}"),
        })?;
        let addr = uri.authority().map(|a| a.to_string()).unwrap_or_default();
        let tcp = tcp(&uri).await.map_err(|source| Contact::Unreachable {
            addr: addr.clone(),
            source,
        })?;
        self.tls
            .connect(self.name.clone(), tcp)
            .await
            .map(drop)
            .map_err(|e| Contact::Refused {
                addr,
                reason: e.to_string(),
            })
    }
}

/// A TCP connection to the URI's host and port, without Nagle's delay (RPCs are small).
async fn tcp(uri: &http::Uri) -> std::io::Result<TcpStream> {
    let host = uri.host().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let tcp = TcpStream::connect((host, uri.port_u16().unwrap_or(443))).await?;
    tcp.set_nodelay(true)?;
    Ok(tcp)
}

type Io = hyper_util::rt::TokioIo<tokio_rustls::client::TlsStream<TcpStream>>;

impl tower::Service<http::Uri> for Connector {
    type Response = Io;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Io, std::io::Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        let (tls, name) = (self.tls.clone(), self.name.clone());
        Box::pin(async move {
            let stream = tls.connect(name, tcp(&uri).await?).await?;
            Ok(hyper_util::rt::TokioIo::new(stream))
        })
    }
}
