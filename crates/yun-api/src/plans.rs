//! The sizes a renter can pick and what running costs.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub name: String,
    /// CPU cores (0.1 = a tenth of a core).
    pub cpu: f64,
    pub cpu_millis: u32,
    pub memory_mib: u64,
    pub pids: u32,
    /// What a container may write to its own filesystem, in MiB; one that writes more is
    /// stopped (`suspended`, with the reason). (Absent from masters before it: 0.)
    #[serde(default)]
    pub disk_mib: u64,
    /// Credits per hour of running, metered per second.
    pub price_per_hour: i64,
    /// The plan a create gets when it names none.
    pub default: bool,
}

/// What running costs beyond a plan's price.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Pricing {
    /// The balance a create or a start needs.
    pub min_balance_to_run: i64,
    /// Held while a container exists; refunded on removal.
    pub run_deposit: i64,
    /// What pulling a private image costs per MiB.
    pub pull_price_per_mib: i64,
    /// Running time is paid this far in advance.
    pub metering_interval_seconds: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanList {
    pub plans: Vec<Plan>,
    pub pricing: Pricing,
}
