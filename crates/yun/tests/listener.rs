//! The HTTP listener under abuse, against a real master: slow clients that send partial
//! headers, a partial body or nothing are cut at their timeouts; one address cannot hold more
//! than its share of connections while a renter's requests go on; the total stays under its
//! limit; established streams outlive every timeout; and HTTPS serves the cookie as
//! `__Host-`, Secure, with HSTS.
//!
//! The slow client connects from 127.0.0.2 (another loopback address), the renter from
//! 127.0.0.1, so the per-address limit tells them apart.

use futures::StreamExt;
use serde_json::json;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use yun_testkit::{Api, TestCluster};

const TIMEOUT: Duration = Duration::from_secs(2);

fn strict(cfg: &mut yun_master::MasterConfig, per_source: usize) {
    cfg.http_limits.header_timeout = TIMEOUT;
    cfg.http_limits.body_timeout = TIMEOUT;
    cfg.http_limits.idle_timeout = TIMEOUT;
    cfg.http_limits.max_connections_per_source = per_source;
}

async fn connect_from(source: &str, to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(format!("{source}:0").parse().unwrap()).unwrap();
    socket.connect(to).await.expect("the listener accepts")
}

/// Whether the server closed `conn` within `wait` (EOF, a reset, or an answer then EOF).
async fn closed_within(conn: &mut TcpStream, wait: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + wait;
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(deadline, conn.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
        }
    }
}

