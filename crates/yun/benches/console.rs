//! The web console's cost, in a real headless Chromium against real processes (`yun master`
//! and `yun worker`, release builds) on the real engine, for a renter with 200 real containers
//! (on one node whose renters' subnets are /24s, `--tenant-subnet-prefix 24`):
//! on a cold cache, the bytes and requests of the first load of the containers page and the
//! time until its list is drawn (`performance.mark`); the renderer's CPU over 60 s on a
//! container page with live charts, minus the same page hidden; and the master's CPU per open
//! terminal with `top` redrawing in each.
//!
//! Run: `cargo bench -p yun --bench console` (CONSOLE_CONTAINERS, CONSOLE_SECONDS,
//! CONSOLE_TERMINALS override 200, 60, 10).

use futures::StreamExt;
use std::time::{Duration, Instant};
use yun_api::containers::CreateContainer;
use yun_testkit::bench::{env_or, TinyFleet};
use yun_testkit::browser::Browser;
use yun_testkit::container_spec;
use yun_testkit::procfs::{cpu_seconds, pids_with_arg};

const YUN: &str = env!("CARGO_BIN_EXE_yun");

fn renderers_cpu() -> f64 {
    pids_with_arg("--type=renderer")
        .into_iter()
        .map(cpu_seconds)
        .sum()
}

const FIRST_LOAD: &str = r#"
const nav = performance.getEntriesByType("navigation")[0];
const res = performance.getEntriesByType("resource");
const drawn = performance.getEntriesByName("yun:list-drawn")[0];
const sent = performance.getEntriesByName("yun:login-sent")[0];
const bytes = nav.transferSize + res.reduce((n, r) => n + r.transferSize, 0);
const decoded = nav.decodedBodySize + res.reduce((n, r) => n + r.decodedBodySize, 0);
return { bytes, decoded, requests: 1 + res.length, page_ms: nav.loadEventEnd,
         list_ms: drawn && sent ? drawn.startTime - sent.startTime : null,
         rows: document.querySelectorAll("tr[data-id]").length };
