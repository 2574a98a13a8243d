//! Accounts: passwords and what a password must be, the secrets behind sessions and access
//! tokens, and the throttles that keep guessers and sign-up floods out.

pub mod passwords;
pub mod policy;
pub mod secrets;
pub mod throttle;

pub use passwords::{generated_password, hash_password, verify_password};
pub use secrets::{hash_token, is_access_token, new_access_token, new_token};

/// The console's session cookie over plain HTTP.
pub const SESSION_COOKIE: &str = "yun_session";
/// The same cookie over HTTPS: the `__Host-` prefix makes browsers keep it `Secure`, on this
/// host only and for every path, so no other host or plain-HTTP page can set or shadow it.
pub const SECURE_SESSION_COOKIE: &str = "__Host-yun_session";

/// The console's device cookie over plain HTTP: proves this browser logged in before.
pub const DEVICE_COOKIE: &str = "yun_device";
/// The same over HTTPS, held by browsers to this host, `Secure` and `Path=/`.
pub const SECURE_DEVICE_COOKIE: &str = "__Host-yun_device";
