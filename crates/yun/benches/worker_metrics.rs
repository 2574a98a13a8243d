//! A worker's `/metrics` on a real engine: 100 running containers, scraped every 5 s as
//! Prometheus would. The CPU that the worker, dockerd and containerd (with its shims) spend over
//! a window, against the same window idle and against reading the same containers through
//! Docker's stats API every 5 s (one-shot: `GET /containers/{id}/stats?stream=false&one-shot=true`,
//! the cheapest call it has, which an exporter without cgroup access would make).
//!
//! Run: `cargo bench -p yun --bench worker_metrics` (WORKER_METRICS_CONTAINERS and
//! WORKER_METRICS_SECONDS override 100 and 60).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use yun_testkit::bench::{env_or, TinyFleet};
use yun_testkit::procfs::{cpu_seconds, pids_named};

const YUN: &str = env!("CARGO_BIN_EXE_yun");
const TOKEN: &str = "worker-metrics-bench-token";
const EVERY: Duration = Duration::from_secs(5);

fn cpu_of(pids: &[u32]) -> f64 {
    pids.iter().map(|p| cpu_seconds(*p)).sum()
}

/// Percent of one core the worker and the engine each used over `window`.
async fn measure(worker: u32, window: Duration) -> (f64, f64) {
    let engine = pids_named(&[
        "dockerd",
        "containerd",
        "containerd-shim",
        "containerd-shim-runc-v2",
    ]);
    let (w0, e0, t) = (cpu_seconds(worker), cpu_of(&engine), Instant::now());
    tokio::time::sleep(window).await;
    let secs = t.elapsed().as_secs_f64();
    (
        (cpu_seconds(worker) - w0) / secs * 100.0,
        (cpu_of(&engine) - e0) / secs * 100.0,
    )
}

/// Runs `round` every 5 s until the returned handle is aborted.
fn every_5s<F, Fut>(mut round: F) -> tokio::task::JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        loop {
            tick.tick().await;
            round().await;
        }
    })
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let n = env_or("WORKER_METRICS_CONTAINERS", 100);
    let window = Duration::from_secs(env_or("WORKER_METRICS_SECONDS", 60) as u64);
    let addr = format!("127.0.0.1:{}", yun_testkit::free_port());
    let fleet = TinyFleet::start(YUN, &["--metrics", &addr, "--metrics-token", TOKEN]).await;
    let owners = [
        fleet
            .cluster
            .api
            .sign_up("scraped-a", "scraped-rides-a-blue-tram")
            .await
            .client(),
        fleet
            .cluster
            .api
            .sign_up("scraped-b", "scraped-rides-a-blue-tram")
            .await
            .client(),
    ];
    let ids = fleet.idle_containers(&owners, n, "m").await;
    let worker = fleet.worker.child.id();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let idle = measure(worker, window).await;

    // A: Prometheus's part, played by this process: GET /metrics every 5 s.
    let url = format!("http://{addr}/metrics");
    let scrapes = Arc::new(Mutex::new(Vec::<(f64, usize, usize)>::new()));
    let a_task = every_5s({
        let (url, scrapes) = (url.clone(), scrapes.clone());
        move || {
            let (url, scrapes) = (url.clone(), scrapes.clone());
            async move {
                let t = Instant::now();
                let (status, text) = yun_testkit::scrape(&url, Some(TOKEN)).await;
                assert_eq!(status, 200, "{text}");
                let series = text
                    .lines()
                    .filter(|l| l.starts_with("container_cpu_usage_seconds_total{"))
                    .count();
                let ms = t.elapsed().as_secs_f64() * 1000.0;
                scrapes.lock().unwrap().push((ms, text.len(), series));
            }
        }
    });
    let a = measure(worker, window).await;
    a_task.abort();
    tokio::time::sleep(Duration::from_secs(3)).await;

    // B: the same containers through Docker's stats API, one-shot, all of them every 5 s.
    let docker = yun_testkit::docker().await;
    let answered = Arc::new(Mutex::new(0u64));
    let b_task = every_5s({
        let (docker, answered) = (docker.clone(), answered.clone());
        let names: Vec<String> = ids.iter().map(|(_, id)| format!("yun-{id}")).collect();
        move || {
            let (docker, answered, names) = (docker.clone(), answered.clone(), names.clone());
            async move {
                let reads = names.iter().map(|name| {
                    let docker = docker.clone();
                    async move {
                        use futures::StreamExt;
                        let mut s = docker.stats(
                            name,
                            Some(bollard::container::StatsOptions {
                                stream: false,
                                one_shot: true,
                            }),
                        );
                        s.next().await.is_some_and(|r| r.is_ok())
                    }
                });
                let ok = futures::future::join_all(reads)
                    .await
                    .into_iter()
                    .filter(|ok| *ok)
                    .count();
                *answered.lock().unwrap() += ok as u64;
            }
        }
    });
    let b = measure(worker, window).await;
    b_task.abort();

    let scrapes = scrapes.lock().unwrap().clone();
    let mut times: Vec<f64> = scrapes.iter().map(|s| s.0).collect();
    times.sort_by(|x, y| x.partial_cmp(y).unwrap());
    let (size, series) = scrapes.last().map(|s| (s.1, s.2)).unwrap_or_default();
    let above = |(w, e): (f64, f64)| (w - idle.0).max(0.0) + (e - idle.1).max(0.0);
    let (cost_a, cost_b) = (above(a), above(b));
    println!(
        "\n== a worker's /metrics: {n} running containers, every {} s, {} s windows ==",
        EVERY.as_secs(),
        window.as_secs()
    );
    println!("| figure | worker | dockerd+containerd+shims |\n|---|---|---|");
    println!("| idle | {:.2}% | {:.2}% |", idle.0, idle.1);
    println!("| A: /metrics scraped | {:.2}% | {:.2}% |", a.0, a.1);
    println!(
        "| B: Docker stats API, one-shot | {:.2}% | {:.2}% |",
        b.0, b.1
    );
    println!(
        "\nA: {} scrapes, {series} containers' series each, {:.0} KiB; answer time median {:.1} ms, max {:.1} ms",
        scrapes.len(),
        size as f64 / 1024.0,
        times.get(times.len() / 2).copied().unwrap_or(0.0),
        times.last().copied().unwrap_or(0.0)
    );
    println!("B: {} one-shot stats answered", *answered.lock().unwrap());
    println!(
        "above idle (worker + engine): A {cost_a:.2}% of a core, B {cost_b:.2}%; B/A = {:.1}x (A's cost floored at 0.01%)",
        cost_b / cost_a.max(0.01)
    );
}
