//! The fleet's trust against real processes and real Docker: a worker checks the master's CA
//! against its token, tokens expire, run out and are revoked, a token never takes a live
//! node's name, every call but `Join` needs the right certificate in both directions, a
//! forgotten node's certificate is refused, and certificates renew under open streams.

use futures::StreamExt;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime};
use tonic::transport::{Channel, Endpoint};
use tonic::Code;
use yun_api::containers::CreateContainer;
use yun_proto::v1;
use yun_proto::v1::registry_service_client::RegistryServiceClient;
use yun_proto::v1::worker_service_client::WorkerServiceClient;
use yun_testkit::{node_named, PortBlock, TestCluster};
use yun_trust::{CertSlot, ClusterCa, Identity, KeyRequest, MASTER_NAME};
use yun_worker::{RunningWorker, WorkerError};

async fn join(
    cluster: &TestCluster,
    name: &str,
    token: &str,
) -> Result<RunningWorker, WorkerError> {
    let ports = PortBlock::claim();
    let mut config = cluster.worker_config(name, token, &ports);
    // A fresh state directory each time: every call is a new host joining.
    config.state_dir = cluster
        .dir
        .path()
        .join(format!("state-{name}-{}", yun_core::new_id()));
    yun_worker::start(config).await
}

fn refusal(r: Result<RunningWorker, WorkerError>) -> String {
    match r {
        Ok(w) => {
            w.shutdown.cancel();
            panic!("the worker joined but should have been refused")
        }
        Err(e) => e.to_string(),
    }
}

/// A channel to `addr` that expects `name`'s certificate and shows `identity` (or nothing).
fn channel(addr: SocketAddr, ca_der: &[u8], identity: Option<&Identity>, name: &str) -> Channel {
    let config = match identity {
        Some(id) => yun_trust::node_config(ca_der, &CertSlot::new(id.clone()).unwrap()).unwrap(),
        None => yun_trust::join_config(&ClusterCa::digest_of(ca_der)),
    };
    let connector = yun_trust::Connector::new(config, name).unwrap();
    Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect_timeout(Duration::from_secs(3))
        .timeout(Duration::from_secs(5))
        .connect_with_connector_lazy(connector)
}

fn code<T>(r: Result<T, tonic::Status>) -> Code {
    r.err().map_or(Code::Ok, |s| s.code())
}

/// Every registry call but `Join`, as node `node_id` named `name`.
async fn registry_calls(ch: Channel, node_id: &str, name: &str) -> Vec<(&'static str, Code)> {
    let mut c = RegistryServiceClient::new(ch);
    let event = v1::ContainerEvent {
        node_id: node_id.into(),
        container_id: "x".into(),
        action: "start".into(),
        ..Default::default()
    };
    vec![
        (
            "Register",
            code(
                c.register(v1::RegisterRequest {
                    name: name.into(),
                    advertise: "127.0.0.1:1".into(),
                    port_range_start: 1,
                    port_range_end: 2,
                    ..Default::default()
                })
                .await,
            ),
        ),
        (
            "Heartbeat",
            code(
                c.heartbeat(v1::HeartbeatRequest {
                    node_id: node_id.into(),
                    container_count: 0,
                })
                .await,
            ),
        ),
        (
            "ReportEvents",
            code(c.report_events(futures::stream::iter(vec![event])).await),
        ),
        (
            "Renew",
            code(
                c.renew(v1::RenewRequest {
                    csr: KeyRequest::new().unwrap().csr_der,
                })
                .await,
            ),
        ),
    ]
}

