//! schemathesis against a fresh `yun dev`: every phase (examples, coverage, fuzzing,
//! stateful), checking that no answer is a server error (only the designed 503s, with
//! Retry-After, may pass), that statuses, content types and bodies conform to the spec, and
//! that the fuzzer reached the business logic: every operation it may call got a 2xx.
//!
//! Not fuzzed, because the fuzzer would revoke its own access or the fleet's (each is tested by
//! hand elsewhere): logout and unpublishing an image (tests/client.rs; the fuzzer learns the
//! catalog's ids from the lists and would take away the image it runs), ban and unban
//! (tests/isolation.rs, hardening), cordon and uncordon (tests/fleet.rs), forgetting a node (it
//! revokes the fleet's only worker; tests/fleet_trust.rs). Called but never 2xx
//! by design: the stats, console and terminal WebSockets (a plain GET is a 426;
//! tests/streams.rs and tests/browser.rs open them) and the payment callback
//! (a 2xx needs the provider's signature; tests/payments.rs).

use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use yun_testkit::{testbox_image, Api, Cleanup, DevProcess, LocalRegistry, PortBlock};

const YUN: &str = env!("CARGO_BIN_EXE_yun");
/// The version `scripts/test` and `.ci/run` install.
const SCHEMATHESIS: &str = "4.32.5";
const NOT_FUZZED: &[&str] = &[
    "logout",
    "ban_user",
    "unban_user",
    "cordon_node",
    "uncordon_node",
    "unpublish_image",
    "forget_node",
    // Ending a session can end the fuzzer's own (tested in accounts.rs and streams.rs).
    "end_session",
];
const NO_2XX_BY_DESIGN: &[&str] = &[
    "GET /api/v1/containers/{id}/stats",
    "GET /api/v1/containers/{id}/exec",
    "GET /api/v1/containers/{id}/terminal",
    "POST /api/v1/payments/{provider}/notify",
];

