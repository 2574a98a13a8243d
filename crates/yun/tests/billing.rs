//! Money against a real engine and a real SQLite file: concurrent creates that must not
//! overdraw, per-second metering, a balance that runs out, and a master killed while metering.

use serde_json::{json, Value};
use std::time::{Duration, Instant};
use yun_core::Plan;
use yun_testkit::{eventually, Api, PortBlock, ProcessCluster, TestCluster};

const YUN: &str = env!("CARGO_BIN_EXE_yun");

/// 3,600 credits an hour: one a second.
fn metered_plan(price_per_hour: i64) -> Plan {
    Plan {
        name: "metered".into(),
        cpu_millis: 100,
        memory_mib: 64,
        pids: 64,
        price_per_hour,
    }
}

/// A cluster whose one plan is `metered` at `price_per_hour`, new accounts starting with
/// `credits`; `tune` sets the rest.
async fn metered_cluster(
    price_per_hour: i64,
    credits: i64,
    tune: impl FnOnce(&mut yun_master::MasterConfig),
) -> TestCluster {
    TestCluster::start_with(|c| {
        c.plans = vec![metered_plan(price_per_hour)];
        c.default_plan = "metered".into();
        c.pricing.signup_credits = credits;
        tune(c);
    })
    .await
}

/// Every entry of the caller's ledger, oldest last, by following the pages.
async fn ledger(api: &Api) -> Vec<Value> {
    let mut all = Vec::new();
    let mut before: Option<i64> = None;
    loop {
        let path = match before {
            Some(b) => format!("/billing/ledger?limit=200&before={b}"),
            None => "/billing/ledger?limit=200".to_string(),
        };
        let r = api.get(&path).await;
        assert_eq!(r.status, 200, "{}", r.text);
        all.extend(r.body["entries"].as_array().unwrap().iter().cloned());
        match r.body["next_before"].as_i64() {
            Some(b) => before = Some(b),
            None => return all,
        }
    }
}

/// The balance, after checking it equals the sum of the ledger (for this user and, through
/// the operator's check, for every user).
async fn balanced(api: &Api, admin: &Api) -> i64 {
    let entries = ledger(api).await;
    let sum: i64 = entries.iter().map(|e| e["amount"].as_i64().unwrap()).sum();
    let b = api.balance().await;
    assert_eq!(b, sum, "balance equals the ledger: {entries:#?}");
    assert!(b >= 0);
    let check = admin.get("/admin/billing/check").await;
    assert_eq!(check.status, 200, "{}", check.text);
    assert_eq!(
        check.body["unbalanced"],
        json!([]),
        "every balance equals its ledger"
    );
    b
}

/// What the ledger says a container cost in running time (usage less refunds).
fn usage_of(entries: &[Value], container: &str) -> i64 {
    entries
        .iter()
        .filter(|e| e["reference"] == format!("container:{container}"))
        .filter(|e| e["kind"] == "usage" || e["kind"] == "usage_refund")
        .map(|e| -e["amount"].as_i64().unwrap())
        .sum()
}

