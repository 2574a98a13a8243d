//! The HTTP listener for people and scripts, built to stay up when strangers push on it:
//! headers must arrive within the header timeout (which also bounds how long a kept-alive
//! connection may wait for its next request), a body within the body timeout, a whole answer
//! must be read by the client within the idle timeout, and connections are limited per source
//! address and in all (`admission`). Established streams are never cut by these. Optionally
//! HTTPS (`tls`). Each request carries its peer's address (`ConnectInfo`) for the throttles.

mod admission;
mod deadline;
pub mod source;
pub mod tls;
mod watch;

use admission::Admission;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use ipnet::IpNet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// The listener's limits; each is a flag of `yun master`.
#[derive(Debug, Clone)]
pub struct HttpLimits {
    /// A request's head (and a TLS handshake) must arrive within this; a kept-alive connection
    /// waiting for its next request is closed after it too.
    pub header_timeout: Duration,
    /// A request's body must arrive whole within this after its head.
    pub body_timeout: Duration,
    /// A client that reads nothing of a whole answer for this long is cut off.
    pub idle_timeout: Duration,
    /// Connections one source address may hold open (streams included).
    pub max_connections_per_source: usize,
    /// Connections held open in all; None: three quarters of the open-file limit.
    pub max_connections: Option<usize>,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(15),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections_per_source: 256,
            max_connections: None,
        }
    }
}

/// How long a stopping master lets an open connection finish its request.
const DRAIN: Duration = Duration::from_secs(5);

/// The total the listener keeps below the process's open-file limit: the rest is for the store,
/// the RPC port and the workers' connections.
fn total_limit(asked: Option<usize>) -> usize {
    let files = rlimit::getrlimit(rlimit::Resource::NOFILE)
        .map(|(soft, _)| usize::try_from(soft).unwrap_or(usize::MAX))
        .unwrap_or(1024);
    let ceiling = (files / 4 * 3).max(64);
    match asked {
        Some(n) if n > ceiling => {
            tracing::warn!(
                asked = n,
                used = ceiling,
                open_file_limit = files,
                "--max-connections is above three quarters of the open-file limit; using the lower figure"
            );
            ceiling
        }
        Some(n) => n.max(1),
        None => ceiling,
    }
}

/// Serves `app` until `stop`; then lets each open connection finish for a few seconds.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: HttpLimits,
    trusted_proxies: Vec<IpNet>,
    tls: Option<Arc<rustls::ServerConfig>>,
    stop: CancellationToken,
) {
    let total = total_limit(limits.max_connections);
    tracing::debug!(
        total,
        per_source = limits.max_connections_per_source,
        "HTTP connection limits"
    );
    let admission = Admission::new(total, limits.max_connections_per_source, trusted_proxies);
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    let limits = Arc::new(limits);
    let mut refused_logged = std::time::Instant::now() - Duration::from_secs(60);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors or the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accepting an HTTP connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = stop.cancelled() => return,
        };
        let ticket = match admission.admit(peer.ip()) {
            Ok(t) => t,
            Err(why) => {
                // Closed unserved; logged at most once a minute, so a flood is not a log flood.
                if refused_logged.elapsed() >= Duration::from_secs(60) {
                    refused_logged = std::time::Instant::now();
                    tracing::warn!(peer = %peer.ip(), reason = ?why, open = admission.open(), "HTTP connections refused (further refusals this minute are not logged)");
                }
                drop(tcp);
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let activity = watch::Activity::new();
        let socket = watch::Watched::new(tcp, activity.clone(), ticket);
        let (app, limits, stop, acceptor) =
            (app.clone(), limits.clone(), stop.clone(), acceptor.clone());
        tokio::spawn(async move {
            match acceptor {
                None => serve_connection(socket, peer, activity, app, &limits, stop).await,
                Some(acceptor) => {
                    let handshake =
                        tokio::time::timeout(limits.header_timeout, acceptor.accept(socket)).await;
                    match handshake {
                        Ok(Ok(tls)) => {
                            serve_connection(tls, peer, activity, app, &limits, stop).await
                        }
                        Ok(Err(e)) => {
                            tracing::debug!(peer = %peer, error = %e, "TLS handshake failed")
                        }
                        Err(_) => tracing::debug!(peer = %peer, "TLS handshake timed out"),
                    }
                }
            }
        });
    }
}

async fn serve_connection<S>(
    socket: S,
    peer: SocketAddr,
    activity: Arc<watch::Activity>,
    app: Router,
    limits: &HttpLimits,
    stop: CancellationToken,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let body_timeout = limits.body_timeout;
    let tracked = activity.clone();
    let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let (app, tracked) = (app.clone(), tracked.clone());
        async move {
            let mut req =
                req.map(|body| axum::body::Body::new(deadline::Deadline::new(body, body_timeout)));
            req.extensions_mut().insert(ConnectInfo(peer));
            let response = app.oneshot(req).await?;
            Ok::<_, std::convert::Infallible>(tracked.track(response))
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .serve_connection(TokioIo::new(socket), service)
        .with_upgrades();
    tokio::pin!(conn);
    let idle = limits.idle_timeout;
    let mut check = tokio::time::interval((idle / 4).max(Duration::from_millis(250)));
    loop {
        tokio::select! {
            done = conn.as_mut() => {
                if let Err(e) = done {
                    tracing::debug!(peer = %peer, error = %e, "HTTP connection ended");
                }
                return;
            }
            _ = check.tick() => {
                if activity.stalled(idle) {
                    tracing::debug!(peer = %peer, "the client stopped reading its answer; closing");
                    return;
                }
            }
            () = stop.cancelled() => break,
        }
    }
    conn.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout(DRAIN, conn).await;
}
