//! The one error type of the API: a code from `yun_api::ErrorCode` (which fixes the HTTP
//! status), a message that says what to do, and the field that was refused. Internal causes are
//! logged, never shown to the client. Domain errors become these in `domain_errors.rs`.

use yun_api::ErrorCode;
use yun_core::Invalid;
use yun_store::{StoreError, Unique};

#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub field: Option<String>,
    /// Seconds to wait, sent as `Retry-After` (a 429's; every 503 says 5).
    pub retry_after: Option<u64>,
    /// `Set-Cookie` values sent with the refusal (the cookies that made it ambiguous, cleared).
    pub set_cookies: Vec<String>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: None,
            retry_after: None,
            set_cookies: Vec::new(),
        }
    }

    /// 429: too many attempts; the client may try again after `wait`.
    pub fn too_many(message: impl Into<String>, wait: std::time::Duration) -> Self {
        let mut e = Self::new(ErrorCode::TooManyRequests, message);
        e.retry_after = Some(wait.as_secs_f64().ceil().max(1.0) as u64);
        e
    }

    /// Names the input that was refused, so a form can show the message beside it.
    pub fn on(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            ErrorCode::NotFound,
            format!("no {what} with that id is yours; list yours with GET /api/v1/{what}s"),
        )
    }

    pub fn unauthorized() -> Self {
        Self::new(
            ErrorCode::Unauthorized,
            "log in first: POST /api/v1/auth/login, then send 'Authorization: Bearer <token>'",
        )
    }

    /// 402: the balance cannot pay for what was asked.
    pub fn payment_required(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InsufficientBalance, message)
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        let id = yun_core::new_id();
        tracing::error!(error_id = id, cause = %cause, "internal error");
        Self::new(
            ErrorCode::Internal,
            format!("something went wrong on our side (error id {id}); try again, and tell the operator if it persists"),
        )
    }
}

impl From<Invalid> for ApiError {
    fn from(e: Invalid) -> Self {
        Self::new(ErrorCode::InvalidInput, e.to_string()).on(e.field)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(key) => Self::new(ErrorCode::Conflict, conflict_message(key)),
            StoreError::ImageInUse { containers } => Self::new(
                ErrorCode::Conflict,
                format!("{containers} container(s) still use this image; remove them first"),
            ),
            other => Self::internal(other),
        }
    }
}

/// A unique key a write ran into, in the renter's words (a race the checks before it lost).
fn conflict_message(key: Unique) -> &'static str {
    match key {
        Unique::ContainerName => "you already have a container of that name; choose another name",
        Unique::Username => "that username is taken; choose another",
        Unique::HostPort => {
            "that host port is already taken on its node; choose another or leave it out"
        }
        Unique::LedgerKey => "this payment was already recorded",
        Unique::IdempotencyKey => {
            "a request with this Idempotency-Key is being handled; retry it to get its answer"
        }
    }
}
