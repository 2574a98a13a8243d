//! `yun master`: the API for renters and operators, and the registry workers join.

use super::file::FileConfig;
use anyhow::Context;
use clap::Args;
use std::net::SocketAddr;
use yun_master::MasterConfig;

#[derive(Args)]
pub struct MasterArgs {
    /// Address of the HTTP API (default 0.0.0.0:8088).
    #[arg(long, env = "YUN_HTTP")]
    http: Option<SocketAddr>,
    /// Address workers register with (default 0.0.0.0:8090).
    #[arg(long, env = "YUN_RPC")]
    rpc: Option<SocketAddr>,
    /// The store, e.g. sqlite://./yun-data/yun.db.
    #[arg(long, env = "YUN_DATABASE")]
    database: Option<String>,
    /// The cluster join token every worker must present.
    #[arg(long, env = "YUN_JOIN_TOKEN", hide_env_values = true)]
    join_token: Option<String>,
    /// Containers one user may hold (default 20).
    #[arg(long, env = "YUN_MAX_CONTAINERS_PER_USER")]
    max_containers_per_user: Option<u64>,
    /// CPU is reserved against cores x this factor (default 4).
    #[arg(long, env = "YUN_CPU_OVERCOMMIT")]
    cpu_overcommit: Option<f64>,
    #[command(flatten)]
    fleet: FleetArgs,
    #[command(flatten)]
    billing: super::billing::BillingArgs,
}

/// How the master runs the fleet; shared with `yun dev`.
#[derive(Args, Default)]
pub struct FleetArgs {
    /// Shortest heartbeat interval told to workers (default 5s); large fleets get nodes ÷ 250 s.
    #[arg(long, env = "YUN_HEARTBEAT_INTERVAL")]
    heartbeat_interval: Option<String>,
    /// How often each node's inventory is compared with the store (default 10s).
    #[arg(long, env = "YUN_RECONCILE_INTERVAL")]
    reconcile_interval: Option<String>,
    /// How long a labelled container no record owns may live before removal (default 60s).
    #[arg(long, env = "YUN_ORPHAN_GRACE")]
    orphan_grace: Option<String>,
    /// How long a login lasts (default 30d); its open consoles and streams end with it.
    #[arg(long, env = "YUN_SESSION_LIFETIME")]
    session_lifetime: Option<String>,
    /// How new containers are placed: spread (default) or binpack.
    #[arg(long, env = "YUN_PLACEMENT")]
    placement: Option<String>,
    /// Serve the API's reference page at /api/docs (default true; the spec at
    /// /api/openapi.json is always served).
    #[arg(long, env = "YUN_API_DOCS")]
    api_docs: Option<bool>,
    /// Where people open the console, such as https://cloud.example.com. Its host must be one
    /// no node publishes containers on (--public-host), since browsers send cookies by host.
    /// Changes made with the console's cookie must come from this origin; https makes the
    /// cookie Secure. Default: the request's own host.
    #[arg(long, env = "YUN_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Registries pulls may use, comma-separated (`host` or `host:port`; `docker.io` for
    /// names without a host). Default: any registry on a public address; loopback and private
    /// addresses only when listed.
    #[arg(long, env = "YUN_ALLOWED_REGISTRIES", value_delimiter = ',')]
    allowed_registries: Option<Vec<String>>,
}

impl FleetArgs {
    pub fn apply(&self, cfg: &mut MasterConfig, file: &FileConfig) -> anyhow::Result<()> {
        let pick = |flag: &Option<String>, key: &Option<String>| flag.clone().or(key.clone());
        if let Some(d) = pick(&self.heartbeat_interval, &file.heartbeat_interval) {
            cfg.heartbeat_interval = super::parse_duration(&d)?;
            anyhow::ensure!(
                !cfg.heartbeat_interval.is_zero(),
                "--heartbeat-interval must be above zero"
            );
        }
        if let Some(d) = pick(&self.reconcile_interval, &file.reconcile_interval) {
            cfg.reconcile_interval = super::parse_duration(&d)?;
            anyhow::ensure!(
                !cfg.reconcile_interval.is_zero(),
                "--reconcile-interval must be above zero"
            );
        }
        if let Some(d) = pick(&self.orphan_grace, &file.orphan_grace) {
            cfg.orphan_grace = super::parse_duration(&d)?;
        }
        if let Some(d) = pick(&self.session_lifetime, &file.session_lifetime) {
            cfg.session_lifetime = super::parse_duration(&d)?;
            anyhow::ensure!(
                !cfg.session_lifetime.is_zero(),
                "--session-lifetime must be above zero"
            );
        }
        if let Some(p) = pick(&self.placement, &file.placement) {
            cfg.placement = p.parse().map_err(anyhow::Error::msg)?;
        }
        if let Some(d) = self.api_docs.or(file.api_docs) {
            cfg.api_docs = d;
        }
        if let Some(u) = self.public_url.clone().or(file.public_url.clone()) {
            cfg.public_url = Some(console_origin(&u)?);
        }
        if let Some(r) = self
            .allowed_registries
            .clone()
            .or(file.allowed_registries.clone())
        {
            cfg.allowed_registries = r.into_iter().filter(|e| !e.trim().is_empty()).collect();
        }
        Ok(())
    }
}

