//! What can go wrong with a renter's container, in the domain's words. Nothing here knows
//! HTTP: `http/domain_errors.rs` maps each case to an `ErrorCode` and adds where to go next.

use crate::nodes::NodeError;
use crate::store::StoreError;
use yun_core::{ContainerState, Invalid};

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

/// Why admission refused a create: each is the renter's to fix (or to wait out).
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("image '{image}' is neither in the public catalog nor among your images")]
    UnknownImage { image: String },
    #[error("you have reached the limit of {limit} containers")]
    QuotaExceeded { limit: u64 },
    #[error("your containers may publish {limit} host ports in all; {held} are published and this one asks for {asked}")]
    PortQuotaExceeded { limit: u64, held: u64, asked: u64 },
    #[error("you already have a container named '{name}'")]
    NameTaken { name: String },
    /// The balance is below what a new run takes up front.
    #[error("running a container needs a balance of at least {require} (a minimum of {minimum}; a refundable deposit of {deposit} and {usage} for the first {seconds} s of plan {plan} are taken now), and your balance is {balance}")]
    CannotPay {
        require: i64,
        minimum: i64,
        deposit: i64,
        usage: i64,
        seconds: u64,
        plan: String,
        balance: i64,
    },
    #[error("{0}")]
    NoCapacity(String),
    #[error("{0}")]
    PortOutOfRange(String),
    /// A host port the renter chose is held by another container on the node.
    #[error("host port {port} is already taken on node {node}")]
    PortTaken { port: u16, node: String },
    /// A host port the renter chose is held outside yun on the node.
    #[error("host port {port} is in use on node {node}")]
    PortUnavailable { port: u16, node: String },
    #[error("node {node} has no free host port left")]
    NoFreePort { node: String },
}
