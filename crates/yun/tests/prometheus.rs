//! A real Prometheus (Debian's package, never its system service) scrapes a master on a free
//! loopback port: a PromQL query for running containers answers the right number, `promtool
//! check metrics` passes on the endpoint, and the counters move as containers are created,
//! stopped and removed.

use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use yun_testkit::TestCluster;

struct Prometheus {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_prometheus(target: std::net::SocketAddr) -> Prometheus {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: yun\n    static_configs:\n      - targets: ['{target}']\n"
        ),
    )
    .unwrap();
    let port = yun_testkit::free_port();
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the metrics tests need Prometheus: apt-get install prometheus (scripts/test installs it)");
    // Held at once, so it is stopped and reaped whatever happens next.
    let prometheus = Prometheus {
        child,
        url: format!("http://127.0.0.1:{port}"),
        _dir: dir,
    };
    let http = reqwest::Client::new();
    for _ in 0..100 {
        let ready = http.get(format!("{}/-/ready", prometheus.url)).send().await;
        if ready.is_ok_and(|r| r.status() == 200) {
            return prometheus;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("Prometheus did not become ready");
}

impl Prometheus {
    /// The value of an instant query with one result, or None.
    async fn value(&self, promql: &str) -> Option<f64> {
        let body: Value = reqwest::Client::new()
            .get(format!("{}/api/v1/query", self.url))
            .query(&[("query", promql)])
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        body["data"]["result"][0]["value"][1].as_str()?.parse().ok()
    }

    async fn until(&self, promql: &str, want: f64) {
        let mut seen = None;
        for _ in 0..60 {
            seen = self.value(promql).await;
            if seen == Some(want) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        panic!("{promql} stayed at {seen:?}, not {want}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_real_prometheus_scrapes_the_master_and_sees_containers_come_and_go() {
    let cluster =
        TestCluster::start_with(|c| c.metrics_addr = Some("127.0.0.1:0".parse().unwrap())).await;
    let target = cluster.master.metrics_addr.unwrap();
    let image = cluster.publish_testbox().await;
    let prometheus = start_prometheus(target).await;
    let ann = cluster.api.sign_up("ann", "ann-rides-a-blue-tram").await;
    let a = ann.run(json!({"image": image, "ports": []})).await;
    let b = ann.run(json!({"image": image, "ports": []})).await;
    prometheus
        .until("yun_containers{state=\"running\"}", 2.0)
        .await;
    prometheus
        .until("yun_placements_total{outcome=\"placed\"}", 2.0)
        .await;
    prometheus.until("yun_nodes{state=\"ready\"}", 1.0).await;

    // promtool reads the endpoint as Prometheus would.
    let text = reqwest::get(format!("http://{target}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    if let Err(e) = yun_testkit::promtool_check_metrics(&text) {
        panic!("promtool check metrics: {e}");
    }

    // Every expression of the Grafana dashboard (deploy/grafana/yun.json) evaluates.
    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../deploy/grafana/yun.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let exprs: Vec<&str> = dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["targets"].as_array().unwrap())
        .map(|t| t["expr"].as_str().unwrap())
        .collect();
    assert!(exprs.len() >= 15, "{} expressions", exprs.len());
    for expr in exprs {
        let answer: Value = reqwest::Client::new()
            .get(format!("{}/api/v1/query", prometheus.url))
            .query(&[("query", expr)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(answer["status"], "success", "{expr}: {answer}");
    }

    // Stopped and removed, the counts follow; the ledger's postings are counted.
    let (a, b) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    assert_eq!(
        ann.post(&format!("/containers/{a}/stop"), json!({}))
            .await
            .status,
        200
    );
    prometheus
        .until("yun_containers{state=\"running\"}", 1.0)
        .await;
    assert_eq!(ann.delete(&format!("/containers/{b}")).await.status, 204);
    prometheus
        .until("yun_containers{state=\"running\"}", 0.0)
        .await;
    prometheus
        .until(
            "sum(yun_http_requests_total{route=\"/api/v1/containers/{id}/stop\",status=\"200\"})",
            1.0,
        )
        .await;
    prometheus
        .until("yun_ledger_postings_total{kind=\"deposit\"}", 2.0)
        .await;
    prometheus
        .until("yun_ledger_postings_total{kind=\"deposit_refund\"}", 1.0)
        .await;
    assert!(
        prometheus
            .value("yun_heartbeats_total")
            .await
            .unwrap_or(0.0)
            >= 1.0
    );
    assert!(
        prometheus
            .value("yun_certificate_expiry_timestamp_seconds{subject=\"master\"}")
            .await
            .unwrap_or(0.0)
            > chrono::Utc::now().timestamp() as f64,
        "the master's certificate expires in the future"
    );
}
