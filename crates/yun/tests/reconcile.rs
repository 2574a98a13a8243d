//! What the reconciler does on a live fleet: crashes and OOM kills show within 2 s (from Docker
//! events, not from anyone asking), on-failure restarts back off and stop at their limit,
//! orphans go after their grace, cordoned nodes take nothing new, and Idempotency-Key holds.

use serde_json::json;
use std::time::{Duration, Instant};
use yun_testkit::{Api, TestCluster};

async fn fast_cluster() -> TestCluster {
    TestCluster::start_with(|c| {
        c.reconcile_interval = Duration::from_secs(1);
        c.orphan_grace = Duration::from_secs(2);
    })
    .await
}

/// The container as the list shows it: the list never asks a node, so a change there came
/// through the event stream or a reconcile pass.
async fn listed(api: &Api, id: &str) -> serde_json::Value {
    api.get("/containers").await.body["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .cloned()
        .unwrap_or(serde_json::Value::Null)
}

/// Polls the list until `done`; returns how long it took.
async fn until_listed(
    api: &Api,
    id: &str,
    limit: Duration,
    done: impl Fn(&serde_json::Value) -> bool,
) -> Duration {
    let start = Instant::now();
    loop {
        let c = listed(api, id).await;
        if done(&c) {
            return start.elapsed();
        }
        assert!(start.elapsed() < limit, "within {limit:?}: {c}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn crashes_and_oom_kills_show_within_two_seconds() {
    // The pass runs only every 10 s here, so a change within 2 s came from an event.
    let cluster = TestCluster::start().await;
    let image = cluster.publish_testbox().await;
    let nia = cluster.api.sign_up("nia", "nia-password").await;

    let crash = nia
        .run(json!({"image": image, "ports": [], "command": ["sleep", "2", "exit", "3"]}))
        .await;
    let id = crash["id"].as_str().unwrap();
    assert_eq!(crash["state"], "running");
    let took = until_listed(&nia, id, Duration::from_secs(6), |c| c["state"] == "exited").await;
    assert!(
        took < Duration::from_secs(4),
        "2 s of sleep + at most 2 s to show: {took:?}"
    );
    assert_eq!(listed(&nia, id).await["exit_code"], 3);

    let hog = nia
        .run(json!({"image": image, "ports": [], "command": ["sleep", "1", "alloc", "200"]}))
        .await;
    let id = hog["id"].as_str().unwrap();
    until_listed(&nia, id, Duration::from_secs(4), |c| c["state"] == "exited").await;
    assert_eq!(
        listed(&nia, id).await["exit_code"],
        137,
        "killed by the kernel for memory"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn on_failure_restarts_back_off_and_stop_at_the_limit() {
    let cluster = fast_cluster().await;
    let image = cluster.publish_testbox().await;
    let ola = cluster.api.sign_up("ola", "ola-password").await;
    let r = ola
        .post("/containers", json!({"image": image, "ports": [], "command": ["exit", "1"], "restart_policy": {"name": "on-failure", "max_retries": 2}}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["container"]["restart_policy"]["name"], "on-failure");
    let id = r.body["container"]["id"].as_str().unwrap().to_string();
    // Backoffs of 1 s and 2 s, then it stays exited.
    until_listed(&ola, &id, Duration::from_secs(15), |c| {
        c["restart_policy"]["restarts"] == 2 && c["state"] == "exited"
    })
    .await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let c = listed(&ola, &id).await;
    assert_eq!(c["restart_policy"]["restarts"], 2, "no third restart: {c}");
    assert_eq!(c["state"], "exited");
    assert_eq!(c["exit_code"], 1);

    // A clean exit is not a failure; and the default policy never restarts.
    let clean = ola
        .run(json!({"image": image, "ports": [], "command": ["exit", "0"], "restart_policy": {"name": "on-failure"}}))
        .await;
    let plain = ola
        .run(json!({"image": image, "ports": [], "command": ["exit", "4"]}))
        .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        listed(&ola, clean["id"].as_str().unwrap()).await["restart_policy"]["restarts"],
        0
    );
    assert_eq!(
        listed(&ola, plain["id"].as_str().unwrap()).await["restart_policy"]["restarts"],
        0
    );

    for bad in [
        json!({"name": "always"}),
        json!({"name": "on-failure", "max_retries": 0}),
        json!({"name": "no", "max_retries": 3}),
    ] {
        let r = ola
            .post(
                "/containers",
                json!({"image": image, "restart_policy": bad}),
            )
            .await;
        assert_eq!(r.status, 422, "{}", r.text);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn orphans_are_removed_after_the_grace_and_vanished_ones_are_lost() {
    let cluster = fast_cluster().await;
    let image = cluster.publish_testbox().await;
    let pia = cluster.api.sign_up("pia", "pia-password").await;
    let keep = pia.run(json!({"image": image, "ports": []})).await;
    let docker = yun_testkit::docker().await;
    let kept = docker
        .inspect_container(&format!("yun-{}", keep["id"].as_str().unwrap()), None)
        .await
        .unwrap();
    let labels = kept.config.unwrap().labels.unwrap();

    // A container labelled for this cluster and node that no record owns (as a crash could leave).
    let orphan_id = yun_core::new_id();
    let mut orphan_labels = labels.clone();
    orphan_labels.insert("yun.container".into(), orphan_id.clone());
    let config = bollard::container::Config {
        image: Some(image.clone()),
        labels: Some(orphan_labels),
        ..Default::default()
    };
    let name = format!("yun-{orphan_id}");
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
    docker.start_container::<String>(&name, None).await.unwrap();
    let start = Instant::now();
    while docker.inspect_container(&name, None).await.is_ok() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the orphan was not removed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        start.elapsed() >= Duration::from_secs(2),
        "not before the grace"
    );
    // The owned one is untouched.
    assert_eq!(
        listed(&pia, keep["id"].as_str().unwrap()).await["state"],
        "running"
    );

    // A container removed behind yun's back is lost, not recreated.
    let kid = keep["id"].as_str().unwrap();
    yun_testkit::remove_behind_yuns_back(kid).await;
    until_listed(&pia, kid, Duration::from_secs(5), |c| c["state"] == "lost").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        docker
            .inspect_container(&format!("yun-{kid}"), None)
            .await
            .is_err(),
        "never silently recreated"
    );
    assert_eq!(
        pia.delete(&format!("/containers/{kid}")).await.status,
        204,
        "a lost container can be removed"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cordon_and_idempotency_key() {
    let cluster = TestCluster::start().await;
    let image = cluster.publish_testbox().await;
    let quinn = cluster.api.sign_up("quinn", "quinn-password").await;
    let node = cluster.admin.get("/admin/nodes").await.body["nodes"][0].clone();
    let node_id = node["id"].as_str().unwrap();
    let c = quinn.run(json!({"image": image, "ports": []})).await;

    assert_eq!(
        cluster
            .admin
            .post(&format!("/admin/nodes/{node_id}/cordon"), json!({}))
            .await
            .status,
        204
    );
    assert_eq!(
        cluster.admin.get("/admin/nodes").await.body["nodes"][0]["state"],
        "cordoned"
    );
    let r = quinn
        .post("/containers", json!({"image": image, "ports": []}))
        .await;
    assert_eq!(r.status, 503, "{}", r.text);
    assert!(r.text.contains("cordoned"), "{}", r.text);
    // What runs there keeps running and obeys.
    let cid = c["id"].as_str().unwrap();
    assert_eq!(
        quinn
            .post(&format!("/containers/{cid}/stop"), json!({}))
            .await
            .body["container"]["state"],
        "stopped"
    );
    assert_eq!(
        cluster
            .admin
            .post(&format!("/admin/nodes/{node_id}/uncordon"), json!({}))
            .await
            .status,
        204
    );
    assert_eq!(
        cluster
            .admin
            .post("/admin/nodes/aaaaaaaaaaaaaaaa/cordon", json!({}))
            .await
            .status,
        404
    );

    let keyed = |key: &'static str| {
        quinn
            .request(reqwest::Method::POST, "/containers")
            .header("idempotency-key", key)
            .json(&json!({"image": image, "ports": []}))
    };
    let first = Api::send(keyed("order-1")).await;
    assert_eq!(first.status, 201, "{}", first.text);
    let again = Api::send(keyed("order-1")).await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.body["container"]["id"], first.body["container"]["id"]);
    let other = Api::send(keyed("order-2")).await;
    assert_eq!(other.status, 201);
    assert_ne!(other.body["container"]["id"], first.body["container"]["id"]);
    assert_eq!(
        quinn.get("/containers").await.body["containers"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}
