//! The operator's image policy: which registries pulls may use, refused before any node is
//! asked, and a failed pull that says what went wrong without echoing what answered. Through
//! the typed client (the failed pull's body is also read raw: what it must not echo is bytes).

use serde_json::json;
use std::io::{Read, Write};
use yun_api::containers::CreateContainer;
use yun_api::{ClientError, ErrorCode};
use yun_testkit::{LocalRegistry, TestCluster};

/// The refusal's status, code and field, or a panic naming what was expected.
fn refusal<T: std::fmt::Debug>(
    r: yun_api::client::Result<T>,
) -> (u16, ErrorCode, Option<String>, String) {
    match r {
        Err(ClientError::Api {
            status,
            code,
            field,
            message,
        }) => (status, code, field, message),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn unlisted_and_internal_registries_are_refused_before_any_node_is_asked() {
    // Only the loopback registry at one port is listed.
    let cluster = TestCluster::start_with(|c| {
        c.allowed_registries = vec!["127.0.0.1:1".into()];
    })
    .await;
    let raw = cluster.api.sign_up("erin", "erin-rides-a-blue-tram").await;
    let (erin, admin) = (raw.client(), cluster.admin.client());
    for reference in [
        "nginx:1.27",
        "127.0.0.1:2/team/app:1",
        "10.0.0.9:5000/team/app:1",
    ] {
        let (status, code, field, message) = refusal(erin.pull(reference).await);
        assert_eq!(
            (status, code),
            (403, ErrorCode::RegistryNotAllowed),
            "{reference}"
        );
        assert_eq!(field.as_deref(), Some("reference"));
        assert!(message.contains("127.0.0.1:1"), "{message}");
        // The operator's publish meets the same policy.
        let (status, ..) = refusal(admin.publish_image(reference).await);
        assert_eq!(status, 403, "{reference}");
    }
    assert_eq!(raw.balance().await, 1_000_000_000, "nothing was charged");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_list_only_public_registries_may_be_pulled_from() {
    let cluster = TestCluster::start_with(|c| c.allowed_registries.clear()).await;
    let erin = cluster
        .api
        .sign_up("erin", "erin-rides-a-blue-tram")
        .await
        .client();
    for reference in [
        "127.0.0.1:5000/a:1",
        "localhost:5000/a:1",
        "192.168.1.10/a:1",
        "169.254.169.254/latest:1",
    ] {
        let (status, code, ..) = refusal(erin.pull(reference).await);
        assert_eq!(
            (status, code),
            (403, ErrorCode::RegistryNotAllowed),
            "{reference}"
        );
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
    let erin = cluster.api.sign_up("erin", "erin-rides-a-blue-tram").await;
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

fn image_id(reference: &str) -> String {
    let out = std::process::Command::new("docker")
        .args(["image", "inspect", "--format", "{{.Id}}", reference])
        .output()
        .expect("the docker CLI");
    assert!(out.status.success(), "inspect {reference}");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Images are pinned by content: a renter who pulls the catalog's name after its registry
/// started serving other content gets that content for themselves, while a new container from
/// the catalog entry still runs what the operator published.
#[tokio::test(flavor = "multi_thread")]
async fn a_renters_pull_never_changes_what_the_catalog_runs() {
    let cluster = TestCluster::start().await;
    let registry = yun_testkit::LocalRegistry::start().await;
    let repo = format!("shared-{}/app", cluster.cluster_id());
    let original = yun_testkit::testbox_image();
    let reference = registry.push(&original, &repo);
    cluster
        .admin
        .client()
        .publish_image(&reference)
        .await
        .unwrap();
    let operators = image_id(&original);

    // The registry now serves other content under the same name, and a renter pulls it.
    let other = yun_testkit::plain_testbox_image();
    assert_eq!(registry.push(&other, &repo), reference, "the same name");
    let mallory = cluster
        .api
        .sign_up("mallory", "mallory-rides-a-blue-tram")
        .await
        .client();
    mallory.pull(&reference).await.unwrap();
    assert_eq!(
        image_id(&reference),
        image_id(&other),
        "the node's tag moved"
    );

    let docker = yun_testkit::docker().await;
    let runs = |id: String| {
        let docker = docker.clone();
        async move {
            docker
                .inspect_container(&format!("yun-{id}"), None)
                .await
                .unwrap()
                .image
                .unwrap()
        }
    };
    // Another renter's container from the catalog runs the operator's content.
    let victor = cluster
        .api
        .sign_up("victor", "victor-rides-a-blue-tram")
        .await
        .client();
    let from_catalog = CreateContainer {
        image: reference.clone(),
        ports: Some(Vec::new()),
        ..Default::default()
    };
    let (c, _) = victor.create_container(&from_catalog, None).await.unwrap();
    assert_eq!(runs(c.id).await, operators);
    // The renter who pulled runs what they pulled.
    let own = CreateContainer {
        command: Some(
            ["/testbox", "serve", "8080", "mine"]
                .map(String::from)
                .to_vec(),
        ),
        ..from_catalog
    };
    let (m, _) = mallory.create_container(&own, None).await.unwrap();
    assert_eq!(runs(m.id).await, image_id(&other));
}

/// `len` bytes from the kernel's random source.
fn random_bytes(len: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; len];
    std::fs::File::open("/dev/urandom")
        .unwrap()
        .read_exact(&mut bytes)
        .unwrap();
    bytes
}

/// The test image with one more file of `content`, pushed to `registry` as `repository` and
/// gone from the host (so a pull must fetch it).
fn pushed_with(registry: &LocalRegistry, repository: &str, content: Vec<u8>) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("payload");
    std::fs::write(&file, content).unwrap();
    let local = format!("yun-payload:{}", yun_core::new_id().to_lowercase());
    yun_testkit::build_image(
        &local,
        &format!(
            "FROM {}\nCOPY payload /payload\n",
            yun_testkit::testbox_image()
        ),
        &[("payload", file.as_path())],
    );
    let pushed = registry.push(&local, repository);
    for tag in [&local, &pushed] {
        let _ = std::process::Command::new("docker")
            .args(["rmi", "-f", tag])
            .output();
    }
    pushed
}

#[tokio::test(flavor = "multi_thread")]
async fn an_image_over_the_size_limit_is_refused_and_nothing_is_kept() {
    let cluster = TestCluster::start_with(|c| c.max_image_bytes = 4 << 20).await;
    let registry = LocalRegistry::start().await;
    let zoe = cluster.api.sign_up("zoe", "zoe-rides-a-blue-tram").await;
    let balance = zoe.balance().await;
    let scope = cluster.cluster_id().to_lowercase();

    // 8 MiB of random bytes (which no compression shrinks), by its registry's manifest:
    // refused before anything is pulled.
    let big = pushed_with(&registry, &format!("big-{scope}"), random_bytes(8 << 20));
    let r = zoe.post("/images/pull", json!({"reference": big})).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.code(), "image_too_large");
    assert_eq!(r.body["error"]["field"], "reference");
    assert!(
        r.message().contains("registry's manifest") && r.message().contains("4 MiB"),
        "{}",
        r.message()
    );
    assert!(!yun_testkit::image_on_engine(&big).await, "nothing pulled");

    // Zeros compress to nothing, so the manifest and the download pass; unpacked it weighs
    // 8 MiB, and it is removed again.
    let packed = pushed_with(&registry, &format!("zeros-{scope}"), vec![0u8; 8 << 20]);
    let r = zoe.post("/images/pull", json!({"reference": packed})).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.code(), "image_too_large");
    assert!(r.message().contains("unpacked"), "{}", r.message());
    assert!(
        !yun_testkit::image_on_engine(&packed).await,
        "removed again"
    );

    // Nothing recorded; the refused pulls are charged for what they downloaded, as a
    // finished one is (1 credit a MiB): nothing for the one the manifest refused, a MiB's
    // price for the zeros' few KiB.
    let images = zoe.get("/images").await;
    assert!(
        !images.text.contains("big-") && !images.text.contains("zeros-"),
        "{}",
        images.text
    );
    assert_eq!(zoe.balance().await, balance - 1);
    assert!(r.message().contains("charged 1 credit"), "{}", r.message());
    let small = registry.push_fresh(&format!("small-{scope}"), 1);
    let r = zoe.post("/images/pull", json!({"reference": small})).await;
    assert_eq!(r.status, 201, "{}", r.text);
}
