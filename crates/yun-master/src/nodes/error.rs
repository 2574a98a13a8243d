//! A worker call that failed, in the fleet's words. The gRPC status a worker answers with is
//! read here once, so nothing past `nodes/` looks at a transport code to learn what happened.

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("the node did not answer within {0:?}")]
    Timeout(Duration),
    /// The node could not be reached, or went away mid-call.
    #[error("the node is not answering: {0}")]
    Unreachable(String),
    /// The node is up but will not do it now (an engine that cannot enforce limits, a pull
    /// the registry refused).
    #[error("{0}")]
    Refused(String),
    /// The command cannot run in the image (not found, not executable).
    #[error("{0}")]
    CommandCannotRun(String),
    /// The engine is out of memory, disk or processes for it.
    #[error("{0}")]
    OutOfResources(String),
    /// A container with this id exists with another spec.
    #[error("{0}")]
    AlreadyExists(String),
    /// The node no longer has the container.
    #[error("{0}")]
    Gone(String),
    /// Docker cannot bind this host port: something outside yun holds it.
    #[error("host port {port} cannot be bound: {message}")]
    PortUnavailable { port: u16, message: String },
    /// The image weighs more than the operator's limit (the worker's own words, no registry's).
    #[error("{0}")]
    TooLarge(String),
    /// Anything else the worker answered: a fault on its side.
    #[error("{0}")]
    Failed(String),
}

impl NodeError {
    /// Whether trying again later may succeed without anyone changing anything.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, Self::Timeout(_) | Self::Unreachable(_))
    }

    /// A short name of what went wrong, for the metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Timeout(_) => "timeout",
            Self::Unreachable(_) => "unreachable",
            Self::Refused(_) => "refused",
            Self::CommandCannotRun(_) => "command_cannot_run",
            Self::OutOfResources(_) => "out_of_resources",
            Self::AlreadyExists(_) => "already_exists",
            Self::Gone(_) => "gone",
            Self::PortUnavailable { .. } => "port_unavailable",
            Self::TooLarge(_) => "too_large",
            Self::Failed(_) => "failed",
        }
    }
}

impl From<tonic::Status> for NodeError {
    fn from(s: tonic::Status) -> Self {
        use tonic::Code;
        let message = s.message().to_string();
        if let Some(port) = s
            .metadata()
            .get(yun_proto::PORT_UNAVAILABLE_KEY)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
        {
            return Self::PortUnavailable { port, message };
        }
        match s.code() {
            Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled => {
                Self::Unreachable(message)
            }
            Code::FailedPrecondition => Self::Refused(message),
            Code::InvalidArgument => Self::CommandCannotRun(message),
            Code::ResourceExhausted => Self::OutOfResources(message),
            Code::AlreadyExists => Self::AlreadyExists(message),
            Code::NotFound => Self::Gone(message),
            Code::OutOfRange => Self::TooLarge(message),
            _ => Self::Failed(message),
        }
    }
}
