//! The WAL must start over while writes never pause. SQLite restarts it only after a
//! checkpoint has copied every frame, which a checkpoint running beside a busy writer never
//! manages: the scale benchmark's WAL once reached 4.2 GB. Real SQLite files, real store.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use yun_store::Store;

/// More writes than fit in `LIMIT` even at one 4 KiB frame each: a WAL that never restarted
/// would end larger than that.
const WRITES: usize = 12_000;
const LIMIT: u64 = 16 << 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wal_restarts_under_sustained_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("yun.db");
    let store = Store::open(&format!("sqlite://{}", path.display()))
        .await
        .expect("a store");

    let writing = Arc::new(AtomicBool::new(true));
    let checkpoints = tokio::spawn({
        let (store, writing) = (store.clone(), writing.clone());
        async move {
            let mut n = 0;
            while writing.load(Ordering::Relaxed) {
                store.checkpoint().await.expect("a checkpoint");
                n += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            n
        }
    });
    let wal = path.with_extension("db-wal");
    let mut largest = 0;
    for i in 0..WRITES {
        store
            .create_user(
                &format!("user{i}"),
                "not-a-real-hash",
                yun_core::Role::User,
                1000,
                None,
            )
            .await
            .expect("a write");
        if i % 100 == 0 {
            largest = largest.max(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0));
        }
    }
    writing.store(false, Ordering::Relaxed);
    let checkpoints = checkpoints.await.unwrap();
    largest = largest.max(std::fs::metadata(&wal).unwrap().len());

    assert!(checkpoints > 1, "the checkpoints ran beside the writes");
    assert!(
        largest < LIMIT,
        "the WAL reached {largest} bytes after {WRITES} writes and {checkpoints} checkpoints; \
         it must restart instead of growing"
    );
}
