//! `yun worker`: does the Docker work on this host for the master.

use super::file::FileConfig;
use anyhow::Context;
use clap::Args;
use std::net::SocketAddr;
use yun_worker::runtime::docker::{DockerOptions, HostShield};
use yun_worker::WorkerConfig;

#[derive(Args)]
pub struct WorkerArgs {
    /// Serve this worker's /metrics on this address (its Docker operations and its containers
    /// in cAdvisor's names); default: not served.
    #[arg(long, env = "YUN_METRICS")]
    metrics: Option<std::net::SocketAddr>,
    /// The bearer token /metrics asks for (give it in YUN_METRICS_TOKEN or yun.toml).
    #[arg(long, env = "YUN_METRICS_TOKEN", hide_env_values = true)]
    metrics_token: Option<String>,
    /// The master's RPC address, e.g. https://10.0.0.1:8090.
    #[arg(long, env = "YUN_MASTER")]
    master: Option<String>,
    /// Address this worker's RPC listens on (default 0.0.0.0:8089).
    #[arg(long, env = "YUN_RPC")]
    rpc: Option<SocketAddr>,
    /// host:port where the master reaches this worker.
    #[arg(long, env = "YUN_ADVERTISE")]
    advertise: Option<String>,
    /// Host renters use to reach published ports (default: the advertise host).
    #[arg(long, env = "YUN_PUBLIC_HOST")]
    public_host: Option<String>,
    /// The address renters' ports are published on (default: the public host's address).
    /// 0.0.0.0 publishes on every interface, where a renter's service also answers on every
    /// other name of this host: only for a host that serves nothing else.
    #[arg(long, env = "YUN_PUBLISH_ADDRESS")]
    publish_address: Option<std::net::IpAddr>,
    /// This node's name; a worker registering again under it keeps its node id.
    #[arg(long, env = "YUN_NAME")]
    name: Option<String>,
    /// Host ports containers are published on (default 20000-29999).
    #[arg(long, env = "YUN_PORT_RANGE")]
    port_range: Option<String>,
    /// The Docker engine (default unix:///var/run/docker.sock).
    #[arg(long, env = "YUN_DOCKER")]
    docker: Option<String>,
    /// The pool tenant networks take their subnets from (default 10.210.0.0/16).
    #[arg(long, env = "YUN_TENANT_SUBNETS")]
    tenant_subnets: Option<String>,
    /// The prefix length of each renter's subnet on this node (default 26: up to 61
    /// containers; 24 holds 253). Renters' networks are their own, so this caps how many
    /// containers one renter can have on one node.
    #[arg(long, env = "YUN_TENANT_SUBNET_PREFIX")]
    tenant_subnet_prefix: Option<u8>,
    /// Run containers even when the engine cannot enforce memory, swap, CPU or pids limits.
    #[arg(long, env = "YUN_ALLOW_UNENFORCED_LIMITS")]
    allow_unenforced_limits: bool,
    /// Let tenant containers open connections to this host's own addresses (by default the
    /// worker refuses them in the host's firewall, so no container reaches its RPC port or
    /// other services here).
    #[arg(long, env = "YUN_ALLOW_HOST_ACCESS")]
    allow_host_access: bool,
    /// A join token from `yun master join-token`; needed only the first time (the state
    /// directory remembers this node after).
    #[arg(long, env = "YUN_JOIN_TOKEN", hide_env_values = true)]
    join_token: Option<String>,
    /// Where this node keeps its key and certificate (default $STATE_DIRECTORY, as systemd
    /// sets it, else /var/lib/yun/worker). Keep it: a worker restarted with it needs no token.
    #[arg(long, env = "YUN_STATE_DIR")]
    state_dir: Option<std::path::PathBuf>,
    /// Talk to the master without TLS or certificates (the master must run so too). Anyone
    /// who can reach this worker's RPC port can then run containers here.
    #[arg(long, env = "YUN_INSECURE_PLAINTEXT")]
    insecure_plaintext: bool,
    /// Pretends another host boot id: lets tests simulate a reboot.
    #[arg(long, env = "YUN_BOOT_ID", hide = true)]
    boot_id: Option<String>,
}

/// What the worker's `--tenant-subnets` pool is cut into, as the flags and the file say.
pub struct TenantSubnets {
    pub pool: Option<String>,
    pub prefix: Option<u8>,
}

