//! A renter's whole day through the HTTP API, on a real Docker engine, through the typed client
//! (the download's headers are read raw: they are the point there).

use futures::{Stream, StreamExt, TryStreamExt};
use std::time::Duration;
use yun_api::containers::{ContainerState, CreateContainer, DesiredState, PortRequest};
use yun_api::{ClientError, ErrorCode};
use yun_testkit::{container_spec, fetch, fetch_eventually, until_container, TestCluster};

fn spec(image: &str, command: &[&str], ports: Vec<PortRequest>) -> CreateContainer {
    CreateContainer {
        ports: Some(ports),
        ..container_spec(image, command)
    }
}

fn port(container_port: i64, host_port: Option<i64>) -> PortRequest {
    PortRequest {
        container_port,
        host_port,
        protocol: None,
    }
}

async fn text<B: AsRef<[u8]>>(stream: impl Stream<Item = yun_api::client::Result<B>>) -> String {
    let chunks: Vec<B> = stream.try_collect().await.unwrap();
    chunks
        .iter()
        .map(|c| String::from_utf8_lossy(c.as_ref()).into_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn run_reach_stop_start_restart_logs_remove() {
    let cluster = TestCluster::start_on(crate::STORE).await;
    let image = cluster.publish_testbox().await;
    let raw = cluster
        .api
        .sign_up("alice", "alice-rides-a-blue-tram")
        .await;
    let alice = raw.client();

    let me = alice.me().await.unwrap();
    assert_eq!(me.username, "alice");
    let plans = alice.plans().await.unwrap();
    assert!(plans
        .plans
        .iter()
        .any(|p| p.name == "nano" && p.memory_mib == 64));
    assert!(alice
        .images()
        .await
        .unwrap()
        .iter()
        .any(|i| i.reference == image));

    let mut web = spec(
        &image,
        &["print", "2", "booted", "serve", "8080", "hello alice"],
        vec![port(8080, None)],
    );
    web.name = Some("web".into());
    let (c, made) = alice.create_container(&web, None).await.unwrap();
    assert!(made);
    assert_eq!(c.state, ContainerState::Running);
    assert_eq!(c.desired_state, DesiredState::Running);
    assert_eq!(
        (c.name.as_str(), c.plan.as_str(), c.node.as_str()),
        ("web", "nano", "w1")
    );
    let id = c.id.clone();
    let host_port = c.ports[0].host_port;
    assert!((cluster.ports.start..=cluster.ports.end).contains(&host_port));
    let endpoint = c.ports[0].endpoint.clone();
    assert_eq!(
        endpoint,
        format!("{}:{host_port}", yun_testkit::NODE_ADDRESS)
    );
    assert_eq!(fetch_eventually(&endpoint).await, "hello alice");
    // Published on the node's address alone: nothing answers on that port at any other
    // address of this host, where the console or anything else may be served.
    for elsewhere in ["127.0.0.1", "127.0.0.3"] {
        assert!(
            std::net::TcpStream::connect((elsewhere, host_port)).is_err(),
            "the renter's port answers at {elsewhere}"
        );
    }

    // It is in the list and can be fetched.
    let list = alice.containers(false).await.unwrap();
    assert_eq!(list.iter().map(|c| &c.id).collect::<Vec<_>>(), [&id]);
    assert_eq!(alice.container(&id).await.unwrap().id, id);

    let stopped = alice.stop(&id).await.unwrap();
    assert_eq!(stopped.state, ContainerState::Stopped);
    assert_eq!(stopped.desired_state, DesiredState::Stopped);
    assert!(
        fetch(&endpoint).await.is_none(),
        "a stopped container does not answer"
    );
    // Stopping again is fine.
    alice.stop(&id).await.unwrap();

    assert_eq!(
        alice.start(&id).await.unwrap().state,
        ContainerState::Running
    );
    assert_eq!(fetch_eventually(&endpoint).await, "hello alice");
    assert_eq!(
        alice.restart(&id).await.unwrap().state,
        ContainerState::Running
    );
    assert_eq!(fetch_eventually(&endpoint).await, "hello alice");

    let logs = text(alice.logs(&id, None, false).await.unwrap()).await;
    assert!(
        logs.contains("booted 0") && logs.contains("booted 1"),
        "{logs}"
    );
    assert!(logs.contains("err booted 1"), "stderr is there too: {logs}");
    let tail = text(alice.logs(&id, Some(1), false).await.unwrap()).await;
    assert_eq!(tail.lines().count(), 1, "{tail}");
    let download = raw.get(&format!("/containers/{id}/logs?download=1")).await;
    assert_eq!(
        download.headers["content-disposition"].to_str().unwrap(),
        "attachment; filename=\"web.log\""
    );
    assert!(download.text.contains("booted 0"));
    assert!(download.headers.get("content-encoding").is_none());

    assert!(matches!(
        alice.remove_container(&id).await.unwrap(),
        yun_api::client::Removal::Done
    ));
    match alice.container(&id).await {
        Err(ClientError::Api { code, .. }) => assert_eq!(code, ErrorCode::NotFound),
        other => panic!("a removed container: {other:?}"),
    }
    assert!(alice.containers(false).await.unwrap().is_empty());
    let docker = yun_testkit::docker().await;
    assert!(
        docker
            .inspect_container(&format!("yun-{id}"), None)
            .await
            .is_err(),
        "the Docker container is gone"
    );
    // The owner's network went with their last container.
    let net = format!("yun-{}-{}", cluster.cluster_id(), me.id);
    assert!(
        docker.inspect_network::<String>(&net, None).await.is_err(),
        "network {net} was removed"
    );

    // The port is free again: a new container may ask for it by number.
    let again = spec(
        &image,
        &["serve", "8080", "again"],
        vec![port(8080, Some(host_port.into()))],
    );
    let (again, _) = alice.create_container(&again, None).await.unwrap();
    assert_eq!(again.ports[0].host_port, host_port);
}

#[tokio::test(flavor = "multi_thread")]
async fn follow_streams_new_lines_and_exits_are_reported() {
    let cluster = TestCluster::start_on(crate::STORE).await;
    let image = cluster.publish_testbox().await;
    let bob = cluster
        .api
        .sign_up("bob", "bob-rides-a-blue-tram")
        .await
        .client();

    // A container that exits with a code shows it.
    let exits = spec(&image, &["print", "1", "bye", "exit", "7"], Vec::new());
    let (c, _) = bob.create_container(&exits, None).await.unwrap();
    let got = until_container(&bob, &c.id, |c| c.state == ContainerState::Exited).await;
    assert_eq!(got.state, ContainerState::Exited, "{got:?}");
    assert_eq!(got.exit_code, Some(7));
    // Logs work for exited containers.
    assert!(text(bob.logs(&c.id, None, false).await.unwrap())
        .await
        .contains("bye 0"));

    // follow=true keeps the response open and delivers lines as they come.
    let later = spec(
        &image,
        &[
            "print", "1", "first", "sleep", "2", "print", "1", "second", "sleep", "0",
        ],
        Vec::new(),
    );
    let (c, _) = bob.create_container(&later, None).await.unwrap();
    let stream = bob.logs(&c.id, None, true).await.unwrap();
    futures::pin_mut!(stream);
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !seen.contains("second 0") {
        let chunk = tokio::time::timeout_at(deadline, stream.next())
            .await
            .expect("the followed stream delivers the later line")
            .expect("the stream stays open")
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.contains("first 0"));
}
