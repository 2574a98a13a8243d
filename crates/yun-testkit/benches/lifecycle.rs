//! The platform's overhead on the container lifecycle: create+start, stop and remove of the
//! testbox image timed N times through yun's HTTP API and N times straight against the Docker
//! Engine API with the same container settings (limits, hardening, network, ports), alternating
//! in one run. Before each stop, both paths wait (untimed) until the program answers on its port.
//! Run: `cargo bench -p yun-testkit --bench lifecycle` (N from BENCH_N, default 100).

use bollard::container::{CreateContainerOptions, RemoveContainerOptions, StopContainerOptions};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use yun_api::containers::{CreateContainer, PortRequest};
use yun_api::Client;
use yun_core::{ContainerSpec, Limits, PortBinding, Protocol};
use yun_testkit::{container_spec, fetch_eventually, PortBlock, TestCluster};
use yun_worker::runtime::docker::container_config;

#[derive(Default)]
struct Phases {
    create: Vec<Duration>,
    stop: Vec<Duration>,
    remove: Vec<Duration>,
}

fn percentile(samples: &[Duration], p: f64) -> Duration {
    let mut s = samples.to_vec();
    s.sort();
    let rank = ((p / 100.0) * s.len() as f64).ceil() as usize;
    s[rank.clamp(1, s.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn through_yun(api: &Client, image: &str, out: &mut Phases) {
    let spec = CreateContainer {
        ports: Some(vec![PortRequest {
            container_port: 8080,
            host_port: None,
            protocol: None,
        }]),
        ..container_spec(image, &[])
    };
    let t = Instant::now();
    let made = api.create_container(&spec, None).await;
    out.create.push(t.elapsed());
    let (c, _) = made.expect("create through yun");
    // Untimed: let the program install its SIGTERM handler, as any renter's service would
    // before anyone stops it (a signal to PID 1 before that is dropped, and Docker waits 10 s).
    fetch_eventually(&c.ports[0].endpoint).await;
    let t = Instant::now();
    let stopped = api.stop(&c.id).await;
    out.stop.push(t.elapsed());
    stopped.expect("stop through yun");
    let t = Instant::now();
    let removed = api.remove_container(&c.id).await;
    out.remove.push(t.elapsed());
    removed.expect("remove through yun");
}

async fn direct(
    docker: &bollard::Docker,
    spec: &ContainerSpec,
    network: &str,
    cluster: &str,
    out: &mut Phases,
) {
    let name = format!("yun-bench-{}", yun_core::new_id());
    let labels = HashMap::from([
        ("yun.cluster".to_string(), cluster.to_string()),
        ("yun.bench".to_string(), "direct".to_string()),
    ]);
    let config = container_config(
        spec,
        labels,
        network,
        yun_testkit::NODE_ADDRESS.parse().unwrap(),
    );
    let t = Instant::now();
    let created = docker
        .create_container(
            Some(CreateContainerOptions {
                name: name.clone(),
                platform: None,
            }),
            config,
        )
        .await
        .expect("direct create");
    assert!(created.warnings.is_empty());
    docker
        .start_container::<String>(&name, None)
        .await
        .expect("direct start");
    out.create.push(t.elapsed());
    fetch_eventually(&format!(
        "{}:{}",
        yun_testkit::NODE_ADDRESS,
        spec.ports[0].host_port
    ))
    .await;
    let t = Instant::now();
    docker
        .stop_container(&name, Some(StopContainerOptions { t: 10 }))
        .await
        .expect("direct stop");
    out.stop.push(t.elapsed());
    let t = Instant::now();
    docker
        .remove_container(
            &name,
            Some(RemoveContainerOptions {
                force: true,
                v: true,
                ..Default::default()
            }),
        )
        .await
        .expect("direct remove");
    out.remove.push(t.elapsed());
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let cluster = TestCluster::start().await;
    let image = cluster.publish_testbox().await;
    let api = cluster
        .api
        .sign_up("bench", "bench-rides-a-blue-tram")
        .await
        .client();
    // One long-lived container keeps the renter's network in place, as for any renter with more
    // than one container; the direct path gets the same network.
    let keeper = CreateContainer {
        ports: Some(vec![]),
        ..container_spec(&image, &[])
    };
    let (keeper, _) = api.create_container(&keeper, None).await.unwrap();
    let docker = yun_testkit::docker().await;
    let keeper_info = docker
        .inspect_container(&format!("yun-{}", keeper.id), None)
        .await
        .unwrap();
    let network = keeper_info.host_config.unwrap().network_mode.unwrap();
    let direct_ports = PortBlock::claim();
    let spec = ContainerSpec {
        container_id: "bench".into(),
        owner_id: "bench".into(),
        image: image.clone(),
        image_id: String::new(),
        command: vec![],
        env: vec![],
        ports: vec![PortBinding {
            container_port: 8080,
            host_port: direct_ports.start,
            protocol: Protocol::Tcp,
        }],
        limits: Limits {
            cpu_millis: 100,
            memory_bytes: 64 << 20,
            pids: 64,
            disk_bytes: 0,
        },
        read_only: false,
    };

    // Warm both paths once (image layers, connections) before measuring.
    through_yun(&api, &image, &mut Phases::default()).await;
    direct(
        &docker,
        &spec,
        &network,
        cluster.cluster_id(),
        &mut Phases::default(),
    )
    .await;

    let (mut yun, mut raw) = (Phases::default(), Phases::default());
    for i in 0..n {
        if i % 2 == 0 {
            through_yun(&api, &image, &mut yun).await;
            direct(&docker, &spec, &network, cluster.cluster_id(), &mut raw).await;
        } else {
            direct(&docker, &spec, &network, cluster.cluster_id(), &mut raw).await;
            through_yun(&api, &image, &mut yun).await;
        }
    }

    println!(
        "N = {n} per path, alternating; testbox image, nano plan limits, one published port\n"
    );
    println!("| phase | docker p50 | yun p50 | p50 overhead | docker p95 | yun p95 | p50 ratio | goal met (≤ max(5%, 10 ms)) |");
    println!("|---|---|---|---|---|---|---|---|");
    for (phase, d, y) in [
        ("create+start", &raw.create, &yun.create),
        ("stop", &raw.stop, &yun.stop),
        ("remove", &raw.remove, &yun.remove),
    ] {
        let (d50, y50) = (percentile(d, 50.0), percentile(y, 50.0));
        let (d95, y95) = (percentile(d, 95.0), percentile(y, 95.0));
        let overhead = ms(y50) - ms(d50);
        let allowed = (ms(d50) * 0.05).max(10.0);
        println!(
            "| {phase} | {:.1} ms | {:.1} ms | {:+.1} ms | {:.1} ms | {:.1} ms | {:.3} | {} |",
            ms(d50),
            ms(y50),
            overhead,
            ms(d95),
            ms(y95),
            ms(y50) / ms(d50),
            if overhead <= allowed { "yes" } else { "no" }
        );
    }
}
