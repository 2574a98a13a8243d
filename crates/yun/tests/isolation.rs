//! Tenants never see or touch each other's containers and images: another user's resource is
//! a 404, never a 403, and never appears in a list.

use serde_json::json;
use yun_testkit::{testbox_image, LocalRegistry, TestCluster};

#[tokio::test(flavor = "multi_thread")]
async fn another_users_container_is_a_404_everywhere() {
    let cluster = TestCluster::start_on(crate::STORE).await;
    let image = cluster.publish_testbox().await;
    let alice = cluster
        .api
        .sign_up("alice", "alice-rides-a-blue-tram")
        .await;
    let bob = cluster.api.sign_up("bob", "bob-rides-a-blue-tram").await;
    let c = alice.run(json!({"image": image, "name": "secret", "command": ["print", "1", "alice-only", "sleep", "0"]})).await;
    let id = c["id"].as_str().unwrap();

    for path in [
        format!("/containers/{id}"),
        format!("/containers/{id}/logs"),
        format!("/containers/{id}/logs?follow=true"),
        format!("/containers/{id}/logs?download=1"),
    ] {
        let r = bob.get(&path).await;
        assert_eq!(r.status, 404, "GET {path}: {}", r.text);
        assert_eq!(r.code(), "not_found");
        assert!(!r.text.contains("alice-only") && !r.text.contains("secret"));
    }
    for action in ["start", "stop", "restart"] {
        let r = bob
            .post(&format!("/containers/{id}/{action}"), json!({}))
            .await;
        assert_eq!(r.status, 404, "{action}: {}", r.text);
    }
    assert_eq!(bob.delete(&format!("/containers/{id}")).await.status, 404);
    assert!(bob.get("/containers").await.body["containers"]
        .as_array()
        .unwrap()
        .is_empty());
    // ?all=true is for admins only; for others it is their own list.
    assert!(bob.get("/containers?all=true").await.body["containers"]
        .as_array()
        .unwrap()
        .is_empty());
    // Bob's name space is his own: he can use the same name.
    let mine = bob
        .run(json!({"image": image, "name": "secret", "ports": []}))
        .await;
    assert_ne!(mine["id"], c["id"]);

    // Alice's container is untouched by all that.
    let still = alice.get(&format!("/containers/{id}")).await;
    assert_eq!(still.body["container"]["state"], "running");
    // The admin sees both.
    let all = cluster.admin.get("/containers?all=true").await;
    assert_eq!(all.body["containers"].as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn private_and_host_only_images_cannot_be_run_by_others() {
    let cluster = TestCluster::start_on(crate::STORE).await;
    let alice = cluster
        .api
        .sign_up("alice", "alice-rides-a-blue-tram")
        .await;
    let bob = cluster.api.sign_up("bob", "bob-rides-a-blue-tram").await;

    // An image that merely sits on the host is not in anyone's catalog.
    let on_host = testbox_image();
    let r = bob
        .post("/containers", json!({"image": on_host, "ports": []}))
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.code(), "unknown_image");
    assert!(
        r.message().contains("POST /api/v1/images/pull"),
        "{}",
        r.message()
    );

    // Alice pulls a private image from a registry.
    let registry = LocalRegistry::start().await;
    let private = registry.push(&on_host, &format!("alice-{}/app", cluster.cluster_id()));
    let pulled = alice
        .post("/images/pull", json!({"reference": private}))
        .await;
    assert_eq!(pulled.status, 201, "{}", pulled.text);
    assert_eq!(pulled.body["image"]["visibility"], "private");
    assert_eq!(
        pulled.body["image"]["exposed_ports"][0]["container_port"],
        8080
    );
    let image_id = pulled.body["image"]["id"].as_str().unwrap().to_string();
    let c = alice.run(json!({"image": image_id, "ports": []})).await;
    assert_eq!(c["state"], "running");

    // Bob can neither see it nor run it, by reference or by id, nor delete it.
    let list = bob.get("/images").await;
    assert!(!list.text.contains(&private), "{}", list.text);
    for image in [private.as_str(), image_id.as_str()] {
        let r = bob
            .post("/containers", json!({"image": image, "ports": []}))
            .await;
        assert_eq!(r.status, 422, "{}", r.text);
        assert_eq!(r.code(), "unknown_image");
    }
    assert_eq!(bob.delete(&format!("/images/{image_id}")).await.status, 404);

    // A pull of an image no registry has fails clearly and records nothing.
    let r = bob
        .post(
            "/images/pull",
            json!({"reference": format!("{}/nobody/nothing:1", registry.addr)}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.code(), "image_unavailable");
    assert!(!bob.get("/images").await.text.contains("nobody/nothing"));

    // Alice cannot delete her image while a container uses it, and can after.
    let r = alice.delete(&format!("/images/{image_id}")).await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(
        alice
            .delete(&format!("/containers/{}", c["id"].as_str().unwrap()))
            .await
            .status,
        204
    );
    assert_eq!(
        alice.delete(&format!("/images/{image_id}")).await.status,
        204
    );
}
