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

/// The console's address: `localhost`, while the in-process node publishes on 127.0.0.1.
fn console(cluster: &TestCluster) -> String {
    format!("http://localhost:{}", cluster.master.http_addr.port())
}

fn node_host(cluster: &TestCluster) -> String {
    format!("http://127.0.0.1:{}", cluster.master.http_addr.port())
}

/// A browser's session: the cookie, and the origin its requests come from.
struct Browser {
    http: reqwest::Client,
    base: String,
    cookie: String,
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
    assert!(String::from_utf8_lossy(&identity).contains("/app.js"));

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
    let host = node_host(&cluster);
    let on_node = Browser {
        http: http(),
        base: host.clone(),
        cookie: ora.cookie.clone(),
    };
    let (status, body) = on_node.send(Method::GET, "/me", None, None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("node_host")),
        "{body}"
    );
    let login = http()
        .post(format!("{host}/api/v1/auth/login"))
        .header("origin", &host)
        .json(&json!({"username": "ora", "password": "ora-rides-a-blue-tram", "session": "cookie"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 403);
    assert!(login.headers().get("set-cookie").is_none());
    let page = get(&format!("{host}/"), &[]).await;
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
    // The node's public host is the console's: the operator sees it in the node list.
    cluster.wait_for_nodes(1).await;
    let nodes = cluster.admin.get("/admin/nodes").await;
    assert_eq!(
        nodes.body["nodes"][0]["public_host_is_console"], true,
        "{}",
        nodes.text
    );
    // On a node's host the console's pages send the browser to the public URL.
    let page = get(&format!("{}/containers", node_host(&cluster)), &[]).await;
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