/// Settings that only the file or the defaults give, shared with `yun dev`.
pub fn apply_policies(
    cfg: &mut MasterConfig,
    file: &FileConfig,
    max: Option<u64>,
    overcommit: Option<f64>,
) -> anyhow::Result<()> {
    if let Some(plans) = &file.plans {
        anyhow::ensure!(
            !plans.is_empty(),
            "yun.toml: 'plans' must list at least one plan"
        );
        cfg.plans = plans.clone();
    }
    if let Some(p) = &file.default_plan {
        cfg.default_plan = p.clone();
    }
    anyhow::ensure!(
        cfg.plan(&cfg.default_plan).is_some(),
        "the default plan '{}' is not among the plans",
        cfg.default_plan
    );
    if let Some(n) = max.or(file.max_containers_per_user) {
        cfg.max_containers_per_user = n;
    }
    if let Some(f) = overcommit.or(file.cpu_overcommit) {
        anyhow::ensure!(f >= 1.0, "--cpu-overcommit must be at least 1");
        cfg.cpu_overcommit = f;
    }
    cfg.admin_password = std::env::var("YUN_ADMIN_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty());
    Ok(())
}

/// `--public-url` as an origin: `http(s)://host[:port]`, nothing after it.
fn console_origin(url: &str) -> anyhow::Result<String> {
    let u = url.trim().trim_end_matches('/');
    let rest = u
        .strip_prefix("https://")
        .or_else(|| u.strip_prefix("http://"))
        .with_context(|| format!("--public-url {url:?} must start with http:// or https://"))?;
    anyhow::ensure!(
        !rest.is_empty() && !rest.contains('/') && !rest.contains('?') && !rest.contains('#'),
        "--public-url {url:?} must be an origin only, such as https://cloud.example.com (no path)"
    );
    Ok(u.to_ascii_lowercase())
}

pub fn print_ready(http: SocketAddr, console: Option<&str>, generated_password: Option<&str>) {
    let host = if http.ip().is_unspecified() {
        format!("127.0.0.1:{}", http.port())
    } else {
        http.to_string()
    };
    match console {
        Some(url) => println!("yun is ready: console at {url}, API at {url}/api/v1"),
        None => println!("yun is ready: console at http://{host}/, API at http://{host}/api/v1"),
    }
    if let Some(p) = generated_password {
        // Printed once, to the terminal only; it is never logged.
        println!("admin account created: username 'admin', password '{p}' (shown only this once)");
    }
}

pub async fn run(args: MasterArgs, file: FileConfig) -> anyhow::Result<()> {
    let database = args
        .database
        .or(file.database.clone())
        .unwrap_or_else(|| "sqlite://./yun-data/yun.db".into());
    if let Some(path) = database.strip_prefix("sqlite://") {
        if let Some(dir) = std::path::Path::new(path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
    }
    let token = args
        .join_token
        .or(file.join_token.clone())
        .context("the master needs a join token: pass --join-token or set YUN_JOIN_TOKEN, and give workers the same")?;
    let mut cfg = MasterConfig::new(database, token);
    if let Some(h) = args
        .http
        .or(file.http.as_deref().map(str::parse).transpose()?)
    {
        cfg.http = h;
    }
    if let Some(r) = args
        .rpc
        .or(file.rpc.as_deref().map(str::parse).transpose()?)
    {
        cfg.rpc = r;
    }
    apply_policies(
        &mut cfg,
        &file,
        args.max_containers_per_user,
        args.cpu_overcommit,
    )?;
    args.fleet.apply(&mut cfg, &file)?;
    args.billing.apply(&mut cfg, &file)?;
    let console = cfg.public_url.clone();
    let master = yun_master::start(cfg).await?;
    tracing::info!(http = %master.http_addr, rpc = %master.rpc_addr, cluster = master.cluster_id, "master started");
    print_ready(
        master.http_addr,
        console.as_deref(),
        master.generated_admin_password.as_deref(),
    );
    super::stop_signal().await;
    master.shutdown.cancel();
    super::drain(master.task).await;
    Ok(())
}
