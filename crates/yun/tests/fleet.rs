//! Workers as separate processes: a second worker joins and takes containers, restarting a
//! worker never stops what it runs and needs no token, `yun master join-token` works beside a
//! running master, and a plaintext fleet still joins with a token. Through the typed client
//! (the fleet's certificates are tested in `fleet_trust`).

use std::time::Duration;
use yun_api::admin::NodeState;
use yun_api::client::Removal;
use yun_api::containers::{ContainerState, CreateContainer};
use yun_testkit::{container_spec, fetch_eventually, node_named, PortBlock, TestCluster};

const YUN: &str = env!("CARGO_BIN_EXE_yun");

#[tokio::test(flavor = "multi_thread")]
async fn a_second_worker_process_registers_and_takes_containers() {
    let cluster = TestCluster::start().await;
    let image = cluster.publish_testbox().await;
    let admin = cluster.admin.client();

    let gina = cluster
        .api
        .sign_up("gina", "gina-rides-a-blue-tram")
        .await
        .client();
    // Fill the in-process worker's node a little so the new, emptier node is preferred.
    let small = CreateContainer {
        image: image.clone(),
        ports: Some(Vec::new()),
        plan: Some("small".into()),
        ..Default::default()
    };
    gina.create_container(&small, None).await.unwrap();

    let ports = PortBlock::claim();
    let _w2 = cluster.spawn_worker(YUN, "w2", &ports, &["--allow-unenforced-limits"]);
    cluster.wait_for_nodes(2).await;
    let w2 = node_named(&admin, "w2").await.expect("w2 is registered");
    assert_eq!(w2.state, NodeState::Ready);
    assert_eq!(w2.port_range, format!("{}-{}", ports.start, ports.end));
    // This engine enforces every limit but disk, which the master checks itself.
    assert!(
        yun_core::node::limits_that_refuse(&w2.unenforced_limits).is_empty(),
        "{:?}",
        w2.unenforced_limits
    );
    assert!(w2.allow_unenforced_limits, "the node list shows the flag");
    assert!(w2.capacity.memory_bytes > 0);

    let (c, _) = gina
        .create_container(&container_spec(&image, &["serve", "8080", "from w2"]), None)
        .await
        .unwrap();
    assert_eq!(c.node, "w2", "{c:?}");
    assert!((ports.start..=ports.end).contains(&c.ports[0].host_port));
    assert_eq!(fetch_eventually(&c.ports[0].endpoint).await, "from w2");
    // Two workers on one engine: gina has a network on each node, each named for its node
    // (one shared name let a node remove the network another's create was joining).
    let owner = gina.me().await.unwrap().id;
    let docker = yun_testkit::docker().await;
    let networks = docker
        .list_networks(Some(bollard::network::ListNetworksOptions {
            filters: std::collections::HashMap::from([(
                "label".to_string(),
                vec![format!("yun.owner={owner}")],
            )]),
        }))
        .await
        .unwrap();
    let mut named: Vec<(String, String)> = networks
        .iter()
        .map(|n| {
            let node = n.labels.as_ref().unwrap()["yun.node"].clone();
            (n.name.clone().unwrap(), node)
        })
        .collect();
    named.sort();
    assert_eq!(named.len(), 2, "{named:?}");
    for (name, node) in &named {
        assert!(name.contains(node.as_str()), "{name} is {node}'s");
    }
    assert_eq!(
        gina.stop(&c.id).await.unwrap().state,
        ContainerState::Stopped
    );
    assert!(matches!(
        gina.remove_container(&c.id).await.unwrap(),
        Removal::Done
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn restarting_a_worker_keeps_its_containers_running() {
    // Only the worker process takes containers in this test.
    let cluster = TestCluster::master_only().await;
    let admin = cluster.admin.client();
    let ports = PortBlock::claim();
    let mut worker = cluster.spawn_worker(YUN, "w2", &ports, &[]);
    cluster.wait_for_nodes(1).await;
    let image = cluster.publish_testbox().await;
    let hana = cluster
        .api
        .sign_up("hana", "hana-rides-a-blue-tram")
        .await
        .client();
    let node_id = node_named(&admin, "w2").await.unwrap().id;
    let (c, _) = hana
        .create_container(
            &container_spec(&image, &["serve", "8080", "still here"]),
            None,
        )
        .await
        .unwrap();
    assert_eq!(c.node, "w2");
    let endpoint = c.ports[0].endpoint.clone();
    assert_eq!(fetch_eventually(&endpoint).await, "still here");

    // kill -9 the worker: the container does not notice.
    worker.kill();
    let identity = std::fs::read_to_string(cluster.state_dir("w2").join("identity.pem")).unwrap();
    // Every join token is revoked: the restart must need none.
    for t in admin.join_tokens().await.unwrap() {
        admin.revoke_join_token(&t.id).await.unwrap();
    }
    let docker = yun_testkit::docker().await;
    let inspect = docker
        .inspect_container(&format!("yun-{}", c.id), None)
        .await
        .unwrap();
    assert_eq!(inspect.state.unwrap().running, Some(true));
    assert_eq!(fetch_eventually(&endpoint).await, "still here");

    // Started again with its state directory, it shows the same certificate, keeps its node id
    // and serves the same container.
    let _worker = cluster.spawn_worker(YUN, "w2", &ports, &[]);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        match hana.stop(&c.id).await {
            Ok(stopped) => {
                assert_eq!(stopped.state, ContainerState::Stopped);
                break;
            }
            Err(e) => assert!(
                tokio::time::Instant::now() < deadline,
                "the restarted worker never took the stop: {e:?}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(node_named(&admin, "w2").await.unwrap().id, node_id);
    assert_eq!(
        std::fs::read_to_string(cluster.state_dir("w2").join("identity.pem")).unwrap(),
        identity,
        "the same key and certificate"
    );
    assert_eq!(
        hana.start(&c.id).await.unwrap().state,
        ContainerState::Running
    );
    let after = docker
        .inspect_container(&format!("yun-{}", c.id), None)
        .await
        .unwrap();
    assert_eq!(
        after.id, inspect.id,
        "the same Docker container, not a new one"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_operator_makes_a_join_token_beside_a_running_master_and_a_worker_joins_with_it() {
    let cluster = yun_testkit::ProcessCluster::start(YUN, &[]).await;
    let admin = cluster.admin.client();
    // The CA was made beside the store on first start, its key for the owner alone.
    let key = cluster.data_dir().join("ca.key");
    let mode = std::fs::metadata(&key).unwrap().permissions();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
        0o600
    );
    let made = std::process::Command::new(YUN)
        .args(["master", "join-token", "--ttl", "1h", "--uses", "1"])
        .arg("--database")
        .arg(cluster.database())
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    let token = String::from_utf8(made.stdout).unwrap().trim().to_string();
    let digest = admin.fleet().await.unwrap().ca_digest;
    assert!(
        token.starts_with(&format!("YUN1-{}-", digest.trim_start_matches("sha256:"))),
        "{token} names the running master's CA {digest}"
    );
    let listed = admin.join_tokens().await.unwrap();
    assert_eq!(listed[0].created_by, "yun master join-token");
    assert_eq!(listed[0].max_uses, Some(1));

    let ports = PortBlock::claim();
    let state = cluster.data_dir().join("cli-worker");
    let _worker =
        yun_testkit::WorkerProcess::spawn(YUN, cluster.rpc, &token, &state, "w-cli", &ports, &[]);
    cluster.wait_ready("w-cli").await;
    let mode = std::fs::metadata(&state).unwrap().permissions();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
        0o700
    );
    assert_eq!(admin.join_tokens().await.unwrap()[0].uses, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plaintext_fleet_still_joins_with_a_token_and_runs_containers() {
    let cluster = yun_testkit::ProcessCluster::start(YUN, &["--insecure-plaintext"]).await;
    let admin = cluster.admin.client();
    let ports = PortBlock::claim();
    let _worker = cluster.spawn_worker("w-plain", &ports, &["--insecure-plaintext"]);
    cluster.wait_ready("w-plain").await;
    let fleet = admin.fleet().await.unwrap();
    assert!(fleet.insecure_plaintext, "the node list says so");
    assert_eq!(fleet.nodes[0].certificate_expires_at, None);
    let image = cluster.publish_testbox().await;
    let joan = cluster
        .api
        .sign_up("joan", "joan-rides-a-blue-tram")
        .await
        .client();
    let (c, _) = joan
        .create_container(&container_spec(&image, &["serve", "8080", "plain"]), None)
        .await
        .unwrap();
    assert_eq!(fetch_eventually(&c.ports[0].endpoint).await, "plain");
    joan.remove_container(&c.id).await.unwrap();

    // A worker without a token is refused even here: joining still needs one.
    let stray = std::process::Command::new(YUN)
        .args([
            "worker",
            "--name",
            "stray",
            "--insecure-plaintext",
            "--rpc",
            "127.0.0.1:0",
        ])
        .arg("--master")
        .arg(format!("http://{}", cluster.rpc))
        .arg("--state-dir")
        .arg(cluster.data_dir().join("stray"))
        .env_remove("YUN_JOIN_TOKEN")
        .output()
        .unwrap();
    assert!(!stray.status.success());
    let err = String::from_utf8_lossy(&stray.stderr);
    assert!(err.contains("has not joined yet"), "{err}");
    assert!(node_named(&admin, "stray").await.is_none());
}
