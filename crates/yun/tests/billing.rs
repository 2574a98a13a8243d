//! Money against a real engine and a real SQLite file, through the typed client: concurrent
//! creates that must not overdraw, per-second metering, a balance that runs out, and a master
//! killed while metering.

use std::time::{Duration, Instant};
use yun_api::billing::{EntryKind, LedgerEntry, OrderState};
use yun_api::containers::{Container, ContainerState, CreateContainer, DesiredState};
use yun_api::{Client, ClientError, ErrorCode};
use yun_core::Plan;
use yun_testkit::{container_spec, eventually, PortBlock, ProcessCluster, TestCluster};

const YUN: &str = env!("CARGO_BIN_EXE_yun");

/// 3,600 credits an hour: one a second.
fn metered_plan(price_per_hour: i64) -> Plan {
    Plan {
        name: "metered".into(),
        cpu_millis: 100,
        memory_mib: 64,
        pids: 64,
        disk_mib: 1024,
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
    TestCluster::start_with_on(crate::STORE, |c| {
        c.plans = vec![metered_plan(price_per_hour)];
        c.default_plan = "metered".into();
        c.pricing.signup_credits = credits;
        tune(c);
    })
    .await
}

/// Every entry of the caller's ledger, newest first, by following the pages.
async fn ledger(client: &Client) -> Vec<LedgerEntry> {
    let mut all = Vec::new();
    let mut before = None;
    loop {
        let page = client.ledger(before, Some(200)).await.unwrap();
        all.extend(page.entries);
        match page.next_before {
            Some(b) => before = Some(b),
            None => return all,
        }
    }
}

/// The balance, after checking it equals the sum of the ledger (for this user and, through
/// the operator's check, for every user).
async fn balanced(client: &Client, admin: &Client) -> i64 {
    let entries = ledger(client).await;
    let sum: i64 = entries.iter().map(|e| e.amount).sum();
    let b = client.me().await.unwrap().balance;
    assert_eq!(b, sum, "balance equals the ledger: {entries:#?}");
    assert!(b >= 0);
    let check = admin.billing_check().await.unwrap();
    assert!(
        check.unbalanced.is_empty(),
        "every balance equals its ledger: {:?}",
        check.unbalanced
    );
    b
}

/// What the ledger says a container cost in running time (usage less refunds).
fn usage_of(entries: &[LedgerEntry], container: &str) -> i64 {
    entries
        .iter()
        .filter(|e| e.reference == format!("container:{container}"))
        .filter(|e| matches!(e.kind, EntryKind::Usage | EntryKind::UsageRefund))
        .map(|e| -e.amount)
        .sum()
}

/// What the ledger says running time cost in all (usage less refunds).
fn running_time_of(entries: &[LedgerEntry]) -> i64 {
    entries
        .iter()
        .filter(|e| matches!(e.kind, EntryKind::Usage | EntryKind::UsageRefund))
        .map(|e| -e.amount)
        .sum()
}

fn count(entries: &[LedgerEntry], kind: EntryKind) -> usize {
    entries.iter().filter(|e| e.kind == kind).count()
}

/// A create with no published port (as every test here), the rest left to the server.
fn spec(image: &str, command: &[&str]) -> CreateContainer {
    CreateContainer {
        ports: Some(vec![]),
        ..container_spec(image, command)
    }
}

async fn run(client: &Client, spec: &CreateContainer) -> Container {
    client.create_container(spec, None).await.unwrap().0
}

/// A refusal's status, code and message; panics on an answer or a transport error.
fn refusal<T: std::fmt::Debug>(r: Result<T, ClientError>) -> (u16, ErrorCode, String) {
    match r {
        Err(ClientError::Api {
            status,
            code,
            message,
            ..
        }) => (status, code, message),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_hundred_concurrent_creates_take_exactly_what_the_balance_admits() {
    // Minimum 300, deposit 200, first minute 60: each run takes 260 and needs 300 first, so
    // 2,700 admits exactly ten (the tenth starts from 360, an eleventh would from 100).
    let cluster = metered_cluster(3600, 2700, |c| c.max_containers_per_user = 500).await;
    let admin = cluster.admin.client();
    let image = cluster.publish_testbox().await;
    let racer = cluster
        .api
        .sign_up("racer", "racer-rides-a-blue-tram")
        .await
        .client();
    assert_eq!(balanced(&racer, &admin).await, 2700);

    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let racer = racer.clone();
            let spec = CreateContainer {
                name: Some(format!("r{i}")),
                ..spec(&image, &["sleep", "0"])
            };
            tokio::spawn(async move { racer.create_container(&spec, None).await })
        })
        .collect();
    let mut made = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok((c, _)) => made.push(c.id),
            Err(ClientError::Api {
                code: ErrorCode::InsufficientBalance,
                message,
                ..
            }) => {
                assert!(
                    message.contains("top up") && message.contains("balance is"),
                    "a refusal says what to do: {message}"
                );
            }
            Err(other) => panic!("unexpected: {other}"),
        }
    }
    assert_eq!(made.len(), 10, "exactly ten runs fit the balance");
    let b = balanced(&racer, &admin).await;
    assert_eq!(b, 2700 - 10 * 260);
    assert_eq!(
        racer.containers(false).await.unwrap().len(),
        10,
        "no half-made container"
    );

    // Removing them gives back the deposits and the unused part of each first minute.
    let started = Instant::now();
    for id in &made {
        racer.remove_container(id).await.unwrap();
    }
    let ran = started.elapsed().as_secs() as i64 + 2;
    let after = balanced(&racer, &admin).await;
    assert!(
        after <= 2700 && after >= 2700 - 10 * ran,
        "refunded on removal: {after}"
    );
    assert_eq!(count(&ledger(&racer).await, EntryKind::DepositRefund), 10);
    // What triggers kept for the metrics agrees with the rows, refusals rolled back included.
    kept_figures_agree(&cluster.database).await;
}

