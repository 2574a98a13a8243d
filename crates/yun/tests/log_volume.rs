//! A container that writes 50 MB of logs while followed: every line arrives, once, in order,
//! and the worker's memory stays flat while they pass. Its own test binary, so the CPU it takes
//! does not disturb the timing-sensitive stream tests.

use futures::StreamExt;
use std::time::{Duration, Instant};
use yun_api::containers::CreateContainer;
use yun_testkit::procfs::rss_kib;
use yun_testkit::{PortBlock, ProcessCluster};

const YUN: &str = env!("CARGO_BIN_EXE_yun");

#[tokio::test(flavor = "multi_thread")]
async fn fifty_megabytes_of_logs_arrive_whole_and_in_order_in_bounded_memory() {
    let cluster = ProcessCluster::start(YUN, &[]).await;
    let ports = PortBlock::claim();
    let worker = cluster.spawn_worker("w1", &ports, &[]);
    cluster.wait_ready("w1").await;
    let image = cluster.publish_testbox().await;
    let user = cluster
        .api
        .sign_up("loud", "loud-rides-a-blue-tram")
        .await
        .client();
    // 50,000 lines of 1,000 bytes at 5 MB/s, after a pause so the follower is there first.
    // (Unpaced, the engine's json-file follower skips lines when the file rotates under it.)
    const LINES: u64 = 50_000;
    let command = [
        "sleep",
        "2",
        "lines",
        &LINES.to_string(),
        "1000",
        "5000",
        "sleep",
        "0",
    ];
    let spec = CreateContainer {
        ports: Some(Vec::new()),
        ..yun_testkit::container_spec(&image, &command)
    };
    let (c, _) = user.create_container(&spec, None).await.unwrap();
    let pid = worker.child.id();
    let before = rss_kib(pid);
    let body = user.logs(&c.id, None, true).await.unwrap();
    futures::pin_mut!(body);
    let (mut next, mut partial, mut bytes) = (0u64, Vec::new(), 0usize);
    // The worker's resident memory once the stream is under way: the log thread's allocator
    // heap and the stream's buffers are in place by then.
    let (mut settled, mut peak) = (None, before);
    let started = Instant::now();
    while next < LINES {
        let chunk = tokio::time::timeout(Duration::from_secs(30), body.next())
            .await
            .expect("lines keep coming")
            .unwrap()
            .unwrap();
        bytes += chunk.len();
        partial.extend_from_slice(&chunk);
        while let Some(i) = partial.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = partial.drain(..=i).collect();
            let expected = format!("line {next:010} ");
            assert!(
                line.starts_with(expected.as_bytes()),
                "line {next} out of order: got {:?}",
                String::from_utf8_lossy(&line[..line.len().min(40)])
            );
            assert_eq!(line.len(), 1001, "line {next} whole");
            next += 1;
        }
        if next % 5000 == 0 {
            let now = rss_kib(pid);
            settled.get_or_insert(now);
            peak = peak.max(now);
        }
    }
    peak = peak.max(rss_kib(pid));
    assert_eq!(bytes, 50_050_000, "every byte, once");
    let mib = |kib: u64| kib as f64 / 1024.0;
    let settled = settled.expect("measured at line 5,000");
    // What 45 MB passing costs: nothing that grows with the log. mimalloc's pages come and go
    // by 3 to 13 MiB here (beside the whole suite); a worker holding the log would grow by 45.
    let passing = mib(peak.saturating_sub(settled));
    assert!(
        passing < 24.0,
        "the worker's RSS grew {passing:.1} MiB while 45 MB passed (from {settled} KiB)"
    );
    // Once: the log thread's heap. mimalloc keeps what it committed for it (16 to 26 MiB
    // here); with MIMALLOC_ARENA_EAGER_COMMIT=0, or the system allocator, the whole run adds
    // about 3 MiB.
    let once = mib(settled.saturating_sub(before));
    assert!(
        once < 32.0,
        "the worker's RSS grew {once:.1} MiB as the stream began (from {before} KiB)"
    );
    eprintln!(
        "50 MB followed in {:?}; worker RSS grew {once:.1} MiB as it began and {passing:.1} MiB while it passed",
        started.elapsed()
    );
}
