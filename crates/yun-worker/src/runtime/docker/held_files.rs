//! Space a container's processes hold in files they deleted but keep open. No walk of the
//! writable layer sees it (the engine's size does not), yet the disk stays taken until the
//! file is closed. It is read from /proc on the engine's host, as the stats samplers are.

use super::DockerRuntime;
use bollard::container::TopOptions;
use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

impl DockerRuntime {
    /// The bytes held by deleted files the running container `docker_id` keeps open (0 when
    /// its processes cannot be listed or read).
    pub(super) async fn held_in_deleted_files(&self, docker_id: &str) -> u64 {
        let top = match self
            .docker
            .top_processes(docker_id, Some(TopOptions { ps_args: "-o pid" }))
            .await
        {
            Ok(top) => top,
            Err(e) => {
                tracing::debug!(container = docker_id, error = %e, "cannot list a container's processes");
                return 0;
            }
        };
        let column = top
            .titles
            .unwrap_or_default()
            .iter()
            .position(|t| t == "PID");
        let pids: Vec<u32> = top
            .processes
            .unwrap_or_default()
            .iter()
            .filter_map(|p| p.get(column?)?.trim().parse().ok())
            .collect();
        tokio::task::spawn_blocking(move || deleted_but_open(Path::new("/proc"), &pids))
            .await
            .unwrap_or(0)
    }
}

/// The space taken by regular files that `pids` hold open after their deletion, each file
/// counted once (several descriptors may name it) by the blocks it has (a sparse file takes
/// only what it wrote). Memory-backed files (memfd, /dev/shm) are the memory limit's.
pub fn deleted_but_open(proc: &Path, pids: &[u32]) -> u64 {
    let mut seen = HashSet::new();
    let mut total = 0;
    for pid in pids {
        let Ok(fds) = std::fs::read_dir(proc.join(pid.to_string()).join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            let Ok(target) = std::fs::read_link(fd.path()) else {
                continue;
            };
            let target = target.to_string_lossy();
            if !target.ends_with(" (deleted)")
                || target.starts_with("/memfd:")
                || target.starts_with("/dev/shm/")
            {
                continue;
            }
            let Ok(meta) = std::fs::metadata(fd.path()) else {
                continue;
            };
            if meta.is_file() && seen.insert((meta.dev(), meta.ino())) {
                total += meta.blocks() * 512;
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_deleted_file_kept_open_is_counted_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hidden");
        let mut file = std::fs::File::create(&path).unwrap();
        file.write_all(&vec![1u8; 3 << 20]).unwrap();
        file.sync_all().unwrap();
        let again = std::fs::File::open(&path).unwrap();
        let me = [std::process::id()];
        let before = deleted_but_open(Path::new("/proc"), &me);
        std::fs::remove_file(&path).unwrap();
        let held = deleted_but_open(Path::new("/proc"), &me) - before;
        assert!(
            (3 << 20..4 << 20).contains(&held),
            "3 MiB held by two descriptors, counted once: {held}"
        );
        drop((file, again));
        assert_eq!(deleted_but_open(Path::new("/proc"), &me), before);
    }
}
