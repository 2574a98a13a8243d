//! Live streams on the real engine, through the typed client: stats over an owner-only
//! WebSocket, logs followed as they are written, the exec console, and pull progress shared
//! between identical pulls. (One pull is asked for with `Accept` rather than `format=`, raw,
//! since choosing NDJSON by that header is the point there.)

use futures::{SinkExt, Stream, StreamExt};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use yun_api::client::WebSocket;
use yun_api::containers::{
    Container, ContainerState, CreateContainer, LogLine, LogStream, PortRequest,
};
use yun_api::images::PullEvent;
use yun_api::live::{ExecClientMessage, ExecServerMessage, StatsFrame, StatsMessage};
use yun_api::{Client, ClientError, ErrorCode};
use yun_testkit::{container_spec, fetch, LocalRegistry, TestCluster};

/// Messages from a stats stream for `window`.
async fn collect(
    stats: &mut (impl Stream<Item = yun_api::client::Result<StatsMessage>> + Unpin),
    window: Duration,
) -> Vec<StatsMessage> {
    let deadline = tokio::time::Instant::now() + window;
    let mut got = Vec::new();
    while let Ok(Some(msg)) = tokio::time::timeout_at(deadline, stats.next()).await {
        got.push(msg.expect("a stats message"));
    }
    got
}

fn stats_of(msgs: &[StatsMessage]) -> Vec<&StatsFrame> {
    msgs.iter()
        .filter_map(|m| match m {
            StatsMessage::Stats(s) => Some(s),
            StatsMessage::State { .. } => None,
        })
        .collect()
}

fn is_state(m: &StatsMessage, want: ContainerState) -> bool {
    matches!(m, StatsMessage::State { state, .. } if *state == want)
}

/// The status of a refused call (the call's answer must not be usable).
fn refused_with<T>(r: yun_api::client::Result<T>) -> Option<u16> {
    match r {
        Err(e) => e.status(),
        Ok(_) => None,
    }
}

fn on_port_8080(image: &str, command: &[&str]) -> CreateContainer {
    CreateContainer {
        ports: Some(vec![PortRequest {
            container_port: 8080,
            host_port: None,
            protocol: None,
        }]),
        ..container_spec(image, command)
    }
}

fn unpublished(image: &str, plan: Option<&str>, command: &[&str]) -> CreateContainer {
    CreateContainer {
        ports: Some(vec![]),
        plan: plan.map(str::to_string),
        ..container_spec(image, command)
    }
}

async fn run(client: &Client, spec: &CreateContainer) -> Container {
    client.create_container(spec, None).await.unwrap().0
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
    let olga = cluster
        .api
        .sign_up("olga", "olga-rides-a-blue-tram")
        .await
        .client();
    let mallory = cluster
        .api
        .sign_up("mallory", "mallory-rides-a-blue-tram")
        .await
        .client();
    let holder = run(&olga, &unpublished(&image, Some("small"), &["alloc", "50"]))
        .await
        .id;
    let burner = run(&olga, &unpublished(&image, Some("small"), &["burn"]))
        .await
        .id;

    // Refused before any upgrade: anonymous, another user, a container that does not exist.
    let anonymous = Client::new(olga.base()).unwrap();
    assert_eq!(refused_with(anonymous.stats(&holder).await), Some(401));
    assert_eq!(refused_with(mallory.stats(&holder).await), Some(404));
    assert_eq!(
        refused_with(olga.stats("nosuchcontainer0").await),
        Some(404)
    );

    // At least three samples in four seconds, with memory and pids.
    let mut stats = Box::pin(olga.stats(&holder).await.unwrap());
    let msgs = collect(&mut stats, Duration::from_secs(4)).await;
    assert!(
        is_state(&msgs[0], ContainerState::Running),
        "the state comes first: {msgs:?}"
    );
    let samples = stats_of(&msgs);
    assert!(samples.len() >= 3, "samples in 4 s: {msgs:?}");
    let last = samples.last().unwrap();
    assert!(last.memory_bytes > 0 && last.pids > 0);
    assert_eq!(last.memory_limit_bytes, 256u64 << 20);
    let cgroups = std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists()
        || std::path::Path::new("/sys/fs/cgroup/memory").is_dir();
    if cgroups {
        assert!(
            last.source.starts_with("cgroup-"),
            "read from cgroups on this host: {last:?}"
        );
    }
    // 50 MiB held reads within 10% of what the docker CLI shows.
    let ours = last.memory_bytes as f64;
    let cli = docker_cli_memory(&holder);
    assert!(ours > 50.0 * 1024.0 * 1024.0 * 0.95, "holds 50 MiB: {ours}");
    assert!(
        (ours - cli).abs() <= cli * 0.10,
        "ours {ours} vs docker CLI {cli}"
    );

    // Closing the socket stops the node's sampler.
    drop(stats);
    let activity = cluster.worker.as_ref().unwrap().activity.clone();
    let deadline = Instant::now() + Duration::from_secs(5);
    while activity.samplers() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(activity.samplers(), 0, "nobody watches, nothing is sampled");

    // A burner on a 0.5-CPU plan: half a core, the whole quota.
    let mut stats = Box::pin(olga.stats(&burner).await.unwrap());
    let msgs = collect(&mut stats, Duration::from_secs(5)).await;
    let samples = stats_of(&msgs);
    assert!(samples.len() >= 4, "{msgs:?}");
    let settled = &samples[samples.len() - 3..];
    let mean = |f: fn(&StatsFrame) -> f64| settled.iter().map(|s| f(s)).sum::<f64>() / 3.0;
    let (cpu, quota) = (mean(|s| s.cpu_percent), mean(|s| s.cpu_limit_percent));
    assert!(
        (40.0..=60.0).contains(&cpu),
        "cpu_percent {cpu}: {settled:?}"
    );
    assert!(
        (80.0..=100.0).contains(&quota),
        "cpu_limit_percent {quota}: {settled:?}"
    );

    // A state change reaches the subscriber.
    olga.stop(&burner).await.unwrap();
    let msgs = collect(&mut stats, Duration::from_secs(3)).await;
    assert!(
        msgs.iter().any(|m| is_state(m, ContainerState::Stopped)),
        "{msgs:?}"
    );
}

