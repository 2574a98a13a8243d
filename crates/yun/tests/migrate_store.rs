//! `yun master migrate-store`: a store the suite made on SQLite (accounts, sessions, an access
//! token, containers, a removal's refund, orders, events, the fleet's join token) moved into
//! an empty PostgreSQL database, and a master started on it: every balance and ledger as it
//! was, the same sessions and token, the worker still trusting it, new ids past the old ones.
//! A move is refused while a master holds the store, and into a database that is not empty.

use std::process::Command;
use std::time::Duration;
use yun_api::containers::{ContainerState, CreateContainer};
use yun_testkit::{container_spec, PortBlock, ProcessCluster, PROCESS_ADMIN_PASSWORD};

const YUN: &str = env!("CARGO_BIN_EXE_yun");

fn unpublished(image: &str, name: &str) -> CreateContainer {
    CreateContainer {
        name: Some(name.into()),
        ports: Some(vec![]),
        ..container_spec(image, &[])
    }
}

fn migrate(from: &str, to: &str) -> (bool, String) {
    let out = Command::new(YUN)
        .args(["master", "migrate-store", "--from", from, "--to", to])
        .output()
        .expect("running yun master migrate-store");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), said)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sqlite_store_moves_to_postgres_with_every_row_and_the_fleet_still_trusts_it() {
    let mut cluster = ProcessCluster::start(YUN, &[]).await;
    let ports = PortBlock::claim();
    let _worker = cluster.spawn_worker("w1", &ports, &[]);
    cluster.wait_ready("w1").await;
    let image = cluster.publish_testbox().await;
    let ada = cluster
        .api
        .sign_up("ada", "ada-rides-a-blue-tram")
        .await
        .client();
    let (kept, _) = ada
        .create_container(&unpublished(&image, "kept"), None)
        .await
        .unwrap();
    let (gone, _) = ada
        .create_container(&unpublished(&image, "gone"), None)
        .await
        .unwrap();
    ada.remove_container(&gone.id).await.unwrap();
    let admin = cluster.admin.client();
    let paid = ada.create_order(100).await.unwrap().order;
    admin.mark_paid(&paid.id).await.unwrap();
    ada.create_order(150).await.unwrap();
    let token = ada.create_access_token("ci", 30).await.unwrap().token;
    let ledger_before = ada.ledger(None, Some(100)).await.unwrap();

    // Refused while the master holds the store.
    let target = yun_store::scratch::new_database(&yun_store::scratch::test_server())
        .await
        .unwrap();
    let (ok, said) = migrate(&cluster.database(), &target);
    assert!(
        !ok && said.contains("a running master holds this store"),
        "{said}"
    );

    cluster.signal_master("TERM");
    assert!(cluster.wait_master_exit().success());
    let (ok, said) = migrate(&cluster.database(), &target);
    assert!(ok, "{said}");
    assert!(
        said.contains("every table's count and every balance checked"),
        "{said}"
    );
    for table in [
        "users",
        "containers",
        "ledger",
        "orders",
        "sessions",
        "access_tokens",
        "container_events",
        "join_tokens",
    ] {
        let line = said
            .lines()
            .find(|l| l.split_whitespace().next() == Some(table))
            .unwrap_or_else(|| panic!("{table} in {said}"));
        let n: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        assert!(n > 0, "{line}");
    }
    // A second move into it is refused: it is a store now.
    let (ok, said) = migrate(&cluster.database(), &target);
    assert!(!ok && said.contains("is not empty"), "{said}");

    cluster.use_store(&target);
    cluster.start_master().await;
    let admin = cluster
        .api
        .log_in("admin", PROCESS_ADMIN_PASSWORD)
        .await
        .client();
    let check = admin.billing_check().await.unwrap();
    assert!(check.unbalanced.is_empty(), "{:?}", check.unbalanced);
    // The same session and the same token, the same ledger to the entry.
    assert_eq!(
        ada.ledger(None, Some(100)).await.unwrap().entries,
        ledger_before.entries
    );
    assert_eq!(ada.me().await.unwrap().balance, ledger_before.balance);
    let by_token = cluster.api.with_token(&token).client();
    assert_eq!(by_token.me().await.unwrap().username, "ada");

    // The worker trusts the master on its new store; what it places gets ids past the old.
    cluster.wait_ready("w1").await;
    cluster
        .eventually(Duration::from_secs(20), "kept still runs", || async {
            ada.container(&kept.id).await.ok().map(|c| c.state) == Some(ContainerState::Running)
        })
        .await;
    let (fresh, _) = ada
        .create_container(&unpublished(&image, "fresh"), None)
        .await
        .unwrap();
    assert_eq!(fresh.state, ContainerState::Running, "{fresh:?}");
    let newest = ada.ledger(None, Some(1)).await.unwrap().entries[0].id;
    assert!(
        newest > ledger_before.entries[0].id,
        "new entries follow the copied ones"
    );
    let again = admin.billing_check().await.unwrap();
    assert!(again.unbalanced.is_empty(), "{:?}", again.unbalanced);
}
