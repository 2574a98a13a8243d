//! What can go wrong with a renter's container, in the domain's words. Nothing here knows
//! HTTP: `http/domain_errors.rs` maps each case to an `ErrorCode` and adds where to go next.

use crate::nodes::NodeError;
use yun_core::{ContainerState, Invalid};
use yun_store::StoreError;

pub type ContainerResult<T> = Result<T, ContainerError>;

#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    /// No container with that id is the caller's (another renter's is not found either).
    #[error("no such container")]
    NotFound,
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// A create was not admitted.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The container's state does not allow the action now.
    #[error("container {id} is {state}, so it cannot {action} now")]
    WrongState {
        id: String,
        state: ContainerState,
        action: &'static str,
    },
    /// The balance does not pay for the next interval of running time.
    #[error("running container {id} for the next {seconds} s costs {needed} credits and your balance is {balance}")]
    CannotPayToRun {
        id: String,
        seconds: u64,
        needed: i64,
        balance: i64,
    },
    /// The container's node is down, or went down during the call.
    #[error("node {node} is down")]
    NodeDown { node: String },
    /// The node answered, and not with what was asked.
    #[error("node {node}: {error}")]
    Node { node: String, error: NodeError },
    /// The master is stopping and the request was not taken.
    #[error("the master is stopping")]
    ShuttingDown,
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A fault on the master's side, with its cause (logged, never shown).
    #[error("{0}")]
    Failed(String),
}

impl ContainerError {
    pub fn node(node: &str, error: NodeError) -> Self {
        Self::Node {
            node: node.to_string(),
            error,
        }
    }
}

/// Why admission refused a create: the rules are yun-core's (`admission.rs`).
pub use yun_core::admission::Refusal;
