//! The master: holds the business (users, auth, images, containers, ports) and calls workers
//! over gRPC. It never touches Docker. `start` binds both listeners and returns a handle.

pub mod accounts;
pub mod billing;
pub mod config;
pub mod containers;
pub mod http;
pub mod images;
mod layout;
pub mod listener;
pub mod live;
pub mod metrics;
pub mod nodes;
pub mod payments;
pub mod reconciler;
pub mod registries;
pub mod request;
pub mod web;
pub mod wire;

pub use config::MasterConfig;

use http::state::AppState;
use nodes::{Registry, RegistryGrpc};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_util::sync::CancellationToken;
use yun_proto::v1::registry_service_server::RegistryServiceServer;
use yun_store::Store;

#[derive(Debug, thiserror::Error)]
pub enum MasterError {
    /// The cause is part of the message (not a `source`, which a chain would print twice).
    #[error("opening the store {url}: {cause}")]
    Store {
        url: String,
        cause: yun_store::StoreError,
    },
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("creating the admin account: {0}")]
    Admin(String),
    #[error("setting up payments: {0}")]
    Payments(String),
    #[error("HTTPS: {0}")]
    Https(#[from] listener::tls::HttpsError),
    #[error("the fleet's certificates: {0}")]
    Trust(#[from] yun_trust::TrustError),
    #[error(transparent)]
    FleetCa(#[from] nodes::CaRefusal),
}

impl MasterError {
    /// Wraps a store failure with the database it came from.
    /// The URL is kept without its password: the error is printed and logged.
    fn store(url: &str) -> impl Fn(yun_store::StoreError) -> Self {
        let url = yun_store::redacted_url(url);
        move |cause| Self::Store {
            url: url.clone(),
            cause,
        }
    }
}

pub struct RunningMaster {
    pub http_addr: SocketAddr,
    /// The separate metrics listener's address, when `metrics_addr` was set.
    pub metrics_addr: Option<SocketAddr>,
    pub rpc_addr: SocketAddr,
    pub cluster_id: String,
    /// Set when this start created the admin account with a generated password.
    pub generated_admin_password: Option<String>,
    /// This start found an empty store (and made the admin account).
    pub first_start: bool,
    pub registry: Registry,
    pub shutdown: CancellationToken,
    pub task: tokio::task::JoinHandle<()>,
    state: AppState,
}

async fn bind(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), MasterError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| MasterError::Listen { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| MasterError::Listen { addr, source })?;
    Ok((listener, local))
}

/// A master of a large fleet holds a connection per worker and per open stream.
fn raise_open_file_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => tracing::debug!(limit = n, "open-file limit"),
        Err(e) => tracing::warn!(error = %e, "could not raise the open-file limit"),
    }
}

/// What the first start of a store made.
struct FirstStart {
    /// The admin account's password, when it was generated (printed once).
    generated_password: Option<String>,
}

/// On first start with an empty store, makes the `admin` account.
async fn ensure_admin(
    store: &Store,
    password: Option<&str>,
) -> Result<Option<FirstStart>, MasterError> {
    if store
        .count_users()
        .await
        .map_err(|e| MasterError::Admin(e.to_string()))?
        > 0
    {
        return Ok(None);
    }
    let (password, generated) = match password {
        Some(p) => (p.to_string(), false),
        None => (accounts::generated_password(), true),
    };
    accounts::policy::check(&password, "admin")
        .map_err(|e| MasterError::Admin(format!("YUN_ADMIN_PASSWORD is refused: {}", e.message)))?;
    let hash = accounts::hash_password(password.clone())
        .await
        .map_err(MasterError::Admin)?;
    store
        .create_user("admin", &hash, yun_core::Role::Admin, 0, None)
        .await
        .map_err(|e| MasterError::Admin(e.to_string()))?;
    tracing::info!("created the admin account");
    Ok(Some(FirstStart {
        generated_password: generated.then_some(password),
    }))
}

/// Keeps the WAL short beside the single writer, which never checkpoints itself.
fn spawn_checkpoints(store: Store, shutdown: CancellationToken) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(yun_store::CHECKPOINT_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = shutdown.cancelled() => return,
            }
            if let Err(e) = store.checkpoint().await {
                tracing::warn!(error = %e, "WAL checkpoint failed; the next one retries");
            }
        }
    });
}

