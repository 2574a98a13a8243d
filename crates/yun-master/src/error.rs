//! The one error type of the API: an HTTP status, a stable snake_case code and a message that
//! says what to do. Internal causes are logged, never shown to the client.

use crate::nodes::WorkerCallError;
use crate::store::StoreError;
use axum::http::StatusCode;
use yun_core::Invalid;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no {what} with that id is yours; list yours with GET /api/v1/{what}s"),
        )
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "log in first: POST /api/v1/auth/login, then send 'Authorization: Bearer <token>'",
        )
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    /// 402: the balance cannot pay for what was asked.
    pub fn payment_required(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::PAYMENT_REQUIRED,
            "insufficient_balance",
            message,
        )
    }

    pub fn unavailable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, code, message)
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        let id = yun_core::new_id();
        tracing::error!(error_id = id, cause = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("something went wrong on our side (error id {id}); try again, and tell the operator if it persists"),
        )
    }

    /// A worker call that failed, in words a renter can act on.
    pub fn from_worker(node: &str, e: WorkerCallError) -> Self {
        use tonic::Code;
        match e.code() {
            None | Some(Code::Unavailable) | Some(Code::DeadlineExceeded) => Self::unavailable(
                "node_unavailable",
                format!("node {node} is not answering ({e}); try again shortly"),
            ),
            Some(Code::FailedPrecondition) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "node_refused",
                e.to_string(),
            ),
            Some(Code::ResourceExhausted) => Self::conflict("node_resources", e.to_string()),
            Some(Code::AlreadyExists) => Self::conflict("conflict", e.to_string()),
            Some(Code::NotFound) => Self::new(StatusCode::GONE, "gone_from_node", e.to_string()),
            _ => Self::internal(format!("worker on {node}: {e}")),
        }
    }
}

impl From<Invalid> for ApiError {
    fn from(e: Invalid) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            e.to_string(),
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(msg) => Self::conflict("conflict", msg),
            other => Self::internal(other),
        }
    }
}
