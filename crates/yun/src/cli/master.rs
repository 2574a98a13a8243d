//! `yun master`: the API for renters and operators, and the registry workers join.

use super::file::FileConfig;
use anyhow::Context;
use clap::{Args, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use yun_master::MasterConfig;

mod backup;
mod migrate;

/// The store when none is given.
const DEFAULT_DATABASE: &str = "sqlite://./yun-data/yun.db";

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct MasterArgs {
    #[command(subcommand)]
    action: Option<MasterAction>,
    /// Address of the HTTP API (default 0.0.0.0:8088).
    #[arg(long, env = "YUN_HTTP")]
    http: Option<SocketAddr>,
    /// Address workers register with (default 0.0.0.0:8090).
    #[arg(long, env = "YUN_RPC")]
    rpc: Option<SocketAddr>,
    /// The store: sqlite://./yun-data/yun.db (the default) or postgres://USER@HOST/DATABASE
    /// (?sslmode=verify-full&sslrootcert=FILE for TLS). Keep a password out of the command
    /// line: put the URL in the file YUN_DATABASE_FILE names.
    #[arg(long, env = "YUN_DATABASE", hide_env_values = true)]
    database: Option<String>,
    /// Containers one user may hold (default 20).
    #[arg(long, env = "YUN_MAX_CONTAINERS_PER_USER")]
    max_containers_per_user: Option<u64>,
    /// CPU is reserved against cores x this factor (default 4).
    #[arg(long, env = "YUN_CPU_OVERCOMMIT")]
    cpu_overcommit: Option<f64>,
    #[command(flatten)]
    trust: TrustArgs,
    #[command(flatten)]
    fleet: FleetArgs,
    #[command(flatten)]
    access: super::access::AccessArgs,
    /// Serve GET /metrics on the HTTP listener to this bearer token (default: not served
    /// there). Keep it out of the command line: give it in YUN_METRICS_TOKEN or yun.toml.
    #[arg(long, env = "YUN_METRICS_TOKEN", hide_env_values = true)]
    metrics_token: Option<String>,
    /// Also serve /metrics without a token on this address, for the operator's network only.
    #[arg(long, env = "YUN_METRICS")]
    metrics: Option<SocketAddr>,
    #[command(flatten)]
    billing: super::billing::BillingArgs,
}

#[derive(Subcommand)]
enum MasterAction {
    /// Print a new join token for `yun worker --join-token` (uses the master's --database and
    /// CA files; the master may be running)
    JoinToken(JoinTokenArgs),
    /// Copy the store (SQLite) and the fleet's CA into a backup, consistent as of one commit;
    /// the master may be running. Restoring is starting a master on the copy
    Backup(backup::BackupArgs),
    /// Copy a stopped master's SQLite store into an empty PostgreSQL database, every count and
    /// balance checked before it commits
    MigrateStore(migrate::MigrateArgs),
}

#[derive(Args)]
struct JoinTokenArgs {
    /// The master's store.
    #[arg(long, env = "YUN_DATABASE")]
    database: Option<String>,
    #[command(flatten)]
    trust: TrustArgs,
    /// How long it can be used to join, such as 1h or 7d (default 24h, at most 365d).
    #[arg(long, default_value = "24h")]
    ttl: String,
    /// How many workers may join with it (default: any number until it expires).
    #[arg(long)]
    uses: Option<u32>,
}

/// The fleet's trust: the master's flags, and `yun master join-token`'s (it must find the
/// same CA).
#[derive(Args)]
struct TrustArgs {
    /// The cluster CA's certificate (default: ca.crt beside the SQLite database). Every master
    /// of a cluster must be given the same one; made on first start when it and the key are missing.
    #[arg(long, env = "YUN_CA_CERT")]
    ca_cert: Option<PathBuf>,
    /// The cluster CA's private key (default: ca.key beside the SQLite database, mode 0600).
    #[arg(long, env = "YUN_CA_KEY")]
    ca_key: Option<PathBuf>,
    /// How long the certificates the master signs are valid (default 90d); each renews by
    /// itself at two thirds of its life.
    #[arg(long, env = "YUN_CERT_LIFETIME")]
    cert_lifetime: Option<String>,
    /// Talk to workers without TLS or certificates. Anyone who can reach the RPC ports can
    /// then command the fleet: only for a network no one else can reach.
    #[arg(long, env = "YUN_INSECURE_PLAINTEXT")]
    insecure_plaintext: bool,
}

impl TrustArgs {
    fn fleet_tls(
        &self,
        database: &str,
        file: &FileConfig,
    ) -> anyhow::Result<yun_master::nodes::FleetTls> {
        let mut tls = yun_master::nodes::FleetTls::beside(database);
        let cert = self
            .ca_cert
            .clone()
            .or(file.ca_cert.clone().map(PathBuf::from));
        let key = self
            .ca_key
            .clone()
            .or(file.ca_key.clone().map(PathBuf::from));
        if !database.starts_with("sqlite://") && (cert.is_none() || key.is_none()) {
            anyhow::bail!("with a database other than SQLite, give the CA's files: --ca-cert and --ca-key (the same on every master)");
        }
        if let Some(c) = cert {
            tls.ca_cert = c;
        }
        if let Some(k) = key {
            tls.ca_key = k;
        }
        if let Some(d) = self.cert_lifetime.clone().or(file.cert_lifetime.clone()) {
            tls.cert_lifetime = super::parse_duration(&d)?;
            anyhow::ensure!(
                tls.cert_lifetime >= std::time::Duration::from_secs(60),
                "--cert-lifetime must be at least 60s"
            );
        }
        tls.plaintext = self.insecure_plaintext || file.insecure_plaintext.unwrap_or(false);
        Ok(tls)
    }
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
    /// How often each container's writable layer is measured against its plan's disk; one
    /// over it is stopped (default 1m).
    #[arg(long, env = "YUN_DISK_CHECK_INTERVAL")]
    disk_check_interval: Option<String>,
    /// How long a login lasts (default 30d); its open consoles and streams end with it.
    #[arg(long, env = "YUN_SESSION_LIFETIME")]
    session_lifetime: Option<String>,
    /// How long the audit log keeps an entry after it last happened (default 365d).
    #[arg(long, env = "YUN_AUDIT_RETENTION")]
    audit_retention: Option<String>,
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
    /// The most a pulled image may weigh in MiB, compressed or unpacked (default 4096; 0: no
    /// limit).
    #[arg(long, env = "YUN_MAX_IMAGE_MIB")]
    max_image_mib: Option<u64>,
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
        if let Some(d) = pick(&self.disk_check_interval, &file.disk_check_interval) {
            cfg.disk_check_interval = super::parse_duration(&d)?;
            anyhow::ensure!(
                !cfg.disk_check_interval.is_zero(),
                "--disk-check-interval must be above zero"
            );
        }
        if let Some(d) = pick(&self.session_lifetime, &file.session_lifetime) {
            cfg.session_lifetime = super::parse_duration(&d)?;
            anyhow::ensure!(
                !cfg.session_lifetime.is_zero(),
                "--session-lifetime must be above zero"
            );
        }
        if let Some(d) = pick(&self.audit_retention, &file.audit_retention) {
            cfg.audit_retention = super::parse_duration(&d)?;
            anyhow::ensure!(
                cfg.audit_retention >= std::time::Duration::from_secs(24 * 3600),
                "--audit-retention must be a day or more (an operator needs yesterday's log)"
            );
        }
        if let Some(p) = pick(&self.placement, &file.placement) {
            cfg.placement = p.parse().map_err(anyhow::Error::msg)?;
        }
        if let Some(d) = self.api_docs.or(file.api_docs) {
            cfg.api_docs = d;
        }
        if let Some(mib) = self.max_image_mib.or(file.max_image_mib) {
            cfg.max_image_bytes = mib << 20;
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

/// The store's URL: `--database` (or `YUN_DATABASE`), else the file `YUN_DATABASE_FILE` names
/// (so a password in the URL need not sit in the environment or the settings), else yun.toml.
fn database_url(flag: Option<String>, file: &FileConfig) -> anyhow::Result<String> {
    if let Some(url) = flag {
        return Ok(url);
    }
    if let Some(path) = std::env::var_os("YUN_DATABASE_FILE").filter(|p| !p.is_empty()) {
        let url = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "reading the store's URL from YUN_DATABASE_FILE ({})",
                path.to_string_lossy()
            )
        })?;
        let url = url.trim();
        anyhow::ensure!(
            !url.is_empty(),
            "YUN_DATABASE_FILE ({}) is empty: it must hold the store's URL",
            path.to_string_lossy()
        );
        return Ok(url.to_string());
    }
    Ok(file
        .database
        .clone()
        .unwrap_or_else(|| DEFAULT_DATABASE.into()))
}

