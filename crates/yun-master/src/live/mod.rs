//! Live streams relayed from workers to renters' WebSockets: stats (one upstream per container,
//! shared by every subscriber on this master) and the exec console.

pub mod exec;
pub mod stats;

pub use stats::StatsRelay;
