//! The worker: one per Docker host. It does Docker work the master asks for and never decides
//! business. `run` serves `WorkerService`, registers with the master and keeps heartbeating.

mod agent;
mod grpc;
mod log_batches;
pub mod membership;
pub mod metrics;
pub mod pulls;
pub mod registry;
pub mod runtime;
pub mod stats;

use runtime::docker::{DockerOptions, DockerRuntime};
use runtime::Runtime;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Where a worker on the console's own machine (`yun dev`, the tests) publishes renters' ports
/// and names its endpoints: a loopback address that is not the console's (`localhost` is
/// 127.0.0.1 and ::1), so nothing a renter runs answers at the console's host on any port.
pub const LOOPBACK_NODE_ADDRESS: &str = "127.0.0.2";

/// The host in a `host:port` the worker advertises: where endpoints point when no public host
/// is given.
pub fn advertised_host(advertise: &str) -> String {
    advertise
        .rsplit_once(':')
        .map_or_else(|| advertise.to_string(), |(h, _)| h.to_string())
}

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub name: String,
    /// The master's RegistryService, e.g. `http://10.0.0.1:8090`.
    pub master: String,
    pub rpc: SocketAddr,
    /// host:port where the master reaches this worker; defaults to the bound RPC address.
    pub advertise: Option<String>,
    /// Host shown in endpoints; defaults to the advertise host.
    pub public_host: Option<String>,
    pub port_range: (u16, u16),
    /// Needed only until the worker has joined; the state directory remembers it after.
    pub join_token: Option<String>,
    /// Holds the node's key and certificate (`identity.pem`), mode 0700.
    pub state_dir: std::path::PathBuf,
    /// `--insecure-plaintext`: no TLS to or from the master (the master must say the same).
    pub insecure_plaintext: bool,
    pub docker: DockerOptions,
    /// Overrides the host's boot id; only for tests that simulate a reboot.
    pub boot_id: Option<String>,
    /// Where this worker serves `/metrics`, and the bearer token it asks for (if any).
    pub metrics: Option<MetricsListener>,
}

/// A worker's metrics address and token.
#[derive(Debug, Clone)]
pub struct MetricsListener {
    pub addr: SocketAddr,
    pub token: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("cannot reach the Docker engine at {endpoint}: {source}. Is dockerd running and is the socket readable?")]
    Engine {
        endpoint: String,
        source: runtime::RuntimeError,
    },
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("invalid worker setting: {0}")]
    Config(String),
    #[error("joining the fleet: {0}")]
    Join(String),
    #[error("the node's certificate: {0}")]
    Trust(#[from] yun_trust::TrustError),
}

/// What a started worker is doing, for tests and operators.
pub trait Activity: Send + Sync {
    /// Containers whose stats are being sampled now.
    fn samplers(&self) -> usize;
    /// Image pulls actually started (overlapping identical pulls count once).
    fn pulls_started(&self) -> u64;
}

struct WorkerActivity<R> {
    stats: Arc<stats::StatsHub<R>>,
    pulls: Arc<pulls::SharedPulls<R>>,
}

impl<R: Runtime> Activity for WorkerActivity<R> {
    fn samplers(&self) -> usize {
        self.stats.active()
    }

    fn pulls_started(&self) -> u64 {
        self.pulls.started()
    }
}

/// A started worker: its RPC address, and a handle that stops it.
pub struct RunningWorker {
    pub rpc_addr: SocketAddr,
    /// Where `/metrics` is served, when it is.
    pub metrics_addr: Option<SocketAddr>,
    /// The certificate this node shows now (renewals replace it).
    pub certificate: yun_trust::CertSlot,
    pub activity: Arc<dyn Activity>,
    pub shutdown: CancellationToken,
    pub task: tokio::task::JoinHandle<()>,
}

pub async fn start(config: WorkerConfig) -> Result<RunningWorker, WorkerError> {
    if config.port_range.0 == 0 || config.port_range.0 > config.port_range.1 {
        return Err(WorkerError::Config(format!(
            "port range {}-{} is empty; give it as START-END, e.g. 20000-29999",
            config.port_range.0, config.port_range.1
        )));
    }
    let runtime = DockerRuntime::connect(config.docker.clone())
        .await
        .map_err(|source| WorkerError::Engine {
            endpoint: config.docker.endpoint.clone(),
            source,
        })?;
    let refusing = yun_core::node::limits_that_refuse(runtime.unenforced_limits());
    if !refusing.is_empty() {
        tracing::warn!(
            limits = ?refusing,
            allowed = config.docker.allow_unenforced_limits,
            "the engine cannot enforce some limits"
        );
    }
    if runtime
        .unenforced_limits()
        .iter()
        .any(|l| l == yun_core::node::DISK_LIMIT)
    {
        tracing::info!("the engine cannot cap containers' disk; the master measures it and stops a container over its plan's");
    }
    start_with_runtime(config, Arc::new(runtime)).await
}

