//! Reading a container's counters straight from its cgroup, for cgroup v2 (unified) and v1
//! (one hierarchy per controller), with the systemd or cgroupfs driver, and for a daemon that
//! itself runs nested (its paths are then relative to a cgroup namespace).

use crate::runtime::Counters;
use std::fs;
use std::path::{Path, PathBuf};

/// Which cgroup version this host mounts at the root given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V2,
    V1,
    /// Neither is readable: stats come from the engine's API.
    None,
}

impl Version {
    pub fn detect(root: &Path) -> Self {
        if root.join("cgroup.controllers").exists() {
            Self::V2
        } else if root.join("memory").is_dir() {
            Self::V1
        } else {
            Self::None
        }
    }

    pub fn source(self) -> &'static str {
        match self {
            Self::V2 => "cgroup-v2",
            Self::V1 => "cgroup-v1",
            Self::None => "docker-api",
        }
    }
}

/// Where one container's counters live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    V2(PathBuf),
    V1 {
        cpuacct: PathBuf,
        memory: PathBuf,
        pids: Option<PathBuf>,
        blkio: Option<PathBuf>,
    },
}

/// The directory under `mount` for `path` as written in /proc/<pid>/cgroup. Nested daemons
/// see paths relative to their cgroup namespace, so shorter suffixes are tried too; only a
/// directory whose own name carries the container's id is accepted, so a process that has
/// left its container is never read as the container.
fn resolve(mount: &Path, path: &str, docker_id: &str) -> Option<PathBuf> {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != "..")
        .collect();
    if !parts.last()?.contains(docker_id) {
        return None;
    }
    (0..parts.len())
        .map(|skip| {
            parts[skip..]
                .iter()
                .fold(mount.to_path_buf(), |p, c| p.join(c))
        })
        .find(|dir| dir.is_dir())
}

/// Finds the cgroup of `pid` from its /proc/<pid>/cgroup, checking it names `docker_id`.
pub fn locate(
    root: &Path,
    version: Version,
    cgroup_file: &str,
    docker_id: &str,
) -> Option<Location> {
    if docker_id.len() < 12 {
        return None;
    }
    let entries: Vec<(&str, &str)> = cgroup_file
        .lines()
        .filter_map(|l| {
            let mut it = l.splitn(3, ':');
            let _id = it.next()?;
            Some((it.next()?, it.next()?))
        })
        .collect();
    match version {
        Version::V2 => {
            let (_, path) = entries.iter().find(|(ctl, _)| ctl.is_empty())?;
            resolve(root, path, docker_id).map(Location::V2)
        }
        Version::V1 => {
            let find = |name: &str| {
                entries
                    .iter()
                    .find(|(ctl, _)| ctl.split(',').any(|c| c == name))
                    .and_then(|(ctl, path)| resolve(&root.join(ctl), path, docker_id))
            };
            Some(Location::V1 {
                cpuacct: find("cpuacct")?,
                memory: find("memory")?,
                pids: find("pids"),
                blkio: find("blkio"),
            })
        }
        Version::None => None,
    }
}

fn read(path: &Path) -> Option<String> {
    fs::read_to_string(path).ok()
}

fn number(path: &Path) -> Option<u64> {
    read(path)?.trim().parse().ok()
}

