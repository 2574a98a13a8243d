//! The master's metrics and request ids, against real masters: `/metrics` answers only the
//! operator's token (or a separate address), counts what happens by route template and error
//! code, reads the present (nodes, open streams) at the scrape, and keeps each master's series
//! its own; every request's id is answered in its header and its error envelope, and is on the
//! master's JSON log lines.

use futures::StreamExt;
use serde_json::json;
use yun_testkit::{Api, TestCluster};

const TOKEN: &str = "operator-metrics-token-0123";

async fn scrape(cluster: &TestCluster, token: Option<&str>) -> (u16, String) {
    let url = format!("http://{}/metrics", cluster.master.http_addr);
    yun_testkit::scrape(&url, token).await
}

use yun_testkit::series_value as value;

#[tokio::test(flavor = "multi_thread")]
async fn metrics_answer_only_the_operator_and_count_what_happens() {
    let cluster = TestCluster::start_with(|c| c.metrics_token = Some(TOKEN.into())).await;
    let image = cluster.publish_testbox().await;
    let ann = cluster.api.sign_up("ann", "ann-rides-a-blue-tram").await;
    // Nobody else: no token, a wrong one, a renter's session.
    for token in [
        None,
        Some("wrong-token-of-some-length"),
        ann.token.as_deref(),
    ] {
        assert_eq!(scrape(&cluster, token).await.0, 401, "{token:?}");
    }
    let (status, text) = scrape(&cluster, Some(TOKEN)).await;
    assert_eq!(status, 200);
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(
        value(&text, &format!("yun_build_info{{version=\"{version}\"}}")),
        Some(1.0)
    );
    assert_eq!(
        value(&text, "yun_nodes{state=\"ready\"}"),
        Some(1.0),
        "{text}"
    );

    // A create, a refusal and an open stream move their series.
    let c = ann.run(json!({"image": image, "ports": []})).await;
    let id = c["id"].as_str().unwrap();
    assert_eq!(ann.get("/containers/nothing-here").await.status, 404);
    let client = ann.client();
    let mut stats = Box::pin(client.stats(id).await.unwrap());
    assert!(stats.next().await.is_some());
    let (_, text) = scrape(&cluster, Some(TOKEN)).await;
    let created =
        "yun_http_requests_total{route=\"/api/v1/containers\",method=\"POST\",status=\"201\"}";
    assert_eq!(value(&text, created), Some(1.0), "{text}");
    assert!(value(&text, "yun_api_errors_total{code=\"not_found\"}").unwrap_or(0.0) >= 1.0);
    assert!(
        text.contains("yun_http_requests_total{route=\"/api/v1/containers/{id}\",method=\"GET\",status=\"404\"}"),
        "the route's template, not the id: {text}"
    );
    assert_eq!(value(&text, "yun_open_streams"), Some(1.0));
    // The create's call to the worker, and the store's writes.
    let at_least_one = |series: &str| {
        assert!(
            value(&text, series).unwrap_or(0.0) >= 1.0,
            "{series} in {text}"
        )
    };
    at_least_one("yun_worker_rpc_calls_total{method=\"create\",outcome=\"ok\"}");
    at_least_one("yun_worker_rpc_duration_seconds_count{method=\"create\"}");
    at_least_one("yun_store_transactions_total{outcome=\"commit\"}");
    at_least_one("yun_store_transaction_duration_seconds_count");
    at_least_one("yun_store_writer_wait_seconds_count");
    assert!(
        value(
            &text,
            "yun_store_connections{pool=\"write\",state=\"idle\"}"
        )
        .is_some(),
        "{text}"
    );
    assert!(
        text.contains(
            "yun_http_request_duration_seconds_count{route=\"/api/v1/containers\",method=\"POST\"}"
        ),
        "{text}"
    );
    assert!(
        !text.contains(
            "yun_http_request_duration_seconds_count{route=\"/api/v1/containers/{id}/stats\""
        ),
        "a stream's time is left out"
    );
    // A call the worker refuses is counted by what went wrong.
    let plain = yun_testkit::plain_testbox_image();
    let r = cluster
        .admin
        .post("/admin/images", json!({"reference": plain}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = ann
        .post(
            "/containers",
            json!({"image": plain, "command": ["/no/such/program"], "ports": []}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    let (_, text) = scrape(&cluster, Some(TOKEN)).await;
    assert_eq!(
        value(
            &text,
            "yun_worker_rpc_calls_total{method=\"create\",outcome=\"command_cannot_run\"}"
        ),
        Some(1.0),
        "{text}"
    );

    // An unknown path is one bounded label, whatever it was.
    assert_eq!(
        ann.get(&format!("/no/such/{}", yun_core::new_id()))
            .await
            .status,
        404
    );
    let (_, text) = scrape(&cluster, Some(TOKEN)).await;
    assert!(text.contains("route=\"unmatched\""), "{text}");

    // Another master in this process has series of its own; without a token it serves none.
    let other = TestCluster::master_only_with(|c| {
        c.metrics_addr = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    let (status, body) = scrape(&other, Some(TOKEN)).await;
    assert_eq!(status, 404, "{body}");
    let apart = other.master.metrics_addr.expect("the separate listener");
    let text = reqwest::get(format!("http://{apart}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        value(&text, created),
        None,
        "another master's creates: {text}"
    );
    assert_eq!(value(&text, "yun_nodes{state=\"ready\"}"), Some(0.0));
    crate::billing::kept_figures_agree(&cluster.database).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_request_has_an_id_in_its_answer_and_its_error() {
    let cluster = TestCluster::master_only().await;
    let api = &cluster.api;
    let r = Api::send(
        api.request(reqwest::Method::GET, "/containers")
            .header("x-request-id", "trace-me-1"),
    )
    .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.headers["x-request-id"], "trace-me-1");
    assert_eq!(r.body["error"]["request_id"], "trace-me-1");
    // An id that is not short and plain is replaced; none given, one is made.
    for given in [
        Some("has a space"),
        Some("x".repeat(65).leak() as &str),
        None,
    ] {
        let mut req = api.request(reqwest::Method::GET, "/containers");
        if let Some(g) = given {
            req = req.header("x-request-id", g);
        }
        let r = Api::send(req).await;
        let id = r.headers["x-request-id"].to_str().unwrap().to_string();
        assert!(
            Some(id.as_str()) != given && (1..=64).contains(&id.len()),
            "{id}"
        );
        assert!(id.bytes().all(|b| b.is_ascii_alphanumeric()), "{id}");
        assert_eq!(r.body["error"]["request_id"], id.as_str());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn json_logs_carry_each_request_s_id() {
    let dir = tempfile::tempdir().unwrap();
    let master = yun_testkit::LoggedMaster::start(
        env!("CARGO_BIN_EXE_yun"),
        dir.path(),
        &["--log-format", "json"],
        &[
            ("YUN_ADMIN_PASSWORD", "operator-chooses-a-long-phrase"),
            ("RUST_LOG", "info"),
        ],
    );
    let api = Api::new(&master.api_url);
    let r = Api::send(
        api.request(reqwest::Method::POST, "/auth/register")
            .header("x-request-id", "json-trace-7")
            .json(&json!({"username": "jo", "password": "jo-rides-a-blue-tram"})),
    )
    .await;
    assert_eq!(r.status, 422, "a refused username: {}", r.text);
    let r = Api::send(
        api.request(reqwest::Method::POST, "/auth/register")
            .header("x-request-id", "json-trace-8")
            .json(&json!({"username": "joy", "password": "joy-rides-a-blue-tram"})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let text = master.stop();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let registered = lines
        .iter()
        .find(|l| l["fields"]["message"] == "account registered")
        .unwrap_or_else(|| panic!("no registration line in {text}"));
    assert_eq!(
        registered["span"]["request_id"], "json-trace-8",
        "{registered}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_s_metrics_show_its_containers_in_cadvisor_s_names() {
    // Disk checks each second, so the writable layers' sizes show soon.
    let mut cluster = TestCluster::master_only_with(|c| {
        c.reconcile_interval = std::time::Duration::from_secs(1);
        c.disk_check_interval = std::time::Duration::from_secs(1);
    })
    .await;
    let token = "worker-metrics-token-0123";
    cluster
        .start_worker_with(|w| {
            w.metrics = Some(yun_worker::MetricsListener {
                addr: "127.0.0.1:0".parse().unwrap(),
                token: Some(token.into()),
            })
        })
        .await;
    let addr = cluster
        .worker
        .as_ref()
        .unwrap()
        .metrics_addr
        .expect("served");
    let url = format!("http://{addr}/metrics");
    let scrape = || async { yun_testkit::scrape(&url, Some(token)).await.1 };
    assert_eq!(yun_testkit::scrape(&url, None).await.0, 401);
    let image = cluster.publish_testbox().await;
    let kim = cluster.api.sign_up("kim", "kim-rides-a-blue-tram").await;
    let c = kim.run(json!({"image": image, "ports": []})).await;
    let id = c["id"].as_str().unwrap().to_string();
    let labels = format!("{{id=\"{id}\",name=\"yun-{id}\"}}");
    let text = scrape().await;
    assert_eq!(
        value(&text, &format!("container_spec_memory_limit_bytes{labels}")),
        Some(64.0 * 1024.0 * 1024.0),
        "{text}"
    );
    assert!(
        value(
            &text,
            &format!("container_memory_working_set_bytes{labels}")
        )
        .unwrap()
            > 0.0
    );
    assert!(value(&text, &format!("container_cpu_usage_seconds_total{labels}")).is_some());
    assert!(value(
        &text,
        &format!("container_network_receive_bytes_total{labels}")
    )
    .is_some());
    assert!(
        value(
            &text,
            "yun_docker_operations_total{op=\"create\",outcome=\"ok\"}"
        )
        .unwrap_or(0.0)
            >= 1.0,
        "{text}"
    );
    assert!(
        !text.contains(
            &kim.get("/me").await.body["user"]["id"]
                .as_str()
                .unwrap()
                .to_string()
        ),
        "no user id in the series"
    );
    // The samplers' cost: every read of a container's counters is timed, the scrape's too.
    assert!(
        text.lines().any(|l| l
            .starts_with("yun_stats_read_duration_seconds_count{source=\"cgroup")
            && l.split(' ')
                .nth(1)
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
                >= 1.0),
        "{text}"
    );
    // The writable layer, as the master's last disk check measured it.
    let usage = format!("container_fs_usage_bytes{labels}");
    yun_testkit::eventually(
        std::time::Duration::from_secs(15),
        "the writable layer's size",
        || async { value(&scrape().await, &usage).is_some() },
    )
    .await;
    let text = scrape().await;
    // promtool reads it.
    if let Err(e) = yun_testkit::promtool_check_metrics(&text) {
        panic!("promtool check metrics: {e}");
    }
    // A removed container's series go.
    assert_eq!(kim.delete(&format!("/containers/{id}")).await.status, 204);
    let text = scrape().await;
    assert!(!text.contains(&id), "{text}");
}