/// Every worker call.
async fn worker_calls(ch: Channel) -> Vec<(&'static str, Code)> {
    let mut c = WorkerServiceClient::new(ch);
    let r = || v1::ContainerRef {
        container_id: "x".into(),
        docker_id: String::new(),
    };
    let stop = || v1::StopContainerRequest {
        container_id: "x".into(),
        timeout_seconds: 1,
    };
    vec![
        (
            "PullImage",
            code(c.pull_image(v1::PullImageRequest::default()).await),
        ),
        (
            "RemoveImage",
            code(c.remove_image(v1::RemoveImageRequest::default()).await),
        ),
        (
            "CreateContainer",
            code(
                c.create_container(v1::CreateContainerRequest::default())
                    .await,
            ),
        ),
        ("StartContainer", code(c.start_container(r()).await)),
        ("StopContainer", code(c.stop_container(stop()).await)),
        ("RestartContainer", code(c.restart_container(stop()).await)),
        ("RemoveContainer", code(c.remove_container(r()).await)),
        ("InspectContainer", code(c.inspect_container(r()).await)),
        (
            "ListContainers",
            code(
                c.list_containers(v1::ListContainersRequest::default())
                    .await,
            ),
        ),
        ("Logs", code(c.logs(v1::LogsRequest::default()).await)),
        ("Stats", code(c.stats(v1::StatsRequest::default()).await)),
        (
            "Exec",
            code(
                c.exec(futures::stream::iter(vec![v1::ExecInput::default()]))
                    .await,
            ),
        ),
    ]
}

fn assert_all(calls: &[(&str, Code)], allowed: &[Code], what: &str) {
    for (name, code) in calls {
        assert!(allowed.contains(code), "{what}: {name} answered {code:?}");
    }
}

