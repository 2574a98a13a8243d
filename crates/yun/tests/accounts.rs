//! Accounts under pressure, against a real master over HTTP: guessing a password backs off by
//! account and by address (429 with Retry-After) without locking the owner out for long;
//! sign-ups are limited per address and can be closed; weak passwords are refused with what
//! is accepted; sessions are listed, ended one by one, end when idle and are purged; a
//! password change ends every other session; personal access tokens work as bearer tokens
//! only, cannot mint more, and are revocable; and all of it is in the audit log.
//!
//! The master trusts 127.0.0.1 as a proxy here, so `X-Forwarded-For` plays the part of
//! strangers' addresses.

use reqwest::Method;
use serde_json::json;
use std::time::Duration;
use yun_api::ErrorCode;
use yun_testkit::{Api, Reply, TestCluster};

const PW: &str = "ann-rides-a-blue-tram";

async fn behind_proxy() -> TestCluster {
    TestCluster::master_only_with(|cfg| {
        cfg.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        cfg.registrations_per_hour = 3;
    })
    .await
}

async fn login_from(api: &Api, source: &str, username: &str, password: &str) -> Reply {
    Api::send(
        api.request(Method::POST, "/auth/login")
            .header("x-forwarded-for", source)
            .json(&json!({"username": username, "password": password})),
    )
    .await
}

async fn login_on_device(
    api: &Api,
    source: &str,
    username: &str,
    password: &str,
    device: &str,
) -> Reply {
    Api::send(
        api.request(Method::POST, "/auth/login")
            .header("x-forwarded-for", source)
            .json(&json!({"username": username, "password": password, "device": device})),
    )
    .await
}

/// The console's login, as a browser that holds `cookie` sends it.
async fn console_login(cluster: &TestCluster, source: &str, cookie: Option<&str>) -> Reply {
    let base = format!("http://localhost:{}", cluster.master.http_addr.port());
    let mut r = cluster
        .api
        .http
        .post(format!("{base}/api/v1/auth/login"))
        .header("origin", &base)
        .header("x-forwarded-for", source)
        .json(&json!({"username": "ann", "password": PW, "session": "cookie"}));
    if let Some(c) = cookie {
        r = r.header("cookie", c);
    }
    Api::send(r).await
}

/// Every `login_failed` entry: (subject, detail, repeats).
async fn failed_logins(admin: &Api) -> Vec<(String, String, u64)> {
    let r = admin.get("/admin/audit?limit=200").await;
    r.body["entries"]
        .as_array()
        .expect("audit entries")
        .iter()
        .filter(|e| e["action"] == "login_failed")
        .map(|e| {
            (
                e["subject"].as_str().unwrap().to_string(),
                e["detail"].as_str().unwrap().to_string(),
                e["repeats"].as_u64().unwrap(),
            )
        })
        .collect()
}

async fn register_from(api: &Api, source: &str, username: &str) -> Reply {
    Api::send(
        api.request(Method::POST, "/auth/register")
            .header("x-forwarded-for", source)
            .json(&json!({"username": username, "password": PW})),
    )
    .await
}

fn retry_after(r: &Reply) -> u64 {
    r.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After is whole seconds")
}

