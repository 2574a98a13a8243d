//! The console in a real headless Chromium against a real `yun dev` on the real engine: a
//! renter signs up, runs a container, watches it change state live, opens its endpoint (which
//! receives no yun cookie), stops, starts and removes it; a renter's own web page on the same
//! site cannot act with the console's cookie; the pages fit 375 px and every control has a
//! name. Screenshots go to target/screenshots/.

use std::time::Duration;
use yun_testkit::browser::Browser;
use yun_testkit::{testbox_image, DevSite};

const YUN: &str = env!("CARGO_BIN_EXE_yun");
const ADMIN: &str = yun_testkit::DEV_ADMIN_PASSWORD;

/// Logs `name` in through the console's own login page.
async fn log_in(site: &DevSite, b: &Browser, name: &str, password: &str) {
    b.open_page(&format!("{}/login", site.root), "input[name=username]")
        .await;
    b.fill("input[name=username]", name).await;
    b.fill("input[name=password]", password).await;
    b.click("form button[type=submit]").await;
    b.find(".balance").await;
}

/// Every control is labelled and every button named (what a screen reader would read).
const DOM_AUDIT: &str = r#"
const bad = [];
for (const el of document.querySelectorAll("input, select, textarea")) {
  if (el.type === "hidden") continue;
  const named = (el.labels && el.labels.length) || el.getAttribute("aria-label") || el.getAttribute("aria-labelledby");
  if (!named) bad.push(`${el.tagName} ${el.name || el.id}`);
}
for (const el of document.querySelectorAll("button, a[href]")) {
  if (!(el.textContent.trim() || el.getAttribute("aria-label"))) bad.push(`${el.tagName} ${el.outerHTML.slice(0, 60)}`);
}
return bad;
"#;

const NO_OVERFLOW: &str = "return document.documentElement.scrollWidth <= window.innerWidth;";