fn database(flag: Option<String>, file: &FileConfig) -> anyhow::Result<String> {
    let database = database_url(flag, file)?;
    if let Some(path) = database.strip_prefix("sqlite://") {
        if let Some(dir) = std::path::Path::new(path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
    }
    Ok(database)
}

/// `yun master join-token`: the token goes to stdout alone, so scripts can take it.
async fn join_token(args: JoinTokenArgs, file: FileConfig) -> anyhow::Result<()> {
    let database = database(args.database, &file)?;
    let mut cfg = MasterConfig::new(database.clone());
    cfg.fleet = args.trust.fleet_tls(&database, &file)?;
    let ttl = super::parse_duration(&args.ttl)?;
    let token = yun_master::make_join_token(&cfg, "yun master join-token", ttl, args.uses).await?;
    println!("{token}");
    Ok(())
}

pub async fn run(args: MasterArgs, file: FileConfig) -> anyhow::Result<()> {
    match args.action {
        Some(MasterAction::JoinToken(t)) => return join_token(t, file).await,
        Some(MasterAction::Backup(b)) => return backup::run(b, file).await,
        Some(MasterAction::MigrateStore(m)) => return migrate::run(m, file).await,
        None => {}
    }
    let database = database(args.database, &file)?;
    let mut cfg = MasterConfig::new(database.clone());
    cfg.fleet = args.trust.fleet_tls(&database, &file)?;
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
    args.access.apply(&mut cfg, &file)?;
    cfg.metrics_token = args
        .metrics_token
        .or(file.metrics_token.clone())
        .filter(|t| !t.is_empty());
    if let Some(t) = &cfg.metrics_token {
        anyhow::ensure!(
            t.len() >= 16,
            "--metrics-token must be at least 16 characters"
        );
    }
    cfg.metrics_addr = args
        .metrics
        .or(file.metrics.as_deref().map(str::parse).transpose()?);
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