/// The figures triggers keep for the metrics (containers and orders by state, the ledger's
/// totals by kind) equal what counting the rows gives, on either engine.
pub(crate) async fn kept_figures_agree(database: &str) {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut db = sqlx::AnyConnection::connect(database).await.unwrap();
    for (kept, counted) in [
        (
            "SELECT state, containers, CAST(0 AS BIGINT) FROM container_state_counts",
            "SELECT state, COUNT(*), CAST(0 AS BIGINT) FROM containers GROUP BY state",
        ),
        (
            "SELECT state, orders, CAST(0 AS BIGINT) FROM order_state_counts",
            "SELECT state, COUNT(*), CAST(0 AS BIGINT) FROM orders GROUP BY state",
        ),
        (
            "SELECT kind, entries, credits FROM ledger_totals",
            "SELECT kind, COUNT(*), CAST(SUM(ABS(amount)) AS BIGINT) FROM ledger GROUP BY kind",
        ),
    ] {
        let mut rows = async |sql: &str| -> Vec<(String, i64, i64)> {
            let mut out: Vec<(String, i64, i64)> = sqlx::query_as(sql)
                .fetch_all(&mut db)
                .await
                .unwrap()
                .into_iter()
                // A state or kind whose count went back to zero keeps its row.
                .filter(|r: &(String, i64, i64)| r.1 != 0)
                .collect();
            out.sort();
            out
        };
        let (kept_rows, counted_rows) = (rows(kept).await, rows(counted).await);
        assert_eq!(kept_rows, counted_rows, "{kept}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_container_running_12_seconds_is_charged_12_credits() {
    // Five-second intervals: the same arithmetic as minutes, in a test that takes seconds.
    let cluster = metered_cluster(3600, 1000, |c| {
        c.pricing.metering_interval = Duration::from_secs(5);
    })
    .await;
    let admin = cluster.admin.client();
    let image = cluster.publish_testbox().await;
    let meg = cluster
        .api
        .sign_up("meg", "meg-rides-a-blue-tram")
        .await
        .client();
    let c = run(&meg, &spec(&image, &["serve", "8080", "metered"])).await;
    let id = c.id.clone();
    assert_eq!(c.billing.price_per_hour, 3600);
    assert_eq!(c.billing.deposit, 200);
    // The first interval is paid in advance.
    assert_eq!(c.billing.charged, 5);
    // It ran at most from the create's answer to the stop's (a loaded machine stops slowly).
    let created = Instant::now();
    tokio::time::sleep(Duration::from_secs(12)).await;
    meg.stop(&id).await.unwrap();
    let ran = created.elapsed().as_secs() as i64 + 1;
    // The next meter tick gives back what was paid beyond the stop: one credit a second run.
    let mut billing = meg.container(&id).await.unwrap().billing;
    for _ in 0..50 {
        if billing.charged <= billing.run_seconds + 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        billing = meg.container(&id).await.unwrap().billing;
    }
    let (charged, run_seconds) = (billing.charged, billing.run_seconds);
    assert!(
        (11..=ran).contains(&run_seconds),
        "ran {run_seconds} s of the {ran} s between the create and the stop"
    );
    assert!(
        (charged - run_seconds).abs() <= 1,
        "charged {charged} for {run_seconds} s"
    );
    let entries = ledger(&meg).await;
    assert_eq!(usage_of(&entries, &id), charged, "the ledger says the same");
    assert!(
        count(&entries, EntryKind::UsageRefund) > 0,
        "unused seconds came back as a refund"
    );
    assert_eq!(balanced(&meg, &admin).await, 1000 - 200 - charged);

    // Stopped time is free: a few seconds later nothing more is charged.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(meg.container(&id).await.unwrap().billing.charged, charged);
    meg.remove_container(&id).await.unwrap();
    assert_eq!(balanced(&meg, &admin).await, 1000 - charged);
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
    let admin = cluster.admin.client();
    let image = cluster.publish_testbox().await;
    let sue = cluster
        .api
        .sign_up("sue", "sue-rides-a-blue-tram")
        .await
        .client();
    let id = run(&sue, &spec(&image, &["serve", "8080", "sue"])).await.id;
    eventually(
        Duration::from_secs(30),
        "the container is suspended",
        || {
            let (sue, id) = (sue.clone(), id.clone());
            async move { sue.container(&id).await.unwrap().state == ContainerState::Suspended }
        },
    )
    .await;
    let c = sue.container(&id).await.unwrap();
    assert!(
        c.status_reason.as_deref().unwrap_or("").contains("balance"),
        "the reason is visible: {c:?}"
    );
    assert_eq!(c.desired_state, DesiredState::Stopped);
    let left = balanced(&sue, &admin).await;
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
    let (status, code, _) = refusal(sue.start(&id).await);
    assert_eq!((status, code), (402, ErrorCode::InsufficientBalance));

    // A top-up through an order the operator marks paid (the manual provider).
    let made = sue.create_order(1000).await.unwrap();
    assert_eq!(made.payment.provider, "manual");
    assert_eq!(made.order.state, OrderState::Pending);
    let paid = admin.mark_paid(&made.order.id).await.unwrap();
    assert_eq!(paid.state, OrderState::Paid);
    // Marking it again credits nothing more.
    admin.mark_paid(&made.order.id).await.unwrap();
    let topped = balanced(&sue, &admin).await;
    assert_eq!(topped, left + 1000);

    let c = sue.start(&id).await.unwrap();
    assert_eq!(c.state, ContainerState::Running);
    assert_eq!(c.status_reason, None);
    sue.stop(&id).await.unwrap();
    sue.remove_container(&id).await.unwrap();
    balanced(&sue, &admin).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_adjustments_are_ledger_entries_and_never_overdraw() {
    let cluster =
        TestCluster::start_with_on(crate::STORE, |c| c.pricing.signup_credits = 1000).await;
    let admin = cluster.admin.client();
    let ann = cluster
        .api
        .sign_up("ann", "ann-rides-a-blue-tram")
        .await
        .client();
    let id = ann.me().await.unwrap().id;
    assert_eq!(
        admin.adjust_credits(&id, 250, "goodwill").await.unwrap(),
        1250
    );
    let (status, code, _) = refusal(admin.adjust_credits(&id, -2000, "too much").await);
    assert_eq!((status, code), (409, ErrorCode::BalanceTooLow));
    let (status, _, message) = refusal(admin.adjust_credits(&id, 10, "").await);
    assert_eq!(status, 422, "a reason is required: {message}");
    // Admin routes do not exist for a renter.
    let (status, _, _) = refusal(ann.adjust_credits(&id, 10, "me").await);
    assert_eq!(status, 404);
    let entries = ledger(&ann).await;
    assert!(entries
        .iter()
        .any(|e| e.kind == EntryKind::AdminAdjustment && e.note == "goodwill" && e.amount == 250));
    assert!(entries
        .iter()
        .any(|e| e.kind == EntryKind::SignupCredit && e.amount == 1000));
    assert_eq!(balanced(&ann, &admin).await, 1250);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_master_killed_while_metering_charges_nothing_twice() {
    let mut cluster = ProcessCluster::start_with_file_on(
        crate::STORE,
        YUN,
        "default_plan = \"metered\"\nmetering_interval = \"5s\"\n\n[[plans]]\nname = \"metered\"\ncpu_millis = 100\nmemory_mib = 64\npids = 64\nprice_per_hour = 36000\n",
        &["--signup-credits", "100000"],
    )
    .await;
    let ports = PortBlock::claim();
    let _worker = cluster.spawn_worker("w1", &ports, &[]);
    cluster.wait_ready("w1").await;
    let image = cluster.publish_testbox().await;
    let kim = cluster
        .api
        .sign_up("kim", "kim-rides-a-blue-tram")
        .await
        .client();
    let mut ids = Vec::new();
    for i in 0..3 {
        let spec = CreateContainer {
            name: Some(format!("m{i}")),
            ..spec(&image, &["serve", "8080", "kim"])
        };
        ids.push(run(&kim, &spec).await.id);
    }
    // A few batches are bought, then the master dies and stays down longer than an interval.
    tokio::time::sleep(Duration::from_secs(8)).await;
    cluster.kill_master();
    tokio::time::sleep(Duration::from_secs(8)).await;
    cluster.start_master().await;
    let kim = cluster
        .api
        .log_in("kim", "kim-rides-a-blue-tram")
        .await
        .client();
    let admin = cluster.admin.client();
    cluster.wait_ready("w1").await;
    // Within a tick of the restart the late batch is bought: paid time covers what ran, and
    // never more than what ran plus one interval (nothing bought twice).
    tokio::time::sleep(Duration::from_secs(3)).await;
    for id in &ids {
        let c = kim.container(id).await.unwrap();
        assert_eq!(c.state, ContainerState::Running, "{c:?}");
        let (run, charged) = (c.billing.run_seconds, c.billing.charged);
        assert!(
            run >= 18,
            "the containers kept running while the master was down: {run}"
        );
        assert!(
            charged >= 10 * run && charged <= 10 * (run + 5 + 2),
            "container {id}: ran {run} s, charged {charged}"
        );
    }
    balanced(&kim, &admin).await;

    // Stopped, each is charged exactly what it ran, and the ledger's running time (one entry
    // a tick for all three) is the sum of what each container says it was charged.
    for id in &ids {
        kim.stop(id).await.unwrap();
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let entries = ledger(&kim).await;
    let mut charged_in_all = 0;
    for id in &ids {
        let billing = kim.container(id).await.unwrap().billing;
        let (run, charged) = (billing.run_seconds, billing.charged);
        assert!(
            (charged - 10 * run).abs() <= 10,
            "ran {run} s, charged {charged}"
        );
        charged_in_all += charged;
    }
    assert_eq!(running_time_of(&entries), charged_in_all);
    assert!(
        entries
            .iter()
            .any(|e| e.kind == EntryKind::Usage && e.reference == "containers"),
        "the meter bought the three containers' intervals in one entry: {entries:#?}"
    );
    balanced(&kim, &admin).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_private_pull_is_paid_per_mib_and_refused_without_the_credits() {
    let cluster = TestCluster::start_with_on(crate::STORE, |c| {
        c.pricing.signup_credits = 1000;
        c.pricing.pull_price_per_mib = 7;
    })
    .await;
    let registry = yun_testkit::LocalRegistry::start().await;
    let private = registry.push(
        &yun_testkit::testbox_image(),
        &format!("payer-{}/app", cluster.cluster_id()),
    );
    let payer = cluster
        .api
        .sign_up("payer", "payer-rides-a-blue-tram")
        .await
        .client();
    let image = payer.pull(&private).await.unwrap();
    let price = 7 * image.size_bytes.div_ceil(1024 * 1024) as i64;
    assert!(price > 0);
    let entries = ledger(&payer).await;
    let pull = entries
        .iter()
        .find(|e| e.kind == EntryKind::Pull)
        .expect("a pull entry");
    assert_eq!(pull.amount, -price);
    assert_eq!(pull.reference, format!("image:{}", image.id));
    assert_eq!(
        balanced(&payer, &cluster.admin.client()).await,
        1000 - price
    );

    // Someone who cannot pay gets a 402 that says so, and no image.
    let cluster_broke = TestCluster::start_with_on(crate::STORE, |c| {
        c.pricing.signup_credits = 0;
        c.pricing.pull_price_per_mib = 7;
    })
    .await;
    let broke = cluster_broke
        .api
        .sign_up("broke", "broke-rides-a-blue-tram")
        .await
        .client();
    let (status, code, message) = refusal(broke.pull(&private).await);
    assert_eq!((status, code), (402, ErrorCode::InsufficientBalance));
    assert!(message.contains("top up"), "{message}");
    let images = broke.images().await.unwrap();
    assert!(
        images.iter().all(|i| i.reference != private),
        "nothing recorded: {images:?}"
    );
    assert_eq!(balanced(&broke, &cluster_broke.admin.client()).await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_container_with_a_lifetime_is_removed_at_its_end_and_its_deposit_refunded() {
    // A floor of 5 s instead of the minute operators get, so the test takes seconds.
    let cluster = metered_cluster(3600, 1000, |c| {
        c.min_lifetime = Duration::from_secs(5);
    })
    .await;
    let image = cluster.publish_testbox().await;
    let tia = cluster
        .api
        .sign_up("tia", "tia-rides-a-blue-tram")
        .await
        .client();
    let lived = |seconds| CreateContainer {
        expires_in: Some(seconds),
        ..spec(&image, &["sleep", "0"])
    };
    let (status, code, message) = refusal(tia.create_container(&lived(4), None).await);
    assert_eq!(
        (status, code),
        (422, ErrorCode::InvalidInput),
        "a lifetime under the floor is refused: {message}"
    );
    let asked = Instant::now();
    let c = run(&tia, &lived(8)).await;
    // The lifetime counts from the request; running time, what is billed, from the start.
    let starting = asked.elapsed().as_secs() as i64;
    let id = c.id.clone();
    assert!(c.expires_at.is_some(), "{c:?}");
    tokio::time::sleep(Duration::from_secs(6)).await;
    tia.container(&id).await.unwrap();
    eventually(Duration::from_secs(10), "the container is removed", || {
        let (tia, id) = (tia.clone(), id.clone());
        async move {
            matches!(tia.container(&id).await, Err(e) if e.code() == Some(ErrorCode::NotFound))
        }
    })
    .await;
    let entries = ledger(&tia).await;
    assert!(entries
        .iter()
        .any(|e| e.kind == EntryKind::DepositRefund && e.reference == format!("container:{id}")));
    let charged = usage_of(&entries, &id);
    // An 8 s lifetime at one credit a second, less the time it took to start, removed within
    // a tick of its end.
    assert!(
        (7 - starting..=10).contains(&charged),
        "charged {charged} for about 8 s, of which {starting} s starting"
    );
    assert_eq!(
        balanced(&tia, &cluster.admin.client()).await,
        1000 - charged
    );
}

/// A flood of orders cannot grow the orders table (or open trades at the provider) without
/// end: an account holds at most `max_pending_orders` unpaid ones, counted in the write
/// transaction, so even a burst in parallel stops at the cap; cancelling one frees a place.
#[tokio::test(flavor = "multi_thread")]
async fn an_account_holds_a_bounded_number_of_unpaid_orders() {
    let cluster =
        TestCluster::master_only_with_on(crate::STORE, |c| c.payments.max_pending_orders = 3).await;
    let bo = cluster
        .api
        .sign_up("bea", "bea-rides-a-blue-tram")
        .await
        .client();
    let burst: Vec<_> = (0..8).map(|_| bo.create_order(100)).collect();
    let results = futures::future::join_all(burst).await;
    let made: Vec<String> = results
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|m| m.order.id.clone())
        .collect();
    assert_eq!(made.len(), 3, "{results:?}");
    let refused = results.into_iter().find(|r| r.is_err()).unwrap();
    let (status, code, message) = refusal(refused);
    assert_eq!((status, code), (403, ErrorCode::QuotaExceeded), "{message}");
    assert!(message.contains("pay or cancel one"), "{message}");
    bo.cancel_order(&made[0]).await.unwrap();
    bo.create_order(100)
        .await
        .expect("a cancelled order frees a place");
    let (status, code, _) = refusal(bo.create_order(100).await);
    assert_eq!((status, code), (403, ErrorCode::QuotaExceeded));
}
