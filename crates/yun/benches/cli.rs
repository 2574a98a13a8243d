//! The command line's cost: wall time of `yun ps` against a local master (release `yun master`
//! and `yun worker` processes on the real engine) for a renter with 50 real containers, beside
//! `docker ps --filter label=yun.cluster=<id>` against the same engine, alternating one of each,
//! 100 of each; and the start-up of `yun --version`.
//!
//! Run: `cargo bench -p yun --bench cli` (CLI_CONTAINERS and CLI_RUNS override 50 and 100).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use yun_testkit::bench::{env_or, TinyFleet};

const YUN: &str = env!("CARGO_BIN_EXE_yun");

/// Runs `cmd` once, its output discarded; answers how long it took.
fn timed(cmd: &mut Command) -> Duration {
    let start = Instant::now();
    let status = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("the command runs");
    let took = start.elapsed();
    assert!(status.success(), "{cmd:?} failed");
    took
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn summary(name: &str, mut times: Vec<Duration>) -> (f64, f64) {
    times.sort();
    let (p50, p95) = (percentile(&times, 0.5), percentile(&times, 0.95));
    println!(
        "{name:<58} p50 {p50:7.1} ms   p95 {p95:7.1} ms   ({} runs)",
        times.len()
    );
    (p50, p95)
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let n = env_or("CLI_CONTAINERS", 50);
    let runs = env_or("CLI_RUNS", 100);
    let fleet = TinyFleet::start(YUN, &[]).await;
    let raw = fleet.renter().await;
    let renter = raw.client();
    let ids = fleet
        .idle_containers(std::slice::from_ref(&renter), n, "c")
        .await;

    // The client logs in once, as a user would, into a home of its own.
    let home = tempfile::tempdir().unwrap();
    let addr = raw.base.trim_end_matches("/api/v1").to_string();
    let yun = |args: &[&str]| {
        let mut cmd = Command::new(YUN);
        cmd.args(args)
            .env("HOME", home.path())
            .env("YUN_ADDR", &addr)
            .env_remove("YUN_TOKEN");
        cmd
    };
    let mut login = yun(&["login", "-u", "bench", "--password-stdin"]);
    let mut child = login.stdin(Stdio::piped()).spawn().unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"bench-rides-a-blue-tram\n")
        .unwrap();
    assert!(child.wait().unwrap().success(), "yun login");
    let listed = yun(&["ps", "-q"]).output().unwrap();
    let shown = String::from_utf8_lossy(&listed.stdout).lines().count();
    assert_eq!(shown, n, "yun ps lists every container");

    let filter = format!("label=yun.cluster={}", fleet.cluster.cluster_id);
    let (mut ps, mut docker) = (Vec::new(), Vec::new());
    // Alternating, so both see the same machine at the same moments.
    for _ in 0..runs {
        ps.push(timed(&mut yun(&["ps"])));
        docker.push(timed(
            Command::new("docker").args(["ps", "--filter", &filter]),
        ));
    }
    let version: Vec<Duration> = (0..runs).map(|_| timed(&mut yun(&["--version"]))).collect();

    println!("\n== the command line: {n} containers, {runs} runs each ==");
    let (yun_p50, yun_p95) = summary("yun ps (through the master's API)", ps);
    let (docker_p50, docker_p95) = summary(&format!("docker ps --filter {filter}"), docker);
    summary("yun --version (start-up)", version);
    println!(
        "yun ps / docker ps: p50 {:.2}x, p95 {:.2}x",
        yun_p50 / docker_p50,
        yun_p95 / docker_p95
    );
    for (_, id) in &ids {
        let _ = renter.remove_container(id).await;
    }
}
