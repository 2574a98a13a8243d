//! yun's integration tests on the real engine, one binary (one link) with a module per area.
//! Each module's tests start their own cluster, so they run side by side on one engine. The
//! fuzz test, the 50 MB log test and the trace-logging test are binaries of their own
//! (`tests/fuzz.rs`, `tests/log_volume.rs`, `tests/log_secrets.rs`), so each runs alone: they
//! load the machine.

/// The engine the masters of the modules that run on both keep their store on; the `postgres`
/// binary (on_postgres.rs) runs those modules again with PostgreSQL.
const STORE: yun_testkit::Engine = yun_testkit::Engine::Sqlite;

mod accounts;
mod backup;
mod bad_input;
mod billing;
mod browser;
mod cli;
mod client;
mod console;
mod deploy_kit;
mod dev;
mod error_codes;
mod fault;
mod fleet;
mod fleet_trust;
mod hardening;
mod holes;
mod host_shield;
mod image_policy;
mod image_removal;
mod isolation;
mod isolation_matrix;
mod lifecycle;
mod listener;
mod metrics;
mod migrate_store;
mod payments;
mod prometheus;
mod reconcile;
mod refusals;
mod registry_hops;
mod streams;
