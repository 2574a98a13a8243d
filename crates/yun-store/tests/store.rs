//! The store's own rules, each test on a real SQLite file and on a PostgreSQL database of its
//! own, no Docker: what logins leave behind
//! (repeated failures share one audit entry, the log is trimmed by its retention, known
//! devices are forgotten by a ban or a password change), placement batches and their
//! savepoints, the unique keys a write runs into (and an idempotency key raced by concurrent
//! creates), the meter's purchases, settlements and closes, orders credited once, every balance
//! equal to its ledger after each of them, and the triggers held to yun-core's sets.

use std::time::Duration;
use yun_store::{NewSession, Store};

async fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("yun.db").display());
    (dir, Store::open(&url).await.expect("a store"))
}

/// A store on its own new database of the test server.
async fn postgres_store() -> (String, Store) {
    let url = yun_store::scratch::new_database(&yun_store::scratch::test_server())
        .await
        .expect("a database of its own on the test server");
    let store = Store::open(&url).await.expect("a store on PostgreSQL");
    (url, store)
}

/// Each of these runs once on SQLite and once on PostgreSQL, as `sqlite::NAME` and
/// `postgres::NAME`.
macro_rules! on_both_engines {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let (_dir, store) = super::store().await;
                    super::$name(store).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let (_url, store) = super::postgres_store().await;
                    super::$name(store).await
                }
            )*
        }
    };
}

async fn log_in(store: &Store, user_id: &str, device_hash: &str) -> String {
    store
        .create_session(&NewSession {
            token_hash: &format!("session-{}", yun_core::new_id()),
            user_id,
            lifetime_ms: 60_000,
            source: "192.0.2.1",
            user_agent: "test",
            device_hash,
        })
        .await
        .unwrap()
}

async fn a_flood_of_failures_grows_one_entry_per_account_and_source(store: Store) {
    for _ in 0..200 {
        for source in ["203.0.113.1", "203.0.113.2"] {
            store
                .audit_tallied(
                    &format!("login_failed user:u1 {source} stranger"),
                    "anonymous",
                    "login_failed",
                    "user:u1",
                    &format!("from {source}"),
                )
                .await
                .unwrap();
        }
    }
    let page = yun_store::Page {
        after: None,
        limit: 100,
    };
    let log = store.audit_log(&page).await.unwrap();
    let failed: Vec<_> = log.iter().filter(|r| r.action == "login_failed").collect();
    assert_eq!(failed.len(), 2, "one entry per source: {failed:?}");
    assert!(failed.iter().all(|r| r.repeats == 200), "{failed:?}");
    assert!(failed.iter().all(|r| r.last_at >= r.at));
}

async fn the_audit_log_keeps_entries_for_its_retention(store: Store) {
    store
        .audit("admin:a", "credits_adjusted", "user:u1", "+5")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(30)).await;
    assert_eq!(
        store.purge_audit(3_600_000).await.unwrap(),
        0,
        "within retention"
    );
    assert_eq!(store.purge_audit(10).await.unwrap(), 1, "past it");
    let page = yun_store::Page {
        after: None,
        limit: 10,
    };
    assert!(store.audit_log(&page).await.unwrap().is_empty());
}

async fn a_password_change_keeps_only_its_own_device_and_a_ban_forgets_them_all(store: Store) {
    let ann = store
        .create_user("ann", "not-a-real-hash", yun_core::Role::User, 0, None)
        .await
        .unwrap();
    let laptop = log_in(&store, &ann.id, "laptop").await;
    log_in(&store, &ann.id, "thiefs-phone").await;
    for device in ["laptop", "thiefs-phone"] {
        assert_eq!(
            store.known_device_owner(device).await.unwrap().as_deref(),
            Some("ann")
        );
    }
    assert_eq!(store.known_device_owner("never-seen").await.unwrap(), None);

    store
        .change_password(&format!("user:{}", ann.id), &ann.id, "new-hash", &laptop)
        .await
        .unwrap();
    assert_eq!(
        store.known_device_owner("laptop").await.unwrap().as_deref(),
        Some("ann"),
        "the device the change came from stays known"
    );
    assert_eq!(
        store.known_device_owner("thiefs-phone").await.unwrap(),
        None
    );

    store.set_banned("admin:a", &ann.id, true).await.unwrap();
    store.set_banned("admin:a", &ann.id, false).await.unwrap();
    assert_eq!(
        store.known_device_owner("laptop").await.unwrap(),
        None,
        "an unban revives no device"
    );
}

