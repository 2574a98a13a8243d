//! The optional yun.toml: every key is a flag's long name with '_' for '-'.

use anyhow::Context;
use serde::Deserialize;
use std::path::Path;
use yun_core::Plan;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub http: Option<String>,
    pub rpc: Option<String>,
    pub database: Option<String>,
    pub join_token: Option<String>,
    pub ca_cert: Option<String>,
    pub ca_key: Option<String>,
    pub cert_lifetime: Option<String>,
    pub insecure_plaintext: Option<bool>,
    pub state_dir: Option<String>,
    pub data_dir: Option<String>,
    pub master: Option<String>,
    pub advertise: Option<String>,
    pub public_host: Option<String>,
    pub publish_address: Option<String>,
    pub name: Option<String>,
    pub port_range: Option<String>,
    pub docker: Option<String>,
    pub tenant_subnets: Option<String>,
    pub tenant_subnet_prefix: Option<u8>,
    pub allow_unenforced_limits: Option<bool>,
    pub allow_host_access: Option<bool>,
    pub max_containers_per_user: Option<u64>,
    pub cpu_overcommit: Option<f64>,
    pub default_plan: Option<String>,
    pub heartbeat_interval: Option<String>,
    pub reconcile_interval: Option<String>,
    pub orphan_grace: Option<String>,
    pub disk_check_interval: Option<String>,
    pub session_lifetime: Option<String>,
    pub session_idle: Option<String>,
    pub audit_retention: Option<String>,
    pub registration: Option<String>,
    pub registrations_per_hour: Option<u32>,
    pub trusted_proxies: Option<Vec<String>>,
    pub max_ports_per_user: Option<u32>,
    pub http_header_timeout: Option<String>,
    pub http_body_timeout: Option<String>,
    pub http_idle_timeout: Option<String>,
    pub max_connections_per_source: Option<usize>,
    pub max_connections: Option<usize>,
    pub tls_cert: Option<String>,
    pub tls_key: Option<String>,
    pub metrics_token: Option<String>,
    pub metrics: Option<String>,
    pub worker_metrics: Option<String>,
    pub placement: Option<String>,
    pub api_docs: Option<bool>,
    pub public_url: Option<String>,
    pub allowed_registries: Option<Vec<String>>,
    pub max_image_mib: Option<u64>,
    pub plans: Option<Vec<Plan>>,
    pub signup_credits: Option<i64>,
    pub min_balance_to_run: Option<i64>,
    pub run_deposit: Option<i64>,
    pub pull_price_per_mib: Option<i64>,
    pub metering_interval: Option<String>,
    pub order_ttl: Option<String>,
    pub max_pending_orders: Option<u32>,
    pub currency: Option<String>,
    pub minor_per_credit: Option<i64>,
    pub payment_provider: Option<String>,
    pub alipay_app_id: Option<String>,
    pub alipay_gateway: Option<String>,
    pub alipay_private_key_file: Option<String>,
    pub alipay_public_key_file: Option<String>,
    pub alipay_notify_url: Option<String>,
    pub alipay_return_url: Option<String>,
}

impl FileConfig {
    /// Reads the named file, or ./yun.toml when present, or nothing.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        let (path, required) = match path {
            Some(p) => (p.to_path_buf(), true),
            None => (Path::new("yun.toml").to_path_buf(), false),
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Self::default())
            }
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::FileConfig;
    use std::path::Path;

    #[test]
    fn the_deploy_kit_s_example_is_a_valid_yun_toml() {
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/yun.toml.example");
        let file = FileConfig::load(Some(&example)).unwrap();
        assert_eq!(
            file.database.as_deref(),
            Some("sqlite:///var/lib/yun/yun.db")
        );
        assert_eq!(file.plans.map(|p| p.len()), Some(1));
    }
}
