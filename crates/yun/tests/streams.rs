//! Live streams on the real engine: stats over an owner-only WebSocket, logs followed as they
//! are written, the exec console, and pull progress shared between identical pulls.

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use yun_testkit::{fetch, Api, LocalRegistry, TestCluster, WebSocket};

/// JSON messages from a stats socket for `window`.
async fn collect(ws: &mut WebSocket, window: Duration) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + window;
    let mut got = Vec::new();
    while let Ok(Some(msg)) = tokio::time::timeout_at(deadline, ws.next()).await {
        if let Message::Text(t) = msg.expect("a frame") {
            got.push(serde_json::from_str(&t).expect("JSON"));
        }
    }
    got
}

fn stats_of(msgs: &[Value]) -> Vec<&Value> {
    msgs.iter().filter(|m| m["type"] == "stats").collect()
}

/// The docker CLI's memory figure for a container, in bytes.
fn docker_cli_memory(id: &str) -> f64 {
    let out = std::process::Command::new("docker")
        .args([
            "stats",
            "--no-stream",
            "--format",
            "{{.MemUsage}}",
            &format!("yun-{id}"),
        ])
        .output()
        .expect("docker stats");
    let text = String::from_utf8_lossy(&out.stdout);
    let used = text.split('/').next().unwrap().trim();
    let (num, unit) = used.split_at(used.find(|c: char| c.is_ascii_alphabetic()).unwrap());
    let n: f64 = num.parse().unwrap();
    n * match unit {
        "B" => 1.0,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        other => panic!("unit {other}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn stats_come_from_cgroups_to_the_owner_only() {
    let cluster = TestCluster::start().await;
    let image = cluster.publish_testbox().await;
    let olga = cluster.api.sign_up("olga", "olga-password").await;
    let mallory = cluster.api.sign_up("mallory", "mallory-password").await;
    let holder = olga
        .run(json!({"image": image, "plan": "small", "command": ["alloc", "50"], "ports": []}))
        .await;
    let burner = olga
        .run(json!({"image": image, "plan": "small", "command": ["burn"], "ports": []}))
        .await;
    let (holder, burner) = (
        holder["id"].as_str().unwrap().to_string(),
        burner["id"].as_str().unwrap().to_string(),
    );

    // Refused before any upgrade: anonymous, another user, a container that does not exist.
    let anonymous = Api::new(&olga.base);
    assert_eq!(
        anonymous
            .websocket(&format!("/containers/{holder}/stats"))
            .await
            .err(),
        Some(401)
    );
    assert_eq!(
        mallory
            .websocket(&format!("/containers/{holder}/stats"))
            .await
            .err(),
        Some(404)
    );
    assert_eq!(
        olga.websocket("/containers/nosuchcontainer0/stats")
            .await
            .err(),
        Some(404)
    );

    // At least three samples in four seconds, with memory and pids.
    let mut ws = olga
        .websocket(&format!("/containers/{holder}/stats"))
        .await
        .unwrap();
    let msgs = collect(&mut ws, Duration::from_secs(4)).await;
    assert_eq!(msgs[0]["type"], "state", "the state comes first: {msgs:?}");
    assert_eq!(msgs[0]["state"], "running");
    let samples = stats_of(&msgs);
    assert!(samples.len() >= 3, "samples in 4 s: {msgs:?}");
    let last = samples.last().unwrap();
    assert!(last["memory_bytes"].as_u64().unwrap() > 0 && last["pids"].as_u64().unwrap() > 0);
    assert_eq!(last["memory_limit_bytes"], 256u64 << 20);
    let cgroups = std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists()
        || std::path::Path::new("/sys/fs/cgroup/memory").is_dir();
    if cgroups {
        assert!(
            last["source"].as_str().unwrap().starts_with("cgroup-"),
            "read from cgroups on this host: {last}"
        );
    }
    // 50 MiB held reads within 10% of what the docker CLI shows.
    let ours = last["memory_bytes"].as_f64().unwrap();
    let cli = docker_cli_memory(&holder);
    assert!(ours > 50.0 * 1024.0 * 1024.0 * 0.95, "holds 50 MiB: {ours}");
    assert!(
        (ours - cli).abs() <= cli * 0.10,
        "ours {ours} vs docker CLI {cli}"
    );

    // Closing the socket stops the node's sampler.
    ws.close(None).await.unwrap();
    drop(ws);
    let activity = cluster.worker.as_ref().unwrap().activity.clone();
    let deadline = Instant::now() + Duration::from_secs(5);
    while activity.samplers() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(activity.samplers(), 0, "nobody watches, nothing is sampled");

    // A burner on a 0.5-CPU plan: half a core, the whole quota.
    let mut ws = olga
        .websocket(&format!("/containers/{burner}/stats"))
        .await
        .unwrap();
    let msgs = collect(&mut ws, Duration::from_secs(5)).await;
    let samples = stats_of(&msgs);
    assert!(samples.len() >= 4, "{msgs:?}");
    let settled = &samples[samples.len() - 3..];
    let mean = |k: &str| settled.iter().map(|s| s[k].as_f64().unwrap()).sum::<f64>() / 3.0;
    let (cpu, quota) = (mean("cpu_percent"), mean("cpu_limit_percent"));
    assert!(
        (40.0..=60.0).contains(&cpu),
        "cpu_percent {cpu}: {settled:?}"
    );
    assert!(
        (80.0..=100.0).contains(&quota),
        "cpu_limit_percent {quota}: {settled:?}"
    );

    // A state change reaches the subscriber.
    let r = olga
        .post(&format!("/containers/{burner}/stop"), json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let msgs = collect(&mut ws, Duration::from_secs(3)).await;
    assert!(
        msgs.iter()
            .any(|m| m["type"] == "state" && m["state"] == "stopped"),
        "{msgs:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_followed_log_shows_a_new_line_within_a_second() {
    let cluster = TestCluster::start().await;
    let image = cluster.publish_testbox().await;
    let lena = cluster.api.sign_up("lena", "lena-password").await;
    let c = lena
        .run(json!({"image": image, "command": ["print", "1", "booted", "serve", "8080", "ok"], "ports": [{"container_port": 8080}]}))
        .await;
    let id = c["id"].as_str().unwrap().to_string();
    let endpoint = c["ports"][0]["endpoint"].as_str().unwrap().to_string();
    yun_testkit::fetch_eventually(&endpoint).await;
    let resp = lena
        .get_stream(&format!("/containers/{id}/logs?follow=true&format=ndjson"))
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/x-ndjson");
    let mut body = resp.bytes_stream();
    let mut seen = String::new();
    // What was written before: stdout and stderr told apart.
    while !(seen.contains("\"booted 0\"") && seen.contains("\"err booted 0\"")) {
        let chunk = tokio::time::timeout(Duration::from_secs(5), body.next())
            .await
            .expect("old lines arrive")
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    for line in seen.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let expect = if v["line"].as_str().unwrap().starts_with("err ") {
            "stderr"
        } else {
            "stdout"
        };
        assert_eq!(v["stream"], expect, "{line}");
    }
    // A line written now arrives within a second.
    for n in 0..3 {
        let marker = format!("fresh-{n}-{}", yun_core::new_id());
        let asked = Instant::now();
        let endpoint = endpoint.clone();
        let m = marker.clone();
        tokio::spawn(async move {
            let _ = reqwest::Client::builder()
                .no_proxy()
                .build()
                .unwrap()
                .get(format!("http://{endpoint}/log/{m}"))
                .send()
                .await;
        });
        let mut buf = String::new();
        while !buf.contains(&marker) {
            let chunk = tokio::time::timeout(Duration::from_secs(3), body.next())
                .await
                .expect("the new line arrives")
                .unwrap()
                .unwrap();
            buf.push_str(&String::from_utf8_lossy(&chunk));
        }
        let took = asked.elapsed();
        assert!(took < Duration::from_secs(1), "a new line took {took:?}");
    }
    let _ = fetch(&endpoint).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_console_echoes_and_reports_the_exit_code() {
    let cluster = TestCluster::start().await;
    let image = cluster.publish_testbox().await;
    let ed = cluster.api.sign_up("eddie", "eddie-password").await;
    let eve = cluster.api.sign_up("eve", "eve-password").await;
    let c = ed.run(json!({"image": image, "ports": []})).await;
    let id = c["id"].as_str().unwrap().to_string();

    assert_eq!(
        eve.websocket(&format!(
            "/containers/{id}/exec?command=/testbox&command=cat"
        ))
        .await
        .err(),
        Some(404)
    );
    assert_eq!(
        Api::new(&ed.base)
            .websocket(&format!("/containers/{id}/exec"))
            .await
            .err(),
        Some(401)
    );

    let mut ws = ed
        .websocket(&format!(
            "/containers/{id}/exec?command=/testbox&command=cat&cols=100&rows=30"
        ))
        .await
        .unwrap();
    ws.send(Message::Text(
        json!({"type": "resize", "cols": 120, "rows": 40})
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    ws.send(Message::Binary(b"hello console\n".to_vec().into()))
        .await
        .unwrap();
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    // The TTY echoes the input, then cat writes it back: twice.
    while String::from_utf8_lossy(&out)
        .matches("hello console")
        .count()
        < 2
    {
        match tokio::time::timeout_at(deadline, ws.next())
            .await
            .expect("output arrives")
        {
            Some(Ok(Message::Binary(b))) => out.extend_from_slice(&b),
            Some(Ok(_)) => {}
            other => panic!("the console ended early: {other:?}"),
        }
    }
    // End of input (^D on a TTY) ends cat with 0.
    ws.send(Message::Binary(vec![4u8].into())).await.unwrap();
    let exit = wait_exit(&mut ws).await;
    assert_eq!(exit, 0);

    let mut ws = ed
        .websocket(&format!(
            "/containers/{id}/exec?command=/testbox&command=exit&command=3"
        ))
        .await
        .unwrap();
    assert_eq!(wait_exit(&mut ws).await, 3);

    // A stopped container has no console.
    assert_eq!(
        ed.post(&format!("/containers/{id}/stop"), json!({}))
            .await
            .status,
        200
    );
    let r = ed.get(&format!("/containers/{id}/exec")).await;
    assert_eq!(r.status, 409, "{}", r.text);
}

async fn wait_exit(ws: &mut WebSocket) -> i64 {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(deadline, ws.next())
            .await
            .expect("the exit arrives")
        {
            Some(Ok(Message::Text(t))) => {
                let v: Value = serde_json::from_str(&t).unwrap();
                if v["type"] == "exit" {
                    return v["exit_code"].as_i64().unwrap();
                }
                panic!("unexpected control message {v}");
            }
            Some(Ok(_)) => {}
            other => panic!("the console ended without an exit code: {other:?}"),
        }
    }
}

/// Reads a pull's NDJSON to its end: (progress lines, the last line).
async fn pull_lines(api: &Api, reference: &str) -> (usize, Value) {
    let resp = api
        .request(reqwest::Method::POST, "/images/pull")
        .header("accept", "application/x-ndjson")
        .json(&json!({"reference": reference}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/x-ndjson");
    let text = resp.text().await.unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let progress = lines.iter().filter(|l| l["type"] == "progress").count();
    (progress, lines.last().cloned().unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn pull_progress_streams_and_identical_pulls_share_one() {
    let cluster = TestCluster::start().await;
    let registry = LocalRegistry::start().await;
    // An image with a layer of its own, removed locally so the pull must fetch it.
    let ctx = tempfile::tempdir().unwrap();
    let blob: Vec<u8> = (0..8 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    std::fs::write(ctx.path().join("blob"), blob).unwrap();
    std::fs::write(
        ctx.path().join("Dockerfile"),
        format!(
            "FROM {}\nCOPY blob /blob-{}\n",
            yun_testkit::testbox_image(),
            yun_core::new_id()
        ),
    )
    .unwrap();
    let local = format!("yun-pull-test:{}", yun_core::new_id().to_lowercase());
    let built = std::process::Command::new("docker")
        .args(["build", "-q", "-t", &local])
        .arg(ctx.path())
        .env("DOCKER_BUILDKIT", "0")
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let reference = registry.push(&local, &format!("puller-{}/big", cluster.cluster_id()));
    for tag in [&local, &reference] {
        let _ = std::process::Command::new("docker")
            .args(["rmi", "-f", tag])
            .output();
    }

    let pia = cluster.api.sign_up("pia", "pia-password").await;
    let activity = cluster.worker.as_ref().unwrap().activity.clone();
    let started_before = activity.pulls_started();
    let (a, b) = tokio::join!(pull_lines(&pia, &reference), pull_lines(&pia, &reference));
    for (progress, last) in [&a, &b] {
        assert_eq!(last["type"], "done", "{last}");
        assert!(*progress > 0, "progress arrived");
    }
    assert_eq!(
        activity.pulls_started() - started_before,
        1,
        "two identical concurrent pulls made one pull"
    );
    // The image is usable.
    let c = pia
        .run(json!({"image": reference, "command": ["serve", "8080", "pulled"], "ports": [{"container_port": 8080}]}))
        .await;
    assert_eq!(c["state"], "running");
    let endpoint = c["ports"][0]["endpoint"].as_str().unwrap();
    assert_eq!(yun_testkit::fetch_eventually(endpoint).await, "pulled");

    // A pull that cannot succeed says so at the end of the stream.
    let (_, last) = pull_lines(&pia, &format!("{}/nothing/here:v1", registry.addr)).await;
    assert_eq!(last["type"], "error", "{last}");
    assert_eq!(last["error"]["code"], "image_unavailable");
}
