//! `yun dev` as a newcomer runs it: one command, then the API answers and a container runs.
//! Through the typed client.

use yun_api::admin::NodeState;
use yun_api::client::{Page, Removal};
use yun_api::containers::ContainerState;
use yun_api::Client;
use yun_testkit::{fetch_eventually, testbox_image, Cleanup, DevProcess, PortBlock};

const YUN: &str = env!("CARGO_BIN_EXE_yun");

fn start_dev(
    data_dir: &std::path::Path,
    ports: &PortBlock,
    admin_password: Option<&str>,
) -> DevProcess {
    DevProcess::start(YUN, data_dir, ports, admin_password, None)
}

#[tokio::test(flavor = "multi_thread")]
async fn yun_dev_is_one_command_to_a_working_platform() {
    yun_testkit::docker().await;
    let data = tempfile::tempdir().unwrap();
    let ports = PortBlock::claim();

    // Without YUN_ADMIN_PASSWORD a password is generated and printed once.
    let dev = start_dev(data.path(), &ports, None);
    let admin_line = dev
        .lines
        .iter()
        .find(|l| l.contains("admin account created"))
        .expect("the password is printed");
    let password = admin_line.split('\'').nth(3).unwrap().to_string();
    let root = dev.root_url();
    let anon = Client::new(&root).unwrap();
    let ready = anon.readiness().await;
    assert!(ready.is_ok(), "ready: {ready:?}");
    let health = reqwest::get(format!("{root}/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
    let admin = anon.with_token(&anon.login("admin", &password, None).await.unwrap().token);
    let nodes = admin.nodes(&Page::default()).await.unwrap();
    assert_eq!(nodes.nodes[0].state, NodeState::Ready, "{nodes:?}");

    // A renter runs a container and reaches it at its endpoint.
    let image = testbox_image();
    admin.publish_image(&image).await.unwrap();
    anon.register("ivy", "ivy-rides-a-blue-tram").await.unwrap();
    let ivy = anon.with_token(
        &anon
            .login("ivy", "ivy-rides-a-blue-tram", None)
            .await
            .unwrap()
            .token,
    );
    let spec = yun_testkit::container_spec(&image, &["serve", "8080", "dev works"]);
    let (c, _) = ivy.create_container(&spec, None).await.unwrap();
    let docker = yun_testkit::docker().await;
    let labels = docker
        .inspect_container(&format!("yun-{}", c.id), None)
        .await
        .unwrap()
        .config
        .unwrap()
        .labels
        .unwrap();
    // Whatever happens below, this cluster's Docker objects go when the test ends.
    let _cleanup = Cleanup(labels["yun.cluster"].clone());
    let endpoint = c.ports[0].endpoint.clone();
    assert!(endpoint.starts_with("127.0.0.2:"), "{endpoint}");
    let body = fetch_eventually(&endpoint).await;
    assert_eq!(body, "dev works");
    let id = c.id;
    drop(dev);

    // Started again on the same data, nothing is printed about the admin and the store is kept;
    // the container kept running while the platform was down.
    let dev = start_dev(data.path(), &ports, None);
    assert!(!dev
        .lines
        .iter()
        .any(|l| l.contains("admin account created")));
    let anon = Client::new(&dev.root_url()).unwrap();
    let ivy = anon.with_token(
        &anon
            .login("ivy", "ivy-rides-a-blue-tram", None)
            .await
            .unwrap()
            .token,
    );
    assert_eq!(
        ivy.container(&id).await.unwrap().state,
        ContainerState::Running
    );
    assert!(matches!(
        ivy.remove_container(&id).await.unwrap(),
        Removal::Done
    ));
}

/// `yun dev` with a certificate serves the console over HTTPS at `https://localhost:…`, and
/// that console can log in and act (its public URL followed the scheme: it stayed `http://`,
/// so every cookie-authenticated change was refused by origin).
#[tokio::test(flavor = "multi_thread")]
async fn yun_dev_with_a_certificate_gives_a_console_that_logs_in() {
    yun_testkit::docker().await;
    let data = tempfile::tempdir().unwrap();
    let ports = PortBlock::claim();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".into()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let (c, k) = (data.path().join("http.crt"), data.path().join("http.key"));
    std::fs::write(&c, cert.pem()).unwrap();
    std::fs::write(&k, key.serialize_pem()).unwrap();
    let config = data.path().join("yun.toml");
    std::fs::write(
        &config,
        format!(
            "tls_cert = {:?}\ntls_key = {:?}\n",
            c.display().to_string(),
            k.display().to_string()
        ),
    )
    .unwrap();
    let dev = DevProcess::start(
        YUN,
        &data.path().join("data"),
        &ports,
        Some("admin-password-for-https"),
        Some(&config),
    );
    let root = dev.root_url();
    assert!(root.starts_with("https://localhost:"), "{root}");
    let http = reqwest::Client::builder()
        .no_proxy()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.pem().as_bytes()).unwrap())
        .build()
        .unwrap();
    let login = http
        .post(format!("{root}/api/v1/auth/login"))
        .header("origin", &root)
        .json(&serde_json::json!({"username": "admin", "password": "admin-password-for-https", "session": "cookie"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let set = login.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        set.starts_with("__Host-yun_session=") && set.contains("; Secure"),
        "{set}"
    );
    let cookie = set.split(';').next().unwrap().to_string();
    // A change from the console's own page is taken.
    let order = http
        .post(format!("{root}/api/v1/orders"))
        .header("origin", &root)
        .header("cookie", &cookie)
        .json(&serde_json::json!({"credits": 100}))
        .send()
        .await
        .unwrap();
    assert_eq!(order.status(), 201, "{}", order.text().await.unwrap());
    drop(dev);
}