/// Connections the master holds open on its port: established sockets whose local end is
/// `port` (the kernel's table, so the test's own client ends do not count).
fn held_by_master(port: u16) -> usize {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let local = format!(":{port:04X}");
    table
        .lines()
        .skip(1)
        .filter(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f[1].ends_with(&local) && f[3] == "01"
        })
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_clients_are_cut_and_cannot_crowd_out_a_renter() {
    let cluster = TestCluster::master_only_with(|cfg| strict(cfg, 50)).await;
    let addr = cluster.master.http_addr;
    let renter = cluster.api.sign_up("rita", "rita-rides-a-blue-tram").await;

    // 300 connections from one address, each with half a request's headers.
    let mut slow = Vec::new();
    for _ in 0..300 {
        let mut c = connect_from("127.0.0.2", addr).await;
        let _ = c.write_all(b"GET /api/v1/me HTTP/1.1\r\nHost: x\r\n").await;
        slow.push(c);
    }
    // All but 50 are closed at once; the renter is served meanwhile.
    let checks = slow
        .iter_mut()
        .map(|c| closed_within(c, Duration::from_millis(700)));
    let closed_at_once = futures::future::join_all(checks)
        .await
        .into_iter()
        .filter(|c| *c)
        .count();
    assert_eq!(
        closed_at_once, 250,
        "one address keeps at most 50 connections"
    );
    for _ in 0..20 {
        assert_eq!(renter.get("/me").await.status, 200);
    }
    // The refused connections hold nothing: the master has the 50 and the renter's.
    let held = held_by_master(addr.port());
    assert!(
        (50..=53).contains(&held),
        "the master holds {held} connections"
    );
    // The 50 kept are cut when their headers do not arrive in time.
    let started = Instant::now();
    let checks = slow.iter_mut().map(|c| closed_within(c, TIMEOUT * 3));
    assert!(futures::future::join_all(checks)
        .await
        .into_iter()
        .all(|c| c));
    assert!(started.elapsed() < TIMEOUT * 3);

    // A body that never finishes is cut at the body timeout.
    let mut c = connect_from("127.0.0.2", addr).await;
    let started = Instant::now();
    c.write_all(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"user")
        .await
        .unwrap();
    assert!(
        closed_within(&mut c, TIMEOUT * 3).await,
        "a partial body is cut"
    );
    assert!(started.elapsed() >= TIMEOUT - Duration::from_millis(200));

    // Nothing at all, or an idle kept-alive connection, is closed too.
    let mut silent = connect_from("127.0.0.2", addr).await;
    assert!(
        closed_within(&mut silent, TIMEOUT * 3).await,
        "a silent connection is closed"
    );
    let mut kept = connect_from("127.0.0.2", addr).await;
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut first = [0u8; 12];
    kept.read_exact(&mut first).await.unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    assert!(
        closed_within(&mut kept, TIMEOUT * 3).await,
        "an idle keep-alive is closed"
    );

    // Once they are gone the address may connect again.
    let mut again = connect_from("127.0.0.2", addr).await;
    again
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    again.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_total_stays_under_its_limit_and_frees_itself() {
    let cluster = TestCluster::master_only_with(|cfg| {
        strict(cfg, 1000);
        cfg.http_limits.max_connections = Some(30);
    })
    .await;
    let addr = cluster.master.http_addr;
    // The start's admin login kept a connection alive; it times out first.
    tokio::time::sleep(TIMEOUT + Duration::from_millis(500)).await;
    let mut held = Vec::new();
    for _ in 0..60 {
        held.push(connect_from("127.0.0.3", addr).await);
    }
    let checks = held
        .iter_mut()
        .map(|c| closed_within(c, Duration::from_millis(700)));
    let refused = futures::future::join_all(checks)
        .await
        .into_iter()
        .filter(|c| *c)
        .count();
    assert_eq!(refused, 30, "30 connections in all");
    // When the silent ones time out, everyone is served again.
    tokio::time::sleep(TIMEOUT + Duration::from_secs(1)).await;
    let health = reqwest::get(format!("http://{addr}/healthz"))
        .await
        .unwrap();
    assert_eq!(
        health.status(),
        200,
        "served again once the holders are cut"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn established_streams_outlive_every_timeout() {
    let cluster = TestCluster::start_with(|cfg| strict(cfg, 50)).await;
    let image = cluster.publish_testbox().await;
    let sam = cluster.api.sign_up("sam", "sam-rides-a-blue-tram").await;
    let client = sam.client();
    let c = sam
        .run(json!({"image": image, "command": ["serve", "8080", "quiet"]}))
        .await;
    let id = c["id"].as_str().unwrap().to_string();
    let mut events = Box::pin(client.events(false, None).await.unwrap());
    let mut log = Box::pin(client.log_lines(&id, None, true).await.unwrap());
    let mut stats = Box::pin(client.stats(&id).await.unwrap());
    assert!(stats.next().await.is_some(), "stats flow");
    // Three timeouts pass with the event socket and the followed log quiet.
    let quiet = TIMEOUT * 3;
    let early_end = tokio::time::timeout(quiet, async {
        loop {
            tokio::select! {
                e = events.next() => if e.is_none() { return "events" },
                l = log.next() => if l.is_none() { return "the followed log" },
            }
        }
    })
    .await;
    assert!(
        early_end.is_err(),
        "{:?} ended during the quiet",
        early_end.ok()
    );
    assert!(stats.next().await.is_some(), "stats still flow");
    // Still live: stopping the container reaches the event socket.
    assert_eq!(
        sam.post(&format!("/containers/{id}/stop"), json!({}))
            .await
            .status,
        200
    );
    let event = tokio::time::timeout(Duration::from_secs(10), events.next())
        .await
        .expect("an event arrives")
        .expect("the socket is open")
        .expect("an event");
    assert_eq!(event.container_id, id);
}

/// A certificate for `localhost`, made for this test, with its PEM and key files.
fn https_files(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".into()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let (c, k) = (dir.join("http.crt"), dir.join("http.key"));
    std::fs::write(&c, cert.pem()).unwrap();
    std::fs::write(&k, key.serialize_pem()).unwrap();
    (c, k, cert.pem())
}

#[tokio::test(flavor = "multi_thread")]
async fn https_serves_a_host_only_secure_cookie_and_hsts() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, pem) = https_files(dir.path());
    let mut cfg =
        yun_master::MasterConfig::new(format!("sqlite://{}", dir.path().join("yun.db").display()));
    cfg.http = "127.0.0.1:0".parse().unwrap();
    cfg.rpc = "127.0.0.1:0".parse().unwrap();
    cfg.admin_password = Some(yun_testkit::ADMIN_PASSWORD.into());
    cfg.https = Some(yun_master::config::HttpsFiles { cert, key });
    let master = yun_master::start(cfg)
        .await
        .expect("the master starts with HTTPS");
    let port = master.http_addr.port();
    let origin = format!("https://localhost:{port}");
    let http = reqwest::Client::builder()
        .no_proxy()
        .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let api = Api {
        http: http.clone(),
        base: format!("{origin}/api/v1"),
        token: None,
    };
    api.sign_up("tom", "tom-rides-a-blue-tram").await;
    let login = http
        .post(api.url("/auth/login"))
        .header("origin", &origin)
        .json(&json!({"username": "tom", "password": "tom-rides-a-blue-tram", "session": "cookie"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    assert_eq!(
        login.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    let cookie = login.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("__Host-yun_session="), "{cookie}");
    for part in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(part), "{part} in {cookie}");
    }
    assert!(!cookie.contains("Domain="), "host-only: {cookie}");
    // The cookie opens the session over HTTPS.
    let value = cookie.split(';').next().unwrap();
    let me = http
        .get(api.url("/me"))
        .header("cookie", value)
        .header("origin", &origin)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    assert!(me.headers().contains_key("strict-transport-security"));
    // Plain HTTP on the HTTPS port gets no answer.
    let plain = reqwest::Client::builder().no_proxy().build().unwrap();
    assert!(plain
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .is_err());
    // And a client that does not trust the certificate cannot talk to it.
    let untrusting = reqwest::Client::builder().no_proxy().build().unwrap();
    assert!(untrusting
        .get(format!("{origin}/healthz"))
        .send()
        .await
        .is_err());
    master.shutdown.cancel();
    let _ = master.task.await;
}