async fn an_account_keeps_a_bounded_number_of_devices(store: Store) {
    let bo = store
        .create_user("bo", "not-a-real-hash", yun_core::Role::User, 0, None)
        .await
        .unwrap();
    for i in 0..30 {
        log_in(&store, &bo.id, &format!("device-{i:02}")).await;
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let mut known = 0;
    for i in 0..30 {
        if store
            .known_device_owner(&format!("device-{i:02}"))
            .await
            .unwrap()
            .is_some()
        {
            known += 1;
        }
    }
    assert_eq!(known, 20, "the twenty used last");
    assert!(store
        .known_device_owner("device-29")
        .await
        .unwrap()
        .is_some());
    assert!(store
        .known_device_owner("device-00")
        .await
        .unwrap()
        .is_none());
}

async fn a_device_token_given_to_one_account_never_becomes_anothers(store: Store) {
    let a = store
        .create_user("cy", "h", yun_core::Role::User, 0, None)
        .await
        .unwrap();
    let b = store
        .create_user("di", "h", yun_core::Role::User, 0, None)
        .await
        .unwrap();
    log_in(&store, &a.id, "shared").await;
    log_in(&store, &b.id, "shared").await;
    assert_eq!(
        store.known_device_owner("shared").await.unwrap().as_deref(),
        Some("cy")
    );
}

fn policy() -> yun_core::admission::Policy {
    yun_core::admission::Policy {
        max_containers_per_user: 10,
        max_ports_per_user: 10,
        min_balance_to_run: 300,
        interval_secs: 60,
        ranking: yun_core::scheduler::Ranking::Spread,
    }
}

fn node_snapshot() -> yun_core::scheduler::NodeSnapshot {
    yun_core::scheduler::NodeSnapshot {
        id: "node-1".into(),
        name: "w1".into(),
        cpu_capacity_millis: 4000,
        memory_bytes: 4 << 30,
        reserved_cpu_millis: 0,
        reserved_memory_bytes: 0,
        port_range: (20000, 20009),
        refuses: None,
    }
}

fn request(owner: &str, name: &str, host_port: Option<u16>) -> yun_store::PlaceRequest {
    let id = yun_core::new_id();
    yun_store::PlaceRequest {
        row: yun_store::NewContainer {
            id: id.clone(),
            owner_id: owner.into(),
            name: name.into(),
            image_id: "image-1".into(),
            image_ref: "demo:1".into(),
            image_pin: "sha256:00".into(),
            plan: "nano".into(),
            cpu_millis: 250,
            memory_bytes: 64 << 20,
            pids: 64,
            disk_bytes: 1 << 30,
            node_id: String::new(),
            command: vec![],
            env: vec![],
            ports: vec![],
            restart: yun_core::RestartPolicy::No,
            idempotency_key: None,
            price_per_hour: 60,
            deposit: 200,
            paid_ms: 60_000,
            charged: 1,
            expires_at: None,
            created_at: 0,
            read_only: false,
        },
        fallback_name: None,
        wanted: vec![yun_core::admission::WantedPort {
            container_port: 80,
            host_port,
            protocol: yun_core::Protocol::Tcp,
        }],
    }
}

/// The sum of a user's ledger, read page by page.
async fn ledger_sum(store: &Store, user_id: &str) -> i64 {
    let mut sum = 0;
    let mut before = None;
    loop {
        let page = store.ledger_page(user_id, before, 200).await.unwrap();
        let Some(last) = page.last() else {
            return sum;
        };
        before = Some(last.id);
        sum += page.iter().map(|e| e.amount).sum::<i64>();
    }
}

/// The node `node_snapshot` describes, as its registration writes it.
async fn add_node(store: &Store) {
    store
        .upsert_node(&yun_store::NodeUpsert {
            id: "node-1".into(),
            name: "w1".into(),
            advertise: "127.0.0.1:1".into(),
            public_host: "127.0.0.1".into(),
            port_range: (20000, 20009),
            cpu_cores: 4,
            memory_bytes: 4 << 30,
            version: "test".into(),
            unenforced_limits: vec![],
            allow_unenforced: false,
            boot_id: "boot".into(),
        })
        .await
        .unwrap();
}

/// A renter, ann, with `credits`, and the node `node_snapshot` describes.
async fn renter_beside_the_node(store: &Store, credits: i64) -> yun_store::UserRow {
    let ann = store
        .create_user("ann", "x", yun_core::Role::User, credits, None)
        .await
        .unwrap();
    add_node(store).await;
    ann
}

async fn a_refused_request_of_a_batch_leaves_nothing_and_the_others_are_placed(store: Store) {
    let ann = renter_beside_the_node(&store, 1000).await;
    let batch = [
        request(&ann.id, "first", Some(20005)),
        // The same chosen port as the request before it in the batch: refused.
        request(&ann.id, "second", Some(20005)),
        // A taken name, chosen by the renter: refused.
        request(&ann.id, "first", None),
        request(&ann.id, "third", None),
    ];
    let results = store
        .place(&batch, &[], vec![node_snapshot()], &policy())
        .await
        .unwrap();
    let outcome: Vec<_> = results
        .iter()
        .map(|r| match r {
            Ok(p) => format!("placed {}", p.row.ports[0].host_port),
            Err(yun_store::NotPlaced::Refused(r)) => format!("refused: {r}"),
            Err(yun_store::NotPlaced::Store(e)) => format!("store: {e}"),
        })
        .collect();
    assert_eq!(
        outcome,
        [
            "placed 20005",
            "refused: host port 20005 is already taken on node w1",
            "refused: you already have a container named 'first'",
            "placed 20000",
        ]
    );
    // Two deposits and two first intervals taken, nothing of the refused ones.
    let balance = store.balance(&ann.id).await.unwrap().unwrap();
    assert_eq!(balance, 1000 - 2 * (200 + 1));
    assert_eq!(ledger_sum(&store, &ann.id).await, balance);
    assert!(store.unbalanced_users().await.unwrap().is_empty());
    for (request, placed) in batch.iter().zip(&results) {
        let row = store.get_container(None, &request.row.id).await.unwrap();
        assert_eq!(row.is_some(), placed.is_ok(), "{}", request.row.name);
    }
    // The next batch sees the first one's memory and ports.
    let poor = [request(&ann.id, "fourth", Some(20000))];
    let again = store
        .place(&poor, &[], vec![node_snapshot()], &policy())
        .await
        .unwrap();
    assert!(
        matches!(
            &again[0],
            Err(yun_store::NotPlaced::Refused(
                yun_core::admission::Refusal::PortTaken { port: 20000, .. }
            ))
        ),
        "{again:?}"
    );
    assert_eq!(store.balance(&ann.id).await.unwrap().unwrap(), balance);
}

async fn a_unique_key_a_write_runs_into_is_named_without_prose(store: Store) {
    use yun_store::{NotPlaced, StoreError, Unique};
    let ann = store
        .create_user("ann", "x", yun_core::Role::User, 1000, None)
        .await
        .unwrap();
    let again = store
        .create_user("ann", "y", yun_core::Role::User, 1000, None)
        .await;
    assert!(
        matches!(again, Err(StoreError::Conflict(Unique::Username))),
        "{again:?}"
    );
    let mut first = request(&ann.id, "one", None);
    first.row.idempotency_key = Some("key-1".into());
    let mut second = request(&ann.id, "two", None);
    second.row.idempotency_key = Some("key-1".into());
    add_node(&store).await;
    let results = store
        .place(&[first, second], &[], vec![node_snapshot()], &policy())
        .await
        .unwrap();
    assert!(results[0].is_ok(), "{:?}", results[0]);
    assert!(
        matches!(
            results[1],
            Err(NotPlaced::Store(StoreError::Conflict(
                Unique::IdempotencyKey
            )))
        ),
        "{:?}",
        results[1]
    );
    // The refused one took no money.
    let balance = store.balance(&ann.id).await.unwrap().unwrap();
    assert_eq!(balance, 1000 - (200 + 1));
    assert_eq!(ledger_sum(&store, &ann.id).await, balance);
}

/// A user with `credits` and three containers running on node-1 at 3,600 credits an hour (one
/// a second): `a` paid for its first 10 s, `b` and `c` for 30 s.
async fn three_running(store: &Store, credits: i64) -> (String, [String; 3]) {
    let ann = renter_beside_the_node(store, credits).await;
    let batch: Vec<_> = [("a", 10_000), ("b", 30_000), ("c", 30_000)]
        .into_iter()
        .map(|(name, paid_ms)| {
            let mut r = request(&ann.id, name, None);
            r.row.price_per_hour = 3600;
            r.row.paid_ms = paid_ms;
            r.row.charged = paid_ms / 1000;
            r
        })
        .collect();
    let placed = store
        .place(&batch, &[], vec![node_snapshot()], &policy())
        .await
        .unwrap();
    assert!(placed.iter().all(Result::is_ok), "{placed:?}");
    let ids: Vec<String> = batch.iter().map(|r| r.row.id.clone()).collect();
    let running: Vec<_> = ids
        .iter()
        .map(|id| (id.clone(), yun_core::ContainerState::Running, None))
        .collect();
    store.set_actual_states(&running).await.unwrap();
    (ann.id, ids.try_into().unwrap())
}

async fn charged(store: &Store, id: &str) -> i64 {
    store
        .get_container(None, id)
        .await
        .unwrap()
        .unwrap()
        .charged
}

/// The meter's purchases in a user's ledger (the entries it writes for several containers).
async fn purchases(store: &Store, user_id: &str) -> Vec<yun_store::LedgerRow> {
    let page = store.ledger_page(user_id, None, 200).await.unwrap();
    page.into_iter()
        .filter(|e| e.kind == "usage" && e.reference == "containers")
        .collect()
}

/// Balance equals ledger, for this user and for every user.
async fn balanced(store: &Store, user_id: &str) -> i64 {
    let balance = store.balance(user_id).await.unwrap().unwrap();
    assert_eq!(ledger_sum(store, user_id).await, balance);
    assert!(store.unbalanced_users().await.unwrap().is_empty());
    balance
}

async fn the_meter_buys_a_renters_containers_together_in_one_entry_and_settles_each(store: Store) {
    let (ann, [a, b, c]) = three_running(&store, 1000).await;
    assert_eq!(balanced(&store, &ann).await, 1000 - 3 * 200 - 10 - 30 - 30);
    tokio::time::sleep(Duration::from_millis(1100)).await;

    // Only a's paid time ends within the lead; b and c are bought with it.
    let tick = store.meter_tick(20_000, 60_000).await.unwrap();
    let after = [
        charged(&store, &a).await,
        charged(&store, &b).await,
        charged(&store, &c).await,
    ];
    assert!(
        after[0] >= 61 && after[1] == after[0] && after[2] == after[0],
        "{after:?}"
    );
    assert_eq!(tick.charged, after.iter().sum::<i64>() - 70);
    assert!(tick.short.is_empty());
    let bought = purchases(&store, &ann).await;
    assert_eq!(bought.len(), 1, "one entry for the three: {bought:?}");
    assert_eq!(bought[0].amount, -tick.charged);
    let balance = balanced(&store, &ann).await;

    // Paid together, they are due together: nothing is bought until then.
    let again = store.meter_tick(20_000, 60_000).await.unwrap();
    assert_eq!(again.charged, 0);
    assert_eq!(purchases(&store, &ann).await.len(), 1);

    // Stopped, b gets back the paid time it did not use at the next tick.
    store
        .set_actual_states(&[(b.clone(), yun_core::ContainerState::Stopped, Some(0))])
        .await
        .unwrap();
    let settled = store.meter_tick(20_000, 60_000).await.unwrap();
    let b_now = store.get_container(None, &b).await.unwrap().unwrap();
    assert!(settled.refunded >= 55, "{settled:?}");
    assert_eq!(b_now.charged, after[1] - settled.refunded);
    assert_eq!(b_now.charged, yun_core::pricing::cost(3600, b_now.run_ms));
    assert_eq!(balanced(&store, &ann).await, balance + settled.refunded);

    // Removed, c's unused time and deposit come back, and the entry says what it cost.
    store.delete_container(&c).await.unwrap();
    let page = store.ledger_page(&ann, None, 200).await.unwrap();
    let refund = page
        .iter()
        .find(|e| e.kind == "deposit_refund" && e.reference == format!("container:{c}"))
        .expect("the deposit came back");
    assert_eq!(refund.amount, 200);
    assert!(refund.note.contains("cost"), "{}", refund.note);
    assert!(store.get_container(None, &c).await.unwrap().is_none());
    balanced(&store, &ann).await;
}

async fn a_renter_who_cannot_pay_for_all_still_gets_the_due_ones_then_is_short(store: Store) {
    let (ann, [a, b, c]) = three_running(&store, 1000).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // 330 left; all three would cost about 113, a alone about 51.
    store
        .adjust_balance("admin:t", &ann, -250, "test")
        .await
        .unwrap();
    let tick = store.meter_tick(20_000, 60_000).await.unwrap();
    assert!(tick.short.is_empty(), "{tick:?}");
    assert!(charged(&store, &a).await >= 61);
    assert_eq!(
        (charged(&store, &b).await, charged(&store, &c).await),
        (30, 30)
    );
    let left = balanced(&store, &ann).await;
    assert_eq!(left, 80 - tick.charged);

    // Now b and c are due and nothing pays them: short, and nothing changes.
    store
        .adjust_balance("admin:t", &ann, -left, "test")
        .await
        .unwrap();
    let short = store.meter_tick(45_000, 60_000).await.unwrap();
    assert_eq!(short.short, std::slice::from_ref(&ann));
    assert_eq!(short.charged, 0);
    assert_eq!(
        (charged(&store, &b).await, charged(&store, &c).await),
        (30, 30)
    );
    assert_eq!(balanced(&store, &ann).await, 0);
}

/// The `IN (…)` list of a trigger's `WHEN`, as states.
fn states_in_trigger(db: &rusqlite::Connection, name: &str) -> Vec<yun_core::ContainerState> {
    let sql: String = db
        .query_row(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?1",
            [name],
            |r| r.get(0),
        )
        .unwrap();
    let list = sql.split("IN (").nth(1).unwrap().split(')').next().unwrap();
    let mut states: Vec<_> = list
        .split(',')
        .map(|s| yun_core::ContainerState::parse(s.trim().trim_matches('\'')).expect(s))
        .collect();
    states.sort_by_key(|s| s.as_str());
    states
}

#[tokio::test]
async fn the_meters_triggers_name_exactly_the_cores_metered_set() {
    let (dir, store) = store().await;
    drop(store);
    let db = rusqlite::Connection::open(dir.path().join("yun.db")).unwrap();
    let mut metered = yun_core::ContainerState::METERED.to_vec();
    metered.sort_by_key(|s| s.as_str());
    for trigger in ["containers_meter_open", "containers_meter_close"] {
        assert_eq!(states_in_trigger(&db, trigger), metered, "{trigger}");
    }
}

async fn concurrent_creates_with_one_idempotency_key_make_one_container_and_take_one_deposit(
    store: Store,
) {
    use yun_store::{NotPlaced, StoreError, Unique};
    let ann = renter_beside_the_node(&store, 1000).await;
    // Eight clients retry one create at once, each its own batch: the key decides.
    let attempts: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            let mut r = request(&ann.id, &format!("retry-{i}"), None);
            r.row.idempotency_key = Some("one-create".into());
            tokio::spawn(async move {
                store
                    .place(&[r], &[], vec![node_snapshot()], &policy())
                    .await
                    .unwrap()
                    .remove(0)
            })
        })
        .collect();
    let mut results = Vec::new();
    for attempt in attempts {
        results.push(attempt.await.unwrap());
    }
    let placed = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(placed, 1, "{results:?}");
    for r in results.iter().filter(|r| r.is_err()) {
        assert!(
            matches!(
                r,
                Err(NotPlaced::Store(StoreError::Conflict(
                    Unique::IdempotencyKey
                )))
            ),
            "{r:?}"
        );
    }
    let found = store
        .container_by_idempotency_key(&ann.id, "one-create")
        .await
        .unwrap()
        .expect("the one container");
    assert!(found.name.starts_with("retry-"), "{}", found.name);
    // One deposit and one first interval; one host port held.
    assert_eq!(balanced(&store, &ann.id).await, 1000 - (200 + 1));
    assert_eq!(found.ports.len(), 1);
}

