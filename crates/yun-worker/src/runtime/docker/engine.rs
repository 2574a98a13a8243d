//! Connecting to the engine and finding out what it can enforce.

use super::super::{EngineInfo, RuntimeResult};
use bollard::{Docker, API_DEFAULT_VERSION};

/// Refuses Docker's API over plain TCP to another host: whoever can reach that port is root on
/// the Docker host (the original system's hole). The local socket, or TCP on loopback, only.
pub fn check_endpoint(endpoint: &str) -> Result<(), String> {
    let Some(rest) = endpoint
        .strip_prefix("tcp://")
        .or_else(|| endpoint.strip_prefix("http://"))
    else {
        return Ok(());
    };
    let host = rest.split('/').next().unwrap_or("");
    let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if loopback {
        return Ok(());
    }
    Err(format!(
        "--docker {endpoint}: Docker's API over plain TCP gives root on its host to anyone who can reach the port; run the worker on the Docker host with unix:///var/run/docker.sock"
    ))
}

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
        (yun_core::node::DISK_LIMIT, Some(disk_quota(&info))),
    ];
    Ok(checks
        .into_iter()
        .filter(|(_, supported)| *supported != Some(true))
        .map(|(name, _)| name.to_string())
        .collect())
}

/// Whether the engine can cap a container's writable layer (`--storage-opt size`): overlay2
/// on xfs (which must be mounted with project quotas; Docker says so at create if not).
fn disk_quota(info: &bollard::models::SystemInfo) -> bool {
    let backing = info
        .driver_status
        .iter()
        .flatten()
        .find(|kv| kv.first().map(String::as_str) == Some("Backing Filesystem"))
        .and_then(|kv| kv.get(1).cloned())
        .unwrap_or_default();
    info.driver.as_deref() == Some("overlay2") && backing == "xfs"
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

#[cfg(test)]
mod tests {
    use super::check_endpoint;

    #[test]
    fn docker_over_plain_tcp_is_only_for_loopback() {
        for ok in [
            "unix:///var/run/docker.sock",
            "tcp://127.0.0.1:2375",
            "tcp://localhost:2375",
            "http://[::1]:2375",
        ] {
            assert!(check_endpoint(ok).is_ok(), "{ok}");
        }
        for bad in [
            "tcp://10.0.0.5:2375",
            "http://docker.example.com:2375",
            "tcp://0.0.0.0:2375",
        ] {
            let e = check_endpoint(bad).unwrap_err();
            assert!(e.contains("unix:///var/run/docker.sock"), "{e}");
        }
    }
}
