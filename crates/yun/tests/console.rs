//! The console as a browser meets it, read raw (headers and cookies are the point): its files
//! embedded and precompressed with ETags, deep links, the security headers, the cookie-only
//! login, and the origin policy that keeps renters' pages (served on a node's public host)
//! from acting with the console's cookie.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use yun_testkit::TestCluster;

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The console's address: `localhost`, while the in-process node publishes on 127.0.0.2.
fn console(cluster: &TestCluster) -> String {
    format!("http://localhost:{}", cluster.master.http_addr.port())
}

/// The master as it is asked for under the node's public host (`Host: 127.0.0.2:…`, where
/// renters' services are), reached on the address it listens on.
fn node_host(cluster: &TestCluster) -> (String, String) {
    let port = cluster.master.http_addr.port();
    (
        format!("http://127.0.0.1:{port}"),
        format!("{}:{port}", yun_testkit::NODE_ADDRESS),
    )
}

/// A browser's session: the cookie, and the origin its requests come from.
struct Browser {
    http: reqwest::Client,
    base: String,
    cookie: String,
    /// The `Host` the request names, when not the base's.
    host: Option<String>,
}

impl Browser {
    async fn log_in(base: &str, username: &str, password: &str) -> Self {
        let http = http();
        let r = http
            .post(format!("{base}/api/v1/auth/login"))
            .header("origin", base)
            .json(&json!({"username": username, "password": password, "session": "cookie"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let set = r.headers()["set-cookie"].to_str().unwrap().to_string();
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Strict") && !set.contains("Secure"),
            "{set}"
        );
        let body: Value = r.json().await.unwrap();
        assert!(
            body.get("token").is_none(),
            "the console gets no token: {body}"
        );
        assert_eq!(body["user"]["username"], username);
        Self {
            http,
            base: base.to_string(),
            cookie: set.split(';').next().unwrap().to_string(),
            host: None,
        }
    }

    /// A request with the cookie, from `origin` (None: no Origin header).
    async fn send(
        &self,
        method: Method,
        path: &str,
        origin: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut r = self
            .http
            .request(method, format!("{}/api/v1{path}", self.base))
            .header("cookie", &self.cookie);
        if let Some(o) = origin {
            r = r.header("origin", o);
        }
        if let Some(h) = &self.host {
            r = r.header("host", h);
        }
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
}

async fn get(url: &str, headers: &[(&'static str, &str)]) -> reqwest::Response {
    let mut r = http().get(url);
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    r.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_console_is_embedded_precompressed_and_locked_down() {
    let cluster = TestCluster::master_only().await;
    let base = console(&cluster);

    let page = get(&format!("{base}/"), &[]).await;
    assert_eq!(page.status(), 200);
    let h = page.headers().clone();
    assert_eq!(h["content-type"], "text/html; charset=utf-8");
    let csp = h["content-security-policy"].to_str().unwrap();
    for part in [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(part), "{csp}");
    }
    assert!(!csp.contains("unsafe"), "{csp}");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    assert!(h.contains_key("referrer-policy"));
    let etag = h["etag"].to_str().unwrap().to_string();
    let identity = page.bytes().await.unwrap();
    assert!(String::from_utf8_lossy(&identity).contains("/boot.js"));

    // The best encoding the browser takes, made at build time; the same ETag.
    let br = get(
        &format!("{base}/app.js"),
        &[("accept-encoding", "gzip, deflate, br")],
    )
    .await;
    assert_eq!(br.headers()["content-encoding"], "br");
    assert_eq!(br.headers()["vary"], "accept-encoding");
    let gz = get(&format!("{base}/app.js"), &[("accept-encoding", "gzip")]).await;
    assert_eq!(gz.headers()["content-encoding"], "gzip");
    let plain = get(&format!("{base}/app.js"), &[]).await;
    assert!(plain.headers().get("content-encoding").is_none());
    assert_eq!(
        plain.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    let plain_len = plain.bytes().await.unwrap().len();
    assert!(gz.bytes().await.unwrap().len() < plain_len);
    assert!(br.bytes().await.unwrap().len() < plain_len);

    // A known ETag is answered 304 without a body.
    let again = get(&format!("{base}/"), &[("if-none-match", &etag)]).await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert!(again.bytes().await.unwrap().is_empty());

    // Deep links get the page; a missing file is a 404; unknown API paths stay JSON 404s.
    let deep = get(&format!("{base}/containers/some-id"), &[]).await;
    assert_eq!(deep.status(), 200);
    assert_eq!(deep.bytes().await.unwrap(), identity);
    assert_eq!(
        get(&format!("{base}/no-such-file.js"), &[]).await.status(),
        404
    );
    for path in ["/api/nothing", "/api/v1/nothing"] {
        let r = get(&format!("{base}{path}"), &[]).await;
        assert_eq!(r.status(), 404, "{path}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "no_such_route", "{path}");
    }
    // API answers are never compressed, and are nosniff too.
    let plans = get(
        &format!("{base}/api/v1/plans"),
        &[("accept-encoding", "gzip, br")],
    )
    .await;
    assert!(plans.headers().get("content-encoding").is_none());
    assert_eq!(plans.headers()["x-content-type-options"], "nosniff");
    // The API reference has a policy of its own (Swagger UI starts with an inline script).
    let docs = get(&format!("{base}/api/docs/"), &[]).await;
    assert_eq!(docs.status(), 200);
    assert!(docs.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cookie_acts_only_from_the_consoles_own_page_and_host() {
    let cluster = TestCluster::start().await;
    cluster.api.sign_up("ora", "ora-rides-a-blue-tram").await;
    let base = console(&cluster);

    // A script's login answers a token and sets no cookie.
    let scripted = http()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": "ora", "password": "ora-rides-a-blue-tram"}))
        .send()
        .await
        .unwrap();
    assert!(scripted.headers().get("set-cookie").is_none());
    let body: Value = scripted.json().await.unwrap();
    let token = body["token"].as_str().unwrap().to_string();

    let ora = Browser::log_in(&base, "ora", "ora-rides-a-blue-tram").await;
    // Reads need no Origin; changes need the console's.
    assert_eq!(ora.send(Method::GET, "/me", None, None).await.0, 200);
    let attacker = "http://127.0.0.1:20999";
    for origin in [Some(attacker), Some("null"), None] {
        let (status, body) = ora
            .send(
                Method::POST,
                "/orders",
                origin,
                Some(json!({"credits": 100})),
            )
            .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (403, Some("foreign_origin")),
            "{origin:?}: {body}"
        );
    }
    let (_, orders) = ora.send(Method::GET, "/orders", None, None).await;
    assert_eq!(orders["orders"], json!([]), "nothing was ordered");
    let (status, made) = ora
        .send(
            Method::POST,
            "/orders",
            Some(&base),
            Some(json!({"credits": 100})),
        )
        .await;
    assert_eq!(status, 201, "{made}");

    // An operator's cookie cannot mark an order paid from a renter's page.
    let admin = Browser::log_in(&base, "admin", yun_testkit::ADMIN_PASSWORD).await;
    let id = made["order"]["id"].as_str().unwrap();
    let (status, _) = admin
        .send(
            Method::POST,
            &format!("/admin/orders/{id}/paid"),
            Some(attacker),
            None,
        )
        .await;
    assert_eq!(status, 403);
    let (_, order) = ora
        .send(Method::GET, &format!("/orders/{id}"), None, None)
        .await;
    assert_eq!(order["order"]["state"], "pending");

    // A WebSocket upgrade with the cookie from another origin is refused before it opens.
    let ws = http()
        .get(format!("{base}/api/v1/events"))
        .header("cookie", &ora.cookie)
        .header("origin", attacker)
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .send()
        .await
        .unwrap();
    assert_eq!(ws.status(), 403);

    // A bearer token is not a browser's: no Origin is needed.
    let r = http()
        .post(format!("{base}/api/v1/orders"))
        .bearer_auth(&token)
        .header("origin", attacker)
        .json(&json!({"credits": 100}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    // On the node's public host (127.0.0.1, where containers are published) the cookie is not
    // taken, a cookie login is refused, and the console is not served.
    let (reach, node) = node_host(&cluster);
    let on_node = Browser {
        http: http(),
        base: reach.clone(),
        cookie: ora.cookie.clone(),
        host: Some(node.clone()),
    };
    let (status, body) = on_node.send(Method::GET, "/me", None, None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("node_host")),
        "{body}"
    );
    let login = http()
        .post(format!("{reach}/api/v1/auth/login"))
        .header("host", &node)
        .header("origin", format!("http://{node}"))
        .json(&json!({"username": "ora", "password": "ora-rides-a-blue-tram", "session": "cookie"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 403);
    assert!(login.headers().get("set-cookie").is_none());
    let page = get(&format!("{reach}/"), &[("host", &node)]).await;
    assert_eq!(page.status(), StatusCode::MISDIRECTED_REQUEST);
    // The node list does not flag a node whose host differs from the console's.
    let nodes = cluster.admin.get("/admin/nodes").await;
    assert_eq!(nodes.body["nodes"][0]["public_host_is_console"], false);

    // Logging out with the cookie needs the console's origin too, then ends the session.
    assert_eq!(
        ora.send(Method::POST, "/auth/logout", Some(attacker), None)
            .await
            .0,
        403
    );
    assert_eq!(
        ora.send(Method::POST, "/auth/logout", Some(&base), None)
            .await
            .0,
        204
    );
    assert_eq!(ora.send(Method::GET, "/me", None, None).await.0, 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn with_a_public_url_the_console_lives_there_and_its_cookie_is_secure() {
    let cluster = TestCluster::start_with(|c| {
        c.public_url = Some("https://127.0.0.1".into());
    })
    .await;
    cluster.api.sign_up("pat", "pat-rides-a-blue-tram").await;
    cluster.wait_for_nodes(1).await;
    let nodes = cluster.admin.get("/admin/nodes").await;
    assert_eq!(
        nodes.body["nodes"][0]["public_host_is_console"], false,
        "{}",
        nodes.text
    );
    // On a node's host the console's pages send the browser to the public URL.
    let (reach, node) = node_host(&cluster);
    let page = get(&format!("{reach}/containers"), &[("host", &node)]).await;
    assert_eq!(page.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(page.headers()["location"], "https://127.0.0.1/containers");
    // A login from the public URL's page gets a Secure cookie.
    let login = http()
        .post(format!("{}/api/v1/auth/login", console(&cluster)))
        .header("origin", "https://127.0.0.1")
        .json(&json!({"username": "pat", "password": "pat-rides-a-blue-tram", "session": "cookie"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    assert!(login.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("; Secure"));
}

/// A session token as a login answers it to a script (the same kind of session a cookie holds).
async fn session_token(base: &str, username: &str, password: &str) -> String {
    let r = http()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Cookie tossing: a page on the console's host set `yun_session` with `Path=/api`, the master
/// took the first session cookie, and the victim's console ran as the attacker. Now two
/// session cookies are refused whatever their order, and the answer clears every copy.
#[tokio::test(flavor = "multi_thread")]
async fn two_session_cookies_are_refused_in_either_order_and_cleared() {
    let cluster = TestCluster::master_only().await;
    let base = console(&cluster);
    cluster.api.sign_up("vic", "vic-rides-a-blue-tram").await;
    cluster.api.sign_up("mal", "mal-rides-a-blue-tram").await;
    let vic = session_token(&base, "vic", "vic-rides-a-blue-tram").await;
    let mal = session_token(&base, "mal", "mal-rides-a-blue-tram").await;
    for cookie in [
        format!("yun_session={mal}; yun_session={vic}"),
        format!("yun_session={vic}; yun_session={mal}"),
    ] {
        let r = get(&format!("{base}/api/v1/me"), &[("cookie", &cookie)]).await;
        assert_eq!(r.status(), 401);
        let cleared: Vec<String> = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect();
        for path in ["/", "/api", "/api/", "/api/v1", "/api/v1/me"] {
            assert!(
                cleared
                    .iter()
                    .any(|c| c.starts_with(&format!("yun_session=; Path={path};"))
                        && c.contains("Max-Age=0")),
                "{path} is cleared: {cleared:?}"
            );
        }
        assert!(
            cleared.iter().any(|c| c.contains("Domain=localhost")),
            "{cleared:?}"
        );
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "ambiguous_session", "{body}");
        // A change with two cookies does nothing either: no order is made for anyone.
        let order = http()
            .post(format!("{base}/api/v1/orders"))
            .header("cookie", &cookie)
            .header("origin", &base)
            .json(&json!({"credits": 100}))
            .send()
            .await
            .unwrap();
        assert_eq!(order.status(), 401);
    }
    for (who, token) in [("vic", &vic), ("mal", &mal)] {
        let orders = cluster.api.with_token(token).get("/orders").await;
        assert_eq!(orders.body["orders"], json!([]), "{who}: {}", orders.text);
    }
    // One cookie is the session it is.
    let one = get(
        &format!("{base}/api/v1/me"),
        &[("cookie", &format!("yun_session={vic}"))],
    )
    .await;
    assert_eq!(one.status(), 200);
    assert_eq!(
        one.json::<Value>().await.unwrap()["user"]["username"],
        "vic"
    );
}

/// Over HTTPS only `__Host-yun_session` is taken: browsers hold a `__Host-` cookie to
/// `Secure`, `Path=/` and no `Domain`, so no other page can add a second one beside it.
#[tokio::test(flavor = "multi_thread")]
async fn over_https_only_the_host_prefixed_cookie_is_taken() {
    let cluster = TestCluster::master_only_with(|c| {
        c.public_url = Some("https://localhost".into());
    })
    .await;
    let base = console(&cluster);
    cluster.api.sign_up("vic", "vic-rides-a-blue-tram").await;
    let vic = session_token(&base, "vic", "vic-rides-a-blue-tram").await;
    let plain = get(
        &format!("{base}/api/v1/me"),
        &[("cookie", &format!("yun_session={vic}"))],
    )
    .await;
    assert_eq!(
        plain.status(),
        401,
        "a cookie without the prefix is not a session over HTTPS"
    );
    let prefixed = get(
        &format!("{base}/api/v1/me"),
        &[("cookie", &format!("__Host-yun_session={vic}"))],
    )
    .await;
    assert_eq!(prefixed.status(), 200);
}

/// A node may not publish renters' ports at an address the console's host stands for: the
/// master refuses its registration (a renter's service there would receive the console's
/// cookies); a node on an address of its own registers.
#[tokio::test(flavor = "multi_thread")]
async fn a_node_that_would_publish_where_the_console_is_served_is_refused() {
    let cluster = TestCluster::master_only_with(|c| {
        c.public_url = Some("http://localhost:8088".into());
    })
    .await;
    let ports = yun_testkit::PortBlock::claim();
    for (name, address) in [("on-console", "127.0.0.1"), ("everywhere", "0.0.0.0")] {
        let mut config = cluster.worker_config(name, &cluster.join_token, &ports);
        config.docker.publish_address = address.parse().unwrap();
        let worker = yun_worker::start(config).await.expect("the worker starts");
        assert_eq!(
            cluster
                .master
                .wait_for_nodes(1, std::time::Duration::from_secs(4))
                .await,
            0,
            "a node publishing on {address} was taken"
        );
        worker.shutdown.cancel();
        let _ = worker.task.await;
    }
    let config = cluster.worker_config("apart", &cluster.join_token, &ports);
    let worker = yun_worker::start(config).await.expect("the worker starts");
    let registered = cluster
        .master
        .wait_for_nodes(1, std::time::Duration::from_secs(10))
        .await;
    worker.shutdown.cancel();
    let _ = worker.task.await;
    assert_eq!(registered, 1, "a node on 127.0.0.2 registers");
}