/// Serves and registers a worker over any runtime. Production uses Docker (`start`); the
/// simulated runtime is only for scale benchmarks.
pub async fn start_with_runtime<R: Runtime>(
    config: WorkerConfig,
    runtime: Arc<R>,
) -> Result<RunningWorker, WorkerError> {
    let listener = TcpListener::bind(config.rpc)
        .await
        .map_err(|source| WorkerError::Listen {
            addr: config.rpc,
            source,
        })?;
    let rpc_addr = listener
        .local_addr()
        .map_err(|source| WorkerError::Listen {
            addr: config.rpc,
            source,
        })?;
    let advertise = config
        .advertise
        .clone()
        .unwrap_or_else(|| rpc_addr.to_string());
    let public_host = config
        .public_host
        .clone()
        .unwrap_or_else(|| advertised_host(&advertise));
    if config.docker.publish_address.is_unspecified() {
        tracing::warn!(
            "renters' ports are published on every interface of this host (--publish-address {}): \
             a renter's service then also answers on the host names of anything else served here, \
             and a browser sends those hosts' cookies to it. Give this node's public address instead",
            config.docker.publish_address
        );
    }
    let shutdown = CancellationToken::new();
    let state = membership::StateDir::open(&config.state_dir)?;
    if config.insecure_plaintext {
        tracing::warn!(
            "--insecure-plaintext: this worker takes commands without TLS or certificates; anyone who \
             can reach its RPC port can run containers on this host. Use it only on a network no one else can reach"
        );
    }
    let joined = membership::establish(
        &state,
        &config.master,
        &config.name,
        config.join_token.as_deref(),
        config.insecure_plaintext,
        &shutdown,
    )
    .await?;
    let slot = yun_trust::CertSlot::new(joined.clone())?;
    let master_uri = yun_trust::plain_uri(&config.master);
    let (link, server_tls) = if config.insecure_plaintext {
        (
            membership::MasterLink {
                uri: master_uri,
                tls: None,
            },
            None,
        )
    } else {
        let client = yun_trust::node_config(joined.ca_der(), &slot)?;
        let connector = yun_trust::Connector::new(client, yun_trust::MASTER_NAME)?;
        (
            membership::MasterLink {
                uri: master_uri,
                tls: Some(connector),
            },
            Some(yun_trust::worker_config(joined.ca_der(), &slot)?),
        )
    };
    let identity = agent::Identity {
        name: config.name.clone(),
        advertise,
        public_host: public_host.clone(),
        publish_address: config.docker.publish_address,
        port_range: config.port_range,
        allow_unenforced_limits: config.docker.allow_unenforced_limits,
        boot_id: config.boot_id.clone().unwrap_or_else(agent::host_boot_id),
    };
    let metrics = Arc::new(metrics::WorkerMetrics::default());
    let stats = Arc::new(stats::StatsHub::new(
        runtime.clone(),
        metrics.stats_reads.clone(),
    ));
    let pulls = Arc::new(pulls::SharedPulls::new(runtime.clone()));
    tracing::info!(source = stats.source(), "live stats source");
    let activity = Arc::new(WorkerActivity {
        stats: stats.clone(),
        pulls: pulls.clone(),
    });
    let mut metrics_addr = None;
    if let Some(m) = &config.metrics {
        let l = TcpListener::bind(m.addr)
            .await
            .map_err(|source| WorkerError::Listen {
                addr: m.addr,
                source,
            })?;
        metrics_addr = l.local_addr().ok();
        tokio::spawn(metrics::serve(
            l,
            metrics.clone(),
            runtime.clone(),
            stats.clone(),
            m.token.clone(),
            shutdown.clone(),
        ));
    }
    let service = grpc::WorkerGrpc::new(runtime.clone(), stats, pulls, metrics.clone());
    let serve = grpc::serve(
        service,
        server_tls,
        listener,
        shutdown.clone().cancelled_owned(),
    );
    if !config.insecure_plaintext {
        tokio::spawn(membership::keep_renewed(
            link.clone(),
            slot.clone(),
            state.clone(),
            shutdown.clone(),
        ));
    }
    let agent = agent::run(runtime, identity, link, metrics, shutdown.clone());
    let task = tokio::spawn(async move {
        tokio::select! {
            r = serve => if let Err(e) = r { tracing::error!(error = %e, "worker RPC server stopped") },
            () = agent => {}
        }
    });
    Ok(RunningWorker {
        rpc_addr,
        metrics_addr,
        certificate: slot,
        activity,
        shutdown,
        task,
    })
}
