//! Tenant containers cannot open connections to this host's own services (the worker's RPC
//! port, anything listening on the host's addresses), while their published ports stay
//! reachable from outside; the worker's rules outlive a worker restart and go with the
//! cluster's last tenant network. Against a `yun worker` process and the real engine.

use std::time::Duration;
use yun_api::Client;
use yun_testkit::{container_spec, fetch_eventually, host_rules, PortBlock, TestCluster};

const YUN: &str = env!("CARGO_BIN_EXE_yun");

use yun_testkit::free_port;

/// This host's address on its default route (not loopback), when it has one.
fn primary_address() -> Option<String> {
    let out = std::process::Command::new("ip")
        .args(["-4", "route", "get", "192.0.2.200"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let mut words = text.split_whitespace();
    words.find(|w| *w == "src")?;
    words.next().map(str::to_string)
}

/// Runs a container that tries each `targets` (HOST:PORT, `gateway` for the host) and then
/// serves on 8080; answers its id, its endpoint and what each attempt found.
async fn probe(user: &Client, image: &str, targets: &[String]) -> (String, String, Vec<String>) {
    let mut command = Vec::new();
    for t in targets {
        command.extend(["connect", t.as_str()]);
    }
    command.extend(["serve", "8080", "up"]);
    let (c, _) = user
        .create_container(&container_spec(image, &command), None)
        .await
        .unwrap();
    let endpoint = c.ports[0].endpoint.clone();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let mut lines = Vec::new();
        let mut stream = Box::pin(user.log_lines(&c.id, None, false).await.unwrap());
        use futures::StreamExt;
        while let Some(Ok(l)) = stream.next().await {
            if l.line.starts_with("connect ") {
                lines.push(l.line);
            }
        }
        if lines.len() == targets.len() {
            return (c.id, endpoint, lines);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the probe reported {lines:?}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn tenant_containers_cannot_reach_the_host_s_own_services() {
    // A service of this host's, on all its addresses.
    let service = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let service_port = service.local_addr().unwrap().port();
    std::thread::spawn(move || for _ in service.incoming() {});
    let rpc_port = free_port();
    let mut targets = vec![
        format!("gateway:{rpc_port}"),
        format!("gateway:{service_port}"),
    ];
    if let Some(ip) = primary_address() {
        targets.push(format!("{ip}:{service_port}"));
    }

    // The control: a worker that lets containers reach the host (its own tenant pool, so the
    // other cluster's rules do not apply to it) shows the host's service answers.
    let open = TestCluster::master_only().await;
    let open_ports = PortBlock::claim();
    let _open_worker = open.spawn_worker(
        YUN,
        "open",
        &open_ports,
        &["--allow-host-access", "--tenant-subnets", "10.214.0.0/16"],
    );
    open.wait_for_nodes(1).await;
    let image = open.publish_testbox().await;
    let olly = open
        .api
        .sign_up("olly", "olly-rides-a-blue-tram")
        .await
        .client();
    let (_, _, seen) = probe(&olly, &image, &targets[1..]).await;
    assert!(seen.iter().all(|l| l.ends_with(": open")), "{seen:?}");
    assert!(host_rules(open.cluster_id()).is_empty());

    // A default worker, its RPC port on every address of the host.
    let cluster = TestCluster::master_only().await;
    let ports = PortBlock::claim();
    let rpc = format!("0.0.0.0:{rpc_port}");
    let advertise = format!("127.0.0.1:{rpc_port}");
    let args = ["--rpc", rpc.as_str(), "--advertise", advertise.as_str()];
    let mut worker = cluster.spawn_worker(YUN, "shielded", &ports, &args);
    cluster.wait_for_nodes(1).await;
    cluster.publish_testbox().await;
    let gus = cluster
        .api
        .sign_up("gus", "gus-rides-a-blue-tram")
        .await
        .client();
    let (first, endpoint, seen) = probe(&gus, &image, &targets).await;
    assert!(seen.iter().all(|l| l.contains(": closed")), "{seen:?}");
    // What it publishes is still reached from outside.
    assert_eq!(fetch_eventually(&endpoint).await, "up");
    assert_eq!(host_rules(cluster.cluster_id()).len(), 4);

    // The rules outlive the worker: killed and started again, a new probe is still refused.
    worker.kill();
    assert_eq!(host_rules(cluster.cluster_id()).len(), 4);
    let _worker = cluster.spawn_worker(YUN, "shielded", &ports, &args);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let (second, _, seen) = loop {
        match gus
            .create_container(&container_spec(&image, &["sleep", "0"]), None)
            .await
        {
            Ok((c, _)) => {
                gus.remove_container(&c.id).await.unwrap();
                break probe(&gus, &image, &targets[1..2]).await;
            }
            Err(e) => assert!(
                tokio::time::Instant::now() < deadline,
                "the restarted worker never took a create: {e:?}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert!(seen.iter().all(|l| l.contains(": closed")), "{seen:?}");

    // They go with the cluster's last tenant network.
    gus.remove_container(&first).await.unwrap();
    gus.remove_container(&second).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !host_rules(cluster.cluster_id()).is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "rules left: {:?}",
            host_rules(cluster.cluster_id())
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    yun_testkit::remove_labelled(open.cluster_id());
    yun_testkit::remove_labelled(cluster.cluster_id());
}
