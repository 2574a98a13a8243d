//! A plan is a size a renter picks: CPU, memory, process and disk limits.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub name: String,
    /// Thousandths of a core: 100 is 0.1 CPU.
    pub cpu_millis: u32,
    pub memory_mib: u64,
    pub pids: u32,
    /// What a container may write to its own filesystem, in MiB (1 GiB when a plan in
    /// yun.toml leaves it out).
    #[serde(default = "default_disk_mib")]
    pub disk_mib: u64,
    /// Credits per hour of running, metered per second. A plan without a price is free.
    #[serde(default)]
    pub price_per_hour: i64,
}

fn default_disk_mib() -> u64 {
    1024
}

impl Plan {
    pub fn memory_bytes(&self) -> u64 {
        self.memory_mib * 1024 * 1024
    }

    pub fn disk_bytes(&self) -> u64 {
        self.disk_mib * 1024 * 1024
    }

    /// The plans a fresh install offers; operators replace them in yun.toml.
    pub fn defaults() -> Vec<Plan> {
        let plan = |name: &str, cpu_millis, memory_mib, pids, price_per_hour| Plan {
            name: name.to_string(),
            cpu_millis,
            memory_mib,
            pids,
            // Sixteen times the memory: room for packages and data, not for filling a host.
            disk_mib: memory_mib * 16,
            price_per_hour,
        };
        // Priced so that the 1,000 credits a new account gets run a nano for about 13 hours.
        vec![
            plan("nano", 100, 64, 64, 60),
            plan("small", 500, 256, 256, 240),
            plan("medium", 1000, 1024, 512, 600),
            plan("large", 2000, 4096, 1024, 1800),
        ]
    }
}
