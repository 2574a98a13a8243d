//! The store's own rules for what logins leave behind: repeated failures share one audit
//! entry, the log is trimmed by its retention, and known devices are forgotten by a ban or a
//! password change. Real SQLite files, no Docker.

use std::time::Duration;
use yun_master::store::{NewSession, Store};

async fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("yun.db").display());
    (dir, Store::open(&url).await.expect("a store"))
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

#[tokio::test]
async fn a_flood_of_failures_grows_one_entry_per_account_and_source() {
    let (_dir, store) = store().await;
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
    let page = yun_master::store::Page {
        after: None,
        limit: 100,
    };
    let log = store.audit_log(&page).await.unwrap();
    let failed: Vec<_> = log.iter().filter(|r| r.action == "login_failed").collect();
    assert_eq!(failed.len(), 2, "one entry per source: {failed:?}");
    assert!(failed.iter().all(|r| r.repeats == 200), "{failed:?}");
    assert!(failed.iter().all(|r| r.last_at >= r.at));
}

#[tokio::test]
async fn the_audit_log_keeps_entries_for_its_retention() {
    let (_dir, store) = store().await;
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
    let page = yun_master::store::Page {
        after: None,
        limit: 10,
    };
    assert!(store.audit_log(&page).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_password_change_keeps_only_its_own_device_and_a_ban_forgets_them_all() {
    let (_dir, store) = store().await;
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

#[tokio::test]
async fn an_account_keeps_a_bounded_number_of_devices() {
    let (_dir, store) = store().await;
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

#[tokio::test]
async fn a_device_token_given_to_one_account_never_becomes_anothers() {
    let (_dir, store) = store().await;
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
