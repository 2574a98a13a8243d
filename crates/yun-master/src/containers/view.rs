//! The JSON a renter sees for a container.

use crate::store::ContainerRow;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct PortView {
    pub container_port: u16,
    pub host_port: u16,
    pub protocol: String,
    /// `<node public host>:<host port>`: where the service is reached.
    pub endpoint: String,
}

#[derive(Debug, Serialize)]
pub struct ContainerView {
    pub id: String,
    pub name: String,
    pub image: String,
    pub plan: String,
    pub node: String,
    pub state: String,
    pub desired_state: String,
    pub ports: Vec<PortView>,
    pub exit_code: Option<i64>,
    pub restart_policy: RestartView,
    /// Why the platform stopped it (e.g. a balance that ran out), when it did.
    pub status_reason: Option<String>,
    pub billing: BillingView,
    /// When its lifetime ends and it is removed, if it has one.
    pub expires_at: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Serialize)]
pub struct BillingView {
    pub price_per_hour: i64,
    /// Held while the container exists; refunded on removal.
    pub deposit: i64,
    /// Seconds it has run (time spent stopped or lost is free).
    pub run_seconds: i64,
    /// Credits charged for running so far, net of refunds (paid in advance per interval).
    pub charged: i64,
}

#[derive(Debug, Serialize)]
pub struct RestartView {
    pub name: &'static str,
    pub max_retries: u32,
    /// Automatic restarts since the last deliberate start.
    pub restarts: u32,
}

pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

impl From<&ContainerRow> for ContainerView {
    fn from(c: &ContainerRow) -> Self {
        Self {
            id: c.id.clone(),
            name: c.name.clone(),
            image: c.image_ref.clone(),
            plan: c.plan.clone(),
            node: c.node_name.clone(),
            state: c.state.as_str().to_string(),
            desired_state: c.desired_state.as_str().to_string(),
            ports: c
                .ports
                .iter()
                .map(|p| PortView {
                    container_port: p.container_port,
                    host_port: p.host_port,
                    protocol: p.protocol.clone(),
                    endpoint: format!("{}:{}", c.public_host, p.host_port),
                })
                .collect(),
            exit_code: c.exit_code,
            restart_policy: RestartView {
                name: c.restart.name(),
                max_retries: c.restart.max_retries(),
                restarts: c.restart_count,
            },
            status_reason: c.status_reason.clone(),
            billing: BillingView {
                price_per_hour: c.price_per_hour,
                deposit: c.deposit,
                run_seconds: c.run_ms / 1000,
                charged: c.charged,
            },
            expires_at: c.expires_at.map(rfc3339),
            created_at: rfc3339(c.created_at),
        }
    }
}