async fn an_order_credits_once_and_every_balance_still_equals_its_ledger(store: Store) {
    let ann = store
        .create_user("ann", "x", yun_core::Role::User, 0, None)
        .await
        .unwrap();
    let order = |credits| yun_store::NewOrder {
        user_id: ann.id.clone(),
        credits,
        amount_minor: credits,
        currency: "CNY".into(),
        provider: "manual".into(),
        ttl_ms: 60_000,
    };
    let paid = store.create_order(order(500), 5).await.unwrap().unwrap();
    let cancelled = store.create_order(order(700), 5).await.unwrap().unwrap();
    assert_eq!(balanced(&store, &ann.id).await, 0);

    // The provider's notify arrives three times at once: one credit.
    let notifies: Vec<_> = (0..3)
        .map(|_| {
            let (store, id) = (store.clone(), paid.id.clone());
            tokio::spawn(async move { store.settle_order(&id, Some("T1"), "manual").await })
        })
        .collect();
    let mut answers = Vec::new();
    for notify in notifies {
        answers.push(notify.await.unwrap().unwrap());
    }
    let credited = answers
        .iter()
        .filter(|a| matches!(a, yun_store::Settled::Credited(_)))
        .count();
    assert_eq!(credited, 1, "{answers:?}");
    assert_eq!(balanced(&store, &ann.id).await, 500);

    // A cancelled order credits nothing, however often it is confirmed.
    store.cancel_order(&ann.id, &cancelled.id).await.unwrap();
    let late = store
        .settle_order(&cancelled.id, Some("T2"), "manual")
        .await
        .unwrap();
    assert!(
        matches!(late, yun_store::Settled::NotPayable(_)),
        "{late:?}"
    );
    assert_eq!(balanced(&store, &ann.id).await, 500);
}