/// A handshake the server refuses shows up as a transport failure, never as an answer.
const HANDSHAKE_REFUSED: &[Code] = &[
    Code::Unavailable,
    Code::Unknown,
    Code::Internal,
    Code::Cancelled,
];

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_refuses_a_master_whose_ca_is_not_the_one_its_token_names() {
    let cluster = TestCluster::master_only().await;
    let good = cluster.join_token.clone();
    let other_digest = ClusterCa::create().unwrap().digest();
    let forged = good.replacen(&cluster.master.ca_digest(), &other_digest, 1);
    assert_ne!(forged, good);
    let msg = refusal(join(&cluster, "w1", &forged).await);
    assert!(msg.contains("join token names"), "{msg}");
    // Nothing joined under that name: the real token still can.
    let w = join(&cluster, "w1", &good)
        .await
        .expect("the right token joins");
    cluster.wait_for_nodes(1).await;
    w.shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_expire_run_out_and_are_revoked_and_never_take_a_live_name() {
    let mut cluster = TestCluster::master_only().await;
    cluster.start_worker().await; // w1, live
    let admin = cluster.admin.client();
    let once = cluster
        .master
        .join_token(Duration::from_secs(3600), Some(1))
        .await
        .unwrap();
    let first = join(&cluster, "once-a", &once)
        .await
        .expect("a single-use token joins once");
    let msg = refusal(join(&cluster, "once-b", &once).await);
    assert!(msg.contains("used as many times"), "{msg}");

    // A token cannot take the name of a live node, even a valid one with uses left.
    let msg = refusal(join(&cluster, "w1", &cluster.join_token).await);
    assert!(msg.contains("already in the fleet"), "{msg}");
    assert_eq!(admin.fleet().await.unwrap().nodes.len(), 2);

    let made = admin
        .create_join_token(&yun_api::admin::NewJoinToken {
            ttl_seconds: Some(3600),
            uses: None,
        })
        .await
        .unwrap();
    admin.revoke_join_token(&made.join_token.id).await.unwrap();
    let msg = refusal(join(&cluster, "late", &made.token).await);
    assert!(msg.contains("revoked"), "{msg}");
    let listed = admin.join_tokens().await.unwrap();
    let state = |id: &str| listed.iter().find(|t| t.id == id).unwrap().state;
    assert_eq!(
        state(&made.join_token.id),
        yun_api::admin::JoinTokenState::Revoked
    );
    assert!(listed.iter().all(|t| !t.id.is_empty()));

    // Time passes for a token: its expiry is moved into the past in the store.
    let aging = admin
        .create_join_token(&yun_api::admin::NewJoinToken {
            ttl_seconds: Some(60),
            uses: None,
        })
        .await
        .unwrap();
    let db = rusqlite::Connection::open(cluster.dir.path().join("yun.db")).unwrap();
    db.busy_timeout(Duration::from_secs(5)).unwrap();
    db.execute(
        "UPDATE join_tokens SET expires_at = 0 WHERE id = ?1",
        [&aging.join_token.id],
    )
    .unwrap();
    let msg = refusal(join(&cluster, "expired", &aging.token).await);
    assert!(msg.contains("expired"), "{msg}");

    // A token from another cluster's CA is refused by the master too.
    let stranger = yun_trust::JoinToken::new(&ClusterCa::create().unwrap().digest()).reveal();
    let msg = refusal(join(&cluster, "stranger", &stranger).await);
    assert!(msg.contains("join token names"), "{msg}");
    first.shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread")]
async fn every_call_but_join_needs_the_right_certificate_in_both_directions() {
    let mut cluster = TestCluster::master_only().await;
    cluster.start_worker().await; // w1
    let w2 = join(&cluster, "w2", &cluster.join_token).await.unwrap();
    cluster.wait_for_nodes(2).await;
    let admin = cluster.admin.client();
    let w1_id = node_named(&admin, "w1").await.unwrap().id;
    let w2_id = node_named(&admin, "w2").await.unwrap().id;
    let w1_rpc = cluster.worker.as_ref().unwrap().rpc_addr;
    let w2_identity = w2.certificate.identity();
    let ca = w2_identity.ca_der().to_vec();
    let master = cluster.master.rpc_addr;

    // No certificate: the master answers only Join (here: a malformed token).
    let anonymous = channel(master, &ca, None, MASTER_NAME);
    let calls = registry_calls(anonymous.clone(), &w1_id, "w1").await;
    assert_all(&calls, &[Code::Unauthenticated], "no certificate");
    let joined = RegistryServiceClient::new(anonymous)
        .join(v1::JoinRequest {
            token: "nonsense".into(),
            name: "x".into(),
            csr: vec![],
        })
        .await
        .unwrap_err();
    assert_eq!(joined.code(), Code::InvalidArgument, "{joined:?}");

    // Another node's certificate speaks only for that node.
    let as_w2 = channel(master, &ca, Some(&w2_identity), MASTER_NAME);
    let calls = registry_calls(as_w2.clone(), &w1_id, "w1").await;
    assert_all(
        &calls[..3],
        &[Code::PermissionDenied],
        "w2's certificate as w1",
    );

    // A certificate from another CA fails the handshake.
    let stranger_ca = ClusterCa::create().unwrap();
    let key = KeyRequest::new().unwrap();
    let issued = stranger_ca
        .sign_node(&key.csr_der, &w1_id, Duration::from_secs(3600))
        .unwrap();
    let forged = key
        .into_identity(issued.der, stranger_ca.cert_der().to_vec())
        .unwrap();
    let calls = registry_calls(
        channel(master, &ca, Some(&forged), MASTER_NAME),
        &w1_id,
        "w1",
    )
    .await;
    assert_all(&calls, HANDSHAKE_REFUSED, "another CA's certificate");

    // The worker takes calls only from the master's certificate.
    let calls = worker_calls(channel(w1_rpc, &ca, None, &yun_trust::node_name(&w1_id))).await;
    assert_all(&calls, HANDSHAKE_REFUSED, "no certificate to a worker");
    let calls = worker_calls(channel(
        w1_rpc,
        &ca,
        Some(&w2_identity),
        &yun_trust::node_name(&w1_id),
    ))
    .await;
    assert_all(
        &calls,
        &[Code::PermissionDenied],
        "a node's certificate to a worker",
    );
    let stranger_master = stranger_ca
        .master_identity(Duration::from_secs(3600))
        .unwrap();
    let calls = worker_calls(channel(
        w1_rpc,
        &ca,
        Some(&stranger_master),
        &yun_trust::node_name(&w1_id),
    ))
    .await;
    assert_all(
        &calls,
        HANDSHAKE_REFUSED,
        "another CA's master certificate to a worker",
    );
    // And the master checks it reached the node it meant: w2 cannot answer as w1.
    let w2_rpc = w2.rpc_addr;
    let calls = worker_calls(channel(
        w2_rpc,
        &ca,
        Some(&w2_identity),
        &yun_trust::node_name(&w1_id),
    ))
    .await;
    assert_all(&calls, HANDSHAKE_REFUSED, "w2 answering for w1");

    // w2 itself is fine until it is forgotten; then its certificate is refused at the next call.
    let mut beat = RegistryServiceClient::new(as_w2.clone());
    let ok = beat
        .heartbeat(v1::HeartbeatRequest {
            node_id: w2_id.clone(),
            container_count: 0,
        })
        .await;
    assert!(ok.is_ok(), "{ok:?}");
    w2.shutdown.cancel();
    let forgotten = admin.forget_node(&w2_id).await.unwrap();
    // Both of w2's: the one it joined with, and the one the Renew call above gave it.
    assert_eq!(forgotten.revoked_certificates.len(), 2);
    assert!(forgotten
        .revoked_certificates
        .contains(&w2_identity.peer().unwrap().serial));
    let calls = registry_calls(as_w2, &w2_id, "w2").await;
    assert_all(&calls, &[Code::Unauthenticated], "a revoked certificate");
    assert!(node_named(&admin, "w2").await.is_none());
    // Its name is free again for a new host with a token.
    let again = join(&cluster, "w2", &cluster.join_token)
        .await
        .expect("w2 joins again after forget");
    cluster.wait_for_nodes(2).await;
    assert_ne!(node_named(&admin, "w2").await.unwrap().id, w2_id);
    again.shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread")]
async fn sixty_second_certificates_renew_under_a_followed_log_and_a_stats_stream() {
    let cluster =
        TestCluster::start_with(|c| c.fleet.cert_lifetime = Duration::from_secs(60)).await;
    let image = cluster.publish_testbox().await;
    let worker = cluster.worker.as_ref().unwrap();
    let first = worker.certificate.peer();
    let master_first = cluster.master.certificate_expires_at().unwrap();
    let ivan = cluster
        .api
        .sign_up("ivan", "ivan-rides-a-blue-tram")
        .await
        .client();
    let spec = CreateContainer {
        image: image.clone(),
        command: Some(vec!["lines".into(), "1000".into(), "20".into(), "5".into()]),
        ports: Some(Vec::new()),
        ..Default::default()
    };
    let (c, _) = ivan.create_container(&spec, None).await.unwrap();
    let mut logs = Box::pin(ivan.logs(&c.id, None, true).await.unwrap());
    let mut stats = Box::pin(ivan.stats(&c.id).await.unwrap());
    // Read both streams until the first certificate has expired, and a while after.
    let until = first.not_after + Duration::from_secs(8);
    let (mut log_chunks_after, mut stats_after) = (0, 0);
    while SystemTime::now() < until {
        tokio::select! {
            chunk = logs.next() => {
                chunk.expect("the followed log goes on").expect("a log chunk");
                if SystemTime::now() > first.not_after { log_chunks_after += 1; }
            }
            frame = stats.next() => {
                frame.expect("the stats stream goes on").expect("a stats frame");
                if SystemTime::now() > first.not_after { stats_after += 1; }
            }
        }
    }
    assert!(
        log_chunks_after > 0,
        "log lines after the first certificate expired"
    );
    assert!(stats_after > 0, "stats after the first certificate expired");
    let now = worker.certificate.peer();
    assert_ne!(
        now.serial, first.serial,
        "the node's certificate was renewed"
    );
    assert!(now.not_after > first.not_after);
    assert!(cluster.master.certificate_expires_at().unwrap() > master_first);
    // The renewed certificate is the one on disk, for the next start.
    let saved = std::fs::read_to_string(cluster.state_dir("w1").join("identity.pem")).unwrap();
    assert_eq!(
        Identity::from_pem(&saved).unwrap().peer().unwrap().serial,
        now.serial
    );
    // New connections and new work need the new certificates: a second container runs.
    let (d, _) = ivan
        .create_container(
            &CreateContainer {
                image,
                command: Some(vec!["sleep".into(), "60".into()]),
                ports: Some(Vec::new()),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!(d.state, yun_api::containers::ContainerState::Running);
    assert_eq!(
        node_named(&cluster.admin.client(), "w1")
            .await
            .unwrap()
            .state,
        yun_api::admin::NodeState::Ready
    );
}
