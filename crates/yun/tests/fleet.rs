//! Workers as separate processes: a second worker registers and takes containers, a wrong join
//! token is refused, and restarting a worker never stops what it runs. Through the typed
//! client.

use std::time::Duration;
use yun_api::admin::NodeState;
use yun_api::client::Removal;
use yun_api::containers::{ContainerState, CreateContainer};
use yun_proto_check::{worker_refuses_wrong_token, wrong_token_is_rejected};
use yun_testkit::{container_spec, fetch_eventually, node_named, PortBlock, TestCluster};

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
    let admin = cluster.admin.client();
    let msg = wrong_token_is_rejected(cluster.master.rpc_addr).await;
    assert!(msg.contains("join token"), "{msg}");
    assert!(node_named(&admin, "intruder").await.is_none());
    worker_refuses_wrong_token(cluster.worker.as_ref().unwrap().rpc_addr).await;

    let gina = cluster.api.sign_up("gina", "gina-password").await.client();
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
    assert!(w2.unenforced_limits.is_empty());
    assert!(w2.allow_unenforced_limits, "the node list shows the flag");
    assert!(w2.capacity.memory_bytes > 0);

    let (c, _) = gina
        .create_container(&container_spec(&image, &["serve", "8080", "from w2"]), None)
        .await
        .unwrap();
    assert_eq!(c.node, "w2", "{c:?}");
    assert!((ports.start..=ports.end).contains(&c.ports[0].host_port));
    assert_eq!(fetch_eventually(&c.ports[0].endpoint).await, "from w2");
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
    let hana = cluster.api.sign_up("hana", "hana-password").await.client();
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
    let docker = yun_testkit::docker().await;
    let inspect = docker
        .inspect_container(&format!("yun-{}", c.id), None)
        .await
        .unwrap();
    assert_eq!(inspect.state.unwrap().running, Some(true));
    assert_eq!(fetch_eventually(&endpoint).await, "still here");

    // Started again under its name, it gets its node id back and serves the same container.
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
