//! What the domain reads of the request it serves, below both the HTTP layer and the domain:
//! the request's id (for logs and the worker calls it makes) and where the console lives
//! (whether a host is the console's). The HTTP layer fills these in; nothing here knows HTTP.

pub mod console_host;
pub mod id;

pub use console_host::ConsoleHost;
