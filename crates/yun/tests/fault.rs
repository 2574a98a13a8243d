//! The fleet under failure, with real processes on the real engine, through the typed client:
//! a worker killed or frozen past its lease, and a master killed during a burst of creates.
//! Nothing is leaked, duplicated or silently lost. (The shutdown test reads one answer raw: its
//! `Retry-After` header is the point.)

use std::collections::{HashMap, HashSet};
use std::time::Duration;
use yun_api::admin::NodeState;
use yun_api::client::Removal;
use yun_api::containers::{Container, ContainerState, CreateContainer};
use yun_api::{Client, ErrorCode};
use yun_testkit::{container_spec, node_named, PortBlock, ProcessCluster};

const YUN: &str = env!("CARGO_BIN_EXE_yun");

async fn states(client: &Client) -> HashMap<String, ContainerState> {
    containers(client)
        .await
        .into_iter()
        .map(|c| (c.id, c.state))
        .collect()
}

async fn containers(client: &Client) -> Vec<Container> {
    client.containers(false).await.expect("the list answers")
}

async fn all_in(client: &Client, state: ContainerState) -> bool {
    let s = states(client).await;
    !s.is_empty() && s.values().all(|v| *v == state)
}

async fn node_state(admin: &Client, name: &str) -> Option<NodeState> {
    node_named(admin, name).await.map(|n| n.state)
}

/// A create publishing no port.
fn unpublished(image: &str) -> CreateContainer {
    CreateContainer {
        ports: Some(vec![]),
        ..container_spec(image, &[])
    }
}

async fn run(client: &Client, spec: &CreateContainer) -> Container {
    client.create_container(spec, None).await.unwrap().0
}

/// Docker ids of this cluster's containers, by platform id.
async fn docker_ids(cluster_id: &str) -> HashMap<String, String> {
    let docker = yun_testkit::docker().await;
    let filters = HashMap::from([(
        "label".to_string(),
        vec![format!("yun.cluster={cluster_id}")],
    )]);
    let list = docker
        .list_containers(Some(bollard::container::ListContainersOptions {
            all: true,
            filters,
            ..Default::default()
        }))
        .await
        .unwrap();
    list.into_iter()
        .map(|c| (c.labels.unwrap()["yun.container"].clone(), c.id.unwrap()))
        .collect()
}

/// Every record runs, and the host has exactly the containers the records name.
async fn settled_on_host(client: &Client, cluster_id: &str) -> bool {
    let records = states(client).await;
    let on_host = docker_ids(cluster_id).await;
    records.values().all(|s| *s == ContainerState::Running)
        && records.keys().collect::<HashSet<_>>() == on_host.keys().collect::<HashSet<_>>()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_worker_goes_down_and_comes_back_with_the_same_containers() {
    let cluster = ProcessCluster::start_on(crate::STORE, YUN, &[]).await;
    let admin = cluster.admin.client();
    let ports = PortBlock::claim();
    let mut worker = cluster.spawn_worker("w1", &ports, &[]);
    cluster.wait_ready("w1").await;
    let image = cluster.publish_testbox().await;
    let kim = cluster
        .api
        .sign_up("kim", "kim-rides-a-blue-tram")
        .await
        .client();
    for _ in 0..2 {
        run(&kim, &unpublished(&image)).await;
    }
    let before = docker_ids(&cluster.cluster_id).await;
    assert_eq!(before.len(), 2);

    worker.kill();
    // The lease is 2 x 1 s + 5 s; a pass runs every second.
    cluster
        .eventually(Duration::from_secs(12), "w1 is down", || async {
            node_state(&admin, "w1").await == Some(NodeState::Down)
        })
        .await;
    cluster
        .eventually(Duration::from_secs(5), "its containers are lost", || {
            all_in(&kim, ContainerState::Lost)
        })
        .await;
    // Time spent lost is free: the running time stops counting while the node is away.
    let run_seconds =
        |list: Vec<Container>| -> Vec<i64> { list.iter().map(|c| c.billing.run_seconds).collect() };
    let lost_at = run_seconds(containers(&kim).await);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        run_seconds(containers(&kim).await),
        lost_at,
        "lost time is free"
    );
    // The containers themselves never noticed.
    let docker = yun_testkit::docker().await;
    for id in before.values() {
        let c = docker.inspect_container(id, None).await.unwrap();
        assert_eq!(c.state.unwrap().running, Some(true));
    }
    // A stop now is refused clearly rather than hanging.
    let mut ids = before.keys();
    let (kept, dropped) = (ids.next().unwrap().clone(), ids.next().unwrap().clone());
    let refused = kim.stop(&kept).await.expect_err("a stop on a lost node");
    assert_eq!(refused.status(), Some(409), "{refused}");
    // A removal waits for the node: accepted now, done when the node is back.
    match kim.remove_container(&dropped).await.unwrap() {
        Removal::Deferred(c) => assert_eq!(c.state, ContainerState::Removing),
        Removal::Done => panic!("a removal on a down node cannot be done at once"),
    }

    let _worker = cluster.spawn_worker("w1", &ports, &[]);
    cluster
        .eventually(
            Duration::from_secs(10),
            "the kept one is re-attached",
            || all_in(&kim, ContainerState::Running),
        )
        .await;
    let after = docker_ids(&cluster.cluster_id).await;
    assert_eq!(
        after.len(),
        1,
        "the removed one went when its node came back"
    );
    assert_eq!(
        after.get(&kept),
        before.get(&kept),
        "the same Docker container, not recreated"
    );
    assert!(!states(&kim).await.contains_key(&dropped));
}

