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

/// A counter file kept open: each sample re-reads it from offset 0 (pread), so a sample costs
/// no open or close.
struct Counter {
    file: fs::File,
}

impl Counter {
    fn open(path: PathBuf) -> Option<Self> {
        fs::File::open(path).ok().map(|file| Self { file })
    }

    fn read<'a>(&self, buf: &'a mut Vec<u8>) -> Option<&'a str> {
        read_whole(&self.file, buf)
    }

    fn number(&self, buf: &mut Vec<u8>) -> Option<u64> {
        self.read(buf)?.trim().parse().ok()
    }
}

/// Reads a whole proc or cgroup file from offset 0 into `buf`, which keeps its size between
/// calls (growing only for a bigger file), so a sample allocates and clears nothing.
pub fn read_whole<'a>(file: &fs::File, buf: &'a mut Vec<u8>) -> Option<&'a str> {
    use std::os::unix::fs::FileExt;
    if buf.len() < 4096 {
        buf.resize(4096, 0);
    }
    let mut len = 0;
    loop {
        if len == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        match file.read_at(&mut buf[len..], len as u64) {
            Ok(0) => break,
            Ok(n) => len += n,
            // The cgroup is gone (the container stopped).
            Err(_) => return None,
        }
    }
    std::str::from_utf8(&buf[..len]).ok()
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

/// Bytes read and written, from v2 io.stat (`MAJ:MIN rbytes=… wbytes=…`).
fn io_v2(text: &str) -> (u64, u64) {
    let (mut r, mut w) = (0, 0);
    for field in text.lines().flat_map(|l| l.split_whitespace().skip(1)) {
        match field.split_once('=') {
            Some(("rbytes", v)) => r += v.parse::<u64>().unwrap_or(0),
            Some(("wbytes", v)) => w += v.parse::<u64>().unwrap_or(0),
            _ => {}
        }
    }
    (r, w)
}

/// Bytes read and written, from v1 blkio.throttle.io_service_bytes (`MAJ:MIN Read N`).
fn io_v1(text: &str) -> (u64, u64) {
    let (mut r, mut w) = (0, 0);
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        match f.as_slice() {
            [_, "Read", v] => r += v.parse::<u64>().unwrap_or(0),
            [_, "Write", v] => w += v.parse::<u64>().unwrap_or(0),
            _ => {}
        }
    }
    (r, w)
}

/// One container's counter files, open.
pub struct Opened {
    v2: bool,
    cpu: Counter,
    usage: Counter,
    stat: Counter,
    limit: Option<Counter>,
    pids: Option<Counter>,
    io: Option<Counter>,
    buf: Vec<u8>,
}

impl Opened {
    pub fn open(location: &Location) -> Option<Self> {
        let buf = Vec::new();
        match location {
            Location::V2(dir) => Some(Self {
                v2: true,
                cpu: Counter::open(dir.join("cpu.stat"))?,
                usage: Counter::open(dir.join("memory.current"))?,
                stat: Counter::open(dir.join("memory.stat"))?,
                limit: Counter::open(dir.join("memory.max")),
                pids: Counter::open(dir.join("pids.current")),
                io: Counter::open(dir.join("io.stat")),
                buf,
            }),
            Location::V1 {
                cpuacct,
                memory,
                pids,
                blkio,
            } => Some(Self {
                v2: false,
                cpu: Counter::open(cpuacct.join("cpuacct.usage"))?,
                usage: Counter::open(memory.join("memory.usage_in_bytes"))?,
                stat: Counter::open(memory.join("memory.stat"))?,
                limit: Counter::open(memory.join("memory.limit_in_bytes")),
                pids: pids
                    .as_ref()
                    .and_then(|p| Counter::open(p.join("pids.current"))),
                io: blkio
                    .as_ref()
                    .and_then(|b| Counter::open(b.join("blkio.throttle.io_service_bytes"))),
                buf,
            }),
        }
    }

    /// Reads the counters; None when the cgroup is gone (the container stopped).
    pub fn read(&mut self) -> Option<Counters> {
        let buf = &mut self.buf;
        let cpu_usage_ns = if self.v2 {
            keyed(self.cpu.read(buf)?, "usage_usec")? * 1000
        } else {
            self.cpu.number(buf)?
        };
        let usage = self.usage.number(buf)?;
        let inactive_key = if self.v2 {
            "inactive_file"
        } else {
            "total_inactive_file"
        };
        let inactive = keyed(self.stat.read(buf)?, inactive_key).unwrap_or(0);
        // v2 writes "max" for no limit (no number); v1 a huge one.
        let memory_limit_bytes = self
            .limit
            .as_ref()
            .and_then(|l| l.number(buf))
            .filter(|l| *l < V1_UNLIMITED)
            .unwrap_or(0);
        let pids = self.pids.as_ref().and_then(|p| p.number(buf)).unwrap_or(0);
        let (blk_read_bytes, blk_write_bytes) = match self.io.as_ref().and_then(|io| io.read(buf)) {
            Some(text) if self.v2 => io_v2(text),
            Some(text) => io_v1(text),
            None => (0, 0),
        };
        Some(Counters {
            cpu_usage_ns,
            memory_bytes: usage.saturating_sub(inactive),
            memory_limit_bytes,
            pids,
            blk_read_bytes,
            blk_write_bytes,
            ..Counters::default()
        })
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
        let c = Opened::open(&loc).unwrap().read().unwrap();
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
        let c = Opened::open(&Location::V2(dir)).unwrap().read().unwrap();
        assert_eq!(c.cpu_usage_ns, 1_500_000);
        assert_eq!(c.memory_bytes, 1500);
        assert_eq!(c.memory_limit_bytes, 0);
        assert_eq!((c.blk_read_bytes, c.blk_write_bytes), (11, 22));
    }
}