/// The next line of a followed log, within 5 s.
async fn next_line(
    lines: &mut (impl Stream<Item = yun_api::client::Result<LogLine>> + Unpin),
) -> LogLine {
    tokio::time::timeout(Duration::from_secs(5), lines.next())
        .await
        .expect("a line arrives")
        .expect("the follow stays open")
        .expect("a log line")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_followed_log_shows_a_new_line_within_a_second() {
    let cluster = TestCluster::start().await;
    let image = cluster.publish_testbox().await;
    let lena = cluster
        .api
        .sign_up("lena", "lena-rides-a-blue-tram")
        .await
        .client();
    let c = run(
        &lena,
        &on_port_8080(&image, &["print", "1", "booted", "serve", "8080", "ok"]),
    )
    .await;
    let endpoint = c.ports[0].endpoint.clone();
    yun_testkit::fetch_eventually(&endpoint).await;
    // The client refuses a body that is not NDJSON, so reading lines checks the content type.
    let mut lines = Box::pin(lena.log_lines(&c.id, None, true).await.unwrap());
    // What was written before: stdout and stderr told apart.
    let mut seen = Vec::new();
    while !(seen.contains(&(LogStream::Stdout, "booted 0".to_string()))
        && seen.contains(&(LogStream::Stderr, "err booted 0".to_string())))
    {
        let l = next_line(&mut lines).await;
        seen.push((l.stream, l.line));
    }
    for (stream, line) in &seen {
        let expect = if line.starts_with("err ") {
            LogStream::Stderr
        } else {
            LogStream::Stdout
        };
        assert_eq!(*stream, expect, "{line}");
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
        while !next_line(&mut lines).await.line.contains(&marker) {}
        let took = asked.elapsed();
        assert!(took < Duration::from_secs(1), "a new line took {took:?}");
    }
    let _ = fetch(&endpoint).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_console_echoes_and_reports_the_exit_code() {
    let cluster = TestCluster::start().await;
    let image = cluster.publish_testbox().await;
    let ed = cluster
        .api
        .sign_up("eddie", "eddie-rides-a-blue-tram")
        .await
        .client();
    let eve = cluster
        .api
        .sign_up("eve", "eve-rides-a-blue-tram")
        .await
        .client();
    let id = run(&ed, &unpublished(&image, None, &[])).await.id;

    let cat = ["/testbox", "cat"];
    assert_eq!(
        refused_with(eve.exec(&id, &cat, Some((80, 24))).await),
        Some(404)
    );
    let anonymous = Client::new(ed.base()).unwrap();
    assert_eq!(
        refused_with(anonymous.exec(&id, &cat, Some((80, 24))).await),
        Some(401)
    );

    let mut ws = ed.exec(&id, &cat, Some((100, 30))).await.unwrap();
    let resize = ExecClientMessage::Resize {
        cols: 120,
        rows: 40,
    };
    ws.send(Message::Text(
        serde_json::to_string(&resize).unwrap().into(),
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
    assert_eq!(wait_exit(&mut ws).await, 0);

    let mut ws = ed
        .exec(&id, &["/testbox", "exit", "3"], Some((80, 24)))
        .await
        .unwrap();
    assert_eq!(wait_exit(&mut ws).await, 3);

    // A stopped container has no console.
    ed.stop(&id).await.unwrap();
    match ed.exec(&id, &cat, Some((80, 24))).await {
        Err(ClientError::Api { status, code, .. }) => {
            assert_eq!((status, code), (409, ErrorCode::NotRunning))
        }
        other => panic!("a console on a stopped container: {other:?}"),
    }
}

async fn wait_exit(ws: &mut WebSocket) -> i64 {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(deadline, ws.next())
            .await
            .expect("the exit arrives")
        {
            Some(Ok(Message::Text(t))) => match serde_json::from_str(&t).unwrap() {
                ExecServerMessage::Exit { exit_code } => return exit_code,
                other => panic!("unexpected control message {other:?}"),
            },
            Some(Ok(_)) => {}
            other => panic!("the console ended without an exit code: {other:?}"),
        }
    }
}

/// Reads a pull's progress to its end: (progress events, the last event).
async fn pull_events(client: &Client, reference: &str) -> (usize, PullEvent) {
    let events: Vec<PullEvent> = client
        .pull_progress(reference)
        .await
        .unwrap()
        .map(|e| e.expect("a pull event"))
        .collect()
        .await;
    let progress = events
        .iter()
        .filter(|e| matches!(e, PullEvent::Progress { .. }))
        .count();
    (progress, events.last().cloned().expect("an end event"))
}

#[tokio::test(flavor = "multi_thread")]
async fn pull_progress_streams_and_identical_pulls_share_one() {
    let cluster = TestCluster::start().await;
    let registry = LocalRegistry::start().await;
    let reference = registry.push_fresh(&format!("puller-{}/big", cluster.cluster_id()), 8);

    let raw = cluster.api.sign_up("pia", "pia-rides-a-blue-tram").await;
    let pia = raw.client();
    let activity = cluster.worker.as_ref().unwrap().activity.clone();
    let started_before = activity.pulls_started();
    let (a, b) = tokio::join!(pull_events(&pia, &reference), pull_events(&pia, &reference));
    for (progress, last) in [&a, &b] {
        assert!(matches!(last, PullEvent::Done { .. }), "{last:?}");
        assert!(*progress > 0, "progress arrived");
    }
    assert_eq!(
        activity.pulls_started() - started_before,
        1,
        "two identical concurrent pulls made one pull"
    );
    // The image is usable.
    let c = run(
        &pia,
        &on_port_8080(&reference, &["serve", "8080", "pulled"]),
    )
    .await;
    assert_eq!(c.state, ContainerState::Running);
    assert_eq!(
        yun_testkit::fetch_eventually(&c.ports[0].endpoint).await,
        "pulled"
    );

    // A pull that cannot succeed says so at the end of the stream.
    let nothing = format!("{}/nothing/here:v1", registry.addr);
    match pull_events(&pia, &nothing).await.1 {
        PullEvent::Error { error } => assert_eq!(error.code, ErrorCode::ImageUnavailable),
        other => panic!("a pull of nothing ended with {other:?}"),
    }
    // `Accept: application/x-ndjson` chooses the stream as `format=ndjson` does.
    let resp = raw
        .request(reqwest::Method::POST, "/images/pull")
        .header("accept", "application/x-ndjson")
        .json(&serde_json::json!({"reference": nothing}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/x-ndjson");
    let text = resp.text().await.unwrap();
    let last: PullEvent = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert!(matches!(last, PullEvent::Error { .. }), "{text}");
}

/// Waits until `stream` ends (None, an error or a close), for at most 5 s.
async fn ends<S: Stream + Unpin>(what: &str, stream: &mut S) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        match tokio::time::timeout_at(deadline, stream.next()).await {
            Err(_) => panic!("{what} stayed open after its session ended"),
            Ok(None) => return,
            Ok(Some(_)) => continue,
        }
    }
}

/// Until `ws` closes, answering whether an `error` control message said why.
async fn console_ends(ws: &mut WebSocket) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let mut said = false;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => panic!("the console stayed open after its session ended"),
            Ok(None) | Ok(Some(Err(_))) | Ok(Some(Ok(Message::Close(_)))) => return said,
            Ok(Some(Ok(Message::Text(t)))) => {
                said |= matches!(
                    serde_json::from_str(&t),
                    Ok(ExecServerMessage::Error { .. })
                )
            }
            Ok(Some(Ok(_))) => {}
        }
    }
}

