//! What tests and benchmarks read about processes from /proc.

/// CPU seconds a process has used (user + system).
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    ticks / 100.0
}

/// User and system CPU seconds of every process whose command is `comm` (a database
/// server's processes, say), summed.
pub fn cpu_seconds_named(comm: &str) -> f64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == comm)
        })
        .map(cpu_seconds)
        .sum()
}

fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Resident memory now (VmRSS), in KiB.
pub fn rss_kib(pid: u32) -> u64 {
    status_kib(pid, "VmRSS:")
}

/// Peak resident memory (VmHWM) in MiB.
pub fn peak_rss_mib(pid: u32) -> f64 {
    status_kib(pid, "VmHWM:") as f64 / 1024.0
}

/// Every process whose command line holds `arg` (Chromium's `--type=renderer`; Chromium
/// rewrites its argv into one string, so this is a search, not a split).
pub fn pids_with_arg(arg: &str) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| c.windows(arg.len()).any(|w| w == arg.as_bytes()))
                .unwrap_or(false)
        })
        .collect()
}

/// Every process whose command name is one of `names`.
pub fn pids_named(names: &[&str]) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .map(|c| names.contains(&c.trim()))
                .unwrap_or(false)
        })
        .collect()
}

/// The cgroup directory of a process for one controller (v1) or the unified one (v2).
pub fn cgroup_dir(pid: i64, controller: &str) -> std::path::PathBuf {
    use std::path::Path;
    let text =
        std::fs::read_to_string(format!("/proc/{pid}/cgroup")).expect("reading /proc/PID/cgroup");
    let unified = Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (
            parts.next(),
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
        );
        let path = path.trim_start_matches('/');
        if unified && controllers.is_empty() {
            return Path::new("/sys/fs/cgroup").join(path);
        }
        if !unified && controllers.split(',').any(|c| c == controller) {
            return Path::new("/sys/fs/cgroup").join(controller).join(path);
        }
    }
    panic!("no {controller} cgroup for pid {pid} in {text}");
}

/// CPU time the cgroup of `pid` (a container's init) has used, in seconds: what the kernel
/// charged it, whatever its processes.
pub fn cgroup_cpu_seconds(pid: i64) -> f64 {
    let unified = std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
    if unified {
        let stat = std::fs::read_to_string(cgroup_dir(pid, "").join("cpu.stat")).unwrap();
        let usec: f64 = stat
            .lines()
            .find_map(|l| l.strip_prefix("usage_usec "))
            .and_then(|v| v.trim().parse().ok())
            .expect("usage_usec in cpu.stat");
        usec / 1e6
    } else {
        let ns: f64 = std::fs::read_to_string(cgroup_dir(pid, "cpuacct").join("cpuacct.usage"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        ns / 1e9
    }
}