/// A `key value` line of a flat-keyed file such as memory.stat or cpu.stat.
fn keyed(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

/// Above this a v1 memory limit means "none" (the kernel's page-rounded i64::MAX).
const V1_UNLIMITED: u64 = 1 << 62;

/// Reads the counters; None when the cgroup is gone (the container stopped).
pub fn read_counters(location: &Location) -> Option<Counters> {
    match location {
        Location::V2(dir) => {
            let cpu = read(&dir.join("cpu.stat"))?;
            let usage = number(&dir.join("memory.current"))?;
            let stat = read(&dir.join("memory.stat")).unwrap_or_default();
            let limit = read(&dir.join("memory.max"))
                .and_then(|s| s.trim().parse().ok())
                .unwrap_or(0);
            let (mut rbytes, mut wbytes) = (0, 0);
            for line in read(&dir.join("io.stat")).unwrap_or_default().lines() {
                for field in line.split_whitespace().skip(1) {
                    match field.split_once('=') {
                        Some(("rbytes", v)) => rbytes += v.parse::<u64>().unwrap_or(0),
                        Some(("wbytes", v)) => wbytes += v.parse::<u64>().unwrap_or(0),
                        _ => {}
                    }
                }
            }
            Some(Counters {
                cpu_usage_ns: keyed(&cpu, "usage_usec")? * 1000,
                memory_bytes: usage.saturating_sub(keyed(&stat, "inactive_file").unwrap_or(0)),
                memory_limit_bytes: limit,
                pids: number(&dir.join("pids.current")).unwrap_or(0),
                blk_read_bytes: rbytes,
                blk_write_bytes: wbytes,
                ..Counters::default()
            })
        }
        Location::V1 {
            cpuacct,
            memory,
            pids,
            blkio,
        } => {
            let usage = number(&memory.join("memory.usage_in_bytes"))?;
            let stat = read(&memory.join("memory.stat")).unwrap_or_default();
            let limit = number(&memory.join("memory.limit_in_bytes"))
                .filter(|l| *l < V1_UNLIMITED)
                .unwrap_or(0);
            let (mut rbytes, mut wbytes) = (0, 0);
            if let Some(dir) = blkio {
                for line in read(&dir.join("blkio.throttle.io_service_bytes"))
                    .unwrap_or_default()
                    .lines()
                {
                    let f: Vec<&str> = line.split_whitespace().collect();
                    match f.as_slice() {
                        [_, "Read", v] => rbytes += v.parse::<u64>().unwrap_or(0),
                        [_, "Write", v] => wbytes += v.parse::<u64>().unwrap_or(0),
                        _ => {}
                    }
                }
            }
            Some(Counters {
                cpu_usage_ns: number(&cpuacct.join("cpuacct.usage"))?,
                memory_bytes: usage
                    .saturating_sub(keyed(&stat, "total_inactive_file").unwrap_or(0)),
                memory_limit_bytes: limit,
                pids: pids
                    .as_ref()
                    .and_then(|p| number(&p.join("pids.current")))
                    .unwrap_or(0),
                blk_read_bytes: rbytes,
                blk_write_bytes: wbytes,
                ..Counters::default()
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "3f4e5d6c7b8a99887766554433221100ffeeddccbbaa99887766554433221100";

    fn tree(dirs: &[&str]) -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        for d in dirs {
            fs::create_dir_all(root.path().join(d)).unwrap();
        }
        root
    }

    #[test]
    fn v2_systemd_and_cgroupfs_paths() {
        let root = tree(&[
            &format!("system.slice/docker-{ID}.scope"),
            &format!("docker/{ID}"),
        ]);
        let systemd = format!("0::/system.slice/docker-{ID}.scope\n");
        assert_eq!(
            locate(root.path(), Version::V2, &systemd, ID),
            Some(Location::V2(
                root.path().join(format!("system.slice/docker-{ID}.scope"))
            ))
        );
        let cgroupfs = format!("0::/docker/{ID}\n");
        assert_eq!(
            locate(root.path(), Version::V2, &cgroupfs, ID),
            Some(Location::V2(root.path().join(format!("docker/{ID}"))))
        );
    }

    #[test]
    fn a_nested_daemon_path_is_found_by_its_suffix() {
        // Seen from inside the outer container, the mount's root is already the outer cgroup.
        let root = tree(&[&format!("docker/{ID}")]);
        let nested = format!("0::/docker/outer0123456789/docker/{ID}\n");
        assert_eq!(
            locate(root.path(), Version::V2, &nested, ID),
            Some(Location::V2(root.path().join(format!("docker/{ID}"))))
        );
    }

    #[test]
    fn a_path_that_does_not_name_the_container_is_refused() {
        let root = tree(&["user.slice"]);
        assert_eq!(
            locate(root.path(), Version::V2, "0::/user.slice\n", ID),
            None
        );
    }

    #[test]
    fn v1_reads_each_controller_and_the_docker_cli_memory_figure() {
        let root = tree(&[
            &format!("cpu,cpuacct/docker/{ID}"),
            &format!("memory/docker/{ID}"),
            &format!("pids/docker/{ID}"),
        ]);
        let file = format!(
            "12:pids:/docker/{ID}\n5:memory:/docker/{ID}\n3:cpu,cpuacct:/docker/{ID}\n1:name=systemd:/docker/{ID}\n"
        );
        let loc = locate(root.path(), Version::V1, &file, ID).unwrap();
        let p = root.path();
        fs::write(
            p.join(format!("cpu,cpuacct/docker/{ID}/cpuacct.usage")),
            "5000000\n",
        )
        .unwrap();
        let mem = p.join(format!("memory/docker/{ID}"));
        fs::write(mem.join("memory.usage_in_bytes"), "104857600\n").unwrap();
        fs::write(
            mem.join("memory.stat"),
            "cache 1\ntotal_inactive_file 52428800\n",
        )
        .unwrap();
        fs::write(mem.join("memory.limit_in_bytes"), "9223372036854771712\n").unwrap();
        fs::write(p.join(format!("pids/docker/{ID}/pids.current")), "3\n").unwrap();
        let c = read_counters(&loc).unwrap();
        assert_eq!(c.cpu_usage_ns, 5_000_000);
        assert_eq!(c.memory_bytes, 52_428_800);
        assert_eq!(c.memory_limit_bytes, 0, "unlimited");
        assert_eq!(c.pids, 3);
    }

    #[test]
    fn v2_counters() {
        let root = tree(&[&format!("docker/{ID}")]);
        let dir = root.path().join(format!("docker/{ID}"));
        fs::write(dir.join("cpu.stat"), "usage_usec 1500\nuser_usec 1000\n").unwrap();
        fs::write(dir.join("memory.current"), "2000\n").unwrap();
        fs::write(dir.join("memory.stat"), "anon 1000\ninactive_file 500\n").unwrap();
        fs::write(dir.join("memory.max"), "max\n").unwrap();
        fs::write(dir.join("pids.current"), "2\n").unwrap();
        fs::write(
            dir.join("io.stat"),
            "8:0 rbytes=10 wbytes=20 rios=1 wios=1\n8:16 rbytes=1 wbytes=2\n",
        )
        .unwrap();
        let c = read_counters(&Location::V2(dir)).unwrap();
        assert_eq!(c.cpu_usage_ns, 1_500_000);
        assert_eq!(c.memory_bytes, 1500);
        assert_eq!(c.memory_limit_bytes, 0);
        assert_eq!((c.blk_read_bytes, c.blk_write_bytes), (11, 22));
    }
}