const METRICS_TOKEN: &str = "fault-metrics-token-0123";

async fn scrape(cluster: &ProcessCluster) -> String {
    let url = format!("http://{}/metrics", cluster.http);
    yun_testkit::scrape(&url, Some(METRICS_TOKEN)).await.1
}

/// Whether the series written exactly `series` is at least `least`.
fn series_at_least(text: &str, series: &str, least: f64) -> bool {
    yun_testkit::series_value(text, series).is_some_and(|v| v >= least)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_frozen_worker_converges_without_duplicates() {
    let cluster =
        ProcessCluster::start_on(crate::STORE, YUN, &["--metrics-token", METRICS_TOKEN]).await;
    let admin = cluster.admin.client();
    let ports = PortBlock::claim();
    let worker = cluster.spawn_worker("w1", &ports, &[]);
    cluster.wait_ready("w1").await;
    let image = cluster.publish_testbox().await;
    let lee = cluster
        .api
        .sign_up("lee", "lee-rides-a-blue-tram")
        .await
        .client();
    let c = run(&lee, &container_spec(&image, &["serve", "8080", "frozen"])).await;
    let before = docker_ids(&cluster.cluster_id).await;

    worker.signal("STOP");
    cluster
        .eventually(
            Duration::from_secs(12),
            "the frozen node is down",
            || async { node_state(&admin, "w1").await == Some(NodeState::Down) },
        )
        .await;
    cluster
        .eventually(Duration::from_secs(5), "its container is lost", || {
            all_in(&lee, ContainerState::Lost)
        })
        .await;
    // The pass's listings of the frozen node time out, and the metrics say so.
    cluster
        .eventually(
            Duration::from_secs(20),
            "failed listings in the metrics",
            || async {
                let text = scrape(&cluster).await;
                series_at_least(
                    &text,
                    "yun_reconcile_failures_total{step=\"inventory\"}",
                    1.0,
                ) && ["timeout", "unreachable"].iter().any(|outcome| {
                    series_at_least(
                        &text,
                        &format!(
                            "yun_worker_rpc_calls_total{{method=\"list\",outcome=\"{outcome}\"}}"
                        ),
                        1.0,
                    )
                })
            },
        )
        .await;
    // The node list says so too: its failed calls, and which was the last.
    let fleet = admin.fleet().await.unwrap();
    let w1 = fleet.nodes.iter().find(|n| n.name == "w1").unwrap();
    assert!(w1.calls.failed >= 1, "{:?}", w1.calls);
    assert!(w1.calls.last_failure.is_some(), "{:?}", w1.calls);
    // A call to a frozen worker has a deadline; the API answers instead of hanging.
    match lee.logs(&c.id, None, false).await {
        Err(refused) => assert_eq!(refused.status(), Some(503), "{refused}"),
        Ok(_) => panic!("logs from a frozen node cannot be read"),
    }
    worker.signal("CONT");
    cluster
        .eventually(Duration::from_secs(15), "the container runs again", || {
            all_in(&lee, ContainerState::Running)
        })
        .await;
    assert_eq!(node_state(&admin, "w1").await, Some(NodeState::Ready));
    assert_eq!(
        docker_ids(&cluster.cluster_id).await,
        before,
        "no duplicate, nothing recreated"
    );
    assert_eq!(
        yun_testkit::fetch_eventually(&c.ports[0].endpoint).await,
        "frozen"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_master_killed_during_a_burst_of_creates_loses_nothing() {
    let mut cluster = ProcessCluster::start_on(
        crate::STORE,
        YUN,
        &[
            "--max-containers-per-user",
            "100",
            "--max-ports-per-user",
            "100",
        ],
    )
    .await;
    let ports = PortBlock::claim();
    let _worker = cluster.spawn_worker("w1", &ports, &[]);
    cluster.wait_ready("w1").await;
    let image = cluster.publish_testbox().await;
    let max = cluster
        .api
        .sign_up("max", "max-rides-a-blue-tram")
        .await
        .client();
    let burst_spec = |i: usize| CreateContainer {
        name: Some(format!("b{i}")),
        ..container_spec(&image, &[])
    };

    let answered = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut burst = Vec::new();
    for i in 0..50 {
        let (max, spec, answered) = (max.clone(), burst_spec(i), answered.clone());
        burst.push(tokio::spawn(async move {
            let r = max
                .create_container(&spec, Some(&format!("burst-{i}")))
                .await;
            answered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            (i, r.ok().map(|(c, _)| c.id))
        }));
    }
    // Let part of the burst land, then kill -9 the master in the middle of the rest.
    while answered.load(std::sync::atomic::Ordering::SeqCst) < 8 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cluster.kill_master();
    let mut acknowledged = HashMap::new();
    for t in burst {
        if let (i, Some(id)) = t.await.unwrap() {
            acknowledged.insert(i, id);
        }
    }
    assert!(
        !acknowledged.is_empty() && acknowledged.len() < 50,
        "the kill fell inside the burst: {} of 50 answered",
        acknowledged.len()
    );

    cluster.start_master().await;
    // The worker re-registers by itself, then passes settle what the crash left.
    cluster.wait_ready("w1").await;
    cluster
        .eventually(
            Duration::from_secs(20),
            "records and containers agree",
            || settled_on_host(&max, &cluster.cluster_id),
        )
        .await;
    let records = states(&max).await;
    for id in acknowledged.values() {
        assert_eq!(
            records.get(id),
            Some(&ContainerState::Running),
            "{id} got a 201, so it exists and runs"
        );
    }
    // Ports in the store are the ports Docker publishes.
    let docker = yun_testkit::docker().await;
    let mut seen_ports = HashSet::new();
    for c in containers(&max).await {
        let host_port = c.ports[0].host_port.to_string();
        assert!(
            seen_ports.insert(host_port.clone()),
            "port {host_port} recorded twice"
        );
        let info = docker
            .inspect_container(&format!("yun-{}", c.id), None)
            .await
            .unwrap();
        let bound = info.host_config.unwrap().port_bindings.unwrap()["8080/tcp"]
            .clone()
            .unwrap()[0]
            .host_port
            .clone();
        assert_eq!(bound.as_deref(), Some(host_port.as_str()), "{}", c.id);
    }
    // Clients retry the whole burst with the same keys: exactly one container per key.
    for i in 0..50 {
        let retried = max
            .create_container(&burst_spec(i), Some(&format!("burst-{i}")))
            .await
            .unwrap_or_else(|e| panic!("retry {i}: {e}"));
        if let Some(id) = acknowledged.get(&i) {
            let (c, made) = retried;
            assert!(!made, "a repeat answers with the first result");
            assert_eq!(&c.id, id);
        }
    }
    cluster
        .eventually(
            Duration::from_secs(20),
            "50 containers, all running",
            || async {
                let s = states(&max).await;
                s.len() == 50 && s.values().all(|v| *v == ContainerState::Running)
            },
        )
        .await;
    assert_eq!(
        docker_ids(&cluster.cluster_id).await.len(),
        50,
        "no duplicate on the host"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn after_a_host_reboot_what_should_run_runs_again() {
    let cluster = ProcessCluster::start_on(crate::STORE, YUN, &[]).await;
    let ports = PortBlock::claim();
    let mut worker = cluster.spawn_worker("w1", &ports, &["--boot-id", "boot-one"]);
    cluster.wait_ready("w1").await;
    let image = cluster.publish_testbox().await;
    let rae = cluster
        .api
        .sign_up("rae", "rae-rides-a-blue-tram")
        .await
        .client();
    let up = run(&rae, &unpublished(&image)).await.id;
    let down = run(&rae, &unpublished(&image)).await.id;
    rae.stop(&down).await.unwrap();

    // The host goes down: the worker dies and the engine stops every container.
    worker.kill();
    let docker = yun_testkit::docker().await;
    for id in [&up, &down] {
        docker
            .stop_container(
                &format!("yun-{id}"),
                Some(bollard::container::StopContainerOptions { t: 1 }),
            )
            .await
            .unwrap();
    }
    // It comes back with a new boot id.
    let _worker = cluster.spawn_worker("w1", &ports, &["--boot-id", "boot-two"]);
    cluster
        .eventually(
            Duration::from_secs(15),
            "the running one runs again",
            || async { states(&rae).await.get(&up) == Some(&ContainerState::Running) },
        )
        .await;
    assert_eq!(
        states(&rae).await.get(&down),
        Some(&ContainerState::Stopped),
        "what was stopped stays stopped"
    );
    let info = docker
        .inspect_container(&format!("yun-{down}"), None)
        .await
        .unwrap();
    assert_eq!(info.state.unwrap().running, Some(false));
}

/// A create in flight when the master is asked to stop is answered (503 shutting_down, to
/// retry), not left hanging, and the next master finishes what the first one placed.
#[tokio::test(flavor = "multi_thread")]
async fn a_create_in_flight_when_the_master_stops_is_answered_and_finished_later() {
    let mut cluster = ProcessCluster::start_on(crate::STORE, YUN, &[]).await;
    let ports = PortBlock::claim();
    let worker = cluster.spawn_worker("w1", &ports, &[]);
    cluster.wait_ready("w1").await;
    let image = cluster.publish_testbox().await;
    let raw = cluster.api.sign_up("una", "una-rides-a-blue-tram").await;
    let una = raw.client();

    // The create is placed, then waits on a frozen node while the master is told to stop.
    worker.signal("STOP");
    let create = {
        let (raw, image) = (raw.clone(), image.clone());
        tokio::spawn(async move {
            raw.post(
                "/containers",
                serde_json::json!({"image": image, "ports": []}),
            )
            .await
        })
    };
    cluster
        .eventually(Duration::from_secs(10), "the create is placed", || async {
            states(&una)
                .await
                .values()
                .any(|s| *s == ContainerState::Creating)
        })
        .await;
    cluster.signal_master("TERM");
    tokio::time::sleep(Duration::from_millis(500)).await;
    worker.signal("CONT");
    let r = tokio::time::timeout(Duration::from_secs(30), create)
        .await
        .expect("the create is answered while the master stops")
        .unwrap();
    assert_eq!(
        (r.status, r.code()),
        (503, ErrorCode::ShuttingDown.as_str()),
        "{}",
        r.text
    );
    assert_eq!(r.headers["retry-after"], "5");
    assert!(cluster.wait_master_exit().success(), "a clean stop");

    cluster.start_master().await;
    cluster.wait_ready("w1").await;
    cluster
        .eventually(
            Duration::from_secs(20),
            "the placed container runs, once",
            || async {
                states(&una).await.len() == 1 && settled_on_host(&una, &cluster.cluster_id).await
            },
        )
        .await;
}