fn schemathesis_version() -> String {
    let out = Command::new("st").arg("--version").output().unwrap_or_else(|e| {
        panic!("the fuzz test needs schemathesis: pip install schemathesis=={SCHEMATHESIS} (scripts/test installs it): {e}")
    });
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn schemathesis_finds_no_failure() {
    let version = schemathesis_version();
    assert!(
        version.ends_with(SCHEMATHESIS),
        "schemathesis {SCHEMATHESIS} is pinned; found '{version}': pip install schemathesis=={SCHEMATHESIS}"
    );
    yun_testkit::docker().await;
    let registry = LocalRegistry::start().await;
    let tag = |repo: &str| {
        registry.push(
            &testbox_image(),
            &format!("fuzz-{}/{repo}", std::process::id()),
        )
    };
    let (image, pullable, publishable) = (tag("testbox"), tag("pullable"), tag("publishable"));

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("yun.toml");
    std::fs::write(
        &config,
        format!(
            "allowed_registries = [\"{}\"]\nsignup_credits = 1000000000000000\nmax_containers_per_user = 30\n",
            registry.addr
        ),
    )
    .unwrap();
    let ports = PortBlock::claim();
    let data = dir.path().join("data");
    let dev = DevProcess::start(
        YUN,
        &data,
        &ports,
        Some("fuzz-admin-rides-a-blue-tram"),
        Some(&config),
    );
    let url = dev.api_url();
    let admin = Api::new(&url)
        .log_in("admin", "fuzz-admin-rides-a-blue-tram")
        .await;
    let nodes = admin.get("/admin/nodes").await;
    let _cleanup = Cleanup(nodes.body["cluster_id"].as_str().unwrap().to_string());
    let r = admin
        .post("/admin/images", json!({ "reference": image }))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let renter = Api::new(&url)
        .sign_up("fuzzer", "fuzzer-rides-a-blue-tram")
        .await;
    let user_id = renter.get("/me").await.body["user"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // The renter can run the catalog's image before the fuzzer starts.
    let c = renter.post("/containers", json!({ "image": image })).await;
    assert_eq!(c.status, 201, "{}", c.text);
    let c_id = c.body["container"]["id"].as_str().unwrap();
    assert_eq!(
        renter.delete(&format!("/containers/{c_id}")).await.status,
        204
    );
    let order = renter.post("/orders", json!({ "credits": 1000 })).await;
    let order_id = order.body["order"]["id"].as_str().unwrap().to_string();

    let record = dir.path().join("calls.ndjson");
    let st_config = dir.path().join("schemathesis.toml");
    std::fs::write(&st_config, schemathesis_config(&user_id, &order_id)).unwrap();
    let hooks = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemathesis");
    let root = url.trim_end_matches("/api/v1");
    let out = Command::new("st")
        .arg("--config-file")
        .arg(&st_config)
        .args(["run", &format!("{root}/api/openapi.json")])
        .args(["--phases", "examples,coverage,fuzzing,stateful"])
        .args(["--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,designed_unavailability"])
        .args(["--workers", "2", "--no-color"])
        // Its cache stays in the run's own directory, not in the checkout.
        .current_dir(dir.path())
        .env("PYTHONPATH", &hooks)
        .env("SCHEMATHESIS_HOOKS", "hooks")
        .env("YUN_FUZZ_TOKEN", renter.token.as_deref().unwrap())
        .env("YUN_FUZZ_ADMIN_TOKEN", admin.token.as_deref().unwrap())
        .env("YUN_FUZZ_IMAGE", &image)
        .env("YUN_FUZZ_PULLABLE", &pullable)
        .env("YUN_FUZZ_PUBLISHABLE", &publishable)
        .env("YUN_FUZZ_USERNAME", "fuzzer")
        .env("YUN_FUZZ_PASSWORD", "fuzzer-rides-a-blue-tram")
        .env("YUN_FUZZ_RECORD", &record)
        .output()
        .expect("running st");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "schemathesis found failures (above)");

    // What the fuzzer reached, from the hooks' record.
    let calls: Vec<Value> = std::fs::read_to_string(&record)
        .expect("the hooks recorded the calls")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut by_op: BTreeMap<String, BTreeMap<u64, usize>> = BTreeMap::new();
    let mut codes: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut phases = BTreeSet::new();
    for c in &calls {
        let op = c["operation"].as_str().unwrap().to_string();
        if let Some(code) = c["code"].as_str() {
            *codes
                .entry(op.clone())
                .or_default()
                .entry(code.to_string())
                .or_default() += 1;
        }
        *by_op
            .entry(op)
            .or_default()
            .entry(c["status"].as_u64().unwrap())
            .or_default() += 1;
        phases.insert(c["phase"].as_str().unwrap_or_default().to_lowercase());
    }
    println!("{} cases; phases seen: {phases:?}", calls.len());
    for (op, statuses) in &by_op {
        let refused = codes.get(op).cloned().unwrap_or_default();
        println!("  {op:<50} {statuses:?} {refused:?}");
    }
    assert!(calls.len() >= 1000, "only {} cases ran", calls.len());
    assert!(
        phases.iter().any(|p| p.contains("stateful")),
        "the stateful phase did not run: {phases:?}"
    );
    let spec: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let mut unreached = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let label = format!("{} {path}", method.to_uppercase());
            let id = op["operationId"].as_str().unwrap();
            if NOT_FUZZED.contains(&id) || NO_2XX_BY_DESIGN.contains(&label.as_str()) {
                continue;
            }
            let reached = by_op
                .get(&label)
                .is_some_and(|s| s.keys().any(|st| (200..300).contains(st)));
            if !reached {
                unreached.push(label);
            }
        }
    }
    assert!(unreached.is_empty(), "no 2xx for: {unreached:?}");
    drop(dev);
}

fn schemathesis_config(user_id: &str, order_id: &str) -> String {
    format!(
        r#"headers = {{ Authorization = "Bearer ${{YUN_FUZZ_TOKEN}}" }}
# A stop waits up to the 10 s grace for a container that ignores SIGTERM.
request-timeout = 30
suppress-health-check = ["too_slow", "filter_too_much"]

[generation]
max-examples = 50

[checks.not_a_server_error]
# What is not a server error: everything below 500, and 503, of which only the designed
# ones pass `designed_unavailability` (hooks.py).
expected-statuses = ["1XX", "2XX", "3XX", "4XX", 503]

# The first block that matches an operation is the one that applies: the specific ones first.
[[operations]]
include-operation-id = {not_fuzzed:?}
enabled = false

[[operations]]
include-operation-id = "adjust_credits"
headers = {{ Authorization = "Bearer ${{YUN_FUZZ_ADMIN_TOKEN}}" }}
parameters = {{ id = "{user_id}" }}

[[operations]]
include-operation-id = "mark_order_paid"
headers = {{ Authorization = "Bearer ${{YUN_FUZZ_ADMIN_TOKEN}}" }}
parameters = {{ id = "{order_id}" }}

# A followed stream never ends (following is tested by hand: tests/streams.rs, tests/client.rs).
[[operations]]
include-operation-id = ["container_events", "container_logs"]
parameters = {{ follow = "false" }}

[[operations]]
include-path-regex = "^/api/v1/admin/"
headers = {{ Authorization = "Bearer ${{YUN_FUZZ_ADMIN_TOKEN}}" }}
"#,
        not_fuzzed = NOT_FUZZED,
    )
}
