//! Who may reach the master and how hard they may push: registration, sessions, the proxies
//! whose forwarded addresses count, the HTTP listener's timeouts and connection limits, the
//! published ports a renter may hold, and HTTPS. Shared by `yun master` and `yun dev` (which
//! takes them from yun.toml).

use super::file::FileConfig;
use super::parse_duration;
use clap::Args;
use std::path::PathBuf;
use yun_master::MasterConfig;

#[derive(Args, Default)]
pub struct AccessArgs {
    /// Whether strangers may sign up: open (default) or closed.
    #[arg(long, env = "YUN_REGISTRATION")]
    registration: Option<String>,
    /// Accounts one address may open per hour (default 10; 0: no limit).
    #[arg(long, env = "YUN_REGISTRATIONS_PER_HOUR")]
    registrations_per_hour: Option<u32>,
    /// A login unused for this long ends (default 7d; at most --session-lifetime matters).
    #[arg(long, env = "YUN_SESSION_IDLE")]
    session_idle: Option<String>,
    /// Reverse proxies whose X-Forwarded-For names the client, comma-separated addresses or
    /// CIDR ranges (default: none; the peer's address is the client's).
    #[arg(long, env = "YUN_TRUSTED_PROXIES", value_delimiter = ',')]
    trusted_proxies: Option<Vec<String>>,
    /// Host ports one renter's containers may publish in all (default 20).
    #[arg(long, env = "YUN_MAX_PORTS_PER_USER")]
    max_ports_per_user: Option<u32>,
    /// A request's headers (and a TLS handshake) must arrive within this; also how long a
    /// kept-alive connection may wait for its next request (default 15s).
    #[arg(long, env = "YUN_HTTP_HEADER_TIMEOUT")]
    http_header_timeout: Option<String>,
    /// A request's body must arrive within this after its headers (default 30s).
    #[arg(long, env = "YUN_HTTP_BODY_TIMEOUT")]
    http_body_timeout: Option<String>,
    /// A client that reads nothing of an answer for this long is cut off; streams are exempt
    /// (default 60s).
    #[arg(long, env = "YUN_HTTP_IDLE_TIMEOUT")]
    http_idle_timeout: Option<String>,
    /// Open HTTP connections one address may hold, streams included (default 256).
    #[arg(long, env = "YUN_MAX_CONNECTIONS_PER_SOURCE")]
    max_connections_per_source: Option<usize>,
    /// Open HTTP connections in all (default: three quarters of the open-file limit).
    #[arg(long, env = "YUN_MAX_CONNECTIONS")]
    max_connections: Option<usize>,
    /// Serve HTTPS with this certificate chain (PEM); needs --tls-key.
    #[arg(long, env = "YUN_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, env = "YUN_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

fn positive(flag: &str, text: &str) -> anyhow::Result<std::time::Duration> {
    let d = parse_duration(text)?;
    anyhow::ensure!(!d.is_zero(), "{flag} must be above zero");
    Ok(d)
}

impl AccessArgs {
    pub fn apply(&self, cfg: &mut MasterConfig, file: &FileConfig) -> anyhow::Result<()> {
        let pick = |flag: &Option<String>, key: &Option<String>| flag.clone().or(key.clone());
        if let Some(r) = pick(&self.registration, &file.registration) {
            cfg.registration_open = match r.as_str() {
                "open" => true,
                "closed" => false,
                other => anyhow::bail!("--registration is open or closed, not {other:?}"),
            };
        }
        if let Some(n) = self.registrations_per_hour.or(file.registrations_per_hour) {
            cfg.registrations_per_hour = n;
        }
        if let Some(d) = pick(&self.session_idle, &file.session_idle) {
            cfg.session_idle = positive("--session-idle", &d)?;
        }
        if let Some(list) = self
            .trusted_proxies
            .clone()
            .or(file.trusted_proxies.clone())
        {
            cfg.trusted_proxies = list
                .iter()
                .map(|p| p.trim())
                .filter(|p| !p.is_empty())
                .map(|p| {
                    p.parse::<ipnet::IpNet>()
                        .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                        .map_err(|_| anyhow::anyhow!("--trusted-proxies: {p:?} is not an address or a CIDR range such as 10.0.0.0/8"))
                })
                .collect::<anyhow::Result<_>>()?;
        }
        if let Some(n) = self.max_ports_per_user.or(file.max_ports_per_user) {
            cfg.max_ports_per_user = n;
        }
        let limits = &mut cfg.http_limits;
        if let Some(d) = pick(&self.http_header_timeout, &file.http_header_timeout) {
            limits.header_timeout = positive("--http-header-timeout", &d)?;
        }
        if let Some(d) = pick(&self.http_body_timeout, &file.http_body_timeout) {
            limits.body_timeout = positive("--http-body-timeout", &d)?;
        }
        if let Some(d) = pick(&self.http_idle_timeout, &file.http_idle_timeout) {
            limits.idle_timeout = positive("--http-idle-timeout", &d)?;
        }
        if let Some(n) = self
            .max_connections_per_source
            .or(file.max_connections_per_source)
        {
            anyhow::ensure!(n > 0, "--max-connections-per-source must be above zero");
            limits.max_connections_per_source = n;
        }
        if let Some(n) = self.max_connections.or(file.max_connections) {
            anyhow::ensure!(n > 0, "--max-connections must be above zero");
            limits.max_connections = Some(n);
        }
        let cert = self
            .tls_cert
            .clone()
            .or(file.tls_cert.clone().map(PathBuf::from));
        let key = self
            .tls_key
            .clone()
            .or(file.tls_key.clone().map(PathBuf::from));
        cfg.https = match (cert, key) {
            (Some(cert), Some(key)) => Some(yun_master::config::HttpsFiles { cert, key }),
            (None, None) => None,
            _ => anyhow::bail!("HTTPS needs both --tls-cert and --tls-key"),
        };
        Ok(())
    }
}
