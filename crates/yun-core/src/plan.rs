//! A plan is a size a renter picks: CPU, memory and process limits.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub name: String,
    /// Thousandths of a core: 100 is 0.1 CPU.
    pub cpu_millis: u32,
    pub memory_mib: u64,
    pub pids: u32,
}

impl Plan {
    pub fn memory_bytes(&self) -> u64 {
        self.memory_mib * 1024 * 1024
    }

    /// The plans a fresh install offers; operators replace them in yun.toml.
    pub fn defaults() -> Vec<Plan> {
        let plan = |name: &str, cpu_millis, memory_mib, pids| Plan {
            name: name.to_string(),
            cpu_millis,
            memory_mib,
            pids,
        };
        vec![
            plan("nano", 100, 64, 64),
            plan("small", 500, 256, 256),
            plan("medium", 1000, 1024, 512),
            plan("large", 2000, 4096, 1024),
        ]
    }
}
