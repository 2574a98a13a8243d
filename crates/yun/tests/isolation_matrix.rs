//! The isolation matrix, generated from `docs/openapi.json`: for every path and method
//! (WebSockets included) an anonymous caller gets 401 (only the routes listed as open are
//! open); a renter on an operator's path gets 404 `no_such_route`; a renter naming another
//! renter's container, image, order, session or token gets 404 `not_found`; and afterwards the
//! victim's containers, images, balance, ledger, orders, sessions and tokens are exactly as
//! before. A path parameter the test cannot fill fails the test.

use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use yun_testkit::{testbox_image, Api, LocalRegistry, TestCluster};

/// Routes anyone may call, by operation id: a new open route must be added here on purpose.
const OPEN: &[&str] = &[
    "register",
    "login",
    "list_plans",
    "payment_notify",
    "healthz",
    "readyz",
];

/// What the victim holds, and the ids the matrix fills paths with.
struct Victim {
    api: Api,
    container: String,
    image: String,
    order: String,
    session: String,
    token: String,
}

/// Everything of the victim's that a refused call must leave as it was.
async fn snapshot(v: &Api) -> Value {
    let containers: Vec<Value> = v.get("/containers?all=true&limit=200").await.body["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| json!([c["id"], c["state"], c["name"]]))
        .collect();
    let orders: Vec<Value> = v.get("/orders").await.body["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| json!([o["id"], o["state"]]))
        .collect();
    json!({
        "containers": containers,
        "images": v.get("/images?limit=200").await.body["images"],
        "balance": v.get("/me").await.body["user"]["balance"],
        "banned": v.get("/me").await.body["user"]["banned"],
        "ledger": v.get("/billing/ledger?limit=200").await.body["entries"].as_array().unwrap().len(),
        "orders": orders,
        "sessions": v.get("/me/sessions").await.body["sessions"].as_array().unwrap().len(),
        "tokens": v.get("/me/tokens").await.body["access_tokens"],
    })
}

/// Fills `path`'s parameters for a renter's call naming the victim's resources, or for an
/// operator's path with real ids. Panics on a parameter it does not know.
fn fill(path: &str, v: &Victim, admin_ids: &BTreeMap<&str, String>) -> String {
    if !path.contains('{') {
        return path.to_string();
    }
    let id = if let Some(rest) = path.strip_prefix("/api/v1/admin/") {
        let kind = rest.split('/').next().unwrap();
        admin_ids
            .get(kind)
            .unwrap_or_else(|| panic!("the matrix cannot fill {path}: no id for admin/{kind}"))
            .clone()
    } else if path.starts_with("/api/v1/containers/{id}") {
        v.container.clone()
    } else if path == "/api/v1/images/{id}" {
        v.image.clone()
    } else if path.starts_with("/api/v1/orders/{id}") {
        v.order.clone()
    } else if path == "/api/v1/me/sessions/{id}" {
        v.session.clone()
    } else if path == "/api/v1/me/tokens/{id}" {
        v.token.clone()
    } else if path == "/api/v1/payments/{provider}/notify" {
        return path.replace("{provider}", "manual");
    } else {
        panic!("the isolation matrix cannot fill the parameters of {path}: teach it this route");
    };
    let filled = path.replace("{id}", &id);
    assert!(!filled.contains('{'), "the matrix cannot fill {path}");
    filled
}

async fn call(api: &Api, method: &str, path: &str, has_body: bool) -> yun_testkit::Reply {
    let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
    // The path is absolute (it starts with /api/v1 or is /healthz); the API's base is cut.
    let root = api.base.trim_end_matches("/api/v1");
    let mut r = api.http.request(method, format!("{root}{path}"));
    if let Some(t) = &api.token {
        r = r.bearer_auth(t);
    }
    if has_body {
        r = r.json(&json!({}));
    }
    Api::send(r).await
}

#[tokio::test(flavor = "multi_thread")]
async fn every_route_in_the_spec_keeps_strangers_and_other_renters_out() {
    let spec: Value = serde_json::from_str(include_str!("../../../docs/openapi.json")).unwrap();
    let cluster = TestCluster::start().await;
    let public = cluster.publish_testbox().await;
    let anon = cluster.api.clone();

    // The victim: a running container, a private image, a pending order, a second session and
    // an access token.
    let vic = anon.sign_up("vic", "vic-rides-a-blue-tram").await;
    let c = vic.run(json!({"image": public, "name": "mine"})).await;
    let registry = LocalRegistry::start().await;
    let private = registry.push(
        &testbox_image(),
        &format!("vic-{}/app", cluster.cluster_id()),
    );
    let pulled = vic
        .post("/images/pull", json!({"reference": private}))
        .await;
    assert_eq!(pulled.status, 201, "{}", pulled.text);
    let order = vic.post("/orders", json!({"credits": 500})).await;
    assert_eq!(order.status, 201, "{}", order.text);
    let other = anon.log_in("vic", "vic-rides-a-blue-tram").await;
    let session = other.current_session().await;
    let token = vic
        .post("/me/tokens", json!({"name": "ci", "expires_in_days": 7}))
        .await;
    let victim = Victim {
        container: c["id"].as_str().unwrap().to_string(),
        image: pulled.body["image"]["id"].as_str().unwrap().to_string(),
        order: order.body["order"]["id"].as_str().unwrap().to_string(),
        token: token.body["access_token"]["id"]
            .as_str()
            .unwrap()
            .to_string(),
        session,
        api: vic,
    };
    let join = cluster
        .admin
        .post("/admin/join-tokens", json!({"ttl_seconds": 3600}))
        .await;
    let nodes = cluster.admin.get("/admin/nodes").await;
    let catalog = cluster.admin.get("/images").await;
    let vic_id = victim.api.get("/me").await.body["user"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let admin_ids: BTreeMap<&str, String> = BTreeMap::from([
        (
            "nodes",
            nodes.body["nodes"][0]["id"].as_str().unwrap().to_string(),
        ),
        ("users", vic_id),
        (
            "images",
            catalog.body["images"][0]["id"]
                .as_str()
                .unwrap()
                .to_string(),
        ),
        ("orders", victim.order.clone()),
        (
            "join-tokens",
            join.body["join_token"]["id"].as_str().unwrap().to_string(),
        ),
    ]);
    let before = snapshot(&victim.api).await;

    let mal = anon.sign_up("mal", "mal-rides-a-blue-tram").await;
    let mut open = Vec::new();
    let mut checked = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap();
            let has_body = op.get("requestBody").is_some();
            let is_open = op["security"] == json!([{}]);
            let target = fill(path, &victim, &admin_ids);
            let what = format!("{} {path} ({id})", method.to_uppercase());
            if is_open {
                open.push(id.to_string());
                continue;
            }
            // Strangers: 401 everywhere, WebSockets included (answered before the upgrade).
            let r = call(&anon, method, &target, has_body).await;
            assert_eq!(r.status, 401, "anonymous {what}: {}", r.text);
            assert_eq!(r.code(), "unauthorized", "anonymous {what}");
            if path.starts_with("/api/v1/admin/") {
                let r = call(&mal, method, &target, has_body).await;
                assert_eq!(r.status, 404, "a renter on {what}: {}", r.text);
                assert_eq!(r.code(), "no_such_route", "a renter on {what}");
            } else if path.contains('{') {
                let r = call(&mal, method, &target, has_body).await;
                assert_eq!(
                    r.status, 404,
                    "a renter naming the victim's in {what}: {}",
                    r.text
                );
                assert_eq!(r.code(), "not_found", "{what}");
                // The refusal says nothing of what it refused.
                assert!(
                    !r.text.contains("\"mine\"") && !r.text.contains(&private),
                    "{what} leaks: {}",
                    r.text
                );
            }
            checked += 1;
        }
    }
    open.sort();
    let mut expected: Vec<String> = OPEN.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(open, expected, "the routes open to anyone");
    assert!(checked >= 45, "only {checked} operations checked");
    eprintln!(
        "isolation matrix: {checked} operations checked, {} open",
        open.len()
    );

    // Nothing of the victim's changed, and the fleet is as it was.
    assert_eq!(snapshot(&victim.api).await, before);
    assert_eq!(
        other.get("/me").await.status,
        200,
        "the victim's other session lives"
    );
    let fleet = cluster.admin.get("/admin/nodes").await;
    assert_eq!(fleet.body["nodes"][0]["state"], "ready");
    let tokens = cluster.admin.get("/admin/join-tokens").await;
    assert_eq!(tokens.body["join_tokens"][0]["state"], "active");
    let users = cluster.admin.get("/admin/users").await;
    assert!(users.body["users"]
        .as_array()
        .unwrap()
        .iter()
        .all(|u| u["banned"] == false));
}