/// The states a PL/pgSQL function's `IN (...)` lists name, sorted (each list must be the same).
fn states_in_function(source: &str) -> Vec<String> {
    let lists: Vec<Vec<String>> = source
        .split("IN (")
        .skip(1)
        .map(|rest| {
            let mut states: Vec<String> = rest[..rest.find(')').unwrap()]
                .split(',')
                .map(|s| s.trim().trim_matches('\'').to_string())
                .collect();
            states.sort();
            states
        })
        .collect();
    assert!(!lists.is_empty(), "no state list in {source}");
    assert!(lists.windows(2).all(|w| w[0] == w[1]), "{lists:?}");
    lists[0].clone()
}

#[tokio::test]
async fn the_meters_trigger_on_postgres_names_exactly_the_cores_metered_set() {
    use sqlx::Connection;
    let (url, store) = postgres_store().await;
    drop(store);
    let mut db = sqlx::PgConnection::connect(&url).await.unwrap();
    let source: String =
        sqlx::query_scalar("SELECT prosrc FROM pg_proc WHERE proname = 'containers_meter'")
            .fetch_one(&mut db)
            .await
            .unwrap();
    let mut metered: Vec<String> = yun_core::ContainerState::METERED
        .iter()
        .map(|s| s.as_str().to_string())
        .collect();
    metered.sort();
    assert_eq!(states_in_function(&source), metered);
}

on_both_engines!(
    concurrent_creates_with_one_idempotency_key_make_one_container_and_take_one_deposit,
    a_unique_key_a_write_runs_into_is_named_without_prose,
    a_flood_of_failures_grows_one_entry_per_account_and_source,
    the_audit_log_keeps_entries_for_its_retention,
    a_password_change_keeps_only_its_own_device_and_a_ban_forgets_them_all,
    an_account_keeps_a_bounded_number_of_devices,
    a_device_token_given_to_one_account_never_becomes_anothers,
    a_refused_request_of_a_batch_leaves_nothing_and_the_others_are_placed,
    the_meter_buys_a_renters_containers_together_in_one_entry_and_settles_each,
    a_renter_who_cannot_pay_for_all_still_gets_the_due_ones_then_is_short,
    an_order_credits_once_and_every_balance_still_equals_its_ledger,
);
