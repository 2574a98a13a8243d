//! Pulls against a registry that lies (`yun_testkit::rogue_registry`): the worker is the only
//! registry client, and what a registry answers cannot lead a pull to another port of this
//! machine, to a private address or to the master's own API (a listener there sees nothing);
//! a gzip bomb is stopped while it unpacks, within the limit; a layer that is not the one
//! its digest names is refused; and a pull that stops is charged for what it downloaded.

use serde_json::json;
use yun_testkit::rogue_registry::{RogueRegistry, Trick, Witness};
use yun_testkit::TestCluster;

/// A cluster whose policy lists 127.0.0.1 (every port of it, as an operator with a local
/// registry would), with a 64 MiB image limit.
async fn cluster() -> TestCluster {
    TestCluster::start_with(|c| {
        c.allowed_registries = vec!["127.0.0.1".into()];
        c.max_image_bytes = 64 << 20;
    })
    .await
}

/// Pulls `reference` as a renter; answers the refusal's message (asserting it is one).
async fn refused_pull(api: &yun_testkit::Api, reference: &str) -> String {
    let r = api
        .post("/images/pull", json!({ "reference": reference }))
        .await;
    assert!(r.status >= 400, "the pull must fail: {}", r.text);
    r.message().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_registry_cannot_lead_a_pull_to_this_machine_or_a_private_network() {
    let cluster = cluster().await;
    let ivy = cluster.api.sign_up("ivy", "ivy-rides-a-blue-tram").await;
    let witness = Witness::start().await;
    let elsewhere = format!("http://127.0.0.1:{}/token", witness.port);
    let master_api = format!("http://{}/api/v1/me", cluster.master.http_addr);
    let private = "http://10.255.0.1:5000/token".to_string();
    for (trick, leads_to) in [
        (Trick::RealmAt(elsewhere.clone()), "another loopback port"),
        (
            Trick::ManifestRedirect(elsewhere.clone()),
            "another loopback port",
        ),
        (
            Trick::BlobRedirect(elsewhere.clone()),
            "another loopback port",
        ),
        (Trick::RealmAt(master_api.clone()), "the master's API"),
        (Trick::BlobRedirect(master_api.clone()), "the master's API"),
        (Trick::RealmAt(private.clone()), "a private address"),
        (
            Trick::ManifestRedirect("http://localhost:9/v2/".into()),
            "localhost",
        ),
    ] {
        let rogue = RogueRegistry::start(trick.clone()).await;
        let message = refused_pull(&ivy, &rogue.reference("app")).await;
        assert!(
            message.contains("on this machine or a private network"),
            "{trick:?} ({leads_to}): {message}"
        );
        assert!(rogue.requests.load(std::sync::atomic::Ordering::Relaxed) >= 1);
        assert!(
            !yun_testkit::image_on_engine(&rogue.reference("app")).await,
            "nothing loaded"
        );
    }
    assert_eq!(
        witness.seen(),
        0,
        "nothing ever connected to the other port"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gzip_bomb_stops_within_the_limit_and_a_wrong_digest_is_refused() {
    let cluster = cluster().await;
    let tom = cluster.api.sign_up("tom", "tom-rides-a-blue-tram").await;
    let before = tom.balance().await;

    // About a MiB of gzip that would unpack to 1 GiB: stopped while it unpacks, at the
    // 64 MiB limit, and nothing of it reaches the engine (only the compressed download was
    // ever written, to an archive that is removed).
    let bomb = RogueRegistry::start(Trick::Bomb { mib: 1024 }).await;
    let reference = bomb.reference("bomb");
    let r = tom
        .post("/images/pull", json!({ "reference": reference }))
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.code(), "image_too_large");
    let message = r.message();
    assert!(message.contains("unpacked"), "{message}");
    let stopped_at: u64 = message
        .split(" MiB by ")
        .next()
        .and_then(|m| m.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a size in {message}"));
    assert!(
        (64..=72).contains(&stopped_at),
        "stopped within a few MiB of the limit, not at 1 GiB: {message}"
    );
    assert!(!yun_testkit::image_on_engine(&reference).await);
    let leftovers = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("yun-pull-"))
        .count();
    assert_eq!(leftovers, 0, "the archive of a stopped pull is removed");
    // It downloaded well under 2 MiB before it stopped, and pays for that (1 credit a MiB).
    let after_bomb = tom.balance().await;
    let charged = before - after_bomb;
    assert!((1..=2).contains(&charged), "charged {charged}: {message}");
    assert!(message.contains("charged"), "{message}");

    // A layer that is not the one its digest names.
    let liar = RogueRegistry::start(Trick::WrongDigest).await;
    let message = refused_pull(&tom, &liar.reference("liar")).await;
    assert!(
        message.contains("other content") && message.contains("digest"),
        "{message}"
    );
    assert!(!yun_testkit::image_on_engine(&liar.reference("liar")).await);

    // The money of it all is in the ledger.
    let check = cluster.admin.get("/admin/billing/check").await;
    assert_eq!(check.body["unbalanced"], json!([]), "{}", check.text);
}
