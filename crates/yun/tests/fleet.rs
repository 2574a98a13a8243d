//! Workers as separate processes: a second worker registers and takes containers, a wrong join
//! token is refused, and restarting a worker never stops what it runs.

use serde_json::json;
use std::time::Duration;
use yun_proto_check::{worker_refuses_wrong_token, wrong_token_is_rejected};
use yun_testkit::{fetch_eventually, PortBlock, TestCluster};

const YUN: &str = env!("CARGO_BIN_EXE_yun");

mod yun_proto_check {
    use std::net::SocketAddr;
    use tonic::service::interceptor::InterceptedService;
    use tonic::transport::Channel;
    use yun_proto::auth::AttachToken;

    async fn with_wrong_token(rpc: SocketAddr) -> InterceptedService<Channel, AttachToken> {
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{rpc}"))
            .unwrap()
            .connect()
            .await
            .unwrap();
        InterceptedService::new(channel, AttachToken::new("wrong").unwrap())
    }

    /// Calls the master's registry with a wrong token; returns the gRPC error message.
    pub async fn wrong_token_is_rejected(rpc: SocketAddr) -> String {
        use yun_proto::v1::registry_service_client::RegistryServiceClient;
        let mut client = RegistryServiceClient::new(with_wrong_token(rpc).await);
        let request = yun_proto::v1::RegisterRequest {
            name: "intruder".into(),
            advertise: "127.0.0.1:1".into(),
            port_range_start: 1,
            port_range_end: 2,
            ..Default::default()
        };
        let err = client
            .register(request)
            .await
            .expect_err("a wrong token must be refused");
        assert_eq!(err.code(), tonic::Code::Unauthenticated);
        err.message().to_string()
    }

    /// Calls a worker with a wrong token: it must refuse, or anyone could run containers.
    pub async fn worker_refuses_wrong_token(rpc: SocketAddr) {
        use yun_proto::v1::worker_service_client::WorkerServiceClient;
        let mut client = WorkerServiceClient::new(with_wrong_token(rpc).await);
        let err = client
            .list_containers(yun_proto::v1::ListContainersRequest {})
            .await
            .expect_err("a wrong token must be refused");
        assert_eq!(err.code(), tonic::Code::Unauthenticated);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_worker_process_registers_and_takes_containers() {
    let cluster = TestCluster::start().await;
    let image = cluster.publish_testbox().await;
    let msg = wrong_token_is_rejected(cluster.master.rpc_addr).await;
    assert!(msg.contains("join token"), "{msg}");
    assert!(cluster.admin.node("intruder").await.is_null());
    worker_refuses_wrong_token(cluster.worker.as_ref().unwrap().rpc_addr).await;

    let gina = cluster.api.sign_up("gina", "gina-password").await;
    // Fill the in-process worker's node a little so the new, emptier node is preferred.
    gina.run(json!({"image": image, "ports": [], "plan": "small"}))
        .await;

    let ports = PortBlock::claim();
    let _w2 = cluster.spawn_worker(YUN, "w2", &ports, &["--allow-unenforced-limits"]);
    cluster.wait_for_nodes(2).await;
    let w2 = cluster.admin.node("w2").await;
    assert_eq!(w2["state"], "ready");
    assert_eq!(w2["port_range"], format!("{}-{}", ports.start, ports.end));
    assert_eq!(w2["unenforced_limits"], json!([]));
    assert_eq!(
        w2["allow_unenforced_limits"], true,
        "the node list shows the flag"
    );
    assert!(w2["capacity"]["memory_bytes"].as_u64().unwrap() > 0);

    let c = gina
        .run(json!({"image": image, "command": ["serve", "8080", "from w2"]}))
        .await;
    assert_eq!(c["node"], "w2", "{c}");
    let port = c["ports"][0]["host_port"].as_u64().unwrap() as u16;
    assert!((ports.start..=ports.end).contains(&port));
    let body = fetch_eventually(c["ports"][0]["endpoint"].as_str().unwrap()).await;
    assert_eq!(body, "from w2");
    let id = c["id"].as_str().unwrap();
    assert_eq!(
        gina.post(&format!("/containers/{id}/stop"), json!({}))
            .await
            .body["container"]["state"],
        "stopped"
    );
    assert_eq!(gina.delete(&format!("/containers/{id}")).await.status, 204);
}

#[tokio::test(flavor = "multi_thread")]
async fn restarting_a_worker_keeps_its_containers_running() {
    // Only the worker process takes containers in this test.
    let cluster = TestCluster::master_only().await;
    let ports = PortBlock::claim();
    let mut worker = cluster.spawn_worker(YUN, "w2", &ports, &[]);
    cluster.wait_for_nodes(1).await;
    let image = cluster.publish_testbox().await;
    let hana = cluster.api.sign_up("hana", "hana-password").await;
    let node_id = cluster.admin.node("w2").await["id"].clone();
    let c = hana
        .run(json!({"image": image, "command": ["serve", "8080", "still here"]}))
        .await;
    assert_eq!(c["node"], "w2");
    let id = c["id"].as_str().unwrap().to_string();
    let endpoint = c["ports"][0]["endpoint"].as_str().unwrap().to_string();
    assert_eq!(fetch_eventually(&endpoint).await, "still here");

    // kill -9 the worker: the container does not notice.
    worker.kill();
    let docker = yun_testkit::docker().await;
    let inspect = docker
        .inspect_container(&format!("yun-{id}"), None)
        .await
        .unwrap();
    assert_eq!(inspect.state.unwrap().running, Some(true));
    assert_eq!(fetch_eventually(&endpoint).await, "still here");

    // Started again under its name, it gets its node id back and serves the same container.
    let _worker = cluster.spawn_worker(YUN, "w2", &ports, &[]);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let stopped = hana
            .post(&format!("/containers/{id}/stop"), json!({}))
            .await;
        if stopped.status == 200 {
            assert_eq!(stopped.body["container"]["state"], "stopped");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the restarted worker never took the stop: {}",
            stopped.text
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(cluster.admin.node("w2").await["id"], node_id);
    let started = hana
        .post(&format!("/containers/{id}/start"), json!({}))
        .await;
    assert_eq!(
        started.body["container"]["state"], "running",
        "{}",
        started.text
    );
    let after = docker
        .inspect_container(&format!("yun-{id}"), None)
        .await
        .unwrap();
    assert_eq!(
        after.id, inspect.id,
        "the same Docker container, not a new one"
    );
}
