//! Refusals that no other test meets on its way, each with its code, so that every code the
//! server can send is produced by some test (the coverage table of tests/error_codes.rs). The
//! answers are read raw: the envelope itself (`field`) and headers such as `Retry-After` are
//! what these tests check.

use serde_json::json;
use std::time::Duration;
use yun_testkit::TestCluster;

fn assert_code(r: &yun_testkit::Reply, status: u16, code: &str) {
    assert_eq!((r.status, r.code()), (status, code), "{}", r.text);
}

#[tokio::test(flavor = "multi_thread")]
async fn operators_and_renters_meet_clear_refusals() {
    let cluster = TestCluster::start_with(|c| {
        // A plan no node can hold.
        c.plans.push(yun_core::Plan {
            name: "colossal".into(),
            cpu_millis: 100,
            memory_mib: 16 * 1024 * 1024,
            pids: 64,
            disk_mib: 1024,
            price_per_hour: 0,
        });
    })
    .await;
    let image = cluster.publish_testbox().await;
    let nia = cluster.api.sign_up("nia", "nia-rides-a-blue-tram").await;
    let nia_id = nia.get("/me").await.body["user"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let admin_id = cluster.admin.get("/me").await.body["user"]["id"]
        .as_str()
        .unwrap()
        .to_string();

    // An operator cannot ban themselves, nor take a balance below zero.
    let r = cluster
        .admin
        .post(&format!("/admin/users/{admin_id}/ban"), json!({}))
        .await;
    assert_code(&r, 409, "cannot_ban_self");
    let r = cluster
        .admin
        .post(
            &format!("/admin/users/{nia_id}/credits"),
            json!({"amount": -999_999_000, "reason": "test"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = cluster
        .admin
        .post(
            &format!("/admin/users/{nia_id}/credits"),
            json!({"amount": -2000, "reason": "more than there is"}),
        )
        .await;
    assert_code(&r, 409, "balance_too_low");
    assert_eq!(r.body["error"]["field"], "amount");
    // The extremes of an i64 are refused before they reach the store (i64::MIN has no
    // absolute value; it once reached the database as a 500).
    for amount in [i64::MIN, i64::MAX] {
        let r = cluster
            .admin
            .post(
                &format!("/admin/users/{nia_id}/credits"),
                json!({"amount": amount, "reason": "extreme"}),
            )
            .await;
        assert_code(&r, 422, "invalid_input");
        assert_eq!(r.body["error"]["field"], "amount");
    }
    cluster
        .admin
        .post(
            &format!("/admin/users/{nia_id}/credits"),
            json!({"amount": 999_999_000, "reason": "back"}),
        )
        .await;

    // An Idempotency-Key that is not plain text.
    let r = yun_testkit::Api::send(
        nia.request(reqwest::Method::POST, "/containers")
            .header(
                "idempotency-key",
                reqwest::header::HeaderValue::from_bytes(b"caf\xe9").unwrap(),
            )
            .json(&json!({"image": image})),
    )
    .await;
    assert_code(&r, 400, "invalid_header");

    // A name twice, a plan no node can hold.
    nia.run(json!({"image": image, "name": "web", "ports": []}))
        .await;
    let r = nia
        .post(
            "/containers",
            json!({"image": image, "name": "web", "ports": []}),
        )
        .await;
    assert_code(&r, 409, "name_taken");
    assert_eq!(
        r.body["error"]["field"], "name",
        "a form shows it beside the name"
    );
    let r = nia
        .post(
            "/containers",
            json!({"image": image, "plan": "colossal", "ports": []}),
        )
        .await;
    assert_code(&r, 503, "no_capacity");
    assert!(r.headers.contains_key("retry-after"));

    // A console on a stopped container; a WebSocket route asked as plain HTTP; a wrong method.
    let c = nia.run(json!({"image": image, "ports": []})).await;
    let id = c["id"].as_str().unwrap().to_string();
    nia.post(&format!("/containers/{id}/stop"), json!({})).await;
    assert_eq!(
        nia.websocket(&format!("/containers/{id}/exec")).await.err(),
        Some(409),
        "not_running before the upgrade"
    );
    let r = nia.get(&format!("/containers/{id}/exec?command=sh")).await;
    assert_code(&r, 409, "not_running");
    let r = nia.get(&format!("/containers/{id}/stats")).await;
    assert_code(&r, 426, "websocket_required");
    let r = yun_testkit::Api::send(nia.request(reqwest::Method::PUT, "/containers")).await;
    assert_code(&r, 405, "method_not_allowed");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fleet_without_nodes_says_to_come_back() {
    let cluster = TestCluster::master_only().await;
    let ona = cluster.api.sign_up("ona", "ona-rides-a-blue-tram").await;
    let r = ona
        .post(
            "/images/pull",
            json!({"reference": "127.0.0.1:5999/team/app:1"}),
        )
        .await;
    assert_code(&r, 503, "no_ready_node");
    assert!(r.headers.contains_key("retry-after"));
}

/// A node that goes down: its containers become `lost`, which cannot be started, and what
/// needs the node answers that it is unavailable.
#[tokio::test(flavor = "multi_thread")]
async fn a_down_node_is_unavailable_and_forgetting_it_refunds_its_lost_containers() {
    let mut cluster = TestCluster::start_with(|c| {
        c.heartbeat_interval = Duration::from_millis(300);
        c.reconcile_interval = Duration::from_millis(500);
    })
    .await;
    let image = cluster.publish_testbox().await;
    let pia = cluster.api.sign_up("pia", "pia-rides-a-blue-tram").await;
    let c = pia.run(json!({"image": image})).await;
    let id = c["id"].as_str().unwrap().to_string();
    let gone = pia.run(json!({"image": image})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let node = cluster.admin.get("/admin/nodes").await.body["nodes"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // A node that answers is never forgotten with its containers.
    let r = cluster
        .admin
        .post(&format!("/admin/nodes/{node}/forget"), json!({}))
        .await;
    assert_code(&r, 409, "invalid_state");
    assert!(r.message().contains("down"), "{}", r.message());
    let worker = cluster.worker.take().expect("a worker");
    worker.shutdown.cancel();
    let _ = worker.task.await;

    let r = pia.get(&format!("/containers/{id}/logs")).await;
    assert_code(&r, 503, "node_unavailable");
    yun_testkit::eventually(Duration::from_secs(20), "the container is lost", || async {
        pia.get(&format!("/containers/{id}")).await.body["container"]["state"] == "lost"
    })
    .await;
    let r = pia
        .post(&format!("/containers/{id}/start"), json!({}))
        .await;
    assert_code(&r, 409, "invalid_state");
    // A removal while the node is down waits for the node (202); it must not keep the node
    // from being forgotten.
    yun_testkit::eventually(Duration::from_secs(20), "the second is lost", || async {
        pia.get(&format!("/containers/{gone}")).await.body["container"]["state"] == "lost"
    })
    .await;
    let r = pia.delete(&format!("/containers/{gone}")).await;
    assert_eq!(r.status, 202, "{}", r.text);

    // The node will not return: forgetting it removes its lost container, frees its port and
    // gives the renter the deposit and the unused paid time back, in the ledger.
    let balance = pia.balance().await;
    let r = cluster
        .admin
        .post(&format!("/admin/nodes/{node}/forget"), json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mut removed: Vec<String> =
        serde_json::from_value(r.body["removed_containers"].clone()).unwrap();
    removed.sort();
    let mut both = vec![id.clone(), gone.clone()];
    both.sort();
    assert_eq!(removed, both);
    let refunded = r.body["refunded"].as_i64().unwrap();
    assert!(refunded >= 400, "both deposits at least: {refunded}");
    assert_eq!(pia.balance().await, balance + refunded);
    let ledger = pia.get("/billing/ledger").await;
    let kinds: Vec<&str> = ledger.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["reference"] == format!("container:{id}"))
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"deposit_refund"), "{kinds:?}");
    assert_code(
        &pia.get(&format!("/containers/{id}")).await,
        404,
        "not_found",
    );
    let check = cluster.admin.get("/admin/billing/check").await;
    assert_eq!(check.body["unbalanced"], json!([]));
    assert_eq!(
        cluster.admin.get("/admin/nodes").await.body["nodes"],
        json!([])
    );
    let audit = cluster.admin.get("/admin/audit").await;
    assert!(audit.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "node_forgotten" && e["subject"] == format!("node:{node}")));
    // Containers of this test stay behind on the engine while the worker is gone.
    yun_testkit::remove_labelled(cluster.cluster_id());
}

/// A node with one host port and one tenant subnet: the second container that needs a port
/// finds none free, and a second renter's network finds no subnet left on the node.
#[tokio::test(flavor = "multi_thread")]
async fn a_node_out_of_ports_or_subnets_says_so() {
    let mut cluster = TestCluster::master_only().await;
    let one_port = cluster.ports.start;
    cluster
        .start_worker_with(|w| {
            w.port_range = (one_port, one_port);
            // A /26 of its own, outside the range every other test's workers share: room for
            // exactly one renter's network.
            w.docker.tenant_subnets = "10.211.77.0/26".parse().unwrap();
        })
        .await;
    let image = cluster.publish_testbox().await;
    let ora = cluster.api.sign_up("ora", "ora-rides-a-blue-tram").await;
    let first = ora.run(json!({ "image": image })).await;
    assert_eq!(first["ports"][0]["host_port"], one_port);
    let r = ora.post("/containers", json!({ "image": image })).await;
    assert_code(&r, 503, "no_free_port");

    let pia = cluster.api.sign_up("pia", "pia-rides-a-blue-tram").await;
    let r = pia
        .post("/containers", json!({ "image": image, "ports": [] }))
        .await;
    assert_code(&r, 409, "node_resources");
    assert_eq!(
        pia.get("/containers").await.body["containers"],
        json!([]),
        "the refused create left no record"
    );
}

/// A container removed from its node behind yun's back: its logs are asked of the node, which
/// no longer has it.
#[tokio::test(flavor = "multi_thread")]
async fn a_container_gone_from_its_node_is_named_so() {
    let cluster = TestCluster::start().await;
    let image = cluster.publish_testbox().await;
    let quinn = cluster
        .api
        .sign_up("quinn", "quinn-rides-a-blue-tram")
        .await;
    let c = quinn.run(json!({ "image": image, "ports": [] })).await;
    let id = c["id"].as_str().unwrap();
    yun_testkit::remove_behind_yuns_back(id).await;
    let r = quinn.get(&format!("/containers/{id}/logs")).await;
    assert_code(&r, 410, "gone_from_node");
}
