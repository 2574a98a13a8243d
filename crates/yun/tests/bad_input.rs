//! Bad input gets the error envelope with a message that says what to do, and loses nothing:
//! no half-created container, no port held.

use serde_json::json;
use yun_testkit::{Api, TestCluster};

fn assert_error(r: &yun_testkit::Reply, status: u16, code: &str) {
    assert_eq!(r.status, status, "{}", r.text);
    assert_eq!(r.code(), code, "{}", r.text);
    assert!(
        !r.message().is_empty(),
        "a message says what to do: {}",
        r.text
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn accounts_and_auth() {
    let cluster = TestCluster::start_on(crate::STORE).await;
    let api = &cluster.api;
    assert_error(&api.get("/containers").await, 401, "unauthorized");
    assert_error(
        &api.with_token("not-a-token").get("/me").await,
        401,
        "unauthorized",
    );
    for (user, pass) in [
        ("ab", "long-enough"),
        ("Alice", "long-enough"),
        ("a/b", "long-enough"),
        ("carol", "short"),
    ] {
        let r = api
            .post(
                "/auth/register",
                json!({"username": user, "password": pass}),
            )
            .await;
        assert_error(&r, 422, "invalid_input");
    }
    let carol = api.sign_up("carol", "carol-rides-a-blue-tram").await;
    let again = api
        .post(
            "/auth/register",
            json!({"username": "carol", "password": "carol-rides-a-blue-tram"}),
        )
        .await;
    assert_error(&again, 409, "username_taken");
    let wrong = api
        .post(
            "/auth/login",
            json!({"username": "carol", "password": "nope-nope"}),
        )
        .await;
    assert_error(&wrong, 401, "wrong_credentials");
    let nobody = api
        .post(
            "/auth/login",
            json!({"username": "nobody", "password": "nope-nope"}),
        )
        .await;
    assert_error(&nobody, 401, "wrong_credentials");

    // The console's cookie is HttpOnly and SameSite=Strict, and works on its own (on the
    // console's host, `localhost`, not the node's 127.0.0.1; tests/console.rs has the rest).
    let console = api.base.replace("127.0.0.1", "localhost");
    let origin = console.trim_end_matches("/api/v1").to_string();
    let login = Api::send(
        api.http
            .post(format!("{console}/auth/login"))
            .header("origin", &origin)
            .json(&json!({"username": "carol", "password": "carol-rides-a-blue-tram", "session": "cookie"})),
    )
    .await;
    let cookie = login.headers["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap().to_string();
    let by_cookie = Api::send(api.http.get(format!("{console}/me")).header("cookie", pair)).await;
    assert_eq!(by_cookie.status, 200, "{}", by_cookie.text);

    // Renters do not see operators' routes.
    assert_eq!(carol.get("/admin/nodes").await.status, 404);

    // A banned user is refused everywhere, even with a session they already had.
    let id = carol.get("/me").await.body["user"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        cluster
            .admin
            .post(&format!("/admin/users/{id}/ban"), json!({}))
            .await
            .status,
        200
    );
    assert_eq!(carol.get("/me").await.status, 401, "sessions end on a ban");
    let r = api
        .post(
            "/auth/login",
            json!({"username": "carol", "password": "carol-rides-a-blue-tram"}),
        )
        .await;
    assert_error(&r, 403, "account_banned");
    assert_eq!(
        cluster
            .admin
            .post(&format!("/admin/users/{id}/unban"), json!({}))
            .await
            .status,
        200
    );
    api.log_in("carol", "carol-rides-a-blue-tram").await;

    // Logging out ends the session.
    let dave = api.sign_up("dave", "dave-rides-a-blue-tram").await;
    assert_eq!(dave.post("/auth/logout", json!({})).await.status, 204);
    assert_error(&dave.get("/me").await, 401, "unauthorized");

    // Passwords never reach the logs or the API.
    let users = cluster.admin.get("/admin/users").await;
    assert!(!users.text.contains("carol-rides-a-blue-tram") && !users.text.contains("argon2"));
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_requests() {
    let cluster = TestCluster::start_on(crate::STORE).await;
    let image = cluster.publish_testbox().await;
    let erin = cluster.api.sign_up("erin", "erin-rides-a-blue-tram").await;

    let raw = |body: &'static str| {
        erin.request(reqwest::Method::POST, "/containers")
            .header("content-type", "application/json")
            .body(body)
    };
    assert_error(&Api::send(raw("{not json")).await, 400, "malformed_json");
    let no_type = erin
        .request(reqwest::Method::POST, "/containers")
        .body("{}");
    assert_error(&Api::send(no_type).await, 415, "unsupported_media_type");
    let huge = "x".repeat(200 * 1024);
    // The server answers 413 without reading the whole body and then closes the connection;
    // were it pooled, the next request could be sent on it as it closes (a flaky
    // IncompleteMessage), so this one asks not to be kept.
    let big = erin
        .request(reqwest::Method::POST, "/containers")
        .header("connection", "close")
        .json(&json!({"image": image, "name": huge}));
    assert_error(&Api::send(big).await, 413, "body_too_large");

    let cases = [
        json!({"image": image, "bogus": 1}),
        json!({"image": "NOT A REFERENCE"}),
        json!({"image": "bad//ref"}),
        json!({"image": image, "name": "../etc"}),
        json!({"image": image, "name": "a/b"}),
        json!({"image": image, "ports": [{"container_port": 0}]}),
        json!({"image": image, "ports": [{"container_port": 70000}]}),
        json!({"image": image, "ports": [{"container_port": 80, "host_port": -1}]}),
        json!({"image": image, "ports": [{"container_port": 80, "protocol": "sctp"}]}),
        json!({"image": image, "ports": [{"container_port": 80}, {"container_port": 80}]}),
        json!({"image": image, "env": {"A=B": "c"}}),
        json!({"image": image, "env": {"": "c"}}),
        json!({"image": image, "plan": "galactic"}),
        json!({"image": image, "command": "not-an-array"}),
        json!({"name": "no-image"}),
    ];
    for body in cases {
        let r = erin.post("/containers", body.clone()).await;
        assert_error(
            &r,
            422,
            if r.code() == "unknown_image" {
                "unknown_image"
            } else {
                "invalid_input"
            },
        );
        assert!(r.status == 422, "{body}: {}", r.text);
    }
    let missing = erin
        .post("/containers", json!({"image": "never/heard-of:it"}))
        .await;
    assert_error(&missing, 422, "unknown_image");

    // Unknown or foreign ids are 404 in the envelope.
    assert_error(
        &erin.get("/containers/aaaaaaaaaaaaaaaa").await,
        404,
        "not_found",
    );
    assert_error(
        &erin.get("/containers/..%2f..%2fetc").await,
        404,
        "not_found",
    );
    assert_error(
        &erin
            .post("/containers/aaaaaaaaaaaaaaaa/stop", json!({}))
            .await,
        404,
        "not_found",
    );
    assert_error(&erin.get("/no/such/route").await, 404, "no_such_route");
    assert_error(
        &erin
            .get("/containers/aaaaaaaaaaaaaaaa/logs?tail=lots")
            .await,
        400,
        "invalid_query",
    );
    // State changes are never GET.
    assert_eq!(
        erin.get("/containers/aaaaaaaaaaaaaaaa/stop").await.status,
        405
    );

    // None of that left anything behind.
    assert!(erin.get("/containers").await.body["containers"]
        .as_array()
        .unwrap()
        .is_empty());
    let nodes = cluster.admin.get("/admin/nodes").await;
    assert_eq!(nodes.body["nodes"][0]["containers"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn ports_quota_and_failed_creates_lose_nothing() {
    let cluster = TestCluster::start_with_on(crate::STORE, |c| {
        c.max_containers_per_user = 12;
        c.max_ports_per_user = 10;
    })
    .await;
    let image = cluster.publish_testbox().await;
    let frank = cluster
        .api
        .sign_up("frank", "frank-rides-a-blue-tram")
        .await;
    let (start, end) = (cluster.ports.start, cluster.ports.end);
    let count = |r: yun_testkit::Reply| r.body["containers"].as_array().unwrap().len();

    // A host port outside the node's range, or taken, is a 409 that says what to do.
    let r = frank
        .post(
            "/containers",
            json!({"image": image, "ports": [{"container_port": 8080, "host_port": 80}]}),
        )
        .await;
    assert_error(&r, 409, "port_out_of_range");
    assert!(r.message().contains("leave host_port out"), "{}", r.text);
    frank
        .run(json!({"image": image, "ports": [{"container_port": 8080, "host_port": start}]}))
        .await;
    let r = frank
        .post(
            "/containers",
            json!({"image": image, "ports": [{"container_port": 8080, "host_port": start}]}),
        )
        .await;
    assert_error(&r, 409, "port_taken");

    // A port something outside yun holds: asked for by number it is a 409 and nothing is kept;
    // handed out automatically it is skipped.
    let squatter =
        std::net::TcpListener::bind(("0.0.0.0", start + 1)).expect("binding a test port");
    let r = frank.post("/containers", json!({"image": image, "name": "squatted", "ports": [{"container_port": 8080, "host_port": start + 1}]})).await;
    assert_error(&r, 409, "port_unavailable");
    assert_eq!(count(frank.get("/containers").await), 1, "no record kept");
    let auto = frank.run(json!({"image": image, "name": "squatted"})).await;
    assert_eq!(
        auto["ports"][0]["host_port"],
        start + 2,
        "the held port was skipped: {auto}"
    );
    drop(squatter);

    // A worker failure during create (the image vanished from the host and no registry has
    // it) leaves no record claiming to run and no port held.
    let gone = format!(
        "{}/yun-gone-{}:1",
        yun_testkit::TESTBOX_REGISTRY,
        cluster.cluster_id()
    );
    // Content of its own (a label), so that removing the tag removes the image: a container
    // runs the image id its image was recorded as, which a mere untag would leave in place.
    yun_testkit::build_image(
        &gone,
        &format!(
            "FROM {image}\nLABEL yun.test.gone={}\n",
            cluster.cluster_id()
        ),
        &[],
    );
    assert_eq!(
        cluster
            .admin
            .post("/admin/images", json!({"reference": gone}))
            .await
            .status,
        201
    );
    assert!(std::process::Command::new("docker")
        .args(["rmi", &gone])
        .status()
        .unwrap()
        .success());
    let r = frank
        .post(
            "/containers",
            json!({"image": gone, "ports": [{"container_port": 8080, "host_port": start + 3}]}),
        )
        .await;
    assert_error(&r, 422, "node_refused");
    assert_eq!(count(frank.get("/containers").await), 2);
    let reuse = frank
        .run(json!({"image": image, "ports": [{"container_port": 8080, "host_port": start + 3}]}))
        .await;
    assert_eq!(
        reuse["ports"][0]["host_port"],
        start + 3,
        "the port was freed"
    );

    // Concurrent creates never share a host port.
    let mut tasks = Vec::new();
    for i in 0..7 {
        let frank = frank.clone();
        let image = image.clone();
        tasks.push(tokio::spawn(async move {
            frank
                .post(
                    "/containers",
                    json!({"image": image, "name": format!("c{i}")}),
                )
                .await
        }));
    }
    let mut ports = std::collections::HashSet::from([
        u64::from(start),
        u64::from(start) + 2,
        u64::from(start) + 3,
    ]);
    for t in tasks {
        let r = t.await.unwrap();
        assert_eq!(r.status, 201, "{}", r.text);
        let p = r.body["container"]["ports"][0]["host_port"]
            .as_u64()
            .unwrap();
        assert!((u64::from(start)..=u64::from(end)).contains(&p));
        assert!(ports.insert(p), "port {p} handed out twice");
    }

    // Published ports are limited per renter (10 here, all held now): one more is refused
    // and nothing is taken; a container publishing nothing still runs, and another renter
    // still gets a port on the same node.
    assert_eq!(count(frank.get("/containers").await), 10);
    let balance = frank.balance().await;
    let r = frank.post("/containers", json!({"image": image})).await;
    assert_error(&r, 403, "quota_exceeded");
    assert_eq!(r.body["error"]["field"], "ports");
    assert!(r.message().contains("10 host ports"), "{}", r.text);
    assert_eq!(count(frank.get("/containers").await), 10);
    assert_eq!(frank.balance().await, balance, "nothing charged");
    let gina = cluster.api.sign_up("gina", "gina-rides-a-blue-tram").await;
    let theirs = gina.run(json!({"image": image})).await;
    assert!(theirs["ports"][0]["host_port"].is_u64(), "{theirs}");

    // The quota is refused clearly: 12 allowed, 10 exist, so two more fit.
    frank.run(json!({"image": image, "ports": []})).await;
    frank.run(json!({"image": image, "ports": []})).await;
    let r = frank
        .post("/containers", json!({"image": image, "ports": []}))
        .await;
    assert_error(&r, 403, "quota_exceeded");
    assert!(r.message().contains("12"), "{}", r.text);
    assert_eq!(count(frank.get("/containers").await), 12);
}

/// A command the image does not have is the renter's mistake: a 422 on `command`, and the
/// failed create keeps nothing (no container, no port, no credit).
#[tokio::test(flavor = "multi_thread")]
async fn a_command_that_cannot_run_is_a_422_and_keeps_nothing() {
    let cluster = TestCluster::start_on(crate::STORE).await;
    let plain = yun_testkit::plain_testbox_image();
    let r = cluster
        .admin
        .post("/admin/images", json!({ "reference": plain }))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let gina = cluster.api.sign_up("gina", "gina-rides-a-blue-tram").await;
    let before = gina.balance().await;
    let r = gina
        .post(
            "/containers",
            json!({"image": plain, "command": ["/no/such/program"], "ports": [{"container_port": 8080, "host_port": cluster.ports.start}]}),
        )
        .await;
    assert_error(&r, 422, "command_cannot_run");
    assert_eq!(r.body["error"]["field"], "command");
    assert!(
        !r.message().contains("OCI"),
        "the runtime's own text stays in the logs: {}",
        r.text
    );
    assert_eq!(gina.balance().await, before, "no credit kept");
    let list = gina.get("/containers").await;
    assert_eq!(list.body["containers"].as_array().unwrap().len(), 0);
    // The port is free again: the right command gets it.
    let c = gina
        .run(json!({"image": plain, "command": ["/testbox", "serve", "8080", "ok"], "ports": [{"container_port": 8080, "host_port": cluster.ports.start}]}))
        .await;
    assert_eq!(c["state"], "running");
}
