//! Network counters of a container, from /proc/<pid>/net/dev (its own network namespace).

/// Bytes received and sent on every interface but loopback.
pub fn parse(text: &str) -> (u64, u64) {
    text.lines()
        .skip(2)
        .filter_map(|l| {
            let (iface, rest) = l.split_once(':')?;
            if iface.trim() == "lo" {
                return None;
            }
            let f: Vec<u64> = rest
                .split_whitespace()
                .map(|v| v.parse().unwrap_or(0))
                .collect();
            Some((*f.first()?, *f.get(8)?))
        })
        .fold((0, 0), |(rx, tx), (r, t)| (rx + r, tx + t))
}

/// /proc/<pid>/net/dev kept open; each read regenerates it from offset 0.
pub struct NetDev {
    file: std::fs::File,
    buf: Vec<u8>,
}

impl NetDev {
    pub fn open(pid: u32) -> Option<Self> {
        std::fs::File::open(format!("/proc/{pid}/net/dev"))
            .ok()
            .map(|file| Self {
                file,
                buf: vec![0; 4096],
            })
    }

    pub fn read(&mut self) -> Option<(u64, u64)> {
        super::cgroup::read_whole(&self.file, &mut self.buf).map(parse)
    }
}
#[cfg(test)]
mod tests {
    #[test]
    fn sums_all_but_loopback() {
        let text = "Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    lo:     100       1    0    0    0     0          0         0      100       1    0    0    0     0       0          0\n  eth0:    2000      20    0    0    0     0          0         0      500       5    0    0    0     0       0          0\n";
        assert_eq!(super::parse(text), (2000, 500));
    }
}
