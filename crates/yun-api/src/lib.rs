//! yun's HTTP API as types: every request and response body of `/api/v1`, the error codes,
//! and the messages of its streams and WebSockets. The server, the typed client, the tests and
//! the OpenAPI spec all use these, so a shape is declared once.

pub mod accounts;
pub mod admin;
pub mod billing;
#[cfg(feature = "client")]
pub mod client;
pub mod containers;
mod error;
pub mod events;
pub mod exit;
pub mod health;
pub mod images;
pub mod live;
pub mod plans;

pub use error::{ErrorBody, ErrorCode, ErrorEnvelope};
pub use exit::ExitClass;

#[cfg(feature = "client")]
pub use client::{Client, ClientError};
