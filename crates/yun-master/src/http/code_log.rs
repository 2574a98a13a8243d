//! Which error codes this process answered, for the test suite's coverage table: when
//! `YUN_ERROR_CODE_LOG` names a directory, each code is appended to `<dir>/<pid>.codes`.
//! Unset (as in production), nothing is written.

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use yun_api::ErrorCode;

fn log() -> Option<&'static Mutex<std::fs::File>> {
    static LOG: OnceLock<Option<Mutex<std::fs::File>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let dir = PathBuf::from(std::env::var_os("YUN_ERROR_CODE_LOG")?);
        std::fs::create_dir_all(&dir).ok()?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(format!("{}.codes", std::process::id())))
            .ok()?;
        Some(Mutex::new(file))
    })
    .as_ref()
}

pub fn record(code: ErrorCode) {
    if let Some(file) = log() {
        if let Ok(mut f) = file.lock() {
            let _ = writeln!(f, "{}", code.as_str());
        }
    }
}