/// Opens every kind of live stream `user` has on a new container (stats, events, a followed
/// log, a console; each seen live), awaits `end` (which ends the session), and checks that
/// every one closed and the session is gone.
async fn every_stream_ends_with_the_session(
    user: &Client,
    image: &str,
    why: &str,
    end: impl std::future::Future<Output = ()>,
) {
    let c = run(user, &on_port_8080(image, &["serve", "8080", "up"])).await;
    let mut stats = Box::pin(user.stats(&c.id).await.unwrap());
    let mut events = Box::pin(user.events(false, None).await.unwrap());
    let mut logs = Box::pin(user.log_lines(&c.id, None, true).await.unwrap());
    let mut console = user
        .exec(&c.id, &["/testbox", "cat"], Some((80, 24)))
        .await
        .unwrap();
    // Each is open and live: stats and the log answer, the console echoes.
    assert!(stats.next().await.is_some());
    assert!(next_line(&mut logs).await.line.contains("serving"));
    console
        .send(Message::Binary(b"hi\n".to_vec().into()))
        .await
        .unwrap();
    match tokio::time::timeout(Duration::from_secs(5), console.next()).await {
        Ok(Some(Ok(Message::Binary(_)))) => {}
        other => panic!("the console echoes: {other:?}"),
    }
    end.await;
    ends(&format!("stats after {why}"), &mut stats).await;
    ends(&format!("events after {why}"), &mut events).await;
    ends(&format!("the followed log after {why}"), &mut logs).await;
    assert!(
        console_ends(&mut console).await,
        "the console says why it ended after {why}"
    );
    assert_eq!(
        user.me().await.unwrap_err().status(),
        Some(401),
        "the session is gone after {why}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_ban_or_a_logout_ends_every_open_stream_at_once() {
    let cluster = TestCluster::start().await;
    let image = cluster.publish_testbox().await;
    let admin = cluster.admin.client();
    let bea = cluster
        .api
        .sign_up("bea", "bea-rides-a-blue-tram")
        .await
        .client();
    let ban = async {
        let id = bea.me().await.unwrap().id;
        admin.ban(&id).await.unwrap();
    };
    every_stream_ends_with_the_session(&bea, &image, "a ban", ban).await;
    let lou = cluster
        .api
        .sign_up("lou", "lou-rides-a-blue-tram")
        .await
        .client();
    let logout = async { lou.logout().await.unwrap() };
    every_stream_ends_with_the_session(&lou, &image, "a logout", logout).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_s_open_streams_end_when_it_expires() {
    let lifetime = Duration::from_secs(6);
    let cluster = TestCluster::start_with(|cfg| cfg.session_lifetime = lifetime).await;
    let image = cluster.publish_testbox().await;
    let ivy = cluster
        .api
        .sign_up("ivy", "ivy-rides-a-blue-tram")
        .await
        .client();
    let expired = tokio::time::Instant::now() + lifetime;
    // Nothing but the expiry ends the session (`ends` waits up to 5 s past it).
    let expiry = async {
        assert!(
            tokio::time::Instant::now() < expired,
            "the streams opened before the session's end"
        );
        tokio::time::sleep_until(expired).await;
    };
    every_stream_ends_with_the_session(&ivy, &image, "the session expired", expiry).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn ending_a_session_a_password_change_or_revoking_a_token_ends_its_streams() {
    let cluster = TestCluster::start().await;
    let image = cluster.publish_testbox().await;
    let (old, new) = ("wes-rides-a-blue-tram", "wes-sails-past-red-buoys");
    let wes = cluster.api.sign_up("wes", old).await.client();
    let anon = cluster.api.client();
    let second = anon.with_token(&anon.login("wes", old, None).await.unwrap().token);
    let id = second
        .sessions()
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.current)
        .expect("the current session is marked")
        .id;
    let end = async { wes.end_session(&id).await.unwrap() };
    every_stream_ends_with_the_session(&second, &image, "its end from another session", end).await;

    let third = anon.with_token(&anon.login("wes", old, None).await.unwrap().token);
    let change = async {
        assert_eq!(
            wes.change_password(old, new).await.unwrap().sessions_ended,
            1
        );
    };
    every_stream_ends_with_the_session(&third, &image, "a password change", change).await;

    let made = wes.create_access_token("ci", 1).await.unwrap();
    let script = anon.with_token(&made.token);
    let revoke = async {
        wes.revoke_access_token(&made.access_token.id)
            .await
            .unwrap()
    };
    every_stream_ends_with_the_session(&script, &image, "revoking its token", revoke).await;
}
