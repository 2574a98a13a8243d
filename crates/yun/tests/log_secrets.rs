//! No secret reaches a log line, with every crate logging at `trace` (h2, tonic, hyper, sqlx,
//! rustls, bollard included): `yun dev` and a joined `yun worker` run as processes, the
//! operator and a renter do everything that carries a secret, and then all the output of both
//! is searched for every secret used. The same run follows one create's request id from the
//! master's log into the worker's.
//!
//! A binary of its own, so it runs alone: two processes logging everything at trace load the
//! machine, and the timing-bound tests of the integration binary must not share it.

use serde_json::json;
use std::time::Duration;
use yun_testkit::alipay::{notify, notify_params, signed, PaymentKeys, APP_ID};
use yun_testkit::{Api, DevProcess, PortBlock, WorkerProcess};

/// Everything both processes wrote, with what each file was.
fn output(files: &[&std::path::Path], printed: &[String]) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = files
        .iter()
        .map(|f| {
            (
                f.display().to_string(),
                std::fs::read_to_string(f).expect("a log file"),
            )
        })
        .collect();
    all.push(("yun dev's stdout".into(), printed.join("\n")));
    all
}

/// The lines of a PEM file's private key (certificates beside it are public).
fn private_key_lines(path: &std::path::Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut inside = false;
    let mut lines = Vec::new();
    for l in text.lines() {
        if l.starts_with("-----BEGIN") {
            inside = l.contains("PRIVATE KEY");
        } else if l.starts_with("-----END") {
            inside = false;
        } else if inside && l.len() >= 32 {
            lines.push(l.to_string());
        }
    }
    assert!(!lines.is_empty(), "no private key in {}", path.display());
    lines
}