/// Deletes expired sessions, access tokens and devices, and audit entries past their
/// retention, every ten minutes (the credentials already open nothing; this keeps the tables
/// small).
fn spawn_credential_purge(state: AppState, shutdown: CancellationToken) {
    let idle_ms = state.config.session_idle_ms();
    let retention_ms =
        i64::try_from(state.config.audit_retention.as_millis()).unwrap_or(i64::MAX / 2);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = shutdown.cancelled() => return,
            }
            match state.store.purge_expired_credentials(idle_ms).await {
                Ok(p) if p == yun_store::Purged::default() => {}
                Ok(p) => tracing::info!(
                    sessions = p.sessions,
                    tokens = p.tokens,
                    devices = p.devices,
                    "purged expired sessions, access tokens and devices"
                ),
                Err(e) => {
                    tracing::warn!(error = %e, "purging expired sessions failed; the next pass retries")
                }
            }
            match state.store.purge_audit(retention_ms).await {
                Ok(0) => {}
                Ok(entries) => {
                    tracing::info!(entries, "audit entries past their retention deleted")
                }
                Err(e) => {
                    tracing::warn!(error = %e, "trimming the audit log failed; the next pass retries")
                }
            }
        }
    });
}

pub async fn start(config: MasterConfig) -> Result<RunningMaster, MasterError> {
    let payments = payments::load(&config.payments.provider).map_err(MasterError::Payments)?;
    let store_failed = MasterError::store(&config.database);
    // One master per SQLite file, held until this one stops.
    let claim = yun_store::claim_sqlite(&config.database).map_err(&store_failed)?;
    let store = Store::open(&config.database).await.map_err(&store_failed)?;
    let cluster_id = store.cluster_id().await.map_err(&store_failed)?;
    let first_start = ensure_admin(&store, config.admin_password.as_deref()).await?;
    raise_open_file_limit();
    let trust = nodes::open_trust(&config.fleet, &store).await?;
    if trust.plaintext() {
        tracing::warn!(
            "--insecure-plaintext: master and workers talk without TLS or certificates; anyone who \
             can reach the RPC ports can command every worker. Use it only on a network no one else can reach"
        );
    }
    trust.revoke(store.revoked_serials().await.map_err(&store_failed)?);
    let metrics = Arc::new(metrics::MasterMetrics::new(&store));
    let registry = Registry::new(config.heartbeat_interval, trust.clone(), &metrics);
    // Known nodes get a full lease before they count as down (a fair chance to heartbeat).
    registry.remember(store.list_nodes().await.map_err(&store_failed)?);
    let https = match &config.https {
        Some(files) => Some(listener::tls::server_config(&files.cert, &files.key)?),
        None => None,
    };
    accounts::passwords::prepare();
    let (http_listener, http_addr) = bind(config.http).await?;
    let (rpc_listener, rpc_addr) = bind(config.rpc).await?;
    let metrics_listener = match config.metrics_addr {
        Some(addr) => Some(bind(addr).await?),
        None => None,
    };
    metrics.count_ledger_from(store.ledger_totals().await.map_err(&store_failed)?);
    let signups = Arc::new(accounts::throttle::SignupThrottle::new(
        config.registrations_per_hour,
    ));
    let console = Arc::new(request::ConsoleHost::resolve(config.public_url.as_deref()).await);
    let config = Arc::new(config);
    // The services, bottom up: each is handed what it uses, and the layers above get handles.
    let containers = containers::Containers::new(store.clone(), registry.clone(), config.clone());
    let reconciler = reconciler::Reconciler::new(containers.clone(), metrics.clone());
    let billing = billing::Billing {
        store: store.clone(),
        metrics: metrics.clone(),
        pricing: config.pricing.clone(),
    };
    let (node_events, from_nodes) = tokio::sync::mpsc::unbounded_channel();
    let rpc = RegistryServiceServer::new(RegistryGrpc {
        store: store.clone(),
        registry: registry.clone(),
        trust: trust.clone(),
        console: console.clone(),
        cluster_id: cluster_id.clone(),
        allowed_registries: config.allowed_registries.clone(),
        events: node_events,
    });
    let state = AppState {
        console,
        stats: live::StatsRelay::new(store.clone(), registry.clone()),
        events: live::EventRelay::new(store.clone()),
        store,
        registry: registry.clone(),
        config,
        containers: containers.clone(),
        payments: Arc::from(payments),
        streams: live::sessions::SessionStreams::default(),
        trust: trust.clone(),
        login_throttle: Arc::default(),
        metrics,
        signup_throttle: signups,
        cluster_id: cluster_id.clone(),
    };
    let shutdown = CancellationToken::new();
    reconciler.spawn(from_nodes, shutdown.clone());
    containers.spawn(shutdown.clone());
    let in_flight = containers::InFlight::default();
    billing.spawn(
        move |action| containers.carry_out(action, &in_flight),
        shutdown.clone(),
    );
    spawn_checkpoints(state.store.clone(), shutdown.clone());
    trust.spawn_upkeep(state.store.clone(), shutdown.clone());
    spawn_credential_purge(state.clone(), shutdown.clone());
    let metrics_addr = metrics_listener.as_ref().map(|(_, a)| *a);
    if let Some((listener, _)) = metrics_listener {
        tokio::spawn(http::metrics::serve_apart(
            listener,
            state.clone(),
            shutdown.clone(),
        ));
    }
    let app = http::router(state.clone());
    let limits = state.config.http_limits.clone();
    let trusted = state.config.trusted_proxies.clone();
    let http_stop = shutdown.clone();
    let rpc_stop = shutdown.clone();
    let task = tokio::spawn(async move {
        let http = listener::serve(http_listener, app, limits, trusted, https, http_stop);
        let server = tonic::transport::Server::builder()
            .trace_fn(yun_proto::rpc_span)
            .http2_keepalive_interval(Some(std::time::Duration::from_secs(20)))
            .add_service(rpc);
        let rpc = async move {
            match trust.server_config() {
                Some(tls) => {
                    server
                        .serve_with_incoming_shutdown(
                            yun_trust::TlsIncoming::start(rpc_listener, tls),
                            rpc_stop.cancelled_owned(),
                        )
                        .await
                }
                None => {
                    server
                        .serve_with_incoming_shutdown(
                            TcpListenerStream::new(rpc_listener),
                            rpc_stop.cancelled_owned(),
                        )
                        .await
                }
            }
        };
        let ((), r) = tokio::join!(http, rpc);
        if let Err(e) = r {
            tracing::error!(error = %e, "RPC server stopped");
        }
        drop(claim);
    });
    Ok(RunningMaster {
        http_addr,
        metrics_addr,
        rpc_addr,
        cluster_id,
        generated_admin_password: first_start
            .as_ref()
            .and_then(|f| f.generated_password.clone()),
        first_start: first_start.is_some(),
        registry,
        shutdown,
        task,
        state,
    })
}

