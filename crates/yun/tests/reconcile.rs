//! What the reconciler does on a live fleet: crashes and OOM kills show within 2 s (from Docker
//! events, not from anyone asking), on-failure restarts back off and stop at their limit,
//! orphans go after their grace, cordoned nodes take nothing new, and Idempotency-Key holds.
//! Through the typed client.

use std::time::{Duration, Instant};
use yun_api::admin::NodeState;
use yun_api::client::{Page, Removal};
use yun_api::containers::{Container, ContainerState, CreateContainer, RestartPolicyRequest};
use yun_api::{Client, ClientError, ErrorCode};
use yun_testkit::{container_spec, TestCluster};

async fn fast_cluster() -> TestCluster {
    TestCluster::start_with_on(crate::STORE, |c| {
        c.reconcile_interval = Duration::from_secs(1);
        c.orphan_grace = Duration::from_secs(2);
    })
    .await
}

/// Nothing published: these containers are watched, not reached.
fn spec(image: &str, command: &[&str]) -> CreateContainer {
    CreateContainer {
        ports: Some(Vec::new()),
        ..container_spec(image, command)
    }
}

fn on_failure(max_retries: Option<u32>) -> Option<RestartPolicyRequest> {
    Some(RestartPolicyRequest {
        name: "on-failure".into(),
        max_retries,
    })
}

async fn run(client: &Client, spec: &CreateContainer) -> Container {
    client.create_container(spec, None).await.unwrap().0
}

/// The container as the list shows it: the list never asks a node, so a change there came
/// through the event stream or a reconcile pass.
async fn listed(client: &Client, id: &str) -> Option<Container> {
    client
        .containers(false)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.id == id)
}

