//! What an operator sets for the master (flags, env or yun.toml, resolved by the binary).

use crate::payments::PaymentsConfig;
use std::net::SocketAddr;
use std::time::Duration;
use yun_core::pricing::Pricing;
use yun_core::scheduler::Ranking;
use yun_core::Plan;

#[derive(Debug, Clone)]
pub struct MasterConfig {
    pub http: SocketAddr,
    pub rpc: SocketAddr,
    /// `sqlite://PATH`.
    pub database: String,
    /// The fleet's CA files, certificate lifetime, or plaintext.
    pub fleet: crate::nodes::FleetTls,
    /// Password for the `admin` account made on first start; generated and printed when None.
    pub admin_password: Option<String>,
    pub plans: Vec<Plan>,
    pub default_plan: String,
    pub max_containers_per_user: u64,
    /// CPU is reserved against cores x this factor; memory is never overcommitted.
    pub cpu_overcommit: f64,
    /// The shortest heartbeat interval; large fleets get max(this, nodes ÷ 250 s).
    pub heartbeat_interval: Duration,
    pub max_body_bytes: usize,
    /// Serve the API's reference page at `/api/docs` (the spec at `/api/openapi.json` always is).
    pub api_docs: bool,
    /// Where people open the console (`https://cloud.example.com`); its host must differ from
    /// every node's public host. Cookie-authenticated changes must come from this origin (when
    /// None: from the request's own host), and its `https` makes the cookie `Secure`.
    pub public_url: Option<String>,
    /// Registries pulls may use (`host` or `host:port`; `docker.io` for names without a host).
    /// Empty: any registry on a public address. Loopback and private addresses only when listed.
    pub allowed_registries: Vec<String>,
    /// The most a pulled image may weigh, compressed or unpacked (0: no limit).
    pub max_image_bytes: u64,
    /// The shortest `expires_in` a create may ask for.
    pub min_lifetime: Duration,
    /// How often every node's inventory is compared with the store.
    pub reconcile_interval: Duration,
    /// How long a labelled container that no record owns may live before it is removed.
    pub orphan_grace: Duration,
    /// How often each container's writable layer is measured against its plan's disk (the
    /// engine walks the files, so not at every pass).
    pub disk_check_interval: Duration,
    /// How long a login lasts; its open streams end when it does.
    pub session_lifetime: Duration,
    /// A login unused for this long ends (a stream kept open counts as use while it lasts).
    pub session_idle: Duration,
    /// How long the audit log keeps an entry after it last happened.
    pub audit_retention: Duration,
    /// Whether strangers may open accounts (`registration = open | closed`).
    pub registration_open: bool,
    /// Accounts one source address may open per hour (0: no limit).
    pub registrations_per_hour: u32,
    /// Proxies whose `X-Forwarded-For` names the client (addresses or CIDR ranges).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Host ports one renter's containers may publish in all.
    pub max_ports_per_user: u32,
    /// The HTTP listener's timeouts and connection limits.
    pub http_limits: crate::listener::HttpLimits,
    /// HTTPS on the HTTP listener: the certificate chain and key (PEM).
    pub https: Option<HttpsFiles>,
    /// `GET /metrics` on the HTTP listener takes this bearer token (without one it is not
    /// served there).
    pub metrics_token: Option<String>,
    /// A separate address serving `/metrics` without a token, for the operator's network.
    pub metrics_addr: Option<SocketAddr>,
    pub placement: Ranking,
    pub pricing: Pricing,
    pub payments: PaymentsConfig,
}

impl MasterConfig {
    pub fn new(database: String) -> Self {
        Self {
            fleet: crate::nodes::FleetTls::beside(&database),
            http: "0.0.0.0:8088".parse().expect("literal address"),
            rpc: "0.0.0.0:8090".parse().expect("literal address"),
            database,
            admin_password: None,
            plans: Plan::defaults(),
            default_plan: "nano".into(),
            max_containers_per_user: 20,
            cpu_overcommit: 4.0,
            heartbeat_interval: Duration::from_secs(5),
            max_body_bytes: 64 * 1024,
            api_docs: true,
            public_url: None,
            allowed_registries: Vec::new(),
            min_lifetime: Duration::from_secs(60),
            max_image_bytes: 4 << 30,
            reconcile_interval: Duration::from_secs(10),
            orphan_grace: Duration::from_secs(60),
            disk_check_interval: Duration::from_secs(60),
            session_lifetime: Duration::from_secs(30 * 24 * 3600),
            session_idle: Duration::from_secs(7 * 24 * 3600),
            audit_retention: Duration::from_secs(365 * 24 * 3600),
            registration_open: true,
            registrations_per_hour: 10,
            trusted_proxies: Vec::new(),
            max_ports_per_user: 20,
            http_limits: crate::listener::HttpLimits::default(),
            https: None,
            metrics_token: None,
            metrics_addr: None,
            placement: Ranking::Spread,
            pricing: Pricing::default(),
            payments: PaymentsConfig::default(),
        }
    }

    /// The idle limit in milliseconds, as the store compares it.
    pub fn session_idle_ms(&self) -> i64 {
        i64::try_from(self.session_idle.as_millis()).unwrap_or(i64::MAX / 2)
    }

    /// Whether people reach this master over HTTPS (its own, or a proxy's at `public_url`):
    /// then the session cookie is `Secure` with the `__Host-` prefix, and HSTS is sent.
    pub fn serves_https(&self) -> bool {
        self.https.is_some()
            || self
                .public_url
                .as_deref()
                .is_some_and(|u| u.starts_with("https://"))
    }

    pub fn plan(&self, name: &str) -> Option<&Plan> {
        self.plans.iter().find(|p| p.name == name)
    }
}

/// The HTTP listener's certificate chain and private key, PEM files.
#[derive(Debug, Clone)]
pub struct HttpsFiles {
    pub cert: std::path::PathBuf,
    pub key: std::path::PathBuf,
}
