//! A renter's whole day through the HTTP API, on a real Docker engine.

use serde_json::json;
use std::time::Duration;
use yun_testkit::{fetch, fetch_eventually, TestCluster};

#[tokio::test(flavor = "multi_thread")]
async fn run_reach_stop_start_restart_logs_remove() {
    let cluster = TestCluster::start().await;
    let image = cluster.publish_testbox().await;
    let alice = cluster.api.sign_up("alice", "alice-password").await;

    let me = alice.get("/me").await;
    assert_eq!(me.body["user"]["username"], "alice");
    let plans = alice.get("/plans").await;
    assert!(plans.body["plans"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == "nano" && p["memory_mib"] == 64));
    let images = alice.get("/images").await;
    assert!(images.body["images"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["reference"] == image.as_str()));

    let c = alice
        .run(json!({
            "image": image,
            "name": "web",
            "command": ["print", "2", "booted", "serve", "8080", "hello alice"],
            "ports": [{"container_port": 8080}],
        }))
        .await;
    assert_eq!(c["state"], "running");
    assert_eq!(c["desired_state"], "running");
    assert_eq!(c["name"], "web");
    assert_eq!(c["plan"], "nano");
    assert_eq!(c["node"], "w1");
    let id = c["id"].as_str().unwrap().to_string();
    let port = &c["ports"][0];
    let host_port = port["host_port"].as_u64().unwrap() as u16;
    assert!((cluster.ports.start..=cluster.ports.end).contains(&host_port));
    assert_eq!(port["endpoint"], format!("127.0.0.1:{host_port}"));
    let endpoint = port["endpoint"].as_str().unwrap().to_string();
    assert_eq!(fetch_eventually(&endpoint).await, "hello alice");

    // It is in the list and can be fetched.
    let list = alice.get("/containers").await;
    assert_eq!(list.body["containers"].as_array().unwrap().len(), 1);
    assert_eq!(
        alice.get(&format!("/containers/{id}")).await.body["container"]["id"],
        id.as_str()
    );

    let stopped = alice
        .post(&format!("/containers/{id}/stop"), json!({}))
        .await;
    assert_eq!(stopped.status, 200, "{}", stopped.text);
    assert_eq!(stopped.body["container"]["state"], "stopped");
    assert_eq!(stopped.body["container"]["desired_state"], "stopped");
    assert!(
        fetch(&endpoint).await.is_none(),
        "a stopped container does not answer"
    );
    // Stopping again is fine.
    assert_eq!(
        alice
            .post(&format!("/containers/{id}/stop"), json!({}))
            .await
            .status,
        200
    );

    let started = alice
        .post(&format!("/containers/{id}/start"), json!({}))
        .await;
    assert_eq!(
        started.body["container"]["state"], "running",
        "{}",
        started.text
    );
    assert_eq!(fetch_eventually(&endpoint).await, "hello alice");

    let restarted = alice
        .post(&format!("/containers/{id}/restart"), json!({}))
        .await;
    assert_eq!(
        restarted.body["container"]["state"], "running",
        "{}",
        restarted.text
    );
    assert_eq!(fetch_eventually(&endpoint).await, "hello alice");

    let logs = alice.get(&format!("/containers/{id}/logs")).await;
    assert_eq!(logs.status, 200);
    assert!(
        logs.text.contains("booted 0") && logs.text.contains("booted 1"),
        "{}",
        logs.text
    );
    assert!(
        logs.text.contains("err booted 1"),
        "stderr is there too: {}",
        logs.text
    );
    let tail = alice.get(&format!("/containers/{id}/logs?tail=1")).await;
    assert_eq!(tail.text.lines().count(), 1, "{}", tail.text);
    let download = alice
        .get(&format!("/containers/{id}/logs?download=1"))
        .await;
    assert_eq!(
        download.headers["content-disposition"].to_str().unwrap(),
        "attachment; filename=\"web.log\""
    );
    assert!(download.text.contains("booted 0"));
    assert!(download.headers.get("content-encoding").is_none());

    let removed = alice.delete(&format!("/containers/{id}")).await;
    assert_eq!(removed.status, 204, "{}", removed.text);
    assert_eq!(alice.get(&format!("/containers/{id}")).await.status, 404);
    assert!(alice.get("/containers").await.body["containers"]
        .as_array()
        .unwrap()
        .is_empty());
    let docker = yun_testkit::docker().await;
    assert!(
        docker
            .inspect_container(&format!("yun-{id}"), None)
            .await
            .is_err(),
        "the Docker container is gone"
    );
    // The owner's network went with their last container.
    let net = format!(
        "yun-{}-{}",
        cluster.cluster_id(),
        me.body["user"]["id"].as_str().unwrap()
    );
    assert!(
        docker.inspect_network::<String>(&net, None).await.is_err(),
        "network {net} was removed"
    );

    // The port is free again: a new container may ask for it by number.
    let again = alice
        .run(json!({"image": image, "ports": [{"container_port": 8080, "host_port": host_port}]}))
        .await;
    assert_eq!(again["ports"][0]["host_port"], host_port);
}

#[tokio::test(flavor = "multi_thread")]
async fn follow_streams_new_lines_and_exits_are_reported() {
    let cluster = TestCluster::start().await;
    let image = cluster.publish_testbox().await;
    let bob = cluster.api.sign_up("bob", "bob-password").await;

    // A container that exits with a code shows it.
    let c = bob
        .run(json!({"image": image, "ports": [], "command": ["print", "1", "bye", "exit", "7"]}))
        .await;
    let id = c["id"].as_str().unwrap();
    let got = bob.wait_for(id, |c| c["state"] == "exited").await;
    assert_eq!(got["state"], "exited", "{got}");
    assert_eq!(got["exit_code"], 7);
    // Logs work for exited containers.
    assert!(bob
        .get(&format!("/containers/{id}/logs"))
        .await
        .text
        .contains("bye 0"));

    // follow=true keeps the response open and delivers lines as they come.
    let c = bob
        .run(json!({"image": image, "ports": [], "command": ["print", "1", "first", "sleep", "2", "print", "1", "second", "sleep", "0"]}))
        .await;
    let id = c["id"].as_str().unwrap();
    let resp = bob
        .get_stream(&format!("/containers/{id}/logs?follow=true"))
        .await;
    assert_eq!(resp.status(), 200);
    let mut stream = resp.bytes_stream();
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    use futures::StreamExt;
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
