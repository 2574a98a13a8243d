//! SCALE BENCHMARK ON A SIMULATED RUNTIME. 1,000 workers whose containers live in memory
//! (`yun_worker::runtime::sim`, never Docker) run in processes other than the master's, behind
//! the real gRPC, registration and heartbeat path; a real `yun master` (release build, SQLite with
//! durability on) takes 100,000 creates through its HTTP API from 1,000 users. A placement counts
//! only when its 201 came back, which the master sends after the simulated worker holds the
//! container. Afterwards every node's count in the store is compared with what the node reports.
//!
//! Master and workers use mutual TLS: each simulated worker joins with a token (its own key,
//! request and certificate) and every connection is a TLS handshake. The master's `/metrics` is
//! scraped every 5 s during the load, and its answer time and size are measured at the end.
//!
//! Run: `cargo bench -p yun --bench scale` (SCALE_NODES, SCALE_CONTAINERS, SCALE_USERS,
//! SCALE_CONCURRENCY override the defaults 1000, 100000, 1000, 64; SCALE_PLAINTEXT=1 runs the
//! fleet with `--insecure-plaintext` to compare; SCALE_POSTGRES=URL of a PostgreSQL server puts
//! the master's store in a new database of its own there, and reports the server's CPU too).

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use yun_api::admin::{NodeList, NodeState};
use yun_api::containers::CreateContainer;
use yun_api::Client;
use yun_testkit::procfs::{cpu_seconds, cpu_seconds_named, peak_rss_mib};

const YUN: &str = env!("CARGO_BIN_EXE_yun");
const WORKER_PROCESSES: usize = 4;

use yun_testkit::bench::env_or;

const METRICS_TOKEN: &str = "scale-metrics-token-0123";

fn free_addr() -> std::net::SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// The worker-host role: `count` simulated workers in this process.
async fn host_workers() {
    let first = env_or("SCALE_FIRST", 0);
    let count = env_or("SCALE_COUNT", 250);
    let master = std::env::var("SCALE_MASTER").unwrap();
    let token = std::env::var("SCALE_TOKEN").unwrap();
    let state = std::path::PathBuf::from(std::env::var("SCALE_STATE").unwrap());
    let plaintext = std::env::var("SCALE_PLAINTEXT").is_ok_and(|v| v == "1");
    let mut workers = Vec::new();
    for i in first..first + count {
        let runtime = Arc::new(yun_worker::runtime::sim::SimRuntime::new(8, 64 << 30));
        let config = yun_worker::WorkerConfig {
            name: format!("sim-{i:04}"),
            master: master.clone(),
            rpc: "127.0.0.1:0".parse().unwrap(),
            advertise: None,
            public_host: Some("127.0.0.2".into()),
            port_range: (20000, 29999),
            join_token: Some(token.clone()),
            state_dir: state.join(format!("sim-{i:04}")),
            insecure_plaintext: plaintext,
            docker: yun_worker::runtime::docker::DockerOptions {
                endpoint: "simulated".into(),
                tenant_subnets: "10.210.0.0/16".parse().unwrap(),
                tenant_prefix_len: 26,
                allow_unenforced_limits: false,
                shield_host: yun_worker::runtime::docker::HostShield::Off,
                publish_address: std::net::Ipv4Addr::new(127, 0, 0, 2).into(),
            },
            boot_id: Some("simulated".into()),
            metrics: None,
        };
        workers.push(
            yun_worker::start_with_runtime(config, runtime)
                .await
                .expect("sim worker"),
        );
    }
    std::future::pending::<()>().await;
}

struct Procs(Vec<Child>);

