//! Connecting to the engine and finding out what it can enforce.

use super::super::{EngineInfo, RuntimeResult};
use bollard::{Docker, API_DEFAULT_VERSION};

pub(super) async fn connect(endpoint: &str) -> RuntimeResult<Docker> {
    let docker = if let Some(path) = endpoint.strip_prefix("unix://") {
        Docker::connect_with_unix(path, 120, API_DEFAULT_VERSION)?
    } else if endpoint.starts_with("tcp://") || endpoint.starts_with("http://") {
        Docker::connect_with_http(endpoint, 120, API_DEFAULT_VERSION)?
    } else {
        Docker::connect_with_local_defaults()?
    };
    // Older engines refuse a client that speaks a newer API version than theirs.
    Ok(docker.negotiate_version().await?)
}

pub(super) async fn unenforced_limits(docker: &Docker) -> RuntimeResult<Vec<String>> {
    let info = docker.info().await?;
    let checks = [
        ("memory", info.memory_limit),
        ("swap", info.swap_limit),
        ("cpu_quota", info.cpu_cfs_quota),
        ("pids", info.pids_limit),
    ];
    Ok(checks
        .into_iter()
        .filter(|(_, supported)| *supported != Some(true))
        .map(|(name, _)| name.to_string())
        .collect())
}

pub(super) async fn info(docker: &Docker, unenforced: &[String]) -> RuntimeResult<EngineInfo> {
    let info = docker.info().await?;
    Ok(EngineInfo {
        version: info.server_version.unwrap_or_default(),
        cpu_cores: info.ncpu.unwrap_or(1).max(1) as u32,
        memory_bytes: info.mem_total.unwrap_or(0).max(0) as u64,
        unenforced_limits: unenforced.to_vec(),
    })
}
