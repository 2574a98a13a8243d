//! The billing, bad-input, isolation, reconcile, lifecycle and fault tests again, every master
//! keeping its store on PostgreSQL (a database of its own on the test server `scripts/test`
//! starts): the same files as in the integration binary, with `STORE` set to PostgreSQL; and
//! `store_url.rs`, the store's URL on PostgreSQL (read from a file, its password never logged).

const STORE: yun_testkit::Engine = yun_testkit::Engine::Postgres;

#[path = "bad_input.rs"]
mod bad_input;
#[path = "billing.rs"]
mod billing;
#[path = "fault.rs"]
mod fault;
#[path = "isolation.rs"]
mod isolation;
#[path = "lifecycle.rs"]
mod lifecycle;
#[path = "reconcile.rs"]
mod reconcile;
mod store_url;