async fn audit_actions(admin: &Api) -> Vec<(String, String, String)> {
    let r = admin.get("/admin/audit?limit=200").await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["entries"]
        .as_array()
        .expect("audit entries")
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_string(),
                e["subject"].as_str().unwrap().to_string(),
                e["detail"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flood_of_wrong_passwords_never_keeps_the_owners_known_devices_out() {
    let cluster = behind_proxy().await;
    let api = &cluster.api;
    api.sign_up("ann", PW).await;
    api.sign_up("bob", "bob-rides-a-blue-tram").await;
    // Ann logged in before from her CLI and her browser; Bob from his.
    let cli = login_from(api, "192.0.2.10", "ann", PW).await;
    assert_eq!(cli.status, 200, "{}", cli.text);
    let device = cli.body["device"]
        .as_str()
        .expect("a device token")
        .to_string();
    let browser = console_login(&cluster, "192.0.2.11", None).await;
    assert_eq!(browser.status, 200, "{}", browser.text);
    let device_cookie = browser
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("yun_device="))
        .expect("a device cookie");
    assert!(
        device_cookie.contains("HttpOnly") && device_cookie.contains("SameSite=Strict"),
        "{device_cookie}"
    );
    let device_cookie = device_cookie.split(';').next().unwrap().to_string();
    let bobs = login_from(api, "192.0.2.12", "bob", "bob-rides-a-blue-tram").await;
    let bobs_device = bobs.body["device"].as_str().unwrap().to_string();

    // A stranger guesses from one address, then the flood rotates addresses; and Ann's office
    // address (a NAT) is used by someone spraying other accounts.
    for i in 0..6 {
        let r = login_from(api, "203.0.113.200", "ann", &format!("guess-number-{i}")).await;
        assert_eq!(r.code(), "wrong_credentials", "{}", r.text);
    }
    for i in 0..20 {
        let r = login_from(api, &format!("203.0.113.{i}"), "ann", "guess-again-1").await;
        assert_eq!(r.status, 429, "the flood is held: {}", r.text);
    }
    let office = "198.51.100.7";
    for i in 0..11 {
        let r = login_from(api, office, &format!("colleague{i}"), "spray-password-1").await;
        assert_eq!(r.code(), "wrong_credentials", "{}", r.text);
    }
    // A new device of Ann's waits, as a stranger does, from anywhere.
    let new_laptop = login_from(api, "192.0.2.99", "ann", PW).await;
    assert_eq!(new_laptop.status, 429, "{}", new_laptop.text);
    // Her known CLI and browser get in, even from the sprayed office address.
    let r = login_on_device(api, office, "ann", PW, &device).await;
    assert_eq!(r.status, 200, "the known CLI gets in: {}", r.text);
    assert_eq!(r.body["device"], device.as_str(), "the same device");
    let r = console_login(&cluster, office, Some(&device_cookie)).await;
    assert_eq!(r.status, 200, "the known browser gets in: {}", r.text);
    // A made-up device token, or another account's, is a stranger's.
    let r = login_on_device(api, "192.0.2.98", "ann", PW, &"ab".repeat(32)).await;
    assert_eq!(r.status, 429, "{}", r.text);
    let r = login_on_device(api, "192.0.2.97", "ann", PW, &bobs_device).await;
    assert_eq!(r.status, 429, "{}", r.text);

    // A known device guesses no faster than anyone: its own failures hold it alone.
    for i in 0..6 {
        let r = login_on_device(
            api,
            "192.0.2.10",
            "ann",
            &format!("typo-number-{i}"),
            &device,
        )
        .await;
        assert_eq!(r.code(), "wrong_credentials", "{}", r.text);
    }
    let r = login_on_device(api, "192.0.2.10", "ann", PW, &device).await;
    assert_eq!(
        r.status, 429,
        "the device waits for its own failures: {}",
        r.text
    );
    let r = console_login(&cluster, "192.0.2.11", Some(&device_cookie)).await;
    assert_eq!(r.status, 200, "the other device does not: {}", r.text);

    // The audit log counts repeats in one entry per account and source.
    let ann_id = r.body["user"]["id"].as_str().unwrap().to_string();
    let failed = failed_logins(&cluster.admin).await;
    let subject = format!("user:{ann_id}");
    let from_guesser: Vec<_> = failed
        .iter()
        .filter(|f| f.0 == subject && f.1.contains("203.0.113.200"))
        .collect();
    assert_eq!(from_guesser.len(), 1, "{failed:?}");
    assert_eq!(from_guesser[0].2, 6, "six failures, one entry: {failed:?}");
    assert!(
        failed
            .iter()
            .any(|f| f.0 == subject && f.1.contains("known device") && f.2 == 6),
        "the device's own failures: {failed:?}"
    );

    // A ban forgets every device: after an unban, Ann's CLI is a stranger's again.
    let r = cluster
        .admin
        .post(&format!("/admin/users/{ann_id}/ban"), json!({}))
        .await;
    assert!(r.status < 300, "{}", r.text);
    let r = cluster
        .admin
        .post(&format!("/admin/users/{ann_id}/unban"), json!({}))
        .await;
    assert!(r.status < 300, "{}", r.text);
    // (The account's own wait, a second from the sixth guess, is over by then.)
    tokio::time::sleep(Duration::from_secs(2)).await;
    let r = login_on_device(api, "192.0.2.60", "ann", PW, &device).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_ne!(r.body["device"], device.as_str(), "a new device token");
}

#[tokio::test(flavor = "multi_thread")]
async fn guessing_a_password_backs_off_by_account_and_by_address() {
    let cluster = behind_proxy().await;
    let api = &cluster.api;
    api.sign_up("ann", PW).await;
    let guesser = "203.0.113.9";
    // Five failures are free; the sixth starts a wait.
    for i in 0..6 {
        let r = login_from(api, guesser, "ann", &format!("guess-number-{i}")).await;
        assert_eq!(r.code(), "wrong_credentials", "attempt {i}: {}", r.text);
    }
    // Now even the right password waits, from anywhere, and says for how long.
    let held = login_from(api, "198.51.100.4", "ann", PW).await;
    assert_eq!(held.status, 429, "{}", held.text);
    assert_eq!(held.code(), ErrorCode::TooManyRequests.as_str());
    let wait = retry_after(&held);
    assert!(
        (1..=60).contains(&wait),
        "the owner waits at most a minute: {wait}"
    );
    assert!(held.message().contains("wait"), "{}", held.message());
    tokio::time::sleep(Duration::from_secs(wait)).await;
    let r = login_from(api, "198.51.100.4", "ann", PW).await;
    assert_eq!(
        r.status, 200,
        "after the wait the owner gets in: {}",
        r.text
    );

    // One address trying many accounts is stopped for every account, not other addresses.
    let sprayer = "203.0.113.50";
    for i in 0..11 {
        let r = login_from(api, sprayer, &format!("user{i}"), "spray-password-1").await;
        assert_eq!(r.code(), "wrong_credentials", "{}", r.text);
    }
    let r = login_from(api, sprayer, "ann", PW).await;
    assert_eq!(r.status, 429, "the sprayer's address waits: {}", r.text);
    let r = login_from(api, "192.0.2.77", "ann", PW).await;
    assert_eq!(r.status, 200, "other addresses do not: {}", r.text);

    // The audit log has the failures (one entry per account and source, counting them) and
    // the throttling, with the address.
    let audit = audit_actions(&cluster.admin).await;
    let failed: u64 = failed_logins(&cluster.admin)
        .await
        .iter()
        .map(|f| f.2)
        .sum();
    assert!(failed >= 17, "{failed} failed logins audited");
    assert!(audit
        .iter()
        .any(|a| a.0 == "login_throttled" && a.2.contains(guesser)));
    assert!(audit.iter().any(|a| a.0 == "login_failed"
        && a.1 == "unknown username:user3"
        && a.2.contains(sprayer)));
    // A wrong password for a real account names that account, not an unknown name.
    let ann_id = api.log_in("ann", PW).await.get("/me").await.body["user"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(audit
        .iter()
        .any(|a| a.0 == "login_failed" && a.1 == format!("user:{ann_id}")));
    assert!(!audit.iter().any(|a| a.1 == "unknown username:ann"));

    // A name no account can have is refused by its shape, and stored nowhere: not in the
    // audit log, and it counts toward no throttle.
    for odd in ["Admin", "x", "a name with spaces", &"z".repeat(40)] {
        let r = login_from(api, "192.0.2.200", odd, "whatever-password").await;
        assert_eq!(r.status, 422, "{odd}: {}", r.text);
        assert_eq!(r.body["error"]["field"], "username");
    }
    let after = audit_actions(&cluster.admin).await;
    assert!(
        !after.iter().any(|a| a.2.contains("192.0.2.200")),
        "nothing stored"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn forwarded_addresses_count_only_from_trusted_proxies() {
    // No proxy is trusted: whatever a client writes in X-Forwarded-For, it is 127.0.0.1.
    let cluster = TestCluster::master_only().await;
    let api = &cluster.api;
    api.sign_up("cyd", "cyd-rides-a-blue-tram").await;
    let r = login_from(api, "203.0.113.1", "cyd", "cyd-rides-a-blue-tram").await;
    assert_eq!(r.status, 200);
    let cy = api.with_token(r.body["token"].as_str().unwrap());
    let sessions = cy.get("/me/sessions").await.body;
    for s in sessions["sessions"].as_array().unwrap() {
        assert_eq!(s["source"], "127.0.0.1", "{s}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_ups_are_limited_per_address_and_refuse_weak_passwords() {
    let cluster = behind_proxy().await;
    let api = &cluster.api;
    // What is refused says what is accepted.
    for weak in ["short", "password1234", "dora-password", "qwertyuiopas"] {
        let r = Api::send(
            api.request(Method::POST, "/auth/register")
                .json(&json!({"username": "dora", "password": weak})),
        )
        .await;
        assert_eq!(r.status, 422, "{weak}: {}", r.text);
        assert_eq!(r.body["error"]["field"], "password");
        assert!(
            r.message().contains("10 to 128 characters"),
            "{}",
            r.message()
        );
    }
    // Three accounts an hour from one address (this cluster's setting), then 429.
    for i in 0..3 {
        let r = register_from(api, "203.0.113.20", &format!("bot{i}")).await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let r = register_from(api, "203.0.113.20", "bot3").await;
    assert_eq!(r.status, 429, "{}", r.text);
    assert!(
        retry_after(&r) > 3000,
        "the allowance renews within the hour"
    );
    let r = register_from(api, "203.0.113.21", "bot3").await;
    assert_eq!(r.status, 201, "another address may: {}", r.text);
    let audit = audit_actions(&cluster.admin).await;
    assert!(audit
        .iter()
        .any(|a| a.0 == "registration_throttled" && a.1 == "source:203.0.113.20"));

    // An operator can close registration; logins go on.
    let closed = TestCluster::master_only_with(|cfg| cfg.registration_open = false).await;
    let r = register_from(&closed.api, "203.0.113.30", "eve").await;
    assert_eq!(r.status, 403);
    assert_eq!(r.code(), ErrorCode::RegistrationClosed.as_str());
    assert!(r.message().contains("operator"), "{}", r.message());
    assert_eq!(
        login_from(
            &closed.api,
            "127.0.0.1",
            "admin",
            yun_testkit::ADMIN_PASSWORD
        )
        .await
        .status,
        200
    );

    // The operator opens accounts there: with the sign-up credits, the same policy, audited;
    // the new renter logs in and may change the password.
    let admin = &closed.admin;
    let r = admin
        .post(
            "/admin/users",
            json!({"username": "eve", "password": "eve-rides-a-blue-tram"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let eve_id = r.body["user"]["id"].as_str().unwrap().to_string();
    let eve = closed.api.log_in("eve", "eve-rides-a-blue-tram").await;
    assert_eq!(eve.balance().await, 1_000_000_000, "the sign-up credits");
    let r = eve
        .post(
            "/me/password",
            json!({"current_password": "eve-rides-a-blue-tram", "new_password": "eve-now-takes-the-night-bus"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = admin
        .post(
            "/admin/users",
            json!({"username": "eve", "password": "another-long-phrase-here"}),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(r.code(), ErrorCode::UsernameTaken.as_str());
    let r = admin
        .post(
            "/admin/users",
            json!({"username": "mallory", "password": "password12"}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.body["error"]["field"], "password", "{}", r.text);
    // A renter cannot: the operator's routes do not exist for them.
    let r = eve
        .post(
            "/admin/users",
            json!({"username": "mallory", "password": "mallory-rides-a-blue-tram"}),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    let r = closed
        .api
        .post(
            "/auth/login",
            json!({"username": "mallory", "password": "mallory-rides-a-blue-tram"}),
        )
        .await;
    assert_eq!(r.status, 401, "no account was made: {}", r.text);
    let audit = audit_actions(admin).await;
    assert!(
        audit
            .iter()
            .any(|a| a.0 == "user_created" && a.1 == format!("user:{eve_id}")),
        "{audit:?}"
    );
    // Actors are named as subjects are: the role and the account's id.
    let admin_id = admin.get("/me").await.body["user"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let entries = admin.get("/admin/audit?limit=200").await.body["entries"].clone();
    let actor_of = |action: &str| {
        entries
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["action"] == action)
            .map(|e| e["actor"].as_str().unwrap().to_string())
    };
    assert_eq!(actor_of("user_created"), Some(format!("admin:{admin_id}")));
    assert_eq!(actor_of("password_changed"), Some(format!("user:{eve_id}")));
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_are_listed_ended_and_expire_when_idle() {
    let idle = Duration::from_secs(3);
    let cluster = TestCluster::master_only_with(|cfg| {
        cfg.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        cfg.session_idle = idle;
    })
    .await;
    let api = &cluster.api;
    api.sign_up("fay", "fay-rides-a-blue-tram").await;
    let laptop = Api::send(
        api.request(Method::POST, "/auth/login")
            .header("x-forwarded-for", "198.51.100.10")
            .header("user-agent", "fay's laptop")
            .json(&json!({"username": "fay", "password": "fay-rides-a-blue-tram"})),
    )
    .await;
    let laptop = api.with_token(laptop.body["token"].as_str().unwrap());
    let phone = api.log_in("fay", "fay-rides-a-blue-tram").await;
    let mine = laptop.get("/me/sessions").await;
    let list = mine.body["sessions"].as_array().unwrap().clone();
    // sign_up's own session, the laptop's and the phone's.
    assert_eq!(list.len(), 3, "{}", mine.text);
    let current: Vec<_> = list.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["user_agent"], "fay's laptop");
    assert_eq!(current[0]["source"], "198.51.100.10");
    assert!(list
        .iter()
        .all(|s| s.get("token").is_none() && s.get("token_hash").is_none()));
    let phone_id = phone.current_session().await;

    // Another renter cannot see or end fay's sessions: a 404, and the phone still works.
    let gus = api.sign_up("gus", "gus-rides-a-blue-tram").await;
    let r = gus.delete(&format!("/me/sessions/{phone_id}")).await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(phone.get("/me").await.status, 200);
    assert_eq!(
        gus.get("/me/sessions").await.body["sessions"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // The laptop ends the phone's session.
    let r = laptop.delete(&format!("/me/sessions/{phone_id}")).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(phone.get("/me").await.status, 401);
    assert_eq!(
        laptop
            .delete(&format!("/me/sessions/{phone_id}"))
            .await
            .status,
        404
    );

    // A session unused for the idle limit ends even though its absolute expiry is far.
    tokio::time::sleep(idle + Duration::from_secs(1)).await;
    assert_eq!(laptop.get("/me").await.status, 401, "idle too long");
    let fresh = api.log_in("fay", "fay-rides-a-blue-tram").await;
    assert_eq!(
        fresh.get("/me/sessions").await.body["sessions"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // The expired rows are purged.
    let (sessions, _) = cluster.master.purge_expired_credentials().await.unwrap();
    assert!(sessions >= 2, "purged {sessions} sessions");

    // (The admin's own session went idle too.)
    let admin = api.log_in("admin", yun_testkit::ADMIN_PASSWORD).await;
    let audit = audit_actions(&admin).await;
    assert!(audit
        .iter()
        .any(|a| a.0 == "session_ended" && a.1 == format!("session:{phone_id}")));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_password_change_ends_every_other_session() {
    let cluster = TestCluster::master_only().await;
    let api = &cluster.api;
    let old = "hal-rides-a-blue-tram";
    let new = "hal-sails-past-red-buoys";
    let here = api.sign_up("hal", old).await;
    let elsewhere = api.log_in("hal", old).await;
    let change =
        |current: &str, next: &str| json!({"current_password": current, "new_password": next});
    let r = here
        .post("/me/password", change("not-my-password", new))
        .await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert_eq!(r.code(), "wrong_credentials");
    assert_eq!(r.body["error"]["field"], "current_password");
    let r = here.post("/me/password", change(old, "hal-password")).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.body["error"]["field"], "new_password");
    assert_eq!(
        elsewhere.get("/me").await.status,
        200,
        "refusals change nothing"
    );

    let token = here
        .post("/me/tokens", json!({"name": "ci", "expires_in_days": 1}))
        .await;
    let secret = token.body["token"].as_str().unwrap().to_string();
    let r = here.post("/me/password", change(old, new)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["sessions_ended"], 1);
    // It says that the access token still works (a token is not a session).
    assert_eq!(r.body["access_tokens_kept"], 1);
    assert_eq!(api.with_token(&secret).get("/me").await.status, 200);
    assert_eq!(elsewhere.get("/me").await.status, 401);
    assert_eq!(here.get("/me").await.status, 200, "this session stays");
    let r = Api::send(
        api.request(Method::POST, "/auth/login")
            .json(&json!({"username": "hal", "password": old})),
    )
    .await;
    assert_eq!(r.code(), "wrong_credentials");
    api.log_in("hal", new).await;
    let audit = audit_actions(&cluster.admin).await;
    assert!(audit.iter().any(|a| a.0 == "password_changed"));
}

#[tokio::test(flavor = "multi_thread")]
async fn access_tokens_are_bearer_only_revocable_and_cannot_mint_more() {
    let cluster = TestCluster::master_only().await;
    let api = &cluster.api;
    let ida = api.sign_up("ida", "ida-rides-a-blue-tram").await;
    for (body, field) in [
        (json!({"name": "", "expires_in_days": 30}), "name"),
        (
            json!({"name": "ci", "expires_in_days": 0}),
            "expires_in_days",
        ),
        (
            json!({"name": "ci", "expires_in_days": 366}),
            "expires_in_days",
        ),
    ] {
        let r = ida.post("/me/tokens", body).await;
        assert_eq!(r.status, 422, "{}", r.text);
        assert_eq!(r.body["error"]["field"], field);
    }
    let made = ida
        .post(
            "/me/tokens",
            json!({"name": "ci-deploy", "expires_in_days": 30}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.text);
    let secret = made.body["token"].as_str().unwrap().to_string();
    let id = made.body["access_token"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(secret.starts_with("yunpat_"), "recognisable: {secret}");
    // Listed without its secret.
    let list = ida.get("/me/tokens").await;
    assert_eq!(list.body["access_tokens"][0]["name"], "ci-deploy");
    assert!(!list.text.contains(&secret));

    // A bearer token for the API...
    let script = api.with_token(&secret);
    let me = script.get("/me").await;
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.body["user"]["username"], "ida");
    // ...never a cookie, even from the console's own page.
    let base = api.base.trim_end_matches("/api/v1").to_string();
    let r = Api::send(
        api.http
            .get(api.url("/me"))
            .header("cookie", format!("yun_session={secret}"))
            .header("origin", &base),
    )
    .await;
    assert_eq!(r.status, 401, "{}", r.text);
    // It cannot make more tokens or take the account.
    let r = script
        .post("/me/tokens", json!({"name": "more", "expires_in_days": 1}))
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.code(), ErrorCode::SessionRequired.as_str());
    let r = script
        .post(
            "/me/password",
            json!({"current_password": "ida-rides-a-blue-tram", "new_password": "ida-owns-the-account-now"}),
        )
        .await;
    assert_eq!(r.code(), ErrorCode::SessionRequired.as_str());
    // Nor manage the account's sessions and tokens: a leaked token cannot end its owner's
    // sessions, see where they log in from, or find and revoke the owner's other tokens.
    let session = ida.get("/me/sessions").await.body["sessions"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    for r in [
        script.get("/me/sessions").await,
        script.delete(&format!("/me/sessions/{session}")).await,
        script.get("/me/tokens").await,
        script.delete(&format!("/me/tokens/{id}")).await,
    ] {
        assert_eq!(r.status, 403, "{}", r.text);
        assert_eq!(r.code(), ErrorCode::SessionRequired.as_str());
    }
    assert_eq!(
        ida.get("/me").await.status,
        200,
        "the session it tried to end"
    );
    // Its use is recorded.
    let listed = ida.get("/me/tokens").await;
    assert!(
        listed.body["access_tokens"][0]["last_used_at"].is_string(),
        "{}",
        listed.text
    );

    // Another renter cannot revoke it; ida can, and it stops at once.
    let jon = api.sign_up("jon", "jon-rides-a-blue-tram").await;
    assert_eq!(jon.delete(&format!("/me/tokens/{id}")).await.status, 404);
    assert_eq!(script.get("/me").await.status, 200);
    assert_eq!(ida.delete(&format!("/me/tokens/{id}")).await.status, 204);
    assert_eq!(script.get("/me").await.status, 401);
    assert_eq!(ida.get("/me/tokens").await.body["access_tokens"], json!([]));

    let audit = audit_actions(&cluster.admin).await;
    let subject = format!("token:{id}");
    assert!(audit
        .iter()
        .any(|a| a.0 == "token_created" && a.1 == subject));
    assert!(audit
        .iter()
        .any(|a| a.0 == "token_revoked" && a.1 == subject));
    assert!(
        !audit.iter().any(|a| a.2.contains(&secret)),
        "no secret in the audit log"
    );
}

/// A ban ends the account's access tokens for good: an unban lets the owner log in again
/// but revives no token (a token handed out before the ban must be made anew).
#[tokio::test(flavor = "multi_thread")]
async fn a_ban_revokes_access_tokens_for_good() {
    let cluster = TestCluster::master_only().await;
    let api = &cluster.api;
    let kit = api.sign_up("kit", "kit-rides-a-blue-tram").await;
    let made = kit
        .post("/me/tokens", json!({"name": "ci", "expires_in_days": 30}))
        .await;
    let script = api.with_token(made.body["token"].as_str().unwrap());
    assert_eq!(script.get("/me").await.status, 200);
    let id = kit.get("/me").await.body["user"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let ban = cluster
        .admin
        .post(&format!("/admin/users/{id}/ban"), json!({}))
        .await;
    assert_eq!(ban.status, 200, "{}", ban.text);
    assert_ne!(script.get("/me").await.status, 200);
    let unban = cluster
        .admin
        .post(&format!("/admin/users/{id}/unban"), json!({}))
        .await;
    assert_eq!(unban.status, 200, "{}", unban.text);
    assert_eq!(
        script.get("/me").await.status,
        401,
        "the token stays revoked"
    );
    let again = api.log_in("kit", "kit-rides-a-blue-tram").await;
    assert_eq!(
        again.get("/me/tokens").await.body["access_tokens"],
        json!([])
    );
}
