//! Host port blocks for test clusters. A block is claimed with an advisory lock on a file, so
//! concurrent test processes never share one, and a killed process releases its block.

use std::fs::File;

pub struct PortBlock {
    pub start: u16,
    pub end: u16,
    _lock: File,
}

const FIRST: u16 = 20000;
const BLOCK: u16 = 60;
const BLOCKS: u16 = 200;

impl PortBlock {
    pub fn claim() -> Self {
        let dir = std::env::temp_dir().join("yun-test-ports");
        std::fs::create_dir_all(&dir).expect("port lock dir");
        let offset = (std::process::id() as u16).wrapping_mul(31) % BLOCKS;
        for i in 0..BLOCKS {
            let n = (offset + i) % BLOCKS;
            let file = File::create(dir.join(format!("{n}.lock"))).expect("port lock file");
            if file.try_lock().is_ok() {
                let start = FIRST + n * BLOCK;
                return Self {
                    start,
                    end: start + BLOCK - 1,
                    _lock: file,
                };
            }
        }
        panic!("every test port block is taken");
    }
}

/// A TCP port free on every interface now (the kernel's pick), for a listener a test starts.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("0.0.0.0:0")
        .expect("binding an ephemeral port")
        .local_addr()
        .expect("its address")
        .port()
}
