//! Serving gRPC over mutual TLS: handshakes run beside the accept loop (a slow client holds up
//! no one), and each connection tells tonic who its peer is.

use crate::{provider, CertSlot, Peer, PeerInfo, TrustError};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;
use tokio_stream::wrappers::ReceiverStream;

/// A client that has not finished its handshake by then is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

fn roots(ca_der: &[u8]) -> Result<Arc<RootCertStore>, TrustError> {
    let mut roots = RootCertStore::empty();
    roots
        .add(ca_der.to_vec().into())
        .map_err(|e| TrustError::cert("the CA certificate", e))?;
    Ok(Arc::new(roots))
}

fn server_config(
    slot: &CertSlot,
    verifier: Arc<dyn rustls::server::danger::ClientCertVerifier>,
) -> Result<Arc<ServerConfig>, TrustError> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TrustError::cert("TLS versions", e))?
        .with_client_cert_verifier(verifier)
        .with_cert_resolver(Arc::new(slot.clone()));
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(config))
}

/// The master's: a client certificate from the cluster CA is checked when shown, and may be
/// missing (a worker that has none yet can only call `Join`; the handlers decide).
pub fn master_config(ca_der: &[u8], slot: &CertSlot) -> Result<Arc<ServerConfig>, TrustError> {
    let verifier = WebPkiClientVerifier::builder_with_provider(roots(ca_der)?, provider())
        .allow_unauthenticated()
        .build()
        .map_err(|e| TrustError::cert("the client verifier", e))?;
    server_config(slot, verifier)
}

/// A worker's: every client must show a certificate from the cluster CA.
pub fn worker_config(ca_der: &[u8], slot: &CertSlot) -> Result<Arc<ServerConfig>, TrustError> {
    let verifier = WebPkiClientVerifier::builder_with_provider(roots(ca_der)?, provider())
        .build()
        .map_err(|e| TrustError::cert("the client verifier", e))?;
    server_config(slot, verifier)
}

/// One accepted, handshaken connection.
pub struct TlsConn {
    inner: TlsStream<TcpStream>,
    info: PeerInfo,
}

impl tonic::transport::server::Connected for TlsConn {
    type ConnectInfo = PeerInfo;

    fn connect_info(&self) -> PeerInfo {
        self.info.clone()
    }
}

impl AsyncRead for TlsConn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsConn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

pub struct TlsIncoming;

impl TlsIncoming {
    /// Accepts on `listener` until the returned stream is dropped, for tonic's
    /// `serve_with_incoming`. A failed handshake is logged and costs nothing else.
    pub fn start(
        listener: TcpListener,
        config: Arc<ServerConfig>,
    ) -> ReceiverStream<Result<TlsConn, io::Error>> {
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        let acceptor = TlsAcceptor::from(config);
        tokio::spawn(async move {
            loop {
                let (tcp, remote) = tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok(a) => a,
                        Err(e) => {
                            // Out of file descriptors and the like: wait instead of spinning.
                            tracing::warn!(error = %e, "accepting an RPC connection failed");
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            continue;
                        }
                    },
                    () = tx.closed() => return,
                };
                let _ = tcp.set_nodelay(true);
                let (acceptor, tx) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp))
                        .await
                    {
                        Ok(Ok(tls)) => tls,
                        Ok(Err(e)) => {
                            tracing::info!(peer = %remote, error = %e, "an RPC client failed the TLS handshake");
                            return;
                        }
                        Err(_) => {
                            tracing::info!(peer = %remote, "an RPC client did not finish its TLS handshake in time");
                            return;
                        }
                    };
                    let peer = tls
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|chain| chain.first())
                        .and_then(|der| match Peer::from_der(der) {
                            Ok(p) => Some(Arc::new(p)),
                            Err(e) => {
                                tracing::info!(peer = %remote, error = %e, "an RPC client's certificate names no one");
                                None
                            }
                        });
                    let info = PeerInfo {
                        remote: Some(remote),
                        peer,
                    };
                    let _ = tx.send(Ok(TlsConn { inner: tls, info })).await;
                });
            }
        });
        ReceiverStream::new(rx)
    }
}
