//! yun's domain: ids, container specs and states, plans and input rules. No I/O lives here.

pub mod admission;
pub mod id;
pub mod ledger;
pub mod locks;
pub mod node;
pub mod openmetrics;
pub mod plan;
pub mod pricing;
pub mod registry;
pub mod restart;
pub mod role;
pub mod scheduler;
pub mod spec;
pub mod state;
pub mod validate;

pub use id::new_id;
pub use ledger::EntryKind;
pub use locks::KeyedLocks;
pub use plan::Plan;
pub use restart::RestartPolicy;
pub use role::Role;
pub use spec::{ContainerSpec, EnvVar, Limits, PortBinding, Protocol};
pub use state::{ContainerState, DesiredState};
pub use validate::Invalid;
