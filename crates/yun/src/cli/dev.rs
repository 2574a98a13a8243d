//! `yun dev`: the master, one in-process worker on the local engine and SQLite under
//! --data-dir; one command to a working platform.

use super::drain;
use super::file::FileConfig;
use super::master::{apply_policies, print_ready};
use super::worker::{default_name, docker_options, TenantSubnets};
use anyhow::Context;
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use yun_master::MasterConfig;
use yun_worker::runtime::docker::HostShield;
use yun_worker::WorkerConfig;

#[derive(Args)]
pub struct DevArgs {
    /// Address of the HTTP API (default 127.0.0.1:8088).
    #[arg(long, env = "YUN_HTTP")]
    http: Option<SocketAddr>,
    /// Where the SQLite store lives (default ./yun-data).
    #[arg(long, env = "YUN_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Host ports containers are published on (default 20000-29999).
    #[arg(long, env = "YUN_PORT_RANGE")]
    port_range: Option<String>,
    /// The Docker engine (default unix:///var/run/docker.sock).
    #[arg(long, env = "YUN_DOCKER")]
    docker: Option<String>,
    /// The bearer token the master's /metrics asks for (also YUN_METRICS_TOKEN or yun.toml).
    #[arg(long, env = "YUN_METRICS_TOKEN", hide_env_values = true)]
    metrics_token: Option<String>,
    /// Serve the console and the API over HTTPS with this certificate chain (PEM).
    #[arg(long, env = "YUN_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, env = "YUN_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

pub async fn run(args: DevArgs, file: FileConfig) -> anyhow::Result<()> {
    let data_dir = args
        .data_dir
        .or(file.data_dir.as_deref().map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("yun-data"));
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let database = format!("sqlite://{}", data_dir.join("yun.db").display());
    // The fleet uses mutual TLS here too, with the CA beside the store.
    let mut cfg = MasterConfig::new(database);
    cfg.http = match args.http {
        Some(h) => h,
        None => file.http.as_deref().unwrap_or("127.0.0.1:8088").parse()?,
    };
    // The dev platform's worker lives in this process: the registry stays on a loopback port
    // of its own choosing, unless yun.toml's `rpc` names one for another worker to join.
    cfg.rpc = file.rpc.as_deref().unwrap_or("127.0.0.1:0").parse()?;
    apply_policies(&mut cfg, &file, None, None)?;
    super::master::FleetArgs::default().apply(&mut cfg, &file)?;
    super::access::AccessArgs::default().apply(&mut cfg, &file)?;
    if let (Some(cert), Some(key)) = (args.tls_cert, args.tls_key) {
        cfg.https = Some(yun_master::config::HttpsFiles { cert, key });
    }
    let metrics_token = args
        .metrics_token
        .or(file.metrics_token.clone())
        .filter(|t| !t.is_empty());
    cfg.metrics_token = metrics_token.clone();
    cfg.metrics_addr = file.metrics.as_deref().map(str::parse).transpose()?;
    // The console on `localhost`, the containers' endpoints on 127.0.0.2: browsers keep cookies
    // by host, so the console's session never reaches a renter's service.
    if cfg.public_url.is_none() && cfg.http.ip().is_loopback() {
        let scheme = if cfg.https.is_some() { "https" } else { "http" };
        cfg.public_url = Some(format!("{scheme}://localhost:{}", cfg.http.port()));
    }
    super::billing::BillingArgs::default().apply(&mut cfg, &file)?;
    let console = cfg.public_url.clone();
    let master = yun_master::start(cfg).await?;
    let port_range = super::parse_port_range(
        &args
            .port_range
            .or(file.port_range.clone())
            .unwrap_or_else(|| "20000-29999".into()),
    )?;
    let subnets = TenantSubnets {
        pool: None,
        prefix: None,
    };
    // On a developer's machine yun dev may run without root: the host's firewall is then left
    // alone, with a warning.
    let public_host = file
        .public_host
        .clone()
        .unwrap_or_else(|| yun_worker::LOOPBACK_NODE_ADDRESS.into());
    let publish = super::worker::publish_address(None, &file, &public_host).await?;
    let docker = docker_options(
        args.docker,
        subnets,
        false,
        HostShield::BestEffort,
        publish,
        &file,
    )?;
    // The in-process worker joins once, with a token good for that one join.
    let state_dir = data_dir.join("worker");
    let joined = yun_worker::membership::StateDir::open(&state_dir)?
        .load()?
        .is_some();
    let join_token = if joined {
        None
    } else {
        Some(
            master
                .join_token(Duration::from_secs(600), Some(1))
                .await
                .map_err(anyhow::Error::msg)?,
        )
    };
    let worker = yun_worker::start(WorkerConfig {
        name: file.name.clone().unwrap_or_else(default_name),
        master: format!("https://{}", master.rpc_addr),
        rpc: "127.0.0.1:0".parse()?,
        advertise: None,
        public_host: Some(public_host),
        port_range,
        join_token,
        state_dir,
        insecure_plaintext: false,
        boot_id: None,
        // The in-process worker's own /metrics, when yun.toml names an address for it.
        metrics: file
            .worker_metrics
            .as_deref()
            .map(str::parse)
            .transpose()?
            .map(|addr| yun_worker::MetricsListener {
                addr,
                token: metrics_token.clone(),
            }),
        docker: docker.clone(),
    })
    .await?;
    if master.wait_for_nodes(1, Duration::from_secs(10)).await == 0 {
        anyhow::bail!("the in-process worker did not register within 10 s; see the log above");
    }
    let demo = super::demo::offer(&master, docker).await;
    print_ready(
        master.http_addr,
        console.as_deref(),
        master.generated_admin_password.as_deref(),
    );
    if let (Some(reference), true) = (demo, master.first_start) {
        println!(
            "the catalog has a demo to run: {reference}, a web page on port {}",
            super::demo::PORT
        );
    }
    super::stop_signal().await;
    worker.shutdown.cancel();
    master.shutdown.cancel();
    tokio::join!(drain(worker.task), drain(master.task));
    Ok(())
}