impl Drop for Procs {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

async fn fleet(admin: &Client) -> NodeList {
    admin.fleet().await.expect("the node list")
}

/// A client signed in as `username`, registering them first when `register`.
async fn signed_in(api: &Client, username: &str, password: &str, register: bool) -> Client {
    if register {
        api.register(username, password).await.expect("register");
    }
    let login = api.login(username, password, None).await.expect("log in");
    api.with_token(&login.token)
}

#[tokio::main]
async fn main() {
    if std::env::var("SCALE_ROLE").as_deref() == Ok("workers") {
        return host_workers().await;
    }
    let nodes = env_or("SCALE_NODES", 1000);
    let total = env_or("SCALE_CONTAINERS", 100_000);
    let users = env_or("SCALE_USERS", 1000);
    let concurrency = env_or("SCALE_CONCURRENCY", 64);
    println!("SIMULATED RUNTIME: {nodes} workers keep containers in memory; the master is real.");

    let dir = tempfile::tempdir().unwrap();
    let (http, rpc) = (free_addr(), free_addr());
    let plaintext = std::env::var("SCALE_PLAINTEXT").is_ok_and(|v| v == "1");
    println!(
        "fleet transport: {}",
        if plaintext {
            "plaintext (--insecure-plaintext)"
        } else {
            "mutual TLS"
        }
    );
    let postgres = std::env::var("SCALE_POSTGRES").ok();
    let database = match &postgres {
        Some(server) => {
            let url = yun_store::scratch::new_database(server)
                .await
                .expect("a database of the benchmark's own");
            println!("store: PostgreSQL ({})", postgres_settings(&url).await);
            url
        }
        None => {
            println!("store: SQLite (WAL, synchronous=FULL)");
            format!("sqlite://{}", dir.path().join("yun.db").display())
        }
    };
    let ca = [
        ("--ca-cert", dir.path().join("ca.crt")),
        ("--ca-key", dir.path().join("ca.key")),
    ];
    let master = Command::new(YUN)
        .args([
            "master",
            "--http",
            &http.to_string(),
            "--rpc",
            &rpc.to_string(),
        ])
        .arg("--database")
        .arg(&database)
        .args(
            ca.iter()
                .filter(|_| postgres.is_some())
                .flat_map(|(flag, file)| [std::ffi::OsString::from(flag), file.clone().into()]),
        )
        .args([
            "--max-containers-per-user",
            "1000",
            "--max-ports-per-user",
            "1000",
        ])
        // Thousands of renters sign up from this one address.
        .args(["--registrations-per-hour", "0"])
        // Billing is on (deposits, metering); each user gets enough for their 100 runs.
        .args(["--signup-credits", "1000000"])
        .args(plaintext.then_some("--insecure-plaintext"))
        .env("YUN_ADMIN_PASSWORD", "scale-admin-password")
        // Metrics on, and scraped every 5 s during the load, as Prometheus would.
        .env("YUN_METRICS_TOKEN", METRICS_TOKEN)
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let master_pid = master.id();
    let mut procs = Procs(vec![master]);
    let api = Client::new(&format!("http://{http}")).unwrap();
    for _ in 0..100 {
        if api.readiness().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let admin = signed_in(&api, "admin", "scale-admin-password", false).await;
    let token = admin
        .create_join_token(&yun_api::admin::NewJoinToken {
            ttl_seconds: Some(3600),
            uses: Some(nodes as u32),
        })
        .await
        .expect("a join token")
        .token;
    let per = nodes.div_ceil(WORKER_PROCESSES);
    let exe = std::env::current_exe().unwrap();
    let mut worker_pids = Vec::new();
    for p in 0..WORKER_PROCESSES {
        let first = p * per;
        let count = per.min(nodes.saturating_sub(first));
        if count == 0 {
            break;
        }
        let child = Command::new(&exe)
            .env("SCALE_ROLE", "workers")
            .env("SCALE_FIRST", first.to_string())
            .env("SCALE_COUNT", count.to_string())
            .env("SCALE_MASTER", format!("http://{rpc}"))
            .env("SCALE_TOKEN", &token)
            .env("SCALE_STATE", dir.path())
            .env("SCALE_PLAINTEXT", if plaintext { "1" } else { "0" })
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        worker_pids.push(child.id());
        procs.0.push(child);
    }
    let start = Instant::now();
    loop {
        let f = fleet(&admin).await;
        let ready = f
            .nodes
            .iter()
            .filter(|n| n.state == NodeState::Ready)
            .count();
        if ready == nodes {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "only {ready} of {nodes} nodes became ready"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    println!(
        "{nodes} nodes ready after {:.1} s",
        start.elapsed().as_secs_f64()
    );
    admin
        .publish_image("sim/app:1")
        .await
        .expect("the simulated image is published");

    // Idle fleet: heartbeats per second and the master's CPU, once the first reconcile pass
    // (10 s) has opened the master's connection to every node: with mutual TLS those are 1,000
    // handshakes made once at start, not a cost of idling.
    tokio::time::sleep(Duration::from_secs(12)).await;
    let (hb0, cpu0, t0) = (
        fleet(&admin).await.heartbeats_total,
        cpu_seconds(master_pid),
        Instant::now(),
    );
    tokio::time::sleep(Duration::from_secs(30)).await;
    let idle_secs = t0.elapsed().as_secs_f64();
    let idle_beats = (fleet(&admin).await.heartbeats_total - hb0) as f64 / idle_secs;
    let idle_cpu = (cpu_seconds(master_pid) - cpu0) / idle_secs * 100.0;

    // Users.
    let mut clients = Vec::with_capacity(users);
    let sem = Arc::new(tokio::sync::Semaphore::new(16));
    let mut tasks = Vec::new();
    for u in 0..users {
        let (api, sem) = (api.clone(), sem.clone());
        tasks.push(tokio::spawn(async move {
            let _p = sem.acquire().await.unwrap();
            signed_in(
                &api,
                &format!("user{u:05}"),
                "scale-rides-a-blue-tram",
                true,
            )
            .await
        }));
    }
    for t in tasks {
        clients.push(t.await.unwrap());
    }
    let clients = Arc::new(clients);

    // The load: `total` creates, `concurrency` at a time.
    let cpu_master0 = cpu_seconds(master_pid);
    let cpu_workers0: Vec<f64> = worker_pids.iter().map(|p| cpu_seconds(*p)).collect();
    let cpu_bench0 = cpu_seconds(std::process::id());
    let cpu_postgres0 = cpu_seconds_named("postgres");
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    // The WAL's size during the load: it must restart, not grow with every write.
    let wal = dir.path().join("yun.db-wal");
    let loading = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let wal_watch = tokio::spawn({
        let loading = loading.clone();
        async move {
            let mut peak = 0u64;
            while loading.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0));
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            peak
        }
    });
    let spec = CreateContainer {
        image: "sim/app:1".into(),
        ..Default::default()
    };
    let metrics_url = format!("http://{http}/metrics");
    let scraper = tokio::spawn({
        let url = metrics_url.clone();
        async move {
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            loop {
                tick.tick().await;
                let (status, _) = yun_testkit::scrape(&url, Some(METRICS_TOKEN)).await;
                assert_eq!(status, 200, "/metrics during the load");
            }
        }
    });
    let mut runners = Vec::new();
    for _ in 0..concurrency {
        let spec = spec.clone();
        let (clients, next) = (clients.clone(), next.clone());
        runners.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failures = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= total {
                    return (latencies, failures);
                }
                let client = &clients[i % clients.len()];
                let t = Instant::now();
                match client.create_container(&spec, None).await {
                    Ok(_) => latencies.push((t.elapsed(), started.elapsed())),
                    Err(e) => failures.push(e.to_string()),
                }
            }
        }));
    }
    let mut latencies = Vec::with_capacity(total);
    let mut finished = Vec::with_capacity(total);
    let mut failures = Vec::new();
    for r in runners {
        let (l, f) = r.await.unwrap();
        latencies.extend(l.iter().map(|(latency, _)| *latency));
        finished.extend(l.iter().map(|(_, at)| *at));
        failures.extend(f);
    }
    let elapsed = started.elapsed().as_secs_f64();
    scraper.abort();
    let bench_cpu = (cpu_seconds(std::process::id()) - cpu_bench0) / elapsed * 100.0;
    loading.store(false, std::sync::atomic::Ordering::Relaxed);
    let wal_peak_mib = wal_watch.await.unwrap() as f64 / (1 << 20) as f64;
    // Placements per second in each fifth of the run, to show whether the rate holds as the
    // fleet fills and the meter's work grows.
    finished.sort();
    let fifths: Vec<String> = (0..5)
        .filter_map(|k| {
            let (a, b) = (finished.len() * k / 5, finished.len() * (k + 1) / 5);
            let span = finished.get(b.checked_sub(1)?)?.saturating_sub(if a == 0 {
                Duration::ZERO
            } else {
                finished[a - 1]
            });
            Some(format!("{:.0}", (b - a) as f64 / span.as_secs_f64()))
        })
        .collect();
    let master_cpu = (cpu_seconds(master_pid) - cpu_master0) / elapsed * 100.0;
    let postgres_cpu = (cpu_seconds_named("postgres") - cpu_postgres0) / elapsed * 100.0;
    let worker_cpu: Vec<String> = worker_pids
        .iter()
        .zip(&cpu_workers0)
        .map(|(p, c0)| format!("{:.0}%", (cpu_seconds(*p) - c0) / elapsed * 100.0))
        .collect();
    let rss = peak_rss_mib(master_pid);
    latencies.sort();

    // Agreement: each node's rows in the store against what the node itself reports.
    tokio::time::sleep(Duration::from_secs(7)).await;
    let f = fleet(&admin).await;
    let disagree = f
        .nodes
        .iter()
        .filter(|n| Some(n.containers) != n.reported_containers)
        .count();
    let stored: u64 = f.nodes.iter().map(|n| n.containers).sum();
    let reported: u64 = f
        .nodes
        .iter()
        .map(|n| n.reported_containers.unwrap_or(0))
        .sum();

    // The master's /metrics with the fleet full, every 2 s for a minute (a meter tick, which
    // buys a minute for every running container, falls inside): the whole answer, timed as
    // Prometheus sees it.
    let mut renders = Vec::new();
    let mut size = 0;
    for _ in 0..30 {
        let t = Instant::now();
        let (status, text) = yun_testkit::scrape(&metrics_url, Some(METRICS_TOKEN)).await;
        renders.push(t.elapsed());
        assert_eq!(status, 200, "{text}");
        size = text.len();
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    renders.sort();

    println!("\n| figure | value |\n|---|---|");
    println!(
        "| placements (201s) | {} of {total} ({} failed) |",
        latencies.len(),
        failures.len()
    );
    println!(
        "| sustained placements/s | {:.0} |",
        latencies.len() as f64 / elapsed
    );
    println!(
        "| API p50 / p99 / max | {:.1} / {:.1} / {:.1} ms |",
        ms(percentile(&latencies, 50.0)),
        ms(percentile(&latencies, 99.0)),
        ms(*latencies.last().unwrap())
    );
    println!(
        "| placements/s in each fifth of the run | {} |",
        fifths.join(", ")
    );
    println!("| master peak RSS (VmHWM) | {rss:.0} MiB |");
    println!("| WAL file's peak size during the load | {wal_peak_mib:.0} MiB |");
    println!("| master CPU during the load | {master_cpu:.0}% of one core |");
    if postgres.is_some() {
        println!(
            "| PostgreSQL's processes' CPU during the load | {postgres_cpu:.0}% of one core |"
        );
    }
    println!(
        "| worker-host processes' CPU during the load | {} |",
        worker_cpu.join(", ")
    );
    println!("| benchmark client's CPU during the load | {bench_cpu:.0}% of one core |");
    println!(
        "| /metrics with {stored} containers, every 2 s for a minute: median / p90 / max, size | {:.1} / {:.1} / {:.1} ms, {:.0} KiB |",
        ms(percentile(&renders, 50.0)),
        ms(percentile(&renders, 90.0)),
        ms(*renders.last().unwrap()),
        size as f64 / 1024.0
    );
    println!("| idle fleet: heartbeats/s | {idle_beats:.0} |");
    println!("| idle fleet: master CPU | {idle_cpu:.1}% of one core |");
    println!("| store vs nodes | {stored} rows, {reported} reported, {disagree} nodes disagree |");
    if let Some(f) = failures.first() {
        println!("\nfirst failure: {f}");
    }
    drop(procs);
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The server's durability settings and its cache, as the benchmark ran with them.
async fn postgres_settings(url: &str) -> String {
    use sqlx::Connection;
    let mut db = sqlx::PgConnection::connect(url).await.unwrap();
    let mut out = Vec::new();
    for name in [
        "server_version",
        "fsync",
        "synchronous_commit",
        "full_page_writes",
        "wal_level",
        "shared_buffers",
    ] {
        let value: String = sqlx::query_scalar(&format!("SHOW {name}"))
            .fetch_one(&mut db)
            .await
            .unwrap();
        out.push(format!("{name}={value}"));
    }
    out.join(", ")
}
