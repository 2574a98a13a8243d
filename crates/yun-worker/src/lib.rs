//! The worker: one per Docker host. It does Docker work the master asks for and never decides
//! business. `run` serves `WorkerService`, registers with the master and keeps heartbeating.

mod agent;
mod grpc;
pub mod pulls;
pub mod runtime;
pub mod stats;

use runtime::docker::{DockerOptions, DockerRuntime};
use runtime::Runtime;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

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
    pub join_token: String,
    pub docker: DockerOptions,
    /// Overrides the host's boot id; only for tests that simulate a reboot.
    pub boot_id: Option<String>,
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
    if !runtime.unenforced_limits().is_empty() {
        tracing::warn!(
            limits = ?runtime.unenforced_limits(),
            allowed = config.docker.allow_unenforced_limits,
            "the engine cannot enforce some limits"
        );
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
    let public_host = config.public_host.clone().unwrap_or_else(|| {
        advertise
            .rsplit_once(':')
            .map(|(h, _)| h.to_string())
            .unwrap_or_else(|| advertise.clone())
    });
    let shutdown = CancellationToken::new();
    let identity = agent::Identity {
        name: config.name.clone(),
        advertise,
        public_host: public_host.clone(),
        port_range: config.port_range,
        allow_unenforced_limits: config.docker.allow_unenforced_limits,
        boot_id: config.boot_id.clone().unwrap_or_else(agent::host_boot_id),
    };
    let stats = Arc::new(stats::StatsHub::new(runtime.clone()));
    let pulls = Arc::new(pulls::SharedPulls::new(runtime.clone()));
    tracing::info!(source = stats.source(), "live stats source");
    let activity = Arc::new(WorkerActivity {
        stats: stats.clone(),
        pulls: pulls.clone(),
    });
    let service = grpc::WorkerGrpc::new(runtime.clone(), stats, pulls);
    let serve = grpc::serve(
        service,
        config.join_token.clone(),
        listener,
        shutdown.clone().cancelled_owned(),
    );
    let agent = agent::run(
        runtime,
        identity,
        config.master.clone(),
        config.join_token.clone(),
        shutdown.clone(),
    );
    let task = tokio::spawn(async move {
        tokio::select! {
            r = serve => if let Err(e) = r { tracing::error!(error = %e, "worker RPC server stopped") },
            () = agent => {}
        }
    });
    Ok(RunningWorker {
        rpc_addr,
        activity,
        shutdown,
        task,
    })
}
