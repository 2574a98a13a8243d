//! What yun's tests and benchmarks share: the testbox image built locally (no registry is
//! needed), a cluster (master + worker) on the real Docker engine, and a typed API client.
//! Everything a cluster makes carries its own cluster id, so tests on one engine never touch
//! each other's containers, networks or ports.

pub mod alipay;
mod api;
pub mod bench;
pub mod browser;
mod cluster;
mod dev;
mod docker;
mod engine;
mod ports;
mod process;
mod registry;
pub mod rogue_registry;
mod scrape;
mod service;
mod typed;

pub use api::{Api, Reply, WebSocket};
pub use cluster::{
    docker_options, host_rules, remove_labelled, TestCluster, WorkerProcess, ADMIN_PASSWORD,
    NODE_ADDRESS,
};
pub use dev::{Cleanup, DevProcess, DevSite, DEV_ADMIN_PASSWORD};
pub use docker::{
    build_image, busybox_image, docker, image_on_engine, plain_testbox_image,
    remove_behind_yuns_back, testbox_image, volume_testbox_image, TESTBOX_REGISTRY,
};
pub use engine::Engine;
pub use ports::{free_port, PortBlock};
pub mod procfs;
pub use process::{LoggedMaster, ProcessCluster, PROCESS_ADMIN_PASSWORD};
pub use registry::LocalRegistry;
pub use scrape::{promtool_check_metrics, scrape, series_value};
pub use service::{eventually, fetch, fetch_eventually};
pub use typed::{container_spec, node_named, until_container};

/// The log filter for the masters and workers the tests spawn: `warn`, or `YUN_TEST_LOG` when a
/// failing test needs more (`YUN_TEST_LOG=info cargo test ...`).
pub fn child_log_filter() -> String {
    std::env::var("YUN_TEST_LOG").unwrap_or_else(|_| "warn".to_string())
}
