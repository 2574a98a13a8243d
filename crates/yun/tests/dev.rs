//! `yun dev` as a newcomer runs it: one command, then the API answers and a container runs.

use serde_json::json;
use yun_testkit::{fetch_eventually, testbox_image, Api, Cleanup, DevProcess, PortBlock};

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
    let url = dev.api_url();
    let api = Api::new(&url);
    let health = api
        .http
        .get(url.replace("/api/v1", "/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let ready = api
        .http
        .get(url.replace("/api/v1", "/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let admin = api.log_in("admin", &password).await;
    let nodes = admin.get("/admin/nodes").await;
    assert_eq!(nodes.body["nodes"][0]["state"], "ready", "{}", nodes.text);

    // A renter runs a container and reaches it at its endpoint.
    let image = testbox_image();
    assert_eq!(
        admin
            .post("/admin/images", json!({"reference": image}))
            .await
            .status,
        201
    );
    let ivy = api.sign_up("ivy", "ivy-password").await;
    let c = ivy
        .run(json!({"image": image, "command": ["serve", "8080", "dev works"]}))
        .await;
    let docker = yun_testkit::docker().await;
    let labels = docker
        .inspect_container(&format!("yun-{}", c["id"].as_str().unwrap()), None)
        .await
        .unwrap()
        .config
        .unwrap()
        .labels
        .unwrap();
    // Whatever happens below, this cluster's Docker objects go when the test ends.
    let _cleanup = Cleanup(labels["yun.cluster"].clone());
    let endpoint = c["ports"][0]["endpoint"].as_str().unwrap().to_string();
    assert!(endpoint.starts_with("127.0.0.1:"), "{endpoint}");
    let body = fetch_eventually(&endpoint).await;
    assert_eq!(body, "dev works");
    let id = c["id"].as_str().unwrap().to_string();
    drop(dev);

    // Started again on the same data, nothing is printed about the admin and the store is kept;
    // the container kept running while the platform was down.
    let dev = start_dev(data.path(), &ports, None);
    assert!(!dev
        .lines
        .iter()
        .any(|l| l.contains("admin account created")));
    let ivy = Api::new(&dev.api_url()).log_in("ivy", "ivy-password").await;
    let got = ivy.get(&format!("/containers/{id}")).await;
    assert_eq!(got.body["container"]["state"], "running", "{}", got.text);
    assert_eq!(ivy.delete(&format!("/containers/{id}")).await.status, 204);
}