async fn login(api: &Api, username: &str, password: &str) -> String {
    let r = api
        .post(
            "/auth/login",
            json!({"username": username, "password": password}),
        )
        .await;
    assert_eq!(r.status, 200, "login {username}: {}", r.text);
    r.body["token"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn no_secret_reaches_any_log_line_at_trace_and_a_request_id_crosses_to_the_worker() {
    yun_testkit::docker().await;
    let data = tempfile::tempdir().unwrap();
    let dir = data.path();
    // Alipay's keys and the merchant's, as an operator would put them beside yun.toml.
    let keys = PaymentKeys::in_dir(dir);
    let (alipay, merchant_file, alipay_file) = (keys.alipay, keys.private_file, keys.public_file);
    let rpc = format!("127.0.0.1:{}", yun_testkit::free_port());
    let config = dir.join("yun.toml");
    std::fs::write(
        &config,
        format!(
            "rpc = \"{rpc}\"\nmetrics_token = \"metrics-token-never-logged-42\"\n\
             payment_provider = \"alipay\"\nalipay_app_id = \"{APP_ID}\"\n\
             alipay_gateway = \"https://openapi.alipaydev.com/gateway.do\"\n\
             alipay_private_key_file = \"{}\"\nalipay_public_key_file = \"{}\"\n\
             alipay_notify_url = \"https://yun.example/api/v1/payments/alipay/notify\"\n",
            merchant_file.display(),
            alipay_file.display()
        ),
    )
    .unwrap();
    let admin_password = "operator-picks-a-long-phrase-9";
    let dev_log = dir.join("dev.log");
    let dev_ports = PortBlock::claim();
    let dev = DevProcess::start_logged(
        env!("CARGO_BIN_EXE_yun"),
        &dir.join("data"),
        &dev_ports,
        Some(admin_password),
        Some(&config),
        Some(("trace", &dev_log)),
    );
    let api = Api::new(&dev.api_url());
    let admin_token = login(&api, "admin", admin_password).await;
    let admin = api.with_token(&admin_token);
    let cluster_id = admin.get("/admin/nodes").await.body["cluster_id"]
        .as_str()
        .unwrap()
        .to_string();
    let _cleanup = yun_testkit::Cleanup(cluster_id);

    // A second worker joins with a token; the in-process one is cordoned so creates land there.
    let join = admin.post("/admin/join-tokens", json!({"uses": 1})).await;
    assert_eq!(join.status, 201, "{}", join.text);
    let join_token = join.body["token"].as_str().unwrap().to_string();
    let own_node = admin.all_nodes().await["nodes"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = admin
        .post(&format!("/admin/nodes/{own_node}/cordon"), json!({}))
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let worker_log = dir.join("worker.log");
    let worker_state = dir.join("worker-far");
    let worker_ports = PortBlock::claim();
    let mut worker = WorkerProcess::spawn_logged(
        (env!("CARGO_BIN_EXE_yun"), rpc.parse().unwrap(), &join_token),
        &worker_state,
        "far",
        &worker_ports,
        &[],
        Some(("trace", &worker_log)),
    );
    yun_testkit::eventually(Duration::from_secs(20), "the worker is ready", || async {
        admin.node("far").await["state"] == "ready"
    })
    .await;

    // A renter signs up, logs in, changes the password, makes a token.
    let first_password = "renter-rides-a-blue-tram-17";
    let second_password = "renter-now-rides-a-red-bus-23";
    let r = api
        .post(
            "/auth/register",
            json!({"username": "renter", "password": first_password}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let first_session = login(&api, "renter", first_password).await;
    let renter = api.with_token(&first_session);
    let r = renter
        .post(
            "/me/password",
            json!({"current_password": first_password, "new_password": second_password}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let session = login(&api, "renter", second_password).await;
    let renter = api.with_token(&session);
    let r = renter
        .post("/me/tokens", json!({"name": "ci", "expires_in_days": 7}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let pat = r.body["token"].as_str().unwrap().to_string();
    let renter = api.with_token(&pat);

    // Pays: the checkout URL carries the merchant's signature, the notify Alipay's.
    let r = renter.post("/orders", json!({"credits": 500})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let order = r.body["order"]["id"].as_str().unwrap().to_string();
    let checkout = r.body["payment"]["url"].as_str().unwrap().to_string();
    let (_, query) = checkout.split_once('?').unwrap();
    let params: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap();
    let checkout_sign = params.iter().find(|(k, _)| k == "sign").unwrap().1.clone();
    let paid = signed(&alipay, &notify_params(&order, "5.00", "TRADE_SUCCESS"));
    let notify_sign = paid.iter().find(|(k, _)| k == "sign").unwrap().1.clone();
    assert_eq!(notify(&api, &paid).await, (200, "success".to_string()));

    // Runs with a secret in its environment, on the far worker, with a request id to follow.
    let env_secret = "env-secret-value-never-logged-5150";
    let image = yun_testkit::testbox_image();
    let r = admin
        .post("/admin/images", json!({"reference": image}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = Api::send(
        renter
            .request(reqwest::Method::POST, "/containers")
            .header("x-request-id", "follow-me-across-0815")
            .json(&json!({
                "image": image,
                "ports": [],
                "env": {"API_KEY": env_secret},
            })),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["container"]["node"], "far", "{}", r.text);
    let id = r.body["container"]["id"].as_str().unwrap().to_string();
    // A console whose command line carries a secret, and whose output echoes it.
    let exec_secret = "exec-argument-never-logged-2718";
    let mut ws = renter
        .client()
        .exec(&id, &["/testbox", "print", "1", exec_secret], None)
        .await
        .unwrap();
    let mut seen = String::new();
    while let Ok(Some(Ok(m))) =
        tokio::time::timeout(Duration::from_secs(10), futures::StreamExt::next(&mut ws)).await
    {
        seen.push_str(&String::from_utf8_lossy(&m.into_data()));
        if seen.contains("\"exit\"") {
            break;
        }
    }
    assert!(seen.contains(exec_secret), "the console echoed: {seen}");
    let r = renter.delete(&format!("/containers/{id}")).await;
    assert_eq!(r.status, 204, "{}", r.text);

    worker.kill();
    let printed = dev.stop();
    let logs = output(&[&dev_log, &worker_log], &printed);
    let mut secrets: Vec<(&str, String)> = vec![
        ("the admin password", admin_password.into()),
        ("the admin's session", admin_token.clone()),
        ("the join token", join_token.clone()),
        ("the first password", first_password.into()),
        ("the new password", second_password.into()),
        ("the first session", first_session.clone()),
        ("the session", session.clone()),
        ("the access token", pat.clone()),
        ("the checkout's signature", checkout_sign.clone()),
        ("Alipay's signature", notify_sign.clone()),
        ("the metrics token", "metrics-token-never-logged-42".into()),
        ("the container's secret", env_secret.into()),
        ("the console's argument", exec_secret.into()),
    ];
    for (what, file) in [
        ("the merchant key", merchant_file.clone()),
        ("the cluster CA's key", dir.join("data").join("ca.key")),
        ("the far worker's key", worker_state.join("identity.pem")),
    ] {
        for line in private_key_lines(&file) {
            secrets.push((what, line));
        }
    }
    let mut leaks = Vec::new();
    for (what, secret) in &secrets {
        for (file, text) in &logs {
            if let Some(line) = text.lines().find(|l| l.contains(secret.as_str())) {
                let shown: String = line.chars().take(300).collect();
                leaks.push(format!("{what} in {file}: {shown}"));
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "secrets in the logs:\n{}",
        leaks.join("\n")
    );
    let sizes: Vec<usize> = logs.iter().map(|(_, t)| t.len()).collect();
    assert!(
        sizes[0] > 100_000 && sizes[1] > 10_000,
        "trace logging was on in both processes: {sizes:?} bytes"
    );

    // One create, followed across both processes by its request id.
    let carrying = |text: &str| {
        text.lines()
            .filter(|l| l.contains("follow-me-across-0815"))
            .count()
    };
    assert!(carrying(&logs[0].1) > 0, "the master logs the request id");
    assert!(
        logs[1]
            .1
            .lines()
            .any(|l| l.contains("follow-me-across-0815") && l.contains("CreateContainer")),
        "the worker's create carries the request id: {} lines with it",
        carrying(&logs[1].1)
    );
}
