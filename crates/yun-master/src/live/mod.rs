//! Live streams relayed from workers to renters' WebSockets: stats (one upstream per container,
//! shared by every subscriber on this master), the exec console, and container events.

pub mod events;
pub mod exec;
pub mod sessions;
pub mod stats;
pub mod terminal;

pub use events::EventRelay;
pub use stats::StatsRelay;
