//! A long log read whole: one container that wrote LOGS_LINES lines (default 100,000) of 40
//! bytes, read from its start by `yun logs` and by the API's raw and NDJSON answers (release
//! `yun master` and `yun worker` processes on the real engine), beside `docker logs
//! --timestamps` of the same container on the same engine; alternating, LOGS_RUNS (5) of each.
//!
//! Run: `cargo bench -p yun --bench logs`.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use yun_testkit::bench::{env_or, TinyFleet};

const YUN: &str = env!("CARGO_BIN_EXE_yun");

/// Runs `cmd`, counting the lines it prints; answers how long it took.
fn lines_of(cmd: &mut Command, expected: usize) -> Duration {
    let start = Instant::now();
    let out = cmd.stderr(Stdio::inherit()).output().expect("it runs");
    let took = start.elapsed();
    assert!(out.status.success(), "{cmd:?} failed");
    let n = out.stdout.iter().filter(|b| **b == b'\n').count();
    assert_eq!(n, expected, "{cmd:?} printed {n} lines");
    took
}

/// Reads a whole answer of the API, counting its lines.
async fn api_lines(url: &str, token: &str, expected: usize) -> Duration {
    let start = Instant::now();
    let mut resp = reqwest::Client::new()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{url}: {}", resp.status());
    let mut n = 0;
    while let Some(chunk) = resp.chunk().await.unwrap() {
        n += chunk.iter().filter(|b| **b == b'\n').count();
    }
    let took = start.elapsed();
    assert_eq!(n, expected, "{url} answered {n} lines");
    took
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let lines = env_or("LOGS_LINES", 100_000);
    let runs = env_or("LOGS_RUNS", 5);
    let fleet = TinyFleet::start(YUN, &[]).await;
    let raw = fleet.renter().await;
    let spec = yun_api::containers::CreateContainer {
        name: Some("chatty".into()),
        ports: Some(vec![]),
        ..yun_testkit::container_spec(
            &fleet.image,
            &["lines", &lines.to_string(), "40", "0", "sleep", "0"],
        )
    };
    let (chatty, _) = raw.client().create_container(&spec, None).await.unwrap();
    let engine_name = format!("yun-{}", chatty.id);
    let last = format!("line {:010}", lines - 1);
    eprintln!("waiting for {lines} lines …");
    let begun = Instant::now();
    loop {
        let out = Command::new("docker")
            .args(["logs", "--tail", "1", &engine_name])
            .output()
            .unwrap();
        if String::from_utf8_lossy(&out.stdout).contains(&last) {
            break;
        }
        assert!(
            begun.elapsed() < Duration::from_secs(600),
            "the container wrote its lines"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    let home = tempfile::tempdir().unwrap();
    let addr = raw.base.trim_end_matches("/api/v1").to_string();
    let token = raw.token.clone().expect("signed up");
    let mut yun_logs = Command::new(YUN);
    yun_logs
        .args(["logs", &chatty.id])
        .env("HOME", home.path())
        .env("YUN_ADDR", &addr)
        .env("YUN_TOKEN", &token);
    let mut docker_logs = Command::new("docker");
    docker_logs.args(["logs", "--timestamps", &engine_name]);
    let url = |format: &str| {
        format!(
            "{}/containers/{}/logs?tail=all&format={format}",
            raw.base, chatty.id
        )
    };

    let mut times: [Vec<Duration>; 4] = Default::default();
    for _ in 0..runs {
        times[0].push(lines_of(&mut docker_logs, lines));
        times[1].push(lines_of(&mut yun_logs, lines));
        times[2].push(api_lines(&url("raw"), &token, lines).await);
        times[3].push(api_lines(&url("ndjson"), &token, lines).await);
    }
    println!("{lines} lines of 40 bytes, median of {runs} runs each (lines a second in brackets):");
    let names = [
        "docker logs --timestamps",
        "yun logs",
        "GET /logs?tail=all&format=raw",
        "GET /logs?tail=all&format=ndjson",
    ];
    for (name, t) in names.iter().zip(times) {
        let m = median(t);
        println!(
            "  {name:<34} {:8.0} ms  ({:>9.0})",
            m.as_secs_f64() * 1000.0,
            lines as f64 / m.as_secs_f64()
        );
    }
}
