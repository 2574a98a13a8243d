//! Live stats on a real engine. 100 running containers, each with a live subscriber at 1 Hz:
//! the CPU that the worker, dockerd and containerd (with its shims) spend with yun's cgroup
//! reader, against the same containers watched through Docker's stats API (`stream=true`).
//! Then fan-out: 1,000 WebSocket subscribers on one master (10 per container), the delivery
//! delay of each sample (its worker timestamp to its arrival) and the master's CPU.
//!
//! Run: `cargo bench -p yun --bench streams` (STREAMS_CONTAINERS, STREAMS_SECONDS,
//! STREAMS_FANOUT override 100, 30, 1000).

use futures::StreamExt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use yun_api::live::StatsMessage;
use yun_testkit::bench::{env_or, TinyFleet};
use yun_testkit::procfs::{cpu_seconds, pids_named};

const YUN: &str = env!("CARGO_BIN_EXE_yun");

/// CPU seconds used by a set of processes (those that exist now).
fn cpu_of(pids: &[u32]) -> f64 {
    pids.iter().map(|p| cpu_seconds(*p)).sum()
}

/// Percent of one core each group used over `window`.
async fn measure(groups: &[(String, Vec<u32>)], window: Duration) -> Vec<(String, f64)> {
    let before: Vec<f64> = groups.iter().map(|(_, p)| cpu_of(p)).collect();
    let t = Instant::now();
    tokio::time::sleep(window).await;
    let secs = t.elapsed().as_secs_f64();
    groups
        .iter()
        .zip(before)
        .map(|((name, p), b)| (name.clone(), (cpu_of(p) - b) / secs * 100.0))
        .collect()
}

fn engine_pids() -> Vec<u32> {
    pids_named(&[
        "dockerd",
        "containerd",
        "containerd-shim",
        "containerd-shim-runc-v2",
    ])
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    // A thousand sockets need more than the usual 1,024 open files.
    let _ = rlimit::increase_nofile_limit(65_536);
    let n = env_or("STREAMS_CONTAINERS", 100);
    let secs = Duration::from_secs(env_or("STREAMS_SECONDS", 30) as u64);
    let fanout = env_or("STREAMS_FANOUT", 1000);
    let fleet = TinyFleet::start(YUN, &[]).await;
    let (cluster, worker) = (&fleet.cluster, &fleet.worker);
    // Two owners: one owner's network on a node holds about 60 containers.
    let users = [
        cluster
            .api
            .sign_up("watcher-a", "watcher-rides-a-blue-tram")
            .await
            .client(),
        cluster
            .api
            .sign_up("watcher-b", "watcher-rides-a-blue-tram")
            .await
            .client(),
    ];
    let ids = fleet.idle_containers(&users, n, "s").await;
    let worker_pid = worker.child.id();
    let master_pid = cluster.master_pid().unwrap();
    let bench_pid = std::process::id();
    let groups = |consumer: &str| {
        vec![
            ("worker".to_string(), vec![worker_pid]),
            ("dockerd+containerd+shims".to_string(), engine_pids()),
            (consumer.to_string(), vec![bench_pid]),
            ("master".to_string(), vec![master_pid]),
        ]
    };
    tokio::time::sleep(Duration::from_secs(3)).await;
    let idle = measure(&groups("bench process"), Duration::from_secs(10)).await;

    // A: one subscriber per container through the master; the worker reads cgroups.
    let received = Arc::new(Mutex::new(0u64));
    let mut sockets = Vec::new();
    for (u, id) in &ids {
        let mut stats = Box::pin(users[*u].stats(id).await.unwrap());
        let received = received.clone();
        sockets.push(tokio::spawn(async move {
            while let Some(Ok(_)) = stats.next().await {
                *received.lock().unwrap() += 1;
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let g = groups("bench (100 WebSocket readers)");
    let cgroup = measure(&g, secs).await;
    let samples_a = *received.lock().unwrap();
    for s in sockets {
        s.abort();
    }
    tokio::time::sleep(Duration::from_secs(4)).await;

    // B: the same containers through Docker's stats API, streaming; the reader decodes each.
    let docker = yun_testkit::docker().await;
    let decoded = Arc::new(Mutex::new(0u64));
    let mut streams = Vec::new();
    for (_, id) in &ids {
        let (docker, decoded, name) = (docker.clone(), decoded.clone(), format!("yun-{id}"));
        streams.push(tokio::spawn(async move {
            let mut s = docker.stats(
                &name,
                Some(bollard::container::StatsOptions {
                    stream: true,
                    one_shot: false,
                }),
            );
            while let Some(Ok(_)) = s.next().await {
                *decoded.lock().unwrap() += 1;
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let g = groups("bench (100 stats API readers)");
    let api = measure(&g, secs).await;
    let samples_b = *decoded.lock().unwrap();
    for s in streams {
        s.abort();
    }
    tokio::time::sleep(Duration::from_secs(4)).await;

    // Fan-out: `fanout` subscribers spread over the containers, delay per delivered sample.
    let delays = Arc::new(Mutex::new(Vec::<f64>::new()));
    let mut sockets = Vec::new();
    for k in 0..fanout {
        let (u, id) = &ids[k % ids.len()];
        let mut stats = Box::pin(users[*u].stats(id).await.unwrap());
        let delays = delays.clone();
        sockets.push(tokio::spawn(async move {
            while let Some(Ok(m)) = stats.next().await {
                if let StatsMessage::Stats(sample) = m {
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap()
                        .as_secs_f64()
                        * 1000.0;
                    delays.lock().unwrap().push(now - sample.ts as f64);
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    delays.lock().unwrap().clear();
    let g = groups("bench (fan-out readers)");
    let fan = measure(&g, secs).await;
    let mut d = delays.lock().unwrap().clone();
    for s in sockets {
        s.abort();
    }
    d.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let pct = |p: f64| d[((d.len() as f64 * p) as usize).min(d.len() - 1)];

    let row = |name: &str, r: &[(String, f64)]| {
        println!(
            "{name:<34} {}",
            r.iter()
                .map(|(k, v)| format!("{k}: {v:.2}%"))
                .collect::<Vec<_>>()
                .join("  ")
        )
    };
    println!(
        "\n== live stats: {n} running containers, one subscriber each, {}s windows ==",
        secs.as_secs()
    );
    row("idle (no subscriber)", &idle);
    row("A cgroup reader via yun", &cgroup);
    row("B Docker stats API stream=true", &api);
    let cost = |r: &[(String, f64)], idle: &[(String, f64)], consumer: bool| -> f64 {
        r.iter()
            .zip(idle)
            .filter(|((k, _), _)| {
                k == "worker" || k.starts_with("dockerd") || (consumer && k.starts_with("bench"))
            })
            .map(|((_, v), (_, i))| (v - i).max(0.0))
            .sum()
    };
    let a = cost(&cgroup, &idle, false);
    let b = cost(&api, &idle, true);
    println!("samples delivered: A {samples_a}, B {samples_b}");
    println!(
        "above idle: A (worker + engine) {a:.2}% of a core; B (engine + the reader doing the worker's part) {b:.2}%; B/A = {:.1}x",
        b / a.max(0.01)
    );
    println!("\n== fan-out: {fanout} WebSocket subscribers on one master, 1 Hz ==");
    row("fan-out", &fan);
    println!(
        "delivery delay (worker timestamp to arrival), {} samples: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        d.len(),
        pct(0.50),
        pct(0.99),
        d.last().copied().unwrap_or(0.0)
    );
    // Remove what this run made.
    for (u, id) in &ids {
        let _ = users[*u].remove_container(id).await;
    }
}