impl RunningMaster {
    /// A join token, as `yun master join-token` makes one.
    pub async fn join_token(
        &self,
        ttl: std::time::Duration,
        uses: Option<u32>,
    ) -> Result<String, String> {
        nodes::tokens::check(ttl, uses)?;
        nodes::tokens::create(&self.state.store, &self.state.trust, "yun dev", ttl, uses)
            .await
            .map(|(token, _)| token)
            .map_err(|e| e.to_string())
    }

    /// When the master's own certificate expires (it renews at two thirds of its life).
    pub fn certificate_expires_at(&self) -> Option<std::time::SystemTime> {
        self.state.trust.master_expires_at()
    }

    /// Deletes expired sessions and access tokens now, as the ten-minute pass does; answers
    /// how many of each.
    pub async fn purge_expired_credentials(&self) -> Result<(u64, u64), String> {
        let idle_ms = self.state.config.session_idle_ms();
        self.state
            .store
            .purge_expired_credentials(idle_ms)
            .await
            .map(|p| (p.sessions, p.tokens))
            .map_err(|e| e.to_string())
    }

    /// The digest of the cluster CA that join tokens carry.
    pub fn ca_digest(&self) -> String {
        self.state.trust.ca_digest()
    }

    /// Puts an image a node already has (or can pull) into the public catalog, as an operator's
    /// `POST /admin/images` does.
    pub async fn publish_image(&self, reference: &str) -> Result<(), String> {
        http::images::pull_into_catalog(&self.state, "", reference, false)
            .await
            .map(|_| ())
            .map_err(|e| e.message)
    }

    /// Waits until `n` nodes hold a lease, or the timeout passes; returns how many do.
    pub async fn wait_for_nodes(&self, n: usize, timeout: std::time::Duration) -> usize {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let ready = self.registry.ready_nodes().len();
            if ready >= n || tokio::time::Instant::now() >= deadline {
                return ready;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

/// `yun master join-token`: opens the store and the CA as the master would (beside a running
/// master, SQLite's WAL lets both in) and makes a token.
pub async fn make_join_token(
    config: &MasterConfig,
    created_by: &str,
    ttl: std::time::Duration,
    uses: Option<u32>,
) -> Result<String, MasterError> {
    nodes::tokens::check(ttl, uses).map_err(MasterError::Admin)?;
    let store_failed = MasterError::store(&config.database);
    let store = Store::open(&config.database).await.map_err(&store_failed)?;
    store.cluster_id().await.map_err(&store_failed)?;
    let trust = nodes::open_trust(&config.fleet, &store).await?;
    nodes::tokens::create(&store, &trust, created_by, ttl, uses)
        .await
        .map(|(token, _)| token)
        .map_err(store_failed)
}