"#;

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let n = env_or("CONSOLE_CONTAINERS", 200);
    let secs = Duration::from_secs(env_or("CONSOLE_SECONDS", 60) as u64);
    let terminals = env_or("CONSOLE_TERMINALS", 10);
    let fleet = TinyFleet::start(YUN, &["--tenant-subnet-prefix", "24"]).await;
    let cluster = &fleet.cluster;
    let raw = fleet.renter().await;
    let renter = raw.client();
    let ids: Vec<String> = fleet
        .idle_containers(std::slice::from_ref(&renter), n, "c")
        .await
        .into_iter()
        .map(|(_, id)| id)
        .collect();
    let root = raw
        .base
        .trim_end_matches("/api/v1")
        .replace("127.0.0.1", "localhost");

    // First visits, each in a new browser (a cold cache): the login page, then the list.
    let mut loads = Vec::new();
    for _ in 0..3 {
        let b = Browser::start(1440, 900).await;
        b.goto(&format!("{root}/login")).await;
        b.fill("input[name=username]", "bench").await;
        b.fill("input[name=password]", "bench-rides-a-blue-tram")
            .await;
        b.eval("performance.mark('yun:login-sent'); return true;")
            .await;
        b.click("form button[type=submit]").await;
        b.until(
            "the list is drawn",
            "return performance.getEntriesByName('yun:list-drawn').length > 0;",
        )
        .await;
        loads.push(b.eval(FIRST_LOAD).await);
    }

    // Live charts: the renderer's CPU with the container page shown, then hidden behind a tab.
    let b = Browser::start(1440, 900).await;
    b.goto(&format!("{root}/login?next=/containers/{}", ids[0]))
        .await;
    b.fill("input[name=username]", "bench").await;
    b.fill("input[name=password]", "bench-rides-a-blue-tram")
        .await;
    b.click("form button[type=submit]").await;
    b.find(".chart").await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let renderers = pids_with_arg("--type=renderer").len();
    let samples_before = b.eval("return document.querySelector('.chart polyline').getAttribute('points').split(' ').length;").await;
    let (c0, t0) = (renderers_cpu(), Instant::now());
    tokio::time::sleep(secs).await;
    let shown = (renderers_cpu() - c0) / t0.elapsed().as_secs_f64() * 100.0;
    let samples_after = b.eval("return document.querySelector('.chart polyline').getAttribute('points').split(' ').length;").await;
    b.eval("window.hiddenTimes = 0; document.addEventListener('visibilitychange', () => { if (document.hidden) window.hiddenTimes += 1; }); return true;").await;
    let page = b.client.window().await.unwrap();
    let other = b.client.new_window(true).await.unwrap();
    b.client.switch_to_window(other.handle).await.unwrap();
    b.goto(&format!("{root}/healthz")).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (c0, t0) = (renderers_cpu(), Instant::now());
    tokio::time::sleep(secs).await;
    let hidden = (renderers_cpu() - c0) / t0.elapsed().as_secs_f64() * 100.0;
    b.client.switch_to_window(page).await.unwrap();
    let was_hidden = if b.eval("return window.hiddenTimes;").await.as_u64() > Some(0) {
        "the page saw itself hidden"
    } else {
        "the page was NOT hidden"
    };
    drop(b);

    // Terminals: `top` redrawing once a second in each, through the master's emulator.
    let master = cluster.master_pid().unwrap();
    let busybox = yun_testkit::busybox_image();
    cluster
        .admin
        .client()
        .publish_image(&busybox)
        .await
        .unwrap();
    let spec = CreateContainer {
        name: Some("shell".into()),
        ports: Some(vec![]),
        ..container_spec(&busybox, &[])
    };
    let shell = renter.create_container(&spec, None).await.unwrap().0.id;
    let (m0, t0) = (cpu_seconds(master), Instant::now());
    tokio::time::sleep(Duration::from_secs(10)).await;
    let idle = (cpu_seconds(master) - m0) / t0.elapsed().as_secs_f64() * 100.0;
    let mut open = Vec::new();
    for _ in 0..terminals {
        let ws = renter
            .websocket(&format!(
                "/containers/{shell}/terminal?command=top&command=-d&command=1&cols=160&rows=48"
            ))
            .await
            .unwrap();
        let frames = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counted = frames.clone();
        open.push((
            tokio::spawn(async move {
                let mut ws = ws;
                while let Some(Ok(_)) = ws.next().await {
                    counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }),
            frames,
        ));
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (m0, t0) = (cpu_seconds(master), Instant::now());
    tokio::time::sleep(Duration::from_secs(30)).await;
    let busy = (cpu_seconds(master) - m0) / t0.elapsed().as_secs_f64() * 100.0;
    let per: Vec<u64> = open
        .iter()
        .map(|(_, f)| f.load(std::sync::atomic::Ordering::Relaxed))
        .collect();
    let updates: u64 = per.iter().sum();
    eprintln!("screen updates per terminal: {per:?}");
    for (task, _) in open {
        task.abort();
    }

    println!("\n== the web console: {n} containers, cold cache, 3 first visits ==");
    for (i, l) in loads.iter().enumerate() {
        println!(
            "visit {}: {} bytes transferred ({} decoded) in {} requests up to the drawn list; login page loaded in {:.0} ms; login to list drawn {:.0} ms; {} rows",
            i + 1,
            l["bytes"],
            l["decoded"],
            l["requests"],
            l["page_ms"].as_f64().unwrap_or(f64::NAN),
            l["list_ms"].as_f64().unwrap_or(f64::NAN),
            l["rows"]
        );
    }
    println!(
        "live charts over {}s ({renderers} renderer processes; the CPU chart went from {samples_before} to {samples_after} points): renderer {shown:.2}% of a core shown, {hidden:.2}% hidden ({was_hidden}); charts cost {:.2}%",
        secs.as_secs(),
        shown - hidden
    );
    println!(
        "terminals: master {idle:.2}% idle, {busy:.2}% with {terminals} `top` terminals ({updates} screen updates in 33 s): {:.2}% of a core per open terminal",
        (busy - idle) / terminals as f64
    );
    for id in ids.iter().chain([&shell]) {
        let _ = renter.remove_container(id).await;
    }
}
