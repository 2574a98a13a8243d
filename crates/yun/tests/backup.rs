//! `yun master backup` of a running master under load, and a restore from it: the copy is one
//! commit's store (every balance equals its ledger), and a master started on it, with the CA
//! the backup kept beside it, is still trusted by the worker that joined before. A master
//! started on a store without its CA is refused rather than making a CA no worker trusts.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
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

fn backup(database: &str, to: &std::path::Path) -> std::process::Output {
    Command::new(YUN)
        .args(["master", "backup", "--database", database, "--to"])
        .arg(to)
        .env_remove("YUN_DATABASE")
        .output()
        .expect("running yun master backup")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backup_under_load_restores_balanced_and_the_fleet_still_trusts_the_master() {
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
    let ada_id = ada.me().await.unwrap().id;
    let (kept, _) = ada
        .create_container(&unpublished(&image, "kept"), None)
        .await
        .unwrap();

    // Load: the operator credits ada one unit at a time while the copy is made; each is a
    // ledger entry and a balance change in one transaction.
    let admin = cluster.admin.client();
    let (stop, credited) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicU64::new(0)),
    );
    let load = {
        let (admin, stop, credited, ada_id) = (
            admin.clone(),
            stop.clone(),
            credited.clone(),
            ada_id.clone(),
        );
        tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                admin.adjust_credits(&ada_id, 1, "load").await.unwrap();
                credited.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    while credited.load(Ordering::SeqCst) < 20 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let before_backup = ada.me().await.unwrap().balance;
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("yun.db");
    let made = backup(&cluster.database(), &to);
    let printed = String::from_utf8_lossy(&made.stdout).to_string();
    assert!(
        made.status.success(),
        "{printed}{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let after_backup = ada.me().await.unwrap().balance;
    let during = credited.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::SeqCst);
    load.await.unwrap();
    assert!(
        credited.load(Ordering::SeqCst) > during,
        "the load went on while the copy was made and after"
    );
    assert!(
        printed.contains("every balance equals its ledger") && printed.contains("1 containers"),
        "{printed}"
    );
    let key = std::fs::metadata(dir.path().join("ca.key")).unwrap();
    assert_eq!(
        key.permissions().mode() & 0o777,
        0o600,
        "the CA's key is the owner's alone"
    );
    assert_eq!(
        std::fs::read(dir.path().join("ca.crt")).unwrap(),
        std::fs::read(cluster.data_dir().join("ca.crt")).unwrap()
    );

    // A backup never overwrites one; a mistyped store is an error, not an empty copy.
    let first = std::fs::read(&to).unwrap();
    let again = backup(&cluster.database(), &to);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already exists"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(std::fs::read(&to).unwrap(), first);
    let missing = backup(
        &format!("sqlite://{}", dir.path().join("nothing-here.db").display()),
        &dir.path().join("copy-of-nothing.db"),
    );
    assert!(!missing.status.success());
    assert!(!dir.path().join("copy-of-nothing.db").exists());

    // A master started on the copy without its CA is refused, and says what to do.
    let bare = tempfile::tempdir().unwrap();
    std::fs::copy(&to, bare.path().join("yun.db")).unwrap();
    let refused = Command::new(YUN)
        .args(["master", "--http", "127.0.0.1:0", "--rpc", "127.0.0.1:0"])
        .arg("--database")
        .arg(format!("sqlite://{}", bare.path().join("yun.db").display()))
        .env("YUN_ADMIN_PASSWORD", PROCESS_ADMIN_PASSWORD)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{said}");
    assert!(
        said.contains("trusts the CA") && said.contains("yun master backup"),
        "{said}"
    );
    assert!(
        !bare.path().join("ca.key").exists(),
        "no new CA was made beside the copy"
    );

    // Restore: stop the master, put the copy and its CA in place of the store, start it.
    cluster.signal_master("TERM");
    assert!(cluster.wait_master_exit().success());
    for name in ["yun.db", "yun.db-wal", "yun.db-shm", "ca.crt", "ca.key"] {
        let _ = std::fs::remove_file(cluster.data_dir().join(name));
    }
    for name in ["yun.db", "ca.crt", "ca.key"] {
        std::fs::copy(dir.path().join(name), cluster.data_dir().join(name)).unwrap();
    }
    cluster.start_master().await;
    let admin = cluster
        .api
        .log_in("admin", PROCESS_ADMIN_PASSWORD)
        .await
        .client();
    let check = admin.billing_check().await.unwrap();
    assert!(check.unbalanced.is_empty(), "{:?}", check.unbalanced);
    let restored = ada.me().await.unwrap().balance;
    assert!(
        (before_backup..=after_backup).contains(&restored),
        "the copy is one commit between the backup's start and its end: {before_backup} <= {restored} <= {after_backup}"
    );

    // The worker that joined before trusts the restored master both ways: it registers and
    // heartbeats again, its container is still there, and a new one is placed on it and runs.
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
    ada.stop(&kept.id).await.unwrap();
}