async fn container(api: &Api, id: &str) -> Value {
    let r = api.get(&format!("/containers/{id}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["container"].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn two_hundred_concurrent_creates_take_exactly_what_the_balance_admits() {
    // Minimum 300, deposit 200, first minute 60: each run takes 260 and needs 300 first, so
    // 2,700 admits exactly ten (the tenth starts from 360, an eleventh would from 100).
    let cluster = metered_cluster(3600, 2700, |c| c.max_containers_per_user = 500).await;
    let image = cluster.publish_testbox().await;
    let racer = cluster.api.sign_up("racer", "racer-password").await;
    assert_eq!(balanced(&racer, &cluster.admin).await, 2700);

    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let (api, image) = (racer.clone(), image.clone());
            tokio::spawn(async move {
                api.post(
                    "/containers",
                    json!({"image": image, "name": format!("r{i}"), "command": ["sleep", "0"], "ports": []}),
                )
                .await
            })
        })
        .collect();
    let mut made = Vec::new();
    for t in tasks {
        let r = t.await.unwrap();
        match r.status {
            201 => made.push(r.body["container"]["id"].as_str().unwrap().to_string()),
            402 => {
                assert_eq!(r.code(), "insufficient_balance");
                assert!(
                    r.message().contains("top up") && r.message().contains("balance is"),
                    "a refusal says what to do: {}",
                    r.message()
                );
            }
            other => panic!("unexpected {other}: {}", r.text),
        }
    }
    assert_eq!(made.len(), 10, "exactly ten runs fit the balance");
    let b = balanced(&racer, &cluster.admin).await;
    assert_eq!(b, 2700 - 10 * 260);
    let list = racer.get("/containers").await;
    assert_eq!(
        list.body["containers"].as_array().unwrap().len(),
        10,
        "no half-made container"
    );

    // Removing them gives back the deposits and the unused part of each first minute.
    let started = Instant::now();
    for id in &made {
        assert_eq!(racer.delete(&format!("/containers/{id}")).await.status, 204);
    }
    let ran = started.elapsed().as_secs() as i64 + 2;
    let after = balanced(&racer, &cluster.admin).await;
    assert!(
        after <= 2700 && after >= 2700 - 10 * ran,
        "refunded on removal: {after}"
    );
    let entries = ledger(&racer).await;
    assert_eq!(
        entries
            .iter()
            .filter(|e| e["kind"] == "deposit_refund")
            .count(),
        10
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_container_running_12_seconds_is_charged_12_credits() {
    // Five-second intervals: the same arithmetic as minutes, in a test that takes seconds.
    let cluster = metered_cluster(3600, 1000, |c| {
        c.pricing.metering_interval = Duration::from_secs(5);
    })
    .await;
    let image = cluster.publish_testbox().await;
    let meg = cluster.api.sign_up("meg", "meg-password").await;
    let c = meg
        .run(json!({"image": image, "command": ["serve", "8080", "metered"], "ports": []}))
        .await;
    let id = c["id"].as_str().unwrap().to_string();
    assert_eq!(c["billing"]["price_per_hour"], 3600);
    assert_eq!(c["billing"]["deposit"], 200);
    // The first interval is paid in advance.
    assert_eq!(c["billing"]["charged"], 5);
    tokio::time::sleep(Duration::from_secs(12)).await;
    let r = meg.post(&format!("/containers/{id}/stop"), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // The next meter tick gives back what was paid beyond the stop.
    let mut charged = i64::MAX;
    for _ in 0..50 {
        charged = container(&meg, &id).await["billing"]["charged"]
            .as_i64()
            .unwrap();
        if charged <= 14 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        (11..=13).contains(&charged),
        "charged {charged} for about 12 s"
    );
    let run = container(&meg, &id).await["billing"]["run_seconds"]
        .as_i64()
        .unwrap();
    assert!((11..=13).contains(&run), "ran {run} s");
    let entries = ledger(&meg).await;
    assert_eq!(usage_of(&entries, &id), charged, "the ledger says the same");
    assert!(
        entries.iter().any(|e| e["kind"] == "usage_refund"),
        "unused seconds came back as a refund"
    );
    assert_eq!(balanced(&meg, &cluster.admin).await, 1000 - 200 - charged);

    // Stopped time is free: a few seconds later nothing more is charged.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        container(&meg, &id).await["billing"]["charged"]
            .as_i64()
            .unwrap(),
        charged
    );
    assert_eq!(meg.delete(&format!("/containers/{id}")).await.status, 204);
    assert_eq!(balanced(&meg, &cluster.admin).await, 1000 - charged);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_balance_that_runs_out_suspends_and_a_top_up_lets_it_start_again() {
    // Ten credits a second, paid five seconds at a time, from 150 credits.
    let cluster = metered_cluster(36_000, 150, |c| {
        c.pricing.min_balance_to_run = 0;
        c.pricing.run_deposit = 10;
        c.pricing.metering_interval = Duration::from_secs(5);
    })
    .await;
    let image = cluster.publish_testbox().await;
    let sue = cluster.api.sign_up("sue", "sue-password").await;
    let c = sue
        .run(json!({"image": image, "command": ["serve", "8080", "sue"], "ports": []}))
        .await;
    let id = c["id"].as_str().unwrap().to_string();
    eventually(
        Duration::from_secs(30),
        "the container is suspended",
        || {
            let (sue, id) = (sue.clone(), id.clone());
            async move { container(&sue, &id).await["state"] == "suspended" }
        },
    )
    .await;
    let c = container(&sue, &id).await;
    assert!(
        c["status_reason"]
            .as_str()
            .unwrap_or("")
            .contains("balance"),
        "the reason is visible: {c}"
    );
    assert_eq!(c["desired_state"], "stopped");
    let left = balanced(&sue, &cluster.admin).await;
    assert!(
        left < 50,
        "the balance could not pay the next batch: {left}"
    );
    // Suspended, not removed: the Docker container is still there, stopped.
    let docker = yun_testkit::docker().await;
    let inspect = docker
        .inspect_container(&format!("yun-{id}"), None)
        .await
        .expect("the container still exists");
    assert_eq!(inspect.state.unwrap().running, Some(false));

    // It cannot start again before a top-up.
    let r = sue
        .post(&format!("/containers/{id}/start"), json!({}))
        .await;
    assert_eq!(r.status, 402, "{}", r.text);
    assert_eq!(r.code(), "insufficient_balance");

    // A top-up through an order the operator marks paid (the manual provider).
    let order = sue.post("/orders", json!({"credits": 1000})).await;
    assert_eq!(order.status, 201, "{}", order.text);
    assert_eq!(order.body["payment"]["provider"], "manual");
    let order_id = order.body["order"]["id"].as_str().unwrap().to_string();
    assert_eq!(order.body["order"]["state"], "pending");
    let paid = cluster
        .admin
        .post(&format!("/admin/orders/{order_id}/paid"), json!({}))
        .await;
    assert_eq!(paid.status, 200, "{}", paid.text);
    assert_eq!(paid.body["order"]["state"], "paid");
    // Marking it again credits nothing more.
    let again = cluster
        .admin
        .post(&format!("/admin/orders/{order_id}/paid"), json!({}))
        .await;
    assert_eq!(again.status, 200);
    let topped = balanced(&sue, &cluster.admin).await;
    assert_eq!(topped, left + 1000);

    let r = sue
        .post(&format!("/containers/{id}/start"), json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["container"]["state"], "running");
    assert_eq!(r.body["container"]["status_reason"], Value::Null);
    assert_eq!(
        sue.post(&format!("/containers/{id}/stop"), json!({}))
            .await
            .status,
        200
    );
    assert_eq!(sue.delete(&format!("/containers/{id}")).await.status, 204);
    balanced(&sue, &cluster.admin).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_adjustments_are_ledger_entries_and_never_overdraw() {
    let cluster = TestCluster::start_with(|c| c.pricing.signup_credits = 1000).await;
    let ann = cluster.api.sign_up("ann", "ann-password").await;
    let id = ann.get("/me").await.body["user"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/admin/users/{id}/credits");
    let r = cluster
        .admin
        .post(&path, json!({"amount": 250, "reason": "goodwill"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["balance"], 1250);
    let r = cluster
        .admin
        .post(&path, json!({"amount": -2000, "reason": "too much"}))
        .await;
    assert_eq!(r.status, 409, "{}", r.text);
    let r = cluster
        .admin
        .post(&path, json!({"amount": 10, "reason": ""}))
        .await;
    assert_eq!(r.status, 422, "a reason is required: {}", r.text);
    // Admin routes do not exist for a renter.
    assert_eq!(
        ann.post(&path, json!({"amount": 10, "reason": "me"}))
            .await
            .status,
        404
    );
    let entries = ledger(&ann).await;
    assert!(entries
        .iter()
        .any(|e| e["kind"] == "admin_adjustment" && e["note"] == "goodwill" && e["amount"] == 250));
    assert!(entries
        .iter()
        .any(|e| e["kind"] == "signup_credit" && e["amount"] == 1000));
    assert_eq!(balanced(&ann, &cluster.admin).await, 1250);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_master_killed_while_metering_charges_nothing_twice() {
    let mut cluster = ProcessCluster::start_with_file(
        YUN,
        "default_plan = \"metered\"\nmetering_interval = \"5s\"\n\n[[plans]]\nname = \"metered\"\ncpu_millis = 100\nmemory_mib = 64\npids = 64\nprice_per_hour = 36000\n",
        &["--signup-credits", "100000"],
    )
    .await;
    let ports = PortBlock::claim();
    let _worker = cluster.spawn_worker("w1", &ports, &[]);
    cluster.wait_ready("w1").await;
    let image = cluster.publish_testbox().await;
    let kim = cluster.api.sign_up("kim", "kim-password").await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let c = kim
            .run(json!({"image": image, "name": format!("m{i}"), "command": ["serve", "8080", "kim"], "ports": []}))
            .await;
        ids.push(c["id"].as_str().unwrap().to_string());
    }
    // A few batches are bought, then the master dies and stays down longer than an interval.
    tokio::time::sleep(Duration::from_secs(8)).await;
    cluster.kill_master();
    tokio::time::sleep(Duration::from_secs(8)).await;
    cluster.start_master().await;
    let kim = cluster.api.log_in("kim", "kim-password").await;
    cluster.wait_ready("w1").await;
    // Within a tick of the restart the late batch is bought: paid time covers what ran, and
    // never more than what ran plus one interval (nothing bought twice).
    tokio::time::sleep(Duration::from_secs(3)).await;
    for id in &ids {
        let c = container(&kim, id).await;
        assert_eq!(c["state"], "running", "{c}");
        let run = c["billing"]["run_seconds"].as_i64().unwrap();
        let charged = c["billing"]["charged"].as_i64().unwrap();
        assert!(
            run >= 18,
            "the containers kept running while the master was down: {run}"
        );
        assert!(
            charged >= 10 * run && charged <= 10 * (run + 5 + 2),
            "container {id}: ran {run} s, charged {charged}"
        );
    }
    balanced(&kim, &cluster.admin).await;

    // Stopped, each is charged exactly what it ran, by the ledger as by the container.
    for id in &ids {
        assert_eq!(
            kim.post(&format!("/containers/{id}/stop"), json!({}))
                .await
                .status,
            200
        );
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let entries = ledger(&kim).await;
    for id in &ids {
        let c = container(&kim, id).await;
        let charged = c["billing"]["charged"].as_i64().unwrap();
        let run = c["billing"]["run_seconds"].as_i64().unwrap();
        assert!(
            (charged - 10 * run).abs() <= 10,
            "ran {run} s, charged {charged}"
        );
        assert_eq!(usage_of(&entries, id), charged);
    }
    balanced(&kim, &cluster.admin).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_private_pull_is_paid_per_mib_and_refused_without_the_credits() {
    let cluster = TestCluster::start_with(|c| {
        c.pricing.signup_credits = 1000;
        c.pricing.pull_price_per_mib = 7;
    })
    .await;
    let registry = yun_testkit::LocalRegistry::start().await;
    let private = registry.push(
        &yun_testkit::testbox_image(),
        &format!("payer-{}/app", cluster.cluster_id()),
    );
    let payer = cluster.api.sign_up("payer", "payer-password").await;
    let r = payer
        .post("/images/pull", json!({"reference": private}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let size = r.body["image"]["size_bytes"].as_u64().unwrap();
    let price = 7 * size.div_ceil(1024 * 1024) as i64;
    assert!(price > 0);
    let entries = ledger(&payer).await;
    let pull = entries
        .iter()
        .find(|e| e["kind"] == "pull")
        .expect("a pull entry");
    assert_eq!(pull["amount"], -price);
    assert_eq!(
        pull["reference"],
        format!("image:{}", r.body["image"]["id"].as_str().unwrap())
    );
    assert_eq!(balanced(&payer, &cluster.admin).await, 1000 - price);

    // Someone who cannot pay gets a 402 that says so, and no image.
    let cluster_broke = TestCluster::start_with(|c| {
        c.pricing.signup_credits = 0;
        c.pricing.pull_price_per_mib = 7;
    })
    .await;
    let broke = cluster_broke.api.sign_up("broke", "broke-password").await;
    let r = broke
        .post("/images/pull", json!({"reference": private}))
        .await;
    assert_eq!(r.status, 402, "{}", r.text);
    assert!(r.message().contains("top up"), "{}", r.message());
    let images = broke.get("/images").await;
    assert!(
        !images.text.contains(&private),
        "nothing recorded: {}",
        images.text
    );
    assert_eq!(balanced(&broke, &cluster_broke.admin).await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_container_with_a_lifetime_is_removed_at_its_end_and_its_deposit_refunded() {
    // A floor of 5 s instead of the minute operators get, so the test takes seconds.
    let cluster = metered_cluster(3600, 1000, |c| {
        c.min_lifetime = Duration::from_secs(5);
    })
    .await;
    let image = cluster.publish_testbox().await;
    let tia = cluster.api.sign_up("tia", "tia-password").await;
    let r = tia
        .post(
            "/containers",
            json!({"image": image, "ports": [], "command": ["sleep", "0"], "expires_in": 4}),
        )
        .await;
    assert_eq!(
        r.status, 422,
        "a lifetime under the floor is refused: {}",
        r.text
    );
    let asked = Instant::now();
    let c = tia
        .run(json!({"image": image, "ports": [], "command": ["sleep", "0"], "expires_in": 8}))
        .await;
    // The lifetime counts from the request; running time, what is billed, from the start.
    let starting = asked.elapsed().as_secs() as i64;
    let id = c["id"].as_str().unwrap().to_string();
    assert!(c["expires_at"].is_string(), "{c}");
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(tia.get(&format!("/containers/{id}")).await.status, 200);
    eventually(Duration::from_secs(10), "the container is removed", || {
        let (tia, id) = (tia.clone(), id.clone());
        async move { tia.get(&format!("/containers/{id}")).await.status == 404 }
    })
    .await;
    let entries = ledger(&tia).await;
    assert!(entries
        .iter()
        .any(|e| e["kind"] == "deposit_refund" && e["reference"] == format!("container:{id}")));
    let charged = usage_of(&entries, &id);
    // An 8 s lifetime at one credit a second, less the time it took to start, removed within
    // a tick of its end.
    assert!(
        (7 - starting..=10).contains(&charged),
        "charged {charged} for about 8 s, of which {starting} s starting"
    );
    assert_eq!(balanced(&tia, &cluster.admin).await, 1000 - charged);
}
