//! Builds the demo program (demo/hello.rs) as a static binary that `yun dev` puts in an image
//! of its own, so a fresh platform has something to run without a registry. When the machine
//! cannot link statically (no static C library), the binary is built without the demo and
//! `yun dev` says so; the platform works the same.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let source = PathBuf::from("demo/hello.rs");
    println!("cargo:rerun-if-changed={}", source.display());
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let binary = out.join("hello");
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let target = std::env::var("TARGET").expect("cargo sets TARGET");
    let status = Command::new(rustc)
        .args([
            "--edition",
            "2021",
            "--crate-name",
            "hello",
            "--crate-type",
            "bin",
        ])
        .args([
            "-C",
            "opt-level=s",
            "-C",
            "strip=symbols",
            "-C",
            "panic=abort",
        ])
        .args(["-C", "target-feature=+crt-static", "--target", &target])
        // The demo is built the same way on every machine, whatever flags the build has.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .arg("-o")
        .arg(&binary)
        .arg(&source)
        .status();
    let built = matches!(status, Ok(s) if s.success());
    if !built {
        println!(
            "cargo:warning=the demo image's program could not be linked statically (is the C library's static part, libc6-dev, installed?); yun dev will start without the demo image"
        );
        // An empty file tells `yun dev` the demo is missing.
        std::fs::write(&binary, b"").expect("writing into OUT_DIR");
    }
}
