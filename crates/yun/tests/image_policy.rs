//! The operator's image policy: which registries pulls may use, refused before any node is
//! asked, and a failed pull that says what went wrong without echoing what answered.

use serde_json::json;
use std::io::{Read, Write};
use yun_testkit::TestCluster;

#[tokio::test(flavor = "multi_thread")]
async fn unlisted_and_internal_registries_are_refused_before_any_node_is_asked() {
    // Only the loopback registry at one port is listed.
    let cluster = TestCluster::start_with(|c| {
        c.allowed_registries = vec!["127.0.0.1:1".into()];
    })
    .await;
    let erin = cluster.api.sign_up("erin", "erin-password").await;
    for reference in [
        "nginx:1.27",
        "127.0.0.1:2/team/app:1",
        "10.0.0.9:5000/team/app:1",
    ] {
        let r = erin
            .post("/images/pull", json!({ "reference": reference }))
            .await;
        assert_eq!(r.status, 403, "{reference}: {}", r.text);
        assert_eq!(r.code(), "registry_not_allowed");
        assert_eq!(r.body["error"]["field"], "reference");
        assert!(r.message().contains("127.0.0.1:1"), "{}", r.message());
        // The operator's publish meets the same policy.
        let r = cluster
            .admin
            .post("/admin/images", json!({ "reference": reference }))
            .await;
        assert_eq!(r.status, 403, "{reference}: {}", r.text);
    }
    assert_eq!(erin.balance().await, 1_000_000_000, "nothing was charged");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_list_only_public_registries_may_be_pulled_from() {
    let cluster = TestCluster::start_with(|c| c.allowed_registries.clear()).await;
    let erin = cluster.api.sign_up("erin", "erin-password").await;
    for reference in [
        "127.0.0.1:5000/a:1",
        "localhost:5000/a:1",
        "192.168.1.10/a:1",
        "169.254.169.254/latest:1",
    ] {
        let r = erin
            .post("/images/pull", json!({ "reference": reference }))
            .await;
        assert_eq!(r.status, 403, "{reference}: {}", r.text);
        assert_eq!(r.code(), "registry_not_allowed");
    }
}

/// A listed address where something other than a registry answers: the pull fails with a
/// summary, never with the bytes that service sent (a pull is not a port scanner).
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_pull_answers_a_summary_not_what_the_address_sent() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten().take(20) {
            let mut s = stream;
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf);
            let _ = s.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-length: 24\r\n\r\nSECRET-BANNER-0123456789",
            );
        }
    });
    let cluster = TestCluster::start().await;
    let erin = cluster.api.sign_up("erin", "erin-password").await;
    let r = erin
        .post(
            "/images/pull",
            json!({ "reference": format!("127.0.0.1:{port}/team/app:1") }),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.code(), "image_unavailable");
    assert!(!r.text.contains("SECRET-BANNER"), "{}", r.text);
    assert!(!r.text.contains("invalid character"), "{}", r.text);
    assert_eq!(
        erin.balance().await,
        1_000_000_000,
        "a failed pull costs nothing"
    );
}
