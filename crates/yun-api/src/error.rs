//! Every error code the server sends, with its HTTP status and when it happens, and the
//! envelope they travel in: `{"error": {"code", "message", "field"?}}`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

macro_rules! error_codes {
    ($($(#[doc = $doc:literal])+ $variant:ident = ($status:literal, $code:literal),)+) => {
        /// What went wrong, as a stable snake_case code a program can branch on.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorCode {
            $($(#[doc = $doc])+ $variant,)+
        }

        impl ErrorCode {
            /// Every code, in the order they are declared.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)+];

            /// The HTTP status that carries this code.
            pub const fn status(self) -> u16 {
                match self { $(ErrorCode::$variant => $status,)+ }
            }

            /// The code as it appears on the wire.
            pub const fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code,)+ }
            }

            /// One line on when the server sends it.
            pub fn meaning(self) -> &'static str {
                match self { $(ErrorCode::$variant => concat!($($doc),+).trim(),)+ }
            }
        }
    };
}

error_codes! {
    /// The query string has a parameter that is unknown or not of the right form.
    InvalidQuery = (400, "invalid_query"),
    /// A header (such as `Idempotency-Key`) is not plain text or not of the right form.
    InvalidHeader = (400, "invalid_header"),
    /// The body is not valid JSON.
    MalformedJson = (400, "malformed_json"),
    /// No session: log in and send the bearer token or the session cookie.
    Unauthorized = (401, "unauthorized"),
    /// The request carries more than one session cookie (a page on this host set one of its
    /// own): it is not resolved by order. The answer clears them; log in again.
    AmbiguousSession = (401, "ambiguous_session"),
    /// A login with an unknown username or a wrong password.
    WrongCredentials = (401, "wrong_credentials"),
    /// The balance cannot pay for what was asked; the message says how much is needed.
    InsufficientBalance = (402, "insufficient_balance"),
    /// The account is banned by an operator.
    AccountBanned = (403, "account_banned"),
    /// This master does not open accounts for strangers; an operator makes them.
    RegistrationClosed = (403, "registration_closed"),
    /// This needs a login session, not a personal access token (making tokens, changing the
    /// password).
    SessionRequired = (403, "session_required"),
    /// A request with the console's session cookie came from a page of another site (its
    /// `Origin` is not the console's); scripts use a bearer token instead.
    ForeignOrigin = (403, "foreign_origin"),
    /// The request came to a node's public host, where renters' services are served: the
    /// console's session is not taken there. Open the console at its own address.
    NodeHost = (403, "node_host"),
    /// The image's registry is not one the operator allows pulls from (`allowed_registries`).
    RegistryNotAllowed = (403, "registry_not_allowed"),
    /// The account holds as many containers as it may.
    QuotaExceeded = (403, "quota_exceeded"),
    /// No such resource is the caller's (another user's resource is this too, never a 403).
    NotFound = (404, "not_found"),
    /// There is no such route under `/api`.
    NoSuchRoute = (404, "no_such_route"),
    /// The route exists but does not take this method.
    MethodNotAllowed = (405, "method_not_allowed"),
    /// The username is already registered.
    UsernameTaken = (409, "username_taken"),
    /// The caller already has a container of that name.
    NameTaken = (409, "name_taken"),
    /// The asked-for host port is already allocated on the node.
    PortTaken = (409, "port_taken"),
    /// The asked-for host port cannot be bound on the node.
    PortUnavailable = (409, "port_unavailable"),
    /// The asked-for host port is outside every node's port range.
    PortOutOfRange = (409, "port_out_of_range"),
    /// The container's state does not allow this action now.
    InvalidState = (409, "invalid_state"),
    /// The container is not running (a console needs a running container).
    NotRunning = (409, "not_running"),
    /// The node refused because its resources are exhausted.
    NodeResources = (409, "node_resources"),
    /// The request conflicts with what exists (for instance a reused `Idempotency-Key`).
    Conflict = (409, "conflict"),
    /// The order is no longer pending, so it cannot be cancelled or paid.
    OrderNotPending = (409, "order_not_pending"),
    /// Orders are confirmed by the payment provider, not by an operator.
    ProviderConfirmsPayments = (409, "provider_confirms_payments"),
    /// An operator tried to ban their own account.
    CannotBanSelf = (409, "cannot_ban_self"),
    /// An adjustment would take a balance below zero.
    BalanceTooLow = (409, "balance_too_low"),
    /// The container is gone from its node.
    GoneFromNode = (410, "gone_from_node"),
    /// The body is larger than the server takes.
    BodyTooLarge = (413, "body_too_large"),
    /// The body is not sent as `application/json`.
    UnsupportedMediaType = (415, "unsupported_media_type"),
    /// A field of the request is not acceptable; `field` names it.
    InvalidInput = (422, "invalid_input"),
    /// The image is neither in the public catalog nor one of the caller's own.
    UnknownImage = (422, "unknown_image"),
    /// The image could not be pulled (a wrong name or an unreachable registry).
    ImageUnavailable = (422, "image_unavailable"),
    /// The image weighs more than this cloud takes (`--max-image-mib`); nothing was kept.
    ImageTooLarge = (422, "image_too_large"),
    /// The command is not in the image or cannot be executed there; `field` is `command`.
    CommandCannotRun = (422, "command_cannot_run"),
    /// The node refused the container (for instance a limit its engine cannot enforce).
    NodeRefused = (422, "node_refused"),
    /// This route is a WebSocket: open it with `Upgrade: websocket`.
    WebsocketRequired = (426, "websocket_required"),
    /// Too many attempts (failed logins, sign-ups) from this address or for this account; the
    /// `Retry-After` header says how many seconds to wait.
    TooManyRequests = (429, "too_many_requests"),
    /// Something failed on the server; the message carries an error id for the operator.
    Internal = (500, "internal"),
    /// No ready node has the CPU, memory or ports asked for; retry later.
    NoCapacity = (503, "no_capacity"),
    /// The node has no free host port left; retry later.
    NoFreePort = (503, "no_free_port"),
    /// The container's node is down or not answering; retry later.
    NodeUnavailable = (503, "node_unavailable"),
    /// No node is ready to pull on; retry later.
    NoReadyNode = (503, "no_ready_node"),
    /// The master is stopping; retry in a moment.
    ShuttingDown = (503, "shutting_down"),
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The body of every error answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    pub code: ErrorCode,
    /// What went wrong and what to do, for a person.
    pub message: String,
    /// The input that was refused (a body field such as `ports[0].host_port`, or a query
    /// parameter), so a form can show the message beside it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The request's id (the `X-Request-Id` it came with, or one made for it), to quote to
    /// the operator: it is in every log line the request wrote, on the master and the worker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_serialize_as_declared() {
        let mut seen = std::collections::HashSet::new();
        for c in ErrorCode::ALL {
            assert!(seen.insert(c.as_str()), "{c} twice");
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
            assert!((400..600).contains(&c.status()));
            assert!(!c.meaning().is_empty());
        }
    }
}