/// Polls the list until `done`; returns how long it took.
async fn until_listed(
    client: &Client,
    id: &str,
    limit: Duration,
    done: impl Fn(&Container) -> bool,
) -> Duration {
    let start = Instant::now();
    loop {
        let c = listed(client, id).await;
        if c.as_ref().is_some_and(&done) {
            return start.elapsed();
        }
        assert!(start.elapsed() < limit, "within {limit:?}: {c:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn crashes_and_oom_kills_show_within_two_seconds() {
    // The pass runs only every 10 s here, so a change within 2 s came from an event.
    let cluster = TestCluster::start_on(crate::STORE).await;
    let image = cluster.publish_testbox().await;
    let nia = cluster
        .api
        .sign_up("nia", "nia-rides-a-blue-tram")
        .await
        .client();

    let crash = run(&nia, &spec(&image, &["sleep", "2", "exit", "3"])).await;
    assert_eq!(crash.state, ContainerState::Running);
    let took = until_listed(&nia, &crash.id, Duration::from_secs(6), |c| {
        c.state == ContainerState::Exited
    })
    .await;
    assert!(
        took < Duration::from_secs(4),
        "2 s of sleep + at most 2 s to show: {took:?}"
    );
    assert_eq!(listed(&nia, &crash.id).await.unwrap().exit_code, Some(3));

    let hog = run(&nia, &spec(&image, &["sleep", "1", "alloc", "200"])).await;
    until_listed(&nia, &hog.id, Duration::from_secs(4), |c| {
        c.state == ContainerState::Exited
    })
    .await;
    assert_eq!(
        listed(&nia, &hog.id).await.unwrap().exit_code,
        Some(137),
        "killed by the kernel for memory"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn on_failure_restarts_back_off_and_stop_at_the_limit() {
    let cluster = fast_cluster().await;
    let image = cluster.publish_testbox().await;
    let ola = cluster
        .api
        .sign_up("ola", "ola-rides-a-blue-tram")
        .await
        .client();
    let failing = CreateContainer {
        restart_policy: on_failure(Some(2)),
        ..spec(&image, &["exit", "1"])
    };
    let c = run(&ola, &failing).await;
    assert_eq!(c.restart_policy.name, "on-failure");
    // Backoffs of 1 s and 2 s, then it stays exited.
    until_listed(&ola, &c.id, Duration::from_secs(15), |c| {
        c.restart_policy.restarts == 2 && c.state == ContainerState::Exited
    })
    .await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let c = listed(&ola, &c.id).await.unwrap();
    assert_eq!(c.restart_policy.restarts, 2, "no third restart: {c:?}");
    assert_eq!(c.state, ContainerState::Exited);
    assert_eq!(c.exit_code, Some(1));

    // A clean exit is not a failure; and the default policy never restarts.
    let clean = CreateContainer {
        restart_policy: on_failure(None),
        ..spec(&image, &["exit", "0"])
    };
    let clean = run(&ola, &clean).await;
    let plain = run(&ola, &spec(&image, &["exit", "4"])).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    for quiet in [&clean.id, &plain.id] {
        assert_eq!(
            listed(&ola, quiet).await.unwrap().restart_policy.restarts,
            0
        );
    }

    for (name, max_retries) in [("always", None), ("on-failure", Some(0)), ("no", Some(3))] {
        let bad = CreateContainer {
            restart_policy: Some(RestartPolicyRequest {
                name: name.into(),
                max_retries,
            }),
            ..spec(&image, &[])
        };
        match ola.create_container(&bad, None).await {
            Err(ClientError::Api { status, code, .. }) => {
                assert_eq!((status, code), (422, ErrorCode::InvalidInput), "{name}")
            }
            other => panic!("restart policy {name} {max_retries:?}: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn orphans_are_removed_after_the_grace_and_vanished_ones_are_lost() {
    let cluster = fast_cluster().await;
    let image = cluster.publish_testbox().await;
    let pia = cluster
        .api
        .sign_up("pia", "pia-rides-a-blue-tram")
        .await
        .client();
    let keep = run(&pia, &spec(&image, &[])).await;
    let docker = yun_testkit::docker().await;
    let kept = docker
        .inspect_container(&format!("yun-{}", keep.id), None)
        .await
        .unwrap();
    let labels = kept.config.unwrap().labels.unwrap();

    // Containers labelled for this cluster and node that no record owns (as a crash, or
    // someone with the engine's socket, could leave), each removed by its Docker id whatever
    // its name: a label no record has under its `yun-` name and under another name, no
    // container label at all, and a second container carrying a live container's label.
    let stray = yun_core::new_id();
    let mut no_record = labels.clone();
    no_record.insert("yun.container".into(), stray.clone());
    let mut unlabelled = labels.clone();
    unlabelled.remove("yun.container");
    let suffix = yun_core::new_id();
    let strays = [
        (format!("yun-{stray}"), no_record.clone()),
        (format!("squatter-{suffix}"), no_record),
        (format!("nolabel-{suffix}"), unlabelled),
        (format!("twin-{suffix}"), labels.clone()),
    ];
    // The grace runs from the first pass that sees one, which may be before it is started.
    let start = Instant::now();
    for (name, labels) in &strays {
        let config = bollard::container::Config {
            image: Some(image.clone()),
            labels: Some(labels.clone()),
            ..Default::default()
        };
        docker
            .create_container(
                Some(bollard::container::CreateContainerOptions {
                    name: name.clone(),
                    platform: None,
                }),
                config,
            )
            .await
            .unwrap();
        docker.start_container::<String>(name, None).await.unwrap();
    }
    for (name, _) in &strays {
        while docker.inspect_container(name, None).await.is_ok() {
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "the orphan {name} was not removed"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    assert!(
        start.elapsed() >= Duration::from_secs(2),
        "not before the grace"
    );
    // The owned one is untouched.
    assert_eq!(
        listed(&pia, &keep.id).await.unwrap().state,
        ContainerState::Running
    );

    // A container removed behind yun's back is lost, not recreated.
    let kid = keep.id.as_str();
    yun_testkit::remove_behind_yuns_back(kid).await;
    until_listed(&pia, kid, Duration::from_secs(5), |c| {
        c.state == ContainerState::Lost
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        docker
            .inspect_container(&format!("yun-{kid}"), None)
            .await
            .is_err(),
        "never silently recreated"
    );
    assert!(
        matches!(pia.remove_container(kid).await.unwrap(), Removal::Done),
        "a lost container can be removed"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cordon_and_idempotency_key() {
    let cluster = TestCluster::start_on(crate::STORE).await;
    let image = cluster.publish_testbox().await;
    let quinn = cluster
        .api
        .sign_up("quinn", "quinn-rides-a-blue-tram")
        .await
        .client();
    let admin = cluster.admin.client();
    let node_id = admin.nodes(&Page::default()).await.unwrap().nodes[0]
        .id
        .clone();
    let c = run(&quinn, &spec(&image, &[])).await;

    admin.cordon(&node_id).await.unwrap();
    assert_eq!(
        admin.nodes(&Page::default()).await.unwrap().nodes[0].state,
        NodeState::Cordoned
    );
    match quinn.create_container(&spec(&image, &[]), None).await {
        Err(ClientError::Api {
            status, message, ..
        }) => {
            assert_eq!(status, 503);
            assert!(message.contains("cordoned"), "{message}");
        }
        other => panic!("a create on a cordoned fleet: {other:?}"),
    }
    // What runs there keeps running and obeys.
    assert_eq!(
        quinn.stop(&c.id).await.unwrap().state,
        ContainerState::Stopped
    );
    admin.uncordon(&node_id).await.unwrap();
    match admin.cordon("aaaaaaaaaaaaaaaa").await {
        Err(ClientError::Api { status, .. }) => assert_eq!(status, 404),
        other => panic!("cordoning no node: {other:?}"),
    }

    let same = spec(&image, &[]);
    let (first, made) = quinn
        .create_container(&same, Some("order-1"))
        .await
        .unwrap();
    assert!(made);
    let (again, made) = quinn
        .create_container(&same, Some("order-1"))
        .await
        .unwrap();
    assert!(!made, "a repeat answers 200 with the first result");
    assert_eq!(again.id, first.id);
    let (other, made) = quinn
        .create_container(&same, Some("order-2"))
        .await
        .unwrap();
    assert!(made);
    assert_ne!(other.id, first.id);
    assert_eq!(quinn.containers(false).await.unwrap().len(), 3);
}