async fn audit(b: &Browser, page: &str) {
    let bad = b.eval(DOM_AUDIT).await;
    assert_eq!(bad, serde_json::json!([]), "{page}: unnamed controls");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_renter_runs_watches_reaches_and_removes_a_container_in_the_browser() {
    // An operator's currency with markup in it reaches the renter in the payment instructions.
    let site = DevSite::start(YUN, Some("currency = \"<i id=pay-markup>CNY</i>\"\n")).await;
    let (root, anon, admin) = (site.root.clone(), &site.anon, &site.admin);
    assert!(
        root.starts_with("http://localhost:"),
        "yun dev's console is on localhost: {root}"
    );
    let image = testbox_image();
    admin.publish_image(&image).await.unwrap();

    let b = Browser::start(1440, 900).await;
    // A newcomer lands on the login page and signs up from there.
    b.goto(&format!("{root}/")).await;
    // A fresh Chromium's first visit (every module fetched) may wait on a machine busy with
    // the whole suite: once it showed "Loading…" for over 15 s.
    b.until_within(
        Duration::from_secs(60),
        "the login page",
        "return location.pathname === '/login';",
    )
    .await;
    b.screenshot("login").await;
    audit(&b, "login").await;
    b.click("a[href='/signup']").await;
    b.fill("input[name=username]", "wren").await;
    b.fill("input[name=password]", "wren-rides-a-blue-tram")
        .await;
    b.click("form button[type=submit]").await;
    b.until(
        "the containers page",
        "return location.pathname === '/' && !!document.querySelector('.empty:not([hidden])');",
    )
    .await;
    let balance = b.find("#balance").await.text().await.unwrap();
    assert!(
        balance.contains("credits"),
        "the balance is shown: {balance}"
    );
    b.screenshot("containers-empty").await;
    // The page never received a token, and the cookie is not readable by script.
    assert_eq!(b.eval("return document.cookie;").await, "");

    // Run one with a published port.
    b.click("a[href='/run']").await;
    b.find("select[name=image]").await;
    b.until(
        "the cost is shown",
        "return document.getElementById('run-cost').textContent.includes('an hour');",
    )
    .await;
    audit(&b, "run").await;
    // The catalog also has yun dev's demo; this run is of the test image.
    b.eval(&format!(
        "document.querySelector('select[name=image]').value = {image:?}; return true;"
    ))
    .await;
    b.fill("input[name=name]", "web").await;
    b.fill("input[name=ports]", "8080").await;
    b.fill(
        "textarea[name=command]",
        "serve\n8080\nhello from the browser",
    )
    .await;
    // Serving needs no writable root: this one runs read-only.
    b.click("#run-read-only").await;
    b.screenshot("run").await;
    b.click("form button[type=submit]").await;
    b.until(
        "the container shows running",
        "const r = document.querySelector('tr[data-name=web] .badge'); return !!r && r.dataset.state === 'running';",
    )
    .await;
    b.screenshot("containers-running").await;
    audit(&b, "containers").await;

    // Its endpoint is a link; what it receives carries no yun cookie (the console is on
    // localhost, endpoints on 127.0.0.2).
    let endpoint = b
        .eval("return document.querySelector('tr[data-name=web] td a[target=_blank]').getAttribute('href');")
        .await;
    let endpoint = endpoint.as_str().unwrap().to_string();
    assert!(endpoint.starts_with("http://127.0.0.2:"), "{endpoint}");
    b.goto(&format!("{endpoint}/headers")).await;
    let seen = b.find("body").await.text().await.unwrap();
    assert!(seen.starts_with("GET /headers"), "{seen}");
    assert!(
        !seen.to_ascii_lowercase().contains("yun_session"),
        "the container got the cookie: {seen}"
    );
    b.goto(&format!("{root}/containers")).await;

    // Stop and start change the badge live; remove asks first. The stop is done from the
    // keyboard alone: Tab from the top of the page reaches the row's Stop, and Enter presses it.
    b.eval("document.querySelector('a.brand').focus(); return true;")
        .await;
    let mut reached = false;
    for _ in 0..60 {
        let focused = b
            .eval("return document.activeElement.matches('tr[data-name=web] button[data-action=stop]');")
            .await;
        if focused == true {
            reached = true;
            break;
        }
        let el = b.client.active_element().await.unwrap();
        el.send_keys("\u{e004}").await.unwrap(); // WebDriver's Tab key
    }
    assert!(reached, "the row's Stop is reachable with Tab");
    let el = b.client.active_element().await.unwrap();
    el.send_keys("\u{e007}").await.unwrap(); // Enter
    b.until(
        "the badge shows stopped",
        "const r = document.querySelector('tr[data-name=web] .badge'); return !!r && ['stopped','exited'].includes(r.dataset.state);",
    )
    .await;
    b.click("tr[data-name=web] button[data-action=start]").await;
    b.until(
        "the badge shows running again",
        "const r = document.querySelector('tr[data-name=web] .badge'); return !!r && r.dataset.state === 'running';",
    )
    .await;

    // Its page: live charts (three updates at least), and a log line written after the page
    // opened arrives in the followed log.
    b.click("tr[data-name=web] th a").await;
    b.find(".container-page").await;
    audit(&b, "container").await;
    // Read in the page at once: the facts are drawn again as the container changes.
    b.until(
        "the page says the root is read-only",
        "const f = document.querySelector('.facts'); return !!f && f.textContent.includes('read-only');",
    )
    .await;
    b.until(
        "three chart updates",
        "const p = document.querySelector('.chart polyline'); return !!p && p.getAttribute('points').trim().split(' ').length >= 3;",
    )
    .await;
    let marker = format!("fresh-{}", yun_core::new_id());
    let endpoint_addr = endpoint.trim_start_matches("http://").to_string();
    reqwest::get(format!("http://{endpoint_addr}/log/{marker}"))
        .await
        .unwrap();
    b.until(
        "the new log line shows",
        &format!("return document.getElementById('log').textContent.includes('{marker}');"),
    )
    .await;
    b.screenshot("container").await;

    // A 100,000-line log read from its start leaves no more than the cap in the page.
    let spec = yun_api::containers::CreateContainer {
        name: Some("chatty".into()),
        ports: Some(vec![]),
        ..yun_testkit::container_spec(&image, &["lines", "100000", "40", "0", "sleep", "0"])
    };
    let wren = anon.with_token(
        &anon
            .login("wren", "wren-rides-a-blue-tram", None)
            .await
            .unwrap()
            .token,
    );
    let (chatty, _) = wren.create_container(&spec, None).await.unwrap();
    b.goto(&format!("{root}/containers/{}", chatty.id)).await;
    b.find("#log").await;
    b.eval("const s = document.querySelector('select[name=tail]'); s.value = 'all'; s.dispatchEvent(new Event('change')); return true;")
        .await;
    // This checks that the whole log arrives and the page keeps only its tail; how fast is the
    // logs benchmark's business (alone, this step takes about 5 s in a debug build; beside
    // other tests on two cores, several times that).
    b.until_within(
        Duration::from_secs(120),
        "the log's last line shows",
        "return document.getElementById('log').textContent.includes('line 0000099999');",
    )
    .await;
    let kept = b
        .eval("return document.getElementById('log').childElementCount;")
        .await;
    assert!(kept.as_u64().unwrap() <= 2000, "lines in the page: {kept}");
    wren.remove_container(&chatty.id).await.unwrap();

    // Renters' text is shown as text, never as markup: an environment value, the command's
    // arguments and the log lines they print.
    let spec = yun_api::containers::CreateContainer {
        name: Some("markup".into()),
        ports: Some(vec![]),
        env: Some([("NOTE".to_string(), "<img id=env-markup src=x>".to_string())].into()),
        ..yun_testkit::container_spec(
            &image,
            &["print", "2", "<b id=log-markup>bold</b>", "sleep", "0"],
        )
    };
    let (markup, _) = wren.create_container(&spec, None).await.unwrap();
    b.goto(&format!("{root}/containers/{}", markup.id)).await;
    b.find("details.env").await.click().await.unwrap();
    b.until(
        "the printed lines show",
        "return document.getElementById('log').textContent.includes('err <b id=log-markup>bold</b> 1');",
    )
    .await;
    let facts = b.find(".facts").await.text().await.unwrap();
    assert!(
        facts.contains("NOTE=<img id=env-markup src=x>")
            && facts.contains("<b id=log-markup>bold</b>"),
        "the value and the argument are shown as typed: {facts}"
    );
    assert_eq!(
        b.eval("return document.querySelectorAll('#env-markup, #log-markup, .facts img, #log b').length;")
            .await,
        0,
        "no renter's markup became an element"
    );
    b.screenshot("container-markup").await;
    wren.remove_container(&markup.id).await.unwrap();

    // Recharge with the manual provider: the balance changes once an operator marks it paid.
    b.goto(&format!("{root}/billing")).await;
    let before = b.find("#billing-balance").await.text().await.unwrap();
    audit(&b, "billing").await;
    b.fill("input[name=credits]", "500").await;
    b.click("form button[type=submit]").await;
    let payment = b.find("#payment").await.text().await.unwrap();
    assert!(
        payment.contains("<i id=pay-markup>CNY</i>"),
        "the instructions show the currency as text: {payment}"
    );
    assert_eq!(
        b.eval("return document.querySelectorAll('#pay-markup').length;")
            .await,
        0
    );
    // The list of orders is drawn again after the payment's instructions.
    b.find("#orders tr[data-state=pending]").await;
    let order = b
        .eval("return document.querySelector('#orders tr[data-state=pending]').dataset.order;")
        .await;
    admin.mark_paid(order.as_str().unwrap()).await.unwrap();
    b.until(
        "the balance shows the top-up",
        &format!("return document.getElementById('billing-balance').textContent !== {before:?};"),
    )
    .await;
    b.until(
        "the order shows paid",
        "return !!document.querySelector('#orders tr[data-state=paid]');",
    )
    .await;
    b.screenshot("billing").await;
    b.goto(&format!("{root}/containers")).await;

    // A renter's own page, served at its endpoint (127.0.0.2, another site than the console's
    // localhost), cannot act with the console's cookie: its form POST and its WebSocket are
    // refused (the browser sends no SameSite=Strict cookie across sites, and a cookie that
    // came would be refused by origin).
    let console_port = root.rsplit(':').next().unwrap().to_string();
    let attack = format!(
        "<!doctype html><title>attack</title><form id=f method=post enctype=text/plain action='http://localhost:{console_port}/api/v1/orders'>\
         <input name='{{\"credits\":5,\"x\":\"' value='\"}}'></form><script>\
         var ws = new WebSocket('ws://localhost:{console_port}/api/v1/events');\
         ws.onopen = function () {{ document.title = 'ws-open'; }};\
         ws.onerror = function () {{ document.title = 'ws-refused'; setTimeout(function () {{ document.getElementById('f').submit(); }}, 100); }};\
         </script>"
    );
    let spec = yun_api::containers::CreateContainer {
        name: Some("attacker".into()),
        ..yun_testkit::container_spec(&image, &["page", "8080", &attack])
    };
    let (page, _) = wren.create_container(&spec, None).await.unwrap();
    yun_testkit::fetch_eventually(&page.ports[0].endpoint).await;
    b.goto(&format!("http://{}/", page.ports[0].endpoint)).await;
    b.until("the WebSocket was refused", "return document.title === 'ws-refused' || location.port !== '' && location.pathname.startsWith('/api');").await;
    b.until(
        "the form was posted and refused",
        "return location.pathname === '/api/v1/orders';",
    )
    .await;
    let refused = b.find("body").await.text().await.unwrap();
    assert!(
        refused.contains("\"unauthorized\"") || refused.contains("foreign_origin"),
        "{refused}"
    );
    let orders = wren
        .orders(&yun_api::client::Page::default())
        .await
        .unwrap();
    assert!(
        orders.orders.iter().all(|o| o.credits == 500),
        "only the renter's own top-up was ordered: {orders:?}"
    );
    wren.remove_container(&page.id).await.unwrap();

    // 375 px: nothing overflows sideways.
    b.goto(&format!("{root}/containers")).await;
    b.find("tr[data-name=web]").await;
    b.client.set_window_size(375, 812).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    b.until("the containers page fits 375 px", NO_OVERFLOW)
        .await;
    b.screenshot("containers-375").await;
    b.goto(&format!("{root}/run")).await;
    b.find("select[name=image]").await;
    b.until("the run page fits 375 px", NO_OVERFLOW).await;
    b.screenshot("run-375").await;
    b.client.set_window_size(1440, 900).await.unwrap();

    b.goto(&format!("{root}/containers")).await;
    b.click("tr[data-name=web] button[data-action=remove]")
        .await;
    b.find("dialog[open]").await;
    b.screenshot("remove-confirm").await;
    b.click("dialog[open] button[value=yes]").await;
    b.until(
        "the row is gone",
        "return !document.querySelector('tr[data-name=web]') && !!document.querySelector('.empty:not([hidden])');",
    )
    .await;
    assert!(wren.containers(false).await.unwrap().is_empty());

    // Logging out ends the session; the next page is the login.
    b.click("button.link").await;
    b.until(
        "the login page again",
        "return location.pathname === '/login';",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_operator_publishes_cordons_bans_and_marks_paid_in_the_browser() {
    let site = DevSite::start(YUN, None).await;
    let (root, admin) = (site.root.clone(), &site.admin);
    let quinn = site.renter("quinn").await;

    let b = Browser::start(1440, 900).await;
    log_in(&site, &b, "admin", ADMIN).await;
    b.find(".admin-nav").await;

    // The catalog starts with yun dev's demo; the operator publishes the test image.
    b.click("a[href='/admin/catalog']").await;
    b.find("input[name=reference]").await;
    audit(&b, "catalog").await;
    let image = testbox_image();
    b.fill("input[name=reference]", &image).await;
    b.click("form button[type=submit]").await;
    b.until(
        "the image is in the catalog",
        &format!("return !!document.querySelector('tr[data-image=\"{image}\"]');"),
    )
    .await;
    b.screenshot("admin-catalog").await;
    let spec = yun_testkit::container_spec(&image, &["serve", "8080", "quinn"]);
    let (c, _) = quinn.create_container(&spec, None).await.unwrap();

    // Nodes: cordon the only one, and a run is refused with its reason.
    b.click("a[href='/admin/nodes']").await;
    b.find("#nodes tbody tr").await;
    audit(&b, "nodes").await;
    b.screenshot("admin-nodes").await;
    b.click("#nodes tbody tr button[aria-label^=Cordon]").await;
    b.until(
        "the node shows cordoned",
        "return !!document.querySelector('#nodes .badge[data-state=cordoned]');",
    )
    .await;
    // (The operator's own account starts with no credit; a run needs some.)
    let me = admin.me().await.unwrap();
    admin
        .adjust_credits(&me.id, 1000, "to try a run")
        .await
        .unwrap();
    b.goto(&format!("{root}/run")).await;
    b.find("select[name=image]").await;
    b.fill("input[name=ports]", "8080").await;
    b.click("form button[type=submit]").await;
    b.until(
        "the refusal says why",
        "return /cordon|no ready node|capacity/i.test(document.querySelector('.form-error').textContent);",
    )
    .await;
    b.screenshot("run-refused").await;
    b.goto(&format!("{root}/admin/nodes")).await;
    b.click("#nodes tbody tr button[aria-label^=Uncordon]")
        .await;
    b.until(
        "the node is ready again",
        "return !!document.querySelector('#nodes .badge[data-state=ready]');",
    )
    .await;
    // The master's calls to the node: the renter's create among them.
    b.until(
        "the node's calls are counted",
        "return Number(document.querySelector('#nodes td[data-calls]')?.dataset.calls) >= 1;",
    )
    .await;

    // A join token for a new host: shown once with the command to run, listed, revoked.
    b.fill("input[name=uses]", "1").await;
    b.click("form button[type=submit]").await;
    b.until(
        "the new token's command is shown",
        "return /--join-token YUN1-[0-9a-f]{64}-[a-z2-7]{26} /.test(document.querySelector('#join-command')?.textContent || '');",
    )
    .await;
    let digest = b
        .eval("return document.querySelector('#ca-digest').textContent;")
        .await;
    let command = b
        .eval("return document.querySelector('#join-command').textContent;")
        .await;
    let digest = digest.as_str().unwrap().trim_start_matches("sha256:");
    assert!(
        command.as_str().unwrap().contains(digest),
        "{command} names the CA {digest}"
    );
    b.eval(
        "document.querySelector('#join-command').scrollIntoView({block: 'center'}); return null;",
    )
    .await;
    b.screenshot("admin-join-token").await;
    b.click("#join-tokens tbody tr button[aria-label^=Revoke]")
        .await;
    b.until(
        "the token shows revoked",
        "return !!document.querySelector('#join-tokens .token-revoked');",
    )
    .await;
    let tokens = admin.join_tokens().await.unwrap();
    assert_eq!(tokens[0].state, yun_api::admin::JoinTokenState::Revoked);
    assert_eq!(tokens[0].max_uses, Some(1));

    // All containers shows the renter's.
    b.click("a[href='/admin/containers']").await;
    b.until(
        "the renter's container is listed",
        &format!(
            "return !!document.querySelector('tr[data-id=\"{}\"]');",
            c.id
        ),
    )
    .await;

    // Orders: the renter's manual order is marked paid here.
    let order = quinn.create_order(300).await.unwrap().order;
    b.click("a[href='/admin/orders']").await;
    b.click(&format!("tr[data-order=\"{}\"] button", order.id))
        .await;
    b.until(
        "the order shows paid",
        &format!(
            "return !!document.querySelector('tr[data-order=\"{}\"][data-state=paid]');",
            order.id
        ),
    )
    .await;
    assert_eq!(
        quinn.order(&order.id).await.unwrap().state,
        yun_api::billing::OrderState::Paid
    );
    audit(&b, "orders").await;

    // Users: a credit adjustment with a reason, then a ban that ends the renter's session.
    b.click("a[href='/admin/users']").await;
    b.fill("tr[data-user=quinn] input[name=amount]", "25").await;
    b.fill("tr[data-user=quinn] input[name=reason]", "<b>goodwill</b>")
        .await;
    b.click("tr[data-user=quinn] form button").await;
    b.until(
        "the balance shows the adjustment",
        "const r = document.querySelector('tr[data-user=quinn] td.num'); return !!r && r.textContent.includes(',');",
    )
    .await;
    audit(&b, "users").await;
    // A console quinn has open ends with the ban.
    let mut console = quinn
        .exec(&c.id, &["/testbox", "cat"], Some((80, 24)))
        .await
        .unwrap();
    b.click("tr[data-user=quinn] button[aria-label^=Ban]").await;
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        use futures::StreamExt;
        while let Some(Ok(m)) = console.next().await {
            if m.is_close() {
                break;
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the banned renter's console closed");
    b.until(
        "quinn shows banned",
        "return !!document.querySelector('tr[data-user=quinn] .badge');",
    )
    .await;
    // Opening an account for someone: a weak password is refused at its field, then it opens.
    b.fill("#open-account input[name=username]", "rowan").await;
    b.fill("#open-account input[name=password]", "short").await;
    b.click("#open-account button[type=submit]").await;
    b.until(
        "the weak password is refused at its field",
        "return /10 to 128/.test(document.querySelector('#open-account .field[data-field=password] .field-error').textContent);",
    )
    .await;
    b.fill(
        "#open-account input[name=password]",
        "rowan-rides-a-blue-tram",
    )
    .await;
    b.click("#open-account button[type=submit]").await;
    b.until(
        "the new account is listed",
        "return !!document.querySelector('tr[data-user=rowan]');",
    )
    .await;
    b.screenshot("admin-users").await;
    admin
        .login("rowan", "rowan-rides-a-blue-tram", None)
        .await
        .expect("the new account logs in");
    assert_eq!(
        quinn.me().await.unwrap_err().status(),
        Some(401),
        "the ban ended the session"
    );

    // The audit log shows what was done, the reason as text (never markup), and the billing
    // check is clean.
    b.click("a[href='/admin/audit']").await;
    b.find("#billing-check.ok").await;
    b.until(
        "the adjustment's reason is shown as text",
        "return document.getElementById('audit').textContent.includes('<b>goodwill</b>') && !document.querySelector('#audit b');",
    )
    .await;
    b.until(
        "the ban is in the audit log",
        "return document.getElementById('audit').textContent.includes('user_banned');",
    )
    .await;
    b.screenshot("admin-audit").await;

    // 375 px: the operator's pages fit too.
    b.client.set_window_size(375, 812).await.unwrap();
    for page in ["/admin/nodes", "/admin/users", "/admin/orders"] {
        b.goto(&format!("{root}{page}")).await;
        b.find("table").await;
        b.until(&format!("{page} fits 375 px"), NO_OVERFLOW).await;
        b.screenshot(&format!(
            "{}-375",
            page.trim_start_matches('/').replace('/', "-")
        ))
        .await;
    }
    // A renter does not see the operator's pages.
    quinn.remove_container(&c.id).await.ok();
}

/// Types `text` into the focused terminal, key by key, as a person would.
async fn type_keys(b: &Browser, text: &str) {
    let term = b.find("#terminal").await;
    term.send_keys(text).await.expect("typing in the terminal");
}

/// The terminal's screen as text, row by row.
const SCREEN_TEXT: &str =
    "return [...document.querySelectorAll('#terminal .term-row')].map(r => r.textContent).join('\\n');";

#[tokio::test(flavor = "multi_thread")]
async fn the_console_is_a_real_terminal_in_the_browser() {
    let site = DevSite::start(YUN, None).await;
    let root = site.root.clone();
    let image = yun_testkit::busybox_image();
    site.admin.publish_image(&image).await.unwrap();
    let tess = site.renter("tess").await;
    let spec = yun_api::containers::CreateContainer {
        name: Some("shell".into()),
        ports: Some(vec![]),
        ..yun_testkit::container_spec(&image, &[])
    };
    let (c, _) = tess.create_container(&spec, None).await.unwrap();

    let b = Browser::start(1440, 900).await;
    log_in(&site, &b, "tess", "tess-rides-a-blue-tram").await;
    b.goto(&format!("{root}/containers/{}", c.id)).await;
    b.click(".console-form button[type=submit]").await;
    b.until(
        "the shell's prompt",
        "return [...document.querySelectorAll('#terminal .term-row')].some(r => /[#$] ?$/.test(r.textContent));",
    )
    .await;
    audit(&b, "container with console").await;

    // A paste cannot end itself early: a closing paste marker hidden in the copied text
    // (after which a shell would run the rest as typed) is taken out, however it is nested.
    let pasted = b
        .eval(
            r#"return import('/terminal.js').then((t) => [
            t.pasted("echo hi\x1b[201~rm -rf ~\n", true),
            t.pasted("a\x1b[20\x1b[201~1~b", true),
            t.pasted("plain\n", false),
        ]);"#,
        )
        .await;
    assert_eq!(
        pasted,
        serde_json::json!([
            "\u{1b}[200~echo hirm -rf ~\r\u{1b}[201~",
            "\u{1b}[200~ab\u{1b}[201~",
            "plain\r"
        ])
    );

    // `stty size` tells the terminal's size; a smaller window makes it smaller.
    type_keys(&b, "stty size\n").await;
    b.until(
        "stty answers rows and columns",
        "return /\\n\\d+ \\d+\\n/.test([...document.querySelectorAll('#terminal .term-row')].map(r => r.textContent).join('\\n'));",
    )
    .await;
    let size_of = |text: &str| -> Option<(u32, u32)> {
        text.lines().rev().find_map(|l| {
            let mut it = l.trim().split(' ');
            let (r, c) = (it.next()?.parse().ok()?, it.next()?.parse().ok()?);
            it.next().is_none().then_some((r, c))
        })
    };
    let before = size_of(b.eval(SCREEN_TEXT).await.as_str().unwrap()).expect("a size");
    b.client.set_window_size(900, 700).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    type_keys(&b, "clear; stty size\n").await;
    b.until(
        "stty answers a new size",
        &format!(
            "const t = [...document.querySelectorAll('#terminal .term-row')].map(r => r.textContent).join('\\n'); \
             return /\\n?\\d+ \\d+/.test(t) && !t.includes('{} {}');",
            before.0, before.1
        ),
    )
    .await;
    let after = size_of(b.eval(SCREEN_TEXT).await.as_str().unwrap()).expect("a size");
    assert!(
        after.1 < before.1,
        "fewer columns after the resize: {before:?} -> {after:?}"
    );
    b.client.set_window_size(1440, 900).await.unwrap();

    // `top` draws its header on the alternate screen; q quits it.
    type_keys(&b, "top\n").await;
    b.until(
        "top's header",
        "return /Mem:|CPU:|Load average/.test([...document.querySelectorAll('#terminal .term-row')].map(r => r.textContent).join('\\n'));",
    )
    .await;
    b.screenshot("console-top").await;
    type_keys(&b, "q").await;

    // vi edits a file that cat then shows (Escape and ':wq' through the key encoder).
    type_keys(&b, "vi /tmp/note.txt\n").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    type_keys(&b, "ihello from vi").await;
    type_keys(&b, "\u{e00c}").await; // WebDriver's Escape key
                                     // vi takes an Escape followed at once by more bytes for the start of a key sequence; a
                                     // person pauses here, and so does the test.
    tokio::time::sleep(Duration::from_millis(300)).await;
    type_keys(&b, ":wq\n").await;
    type_keys(&b, "clear; cat /tmp/note.txt\n").await;
    b.until(
        "cat shows what vi wrote",
        // After `clear`: cat's line on top, the shell's prompt under it (so vi has quit).
        "const r = [...document.querySelectorAll('#terminal .term-row')].map(r => r.textContent); \
         const i = r.findIndex(t => t.trim() === 'hello from vi'); return i >= 0 && /[#$] ?$/.test(r[i + 1] || '');",
    )
    .await;
    b.screenshot("console").await;

    // `exit 3` ends the shell; the page shows the exit code.
    type_keys(&b, "exit 3\n").await;
    b.until(
        "the exit code shows",
        "return document.getElementById('console-status').dataset.exit === '3';",
    )
    .await;
    tess.remove_container(&c.id).await.unwrap();
}

/// README's path from a fresh start: `yun dev`, open the console, sign up, run what the catalog
/// offers (the built-in demo), open its endpoint, and see the visit in its log. Then the
/// renter's own image: pulled from a registry with a bar per layer, and removed.
#[tokio::test(flavor = "multi_thread")]
async fn a_newcomer_runs_the_demo_from_a_fresh_yun_dev_and_pulls_an_image() {
    let registry = yun_testkit::LocalRegistry::start().await;
    let site = DevSite::start(YUN, Some("allowed_registries = [\"127.0.0.1\"]\n")).await;
    let root = site.root.clone();
    assert!(
        site.dev.lines.iter().any(|l| l.contains("demo to run")),
        "yun dev says what the catalog offers: {:?}",
        site.dev.lines
    );

    let b = Browser::start(1440, 900).await;
    b.open_page(&format!("{root}/"), "a[href='/signup']").await;
    b.click("a[href='/signup']").await;
    b.fill("input[name=username]", "nova").await;
    b.fill("input[name=password]", "nova-rides-a-blue-tram")
        .await;
    b.click("form button[type=submit]").await;
    b.find(".empty:not([hidden])").await;
    b.click("a[href='/run']").await;
    b.find("select[name=image]").await;
    let chosen = b
        .eval("return document.querySelector('select[name=image]').value;")
        .await;
    assert!(
        chosen.as_str().unwrap().starts_with("yun.invalid/hello:"),
        "the run form offers the demo first: {chosen}"
    );
    // Nothing else to fill in: the demo's own port is published.
    b.click("form button[type=submit]").await;
    b.until(
        "the demo runs",
        "const r = document.querySelector('tbody tr .badge'); return !!r && r.dataset.state === 'running';",
    )
    .await;
    b.screenshot("demo-running").await;
    let endpoint = b
        .eval("return document.querySelector('tbody tr td a[target=_blank]').getAttribute('href');")
        .await;
    let endpoint = endpoint.as_str().unwrap().to_string();
    yun_testkit::fetch_eventually(endpoint.trim_start_matches("http://")).await;
    b.goto(&endpoint).await;
    let page = b.find("h1").await.text().await.unwrap();
    assert_eq!(page, "Hello from yun");
    b.goto(&format!("{root}/containers")).await;
    b.click("tbody tr th a").await;
    b.find("#log").await;
    b.until(
        "the visit is in the log",
        "return /GET \\/ HTTP\\/1.1 from .* \\(request \\d+\\)/.test(document.getElementById('log').textContent);",
    )
    .await;
    b.screenshot("demo-container").await;
    // The demo is built FROM scratch and has no shell: opening the console says so plainly,
    // not with the engine's error.
    b.click(".console-form button[type=submit]").await;
    b.until(
        "the console says the image has no shell",
        "const s = document.getElementById('console-status').textContent; \
         return s.includes('/bin/sh is not there') && !s.includes('OCI') && !s.includes('broke off');",
    )
    .await;
    b.screenshot("demo-console-no-shell").await;

    // An image of the renter's own, pulled with a bar per layer, then removed.
    let reference = registry.push_fresh("nova/box", 4);
    b.goto(&format!("{root}/images")).await;
    b.fill("input[name=reference]", &reference).await;
    b.click("form button[type=submit]").await;
    b.until(
        "the pulled image is listed as mine",
        &format!("const r = document.querySelector('tr[data-image=\"{reference}\"]'); return !!r && r.textContent.includes('mine');"),
    )
    .await;
    let bars = b
        .eval("return [...document.querySelectorAll('.layers .layer')].map(l => { const p = l.querySelector('progress'); return p.value === p.max && p.max > 0 || l.textContent; });")
        .await;
    let bars = bars.as_array().unwrap();
    assert!(
        !bars.is_empty() && bars.iter().all(|done| done == true),
        "a finished bar per layer: {bars:?}"
    );
    b.screenshot("images-pulled").await;
    audit(&b, "images").await;
    b.click(&format!("tr[data-image=\"{reference}\"] button.danger"))
        .await;
    b.until(
        "the image is gone",
        &format!("return !document.querySelector('tr[data-image=\"{reference}\"]');"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_renter_manages_sessions_tokens_and_the_password_in_the_browser() {
    let site = DevSite::start(YUN, None).await;
    // zed is logged in elsewhere too (the API session `renter` makes).
    let elsewhere = site.renter("zed").await;
    let b = Browser::start(1280, 900).await;
    log_in(&site, &b, "zed", "zed-rides-a-blue-tram").await;
    b.click("a.who").await;
    b.until(
        "the account page",
        "return location.pathname === '/account' && !!document.querySelector('#sessions');",
    )
    .await;
    audit(&b, "account").await;
    let rows = b
        .eval("return document.querySelectorAll('#sessions tbody tr').length;")
        .await;
    assert_eq!(rows, 2, "the browser's session and the API's");
    assert_eq!(
        b.eval("return document.querySelectorAll('#sessions tr[data-current=true]').length;")
            .await,
        1
    );

    // A token, shown once, listed by name; then revoked.
    b.fill("#token-form input[name=name]", "ci-deploy").await;
    b.click("#token-form button[type=submit]").await;
    let token = b.text("#new-token").await;
    assert!(token.starts_with("yunpat_"), "{token}");
    let script = site.anon.with_token(&token);
    assert_eq!(script.me().await.unwrap().username, "zed");
    b.find("#access-tokens tr[data-token]").await;
    b.screenshot("account").await;
    b.click("#access-tokens button.danger").await;
    b.until(
        "the token is gone",
        "return !document.querySelector('#access-tokens');",
    )
    .await;
    assert_eq!(script.me().await.unwrap_err().status(), Some(401));
    // Another token, which the password change below will not end by itself.
    b.fill("#token-form input[name=name]", "kept").await;
    b.click("#token-form button[type=submit]").await;
    b.until(
        "the second token is shown",
        "const t = document.getElementById('new-token'); return !!t && t.textContent.startsWith('yunpat_');",
    )
    .await;
    let kept = b.text("#new-token").await;
    let kept = site.anon.with_token(&kept);
    assert_eq!(kept.me().await.unwrap().username, "zed");

    // Mismatched new passwords are caught on the page; a weak one by the master, beside its
    // field; a good one ends the other session.
    let submit = |new: &'static str, again: &'static str| {
        let b = &b;
        async move {
            b.fill(
                "#password-form input[name=current_password]",
                "zed-rides-a-blue-tram",
            )
            .await;
            b.fill("#password-form input[name=new_password]", new).await;
            b.fill("#password-form input[name=again]", again).await;
            b.click("#password-form button[type=submit]").await;
        }
    };
    submit("zed-walks-nine-grey-dogs", "something else entirely").await;
    b.until("the mismatch is shown", "return document.querySelector('#password-form .field[data-field=again] .field-error').textContent.includes('differ');")
        .await;
    submit("zed-password", "zed-password").await;
    b.until("the weak password is refused beside its field", "return document.querySelector('#password-form .field[data-field=new_password] .field-error').textContent.includes('10 to 128');")
        .await;
    submit("zed-walks-nine-grey-dogs", "zed-walks-nine-grey-dogs").await;
    b.until("the change is confirmed", "const n = document.querySelector('#password-form .notice'); return !!n && !n.hidden && n.textContent.includes('1 other session ended');")
        .await;
    // It says the token still works and offers to revoke it.
    let notice = b.find("#password-form .notice").await.text().await.unwrap();
    assert!(notice.contains("1 access token still works"), "{notice}");
    assert_eq!(kept.me().await.unwrap().username, "zed");
    b.click("#revoke-all-tokens").await;
    b.until(
        "every token is revoked",
        "return document.querySelector('#password-form .notice').textContent.includes('every access token is revoked');",
    )
    .await;
    assert_eq!(kept.me().await.unwrap_err().status(), Some(401));
    b.until(
        "only this session is listed",
        "return document.querySelectorAll('#sessions tbody tr').length === 1;",
    )
    .await;
    assert_eq!(elsewhere.me().await.unwrap_err().status(), Some(401));
    site.anon
        .login("zed", "zed-walks-nine-grey-dogs", None)
        .await
        .expect("the new password logs in");

    b.client.set_window_size(375, 812).await.unwrap();
    b.until("the account page fits 375 px", NO_OVERFLOW).await;
    b.screenshot("account-375").await;
}

/// The red-team's high finding: a renter's service must never receive the console's session,
/// and a session cookie some other page set for the console's host must never make the
/// console act as its owner. The operator is logged in; a renter runs a page that shows every
/// header it receives; the operator's browser opens it under every name that reaches this
/// machine; then a renter's session is tossed into the operator's browser (every `Path` and
/// `Domain` a page could give it) and the console refuses to run as anyone until the operator
/// logs in again, as themself.
#[tokio::test(flavor = "multi_thread")]
async fn a_renters_service_never_sees_the_consoles_cookie_and_a_tossed_cookie_runs_as_nobody() {
    let site = DevSite::start(YUN, None).await;
    let root = site.root.clone();
    let image = testbox_image();
    site.admin.publish_image(&image).await.unwrap();
    let mal = site.renter("mal").await;
    let spec = yun_api::containers::CreateContainer {
        name: Some("snoop".into()),
        ports: Some(vec![yun_api::containers::PortRequest {
            container_port: 8080,
            host_port: None,
            protocol: None,
        }]),
        ..yun_testkit::container_spec(&image, &["serve", "8080", "snoop"])
    };
    let (c, _) = mal.create_container(&spec, None).await.unwrap();
    let endpoint = c.ports[0].endpoint.clone();
    let (host, port) = endpoint.rsplit_once(':').unwrap();
    assert_eq!(
        host, "127.0.0.2",
        "yun dev publishes on a loopback address of its own"
    );
    yun_testkit::fetch_eventually(&endpoint).await;

    let b = Browser::start(1280, 900).await;
    log_in(&site, &b, "admin", ADMIN).await;
    // The listed endpoint answers and sees no yun cookie; at the console's names nothing
    // answers on that port at all (Docker published it on 127.0.0.2 alone).
    for name in [host, "localhost", "127.0.0.1"] {
        // A refused connection is an error page (or an error from the driver): either way
        // nothing of the renter's answered.
        let _ = b
            .client
            .goto(&format!("http://{name}:{port}/headers"))
            .await;
        let seen = b.find("body").await.text().await.unwrap();
        if name == host {
            assert!(seen.starts_with("GET /headers"), "{seen}");
        } else {
            assert!(
                !seen.starts_with("GET /headers"),
                "a renter's service answers at the console's host {name}: {seen}"
            );
        }
        assert!(
            !seen.to_ascii_lowercase().contains("yun_session"),
            "the renter's service got the console's cookie at {name}: {seen}"
        );
    }

    // Tossing: mal's own session, set for the console's host under every path and domain a
    // page could use. The console then runs as nobody: it says why and asks for a login.
    let mal_token = site
        .anon
        .login("mal", "mal-rides-a-blue-tram", None)
        .await
        .unwrap()
        .token;
    b.goto(&format!("{root}/billing")).await;
    b.find(".balance").await;
    // (A copy at `Path=/` for this very host would replace the operator's own cookie: only a
    // page on the console's host could set it, and nothing of a renter's answers there.)
    let variants = [
        "path=/api",
        "path=/api/v1/",
        "path=/api/v1/me",
        "path=/api; domain=localhost",
        // The page's first call (/me) passes; the billing page's own call is refused.
        "path=/api/v1/billing",
    ];
    for attributes in variants {
        b.toss_cookie("yun_session", &mal_token, attributes).await;
        b.goto(&format!("{root}/billing")).await;
        b.find("#logged-out-notice").await;
        let notice = b.find("#logged-out-notice").await.text().await.unwrap();
        assert!(notice.contains("more than one session cookie"), "{notice}");
        let me = b
            .eval("return fetch('/api/v1/me').then(r => r.json()).then(j => j.user ? j.user.username : j.error.code);")
            .await;
        assert_ne!(
            me, "mal",
            "the tossed cookie ({attributes}) made the console mal's"
        );
        // Logging in again works, as the operator, with the tossed copy cleared.
        log_in(&site, &b, "admin", ADMIN).await;
        let me = b
            .eval("return fetch('/api/v1/me').then(r => r.json()).then(j => j.user.username);")
            .await;
        assert_eq!(me, "admin", "after the tossed cookie ({attributes})");
    }
    b.screenshot("tossed-cookie-refused").await;
    mal.remove_container(&c.id).await.unwrap();
}

/// A file of the console that fails to arrive (a browser aborts requests under way when the
/// machine's network changes: Chromium's ERR_NETWORK_CHANGED, which Docker making networks for
/// other tests on this host set off, and which left the page at "Loading…" for good) starts
/// the console again; after two tries it says what happened instead of loading forever.
#[tokio::test(flavor = "multi_thread")]
async fn a_console_whose_file_failed_to_arrive_starts_again_or_says_so() {
    let site = DevSite::start(YUN, None).await;
    let b = Browser::start(1280, 900).await;
    b.open_page(&format!("{}/login", site.root), "input[name=username]")
        .await;
    // The module graph fails as it does when a request is aborted: its script's error event.
    b.eval("window.beforeRetry = true; document.getElementById('app').dispatchEvent(new Event('error')); return true;")
        .await;
    b.until(
        "the page is loaded again and the console starts",
        "return window.beforeRetry === undefined && !!document.querySelector('input[name=username]');",
    )
    .await;
    assert_eq!(
        b.eval("return sessionStorage.getItem('yun-boot-retries');")
            .await,
        serde_json::Value::Null,
        "a console that started forgets the retries"
    );
    // When the files keep failing, it stops trying and says so.
    b.eval("sessionStorage.setItem('yun-boot-retries', '2'); document.getElementById('app').dispatchEvent(new Event('error')); return true;")
        .await;
    let said = b.find("#boot-failed").await.text().await.unwrap();
    assert!(said.contains("Reload the page"), "{said}");
    b.screenshot("boot-failed").await;
}