pub fn docker_options(
    docker: Option<String>,
    subnets: TenantSubnets,
    allow: bool,
    shield: HostShield,
    publish_address: std::net::IpAddr,
    file: &FileConfig,
) -> anyhow::Result<DockerOptions> {
    let pool = subnets
        .pool
        .or(file.tenant_subnets.clone())
        .unwrap_or_else(|| "10.210.0.0/16".into());
    let prefix = subnets.prefix.or(file.tenant_subnet_prefix).unwrap_or(26);
    anyhow::ensure!(
        (16..=29).contains(&prefix),
        "--tenant-subnet-prefix {prefix} is out of range: give 16 to 29 (26 holds 61 containers, 24 holds 253)"
    );
    let endpoint = docker
        .or(file.docker.clone())
        .unwrap_or_else(|| "unix:///var/run/docker.sock".into());
    yun_worker::runtime::docker::check_endpoint(&endpoint).map_err(anyhow::Error::msg)?;
    Ok(DockerOptions {
        endpoint,
        tenant_subnets: pool.parse().with_context(|| {
            format!("--tenant-subnets '{pool}' is not an IPv4 network like 10.210.0.0/16")
        })?,
        tenant_prefix_len: prefix,
        allow_unenforced_limits: allow || file.allow_unenforced_limits.unwrap_or(false),
        shield_host: if file.allow_host_access.unwrap_or(false) {
            HostShield::Off
        } else {
            shield
        },
        publish_address,
    })
}

/// Where renters' ports are published: `--publish-address`, else the address the public host
/// names (a literal address, or what it resolves to here).
pub async fn publish_address(
    flag: Option<std::net::IpAddr>,
    file: &FileConfig,
    public_host: &str,
) -> anyhow::Result<std::net::IpAddr> {
    if let Some(a) = flag {
        return Ok(a);
    }
    if let Some(a) = &file.publish_address {
        return a
            .parse()
            .with_context(|| format!("publish_address '{a}' in yun.toml is not an IP address"));
    }
    let host = public_host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(a) = host.parse() {
        return Ok(a);
    }
    let resolved = tokio::net::lookup_host((host, 0))
        .await
        .ok()
        .and_then(|mut addrs| addrs.next());
    resolved.map(|a| a.ip()).with_context(|| {
        format!(
            "the public host '{host}' does not resolve here, so the worker cannot tell which address to publish renters' ports on: give --publish-address"
        )
    })
}

pub fn default_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| yun_core::validate::container_name(h).is_ok())
        .unwrap_or_else(|| "local".into())
}

pub async fn run(args: WorkerArgs, file: FileConfig) -> anyhow::Result<()> {
    let master = args
        .master
        .or(file.master.clone())
        .context("the worker needs --master (e.g. https://10.0.0.1:8090) or YUN_MASTER")?;
    let join_token = args.join_token.or(file.join_token.clone());
    let state_dir = args
        .state_dir
        .or(file.state_dir.clone().map(std::path::PathBuf::from))
        .or(std::env::var_os("STATE_DIRECTORY").map(std::path::PathBuf::from))
        .unwrap_or_else(|| std::path::PathBuf::from("/var/lib/yun/worker"));
    let port_range = super::parse_port_range(
        &args
            .port_range
            .or(file.port_range.clone())
            .unwrap_or_else(|| "20000-29999".into()),
    )?;
    let rpc = match args.rpc {
        Some(r) => r,
        None => file.rpc.as_deref().unwrap_or("0.0.0.0:8089").parse()?,
    };
    let advertise = args.advertise.or(file.advertise.clone());
    let public_host = args.public_host.or(file.public_host.clone());
    // The host in endpoints, as the worker will name it: the public host, else the advertise
    // host, else the RPC listener's address.
    let endpoint_host = public_host.clone().unwrap_or_else(|| match &advertise {
        Some(a) => yun_worker::advertised_host(a),
        None => rpc.ip().to_string(),
    });
    let publish = publish_address(args.publish_address, &file, &endpoint_host).await?;
    let config = WorkerConfig {
        name: args.name.or(file.name.clone()).unwrap_or_else(default_name),
        master,
        rpc,
        advertise,
        public_host,
        port_range,
        join_token,
        state_dir,
        insecure_plaintext: args.insecure_plaintext || file.insecure_plaintext.unwrap_or(false),
        boot_id: args.boot_id,
        metrics: args
            .metrics
            .or(file.metrics.as_deref().map(str::parse).transpose()?)
            .map(|addr| yun_worker::MetricsListener {
                addr,
                token: args
                    .metrics_token
                    .clone()
                    .or(file.metrics_token.clone())
                    .filter(|t| !t.is_empty()),
            }),
        docker: docker_options(
            args.docker,
            TenantSubnets {
                pool: args.tenant_subnets,
                prefix: args.tenant_subnet_prefix,
            },
            args.allow_unenforced_limits,
            if args.allow_host_access {
                HostShield::Off
            } else {
                HostShield::Required
            },
            publish,
            &file,
        )?,
    };
    anyhow::ensure!(
        config.advertise.is_some() || !rpc.ip().is_unspecified(),
        "--advertise is needed when --rpc listens on all interfaces: give the host:port the master should call"
    );
    let worker = yun_worker::start(config).await?;
    tracing::info!(rpc = %worker.rpc_addr, "worker started");
    super::stop_signal().await;
    // Stopping the worker never stops the containers it runs.
    worker.shutdown.cancel();
    super::drain(worker.task).await;
    Ok(())
}
