//! The domain's errors as API errors: which `ErrorCode` each case is, and the message that
//! tells the renter what to do next (where that is another route, it is named here, not in
//! the domain).

use super::api_error::ApiError;
use crate::containers::{ContainerError, Refusal};
use crate::nodes::NodeError;
use yun_api::ErrorCode;

impl ApiError {
    /// A worker call that failed, in words a renter can act on.
    pub fn from_node(node: &str, e: NodeError) -> Self {
        match e {
            NodeError::Timeout(_) | NodeError::Unreachable(_) => Self::new(
                ErrorCode::NodeUnavailable,
                format!("node {node} is not answering ({e}); try again shortly"),
            ),
            NodeError::Refused(m) => Self::new(ErrorCode::NodeRefused, m),
            NodeError::CommandCannotRun(m) => Self::new(
                ErrorCode::CommandCannotRun,
                format!("{m}; give a command the image has (or leave command out)"),
            )
            .on("command"),
            NodeError::OutOfResources(m) => Self::new(ErrorCode::NodeResources, m),
            NodeError::AlreadyExists(m) => Self::new(ErrorCode::Conflict, m),
            NodeError::Gone(m) => Self::new(ErrorCode::GoneFromNode, m),
            NodeError::PortUnavailable { port, .. } => Refusal::PortUnavailable {
                port,
                node: node.to_string(),
            }
            .into(),
            NodeError::TooLarge(m) => Self::new(
                ErrorCode::ImageTooLarge,
                format!("{m}; choose a smaller image or tag"),
            )
            .on("reference"),
            NodeError::Failed(m) => Self::internal(format!("worker on {node}: {m}")),
        }
    }
}

impl From<ContainerError> for ApiError {
    fn from(e: ContainerError) -> Self {
        match e {
            ContainerError::NotFound => Self::not_found("container"),
            ContainerError::Invalid(i) => i.into(),
            ContainerError::Refused(r) => r.into(),
            ContainerError::WrongState { .. } => Self::new(
                ErrorCode::InvalidState,
                format!("{e}; wait for it to settle (GET /api/v1/events tells when), or remove it"),
            ),
            ContainerError::CannotPayToRun { .. } => Self::payment_required(format!(
                "{e}; top up with POST /api/v1/orders, then start it again"
            )),
            ContainerError::NodeDown { node } => Self::new(
                ErrorCode::NodeUnavailable,
                format!("node {node} is down, so the container cannot be reached now; try again when the node is back"),
            ),
            ContainerError::Node { node, error } => Self::from_node(&node, error),
            ContainerError::ShuttingDown => Self::new(
                ErrorCode::ShuttingDown,
                "the master is stopping; try again in a moment",
            ),
            ContainerError::Store(s) => s.into(),
            ContainerError::Failed(cause) => Self::internal(cause),
        }
    }
}

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> Self {
        let message = r.to_string();
        match r {
            Refusal::UnknownImage { .. } => Self::new(
                ErrorCode::UnknownImage,
                format!(
                    "{message}; see GET /api/v1/images, or add it with POST /api/v1/images/pull"
                ),
            )
            .on("image"),
            Refusal::QuotaExceeded { .. } => Self::new(
                ErrorCode::QuotaExceeded,
                format!("{message}; remove one first"),
            ),
            Refusal::PortQuotaExceeded { .. } => Self::new(
                ErrorCode::QuotaExceeded,
                format!("{message}; publish fewer ports or remove a container first"),
            )
            .on("ports"),
            Refusal::NameTaken { .. } => Self::new(
                ErrorCode::NameTaken,
                format!("{message}; choose another name"),
            )
            .on("name"),
            Refusal::CannotPay { .. } => {
                Self::payment_required(format!("{message}; top up with POST /api/v1/orders"))
            }
            Refusal::NoCapacity(_) => Self::new(ErrorCode::NoCapacity, message),
            Refusal::PortOutOfRange(_) => {
                Self::new(ErrorCode::PortOutOfRange, message).on("ports.host_port")
            }
            Refusal::PortTaken { .. } => Self::new(
                ErrorCode::PortTaken,
                format!("{message}; leave host_port out to get a free one"),
            )
            .on("ports.host_port"),
            Refusal::PortUnavailable { .. } => Self::new(
                ErrorCode::PortUnavailable,
                format!("{message}; choose another or leave host_port out"),
            )
            .on("ports.host_port"),
            Refusal::NoFreePort { .. } => {
                Self::new(ErrorCode::NoFreePort, format!("{message}; try again later"))
            }
        }
    }
}
