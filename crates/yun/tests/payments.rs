//! Alipay payments with keys this test makes: the test plays Alipay, signing notifies with its
//! own key; the master holds the merchant key and Alipay's public key, read from files. Only
//! a verified notify for a pending order with the right amount creates credits, and only once.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::sha2::Sha256;
use rsa::signature::Verifier;
use serde_json::json;
use std::time::Duration;
use yun_master::payments::{signing_string, AlipayConfig, ProviderConfig};
use yun_testkit::alipay::{new_key, notify, notify_params, signed, PaymentKeys, APP_ID};
use yun_testkit::{Api, TestCluster};

async fn order(api: &Api, credits: i64) -> String {
    let r = api.post("/orders", json!({"credits": credits})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["order"]["id"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn only_a_verified_notify_for_a_pending_order_credits_and_only_once() {
    let keys = tempfile::tempdir().unwrap();
    let PaymentKeys {
        merchant,
        alipay,
        private_file,
        public_file,
    } = PaymentKeys::in_dir(keys.path());
    let cluster = TestCluster::start_with(|c| {
        c.pricing.signup_credits = 0;
        c.payments.order_ttl = Duration::from_secs(4);
        c.payments.provider = ProviderConfig::Alipay(AlipayConfig {
            app_id: APP_ID.into(),
            gateway: "https://openapi.alipaydev.com/gateway.do".into(),
            private_key_file: private_file.clone(),
            alipay_public_key_file: public_file.clone(),
            notify_url: "https://yun.example/api/v1/payments/alipay/notify".into(),
            return_url: None,
        });
    })
    .await;
    let pat = cluster.api.sign_up("pat", "pat-rides-a-blue-tram").await;
    let eve = cluster.api.sign_up("eve", "eve-rides-a-blue-tram").await;
    assert_eq!(pat.balance().await, 0);

    // The checkout is a page-pay request signed with the merchant key, for the order's amount.
    let r = pat.post("/orders", json!({"credits": 500})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let paid_order = r.body["order"]["id"].as_str().unwrap().to_string();
    assert_eq!(r.body["order"]["amount"], "5.00");
    let url = r.body["payment"]["url"].as_str().unwrap();
    let (gateway, query) = url.split_once('?').unwrap();
    assert_eq!(gateway, "https://openapi.alipaydev.com/gateway.do");
    let params: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap();
    let get = |k: &str| params.iter().find(|(n, _)| n == k).unwrap().1.clone();
    assert_eq!(get("method"), "alipay.trade.page.pay");
    assert_eq!(get("sign_type"), "RSA2");
    let biz: serde_json::Value = serde_json::from_str(&get("biz_content")).unwrap();
    assert_eq!(biz["out_trade_no"], paid_order.as_str());
    assert_eq!(biz["total_amount"], "5.00");
    let sig = Signature::try_from(BASE64.decode(get("sign")).unwrap().as_slice()).unwrap();
    VerifyingKey::<Sha256>::new(merchant.to_public_key())
        .verify(
            signing_string(params.iter().map(|(k, v)| (k.as_str(), v.as_str()))).as_bytes(),
            &sig,
        )
        .expect("the request carries the merchant's signature");

    // Orders made now, each to be answered by one kind of notify.
    let wrong_amount = order(&pat, 300).await;
    let cancelled = order(&pat, 200).await;
    let to_expire = order(&pat, 100).await;
    let closed = order(&pat, 100).await;
    let r = pat
        .post(&format!("/orders/{cancelled}/cancel"), json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["order"]["state"], "cancelled");
    // Another user sees none of it.
    assert_eq!(eve.get(&format!("/orders/{paid_order}")).await.status, 404);
    assert_eq!(
        eve.post(&format!("/orders/{to_expire}/cancel"), json!({}))
            .await
            .status,
        404
    );

    // A valid notify credits once, even when delivered twice.
    let valid = signed(
        &alipay,
        &notify_params(&paid_order, "5.00", "TRADE_SUCCESS"),
    );
    assert_eq!(notify(&cluster.api, &valid).await, (200, "success".into()));
    assert_eq!(pat.balance().await, 500);
    assert_eq!(notify(&cluster.api, &valid).await, (200, "success".into()));
    assert_eq!(
        pat.balance().await,
        500,
        "a repeated notify credits nothing more"
    );
    // A second, different payment for the paid order (the buyer paid twice): acknowledged,
    // not credited, and audited so the operator can refund it.
    let mut twice = notify_params(&paid_order, "5.00", "TRADE_SUCCESS");
    twice[6].1 = format!("2026112499999{paid_order}");
    let twice = signed(&alipay, &twice);
    assert_eq!(notify(&cluster.api, &twice).await, (200, "success".into()));
    assert_eq!(pat.balance().await, 500, "a second payment credits nothing");
    assert_eq!(
        pat.get(&format!("/orders/{paid_order}")).await.body["order"]["state"],
        "paid"
    );
    let r = pat
        .post(&format!("/orders/{paid_order}/cancel"), json!({}))
        .await;
    assert_eq!(
        r.status, 409,
        "a paid order cannot be cancelled: {}",
        r.text
    );

    // A bad signature: signed by someone else, or altered after signing.
    let forged = signed(
        &new_key(),
        &notify_params(&wrong_amount, "3.00", "TRADE_SUCCESS"),
    );
    assert_eq!(notify(&cluster.api, &forged).await, (400, "failure".into()));
    let mut altered = signed(
        &alipay,
        &notify_params(&wrong_amount, "0.01", "TRADE_SUCCESS"),
    );
    for (k, v) in altered.iter_mut() {
        if k == "total_amount" {
            *v = "3.00".into();
        }
    }
    assert_eq!(
        notify(&cluster.api, &altered).await,
        (400, "failure".into())
    );
    let unsigned: Vec<(String, String)> = notify_params(&wrong_amount, "3.00", "TRADE_SUCCESS")
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    assert_eq!(
        notify(&cluster.api, &unsigned).await,
        (400, "failure".into())
    );
    // Properly signed but for the wrong amount, another merchant, or an order that does not exist.
    let short = signed(
        &alipay,
        &notify_params(&wrong_amount, "0.30", "TRADE_SUCCESS"),
    );
    assert_eq!(notify(&cluster.api, &short).await, (400, "failure".into()));
    let mut other_app = notify_params(&wrong_amount, "3.00", "TRADE_SUCCESS");
    other_app[0].1 = "2021999999999999".into();
    assert_eq!(
        notify(&cluster.api, &signed(&alipay, &other_app)).await,
        (400, "failure".into())
    );
    let unknown = signed(
        &alipay,
        &notify_params("nosuchorder00000", "1.00", "TRADE_SUCCESS"),
    );
    assert_eq!(
        notify(&cluster.api, &unknown).await,
        (400, "failure".into())
    );
    // A trade that closed unpaid is acknowledged and credits nothing.
    let unpaid = signed(&alipay, &notify_params(&closed, "1.00", "TRADE_CLOSED"));
    assert_eq!(notify(&cluster.api, &unpaid).await, (200, "success".into()));
    // A payment for a cancelled order: acknowledged (so Alipay stops), logged, not credited.
    let late = signed(&alipay, &notify_params(&cancelled, "2.00", "TRADE_SUCCESS"));
    assert_eq!(notify(&cluster.api, &late).await, (200, "success".into()));
    assert_eq!(
        pat.get(&format!("/orders/{cancelled}")).await.body["order"]["state"],
        "cancelled"
    );
    assert_eq!(
        pat.balance().await,
        500,
        "nothing but the valid notify credited"
    );
    assert_eq!(
        pat.get(&format!("/orders/{wrong_amount}")).await.body["order"]["state"],
        "pending"
    );

    // An unpaid order expires by itself (the sweeper, not a reader), and then credits nothing.
    let mut state = String::new();
    for _ in 0..50 {
        let orders = cluster.admin.get("/admin/orders").await;
        state = orders.body["orders"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["id"] == to_expire.as_str())
            .map(|o| o["state"].as_str().unwrap().to_string())
            .unwrap();
        if state == "expired" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(state, "expired");
    let expired = signed(&alipay, &notify_params(&to_expire, "1.00", "TRADE_SUCCESS"));
    assert_eq!(
        notify(&cluster.api, &expired).await,
        (200, "success".into())
    );
    assert_eq!(pat.balance().await, 500);

    // The manual route is closed while a provider confirms payments.
    let r = cluster
        .admin
        .post(&format!("/admin/orders/{wrong_amount}/paid"), json!({}))
        .await;
    assert_eq!(r.status, 409, "{}", r.text);

    let ledger = pat.get("/billing/ledger").await;
    let entries = ledger.body["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["kind"], "top_up");
    assert_eq!(entries[0]["reference"], format!("order:{paid_order}"));
    let check = cluster.admin.get("/admin/billing/check").await;
    assert_eq!(check.body["unbalanced"], json!([]));
    // The operator can see what could not be honoured; the repeated notify of the same trade
    // is not money received twice.
    let audit = cluster.admin.get("/admin/audit").await;
    let twice_paid = audit.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "payment_for_paid_order")
        .count();
    assert_eq!(twice_paid, 1, "{}", audit.text);
    let audit = cluster.admin.get("/admin/audit").await;
    let entries = audit.body["entries"].as_array().unwrap();
    for (action, order) in [
        ("payment_for_closed_order", &cancelled),
        ("payment_for_closed_order", &to_expire),
        ("payment_amount_mismatch", &wrong_amount),
        ("order_paid", &paid_order),
        ("payment_for_paid_order", &paid_order),
    ] {
        assert!(
            entries
                .iter()
                .any(|e| e["action"] == action && e["subject"] == format!("order:{order}")),
            "{action} for {order} in {entries:?}"
        );
    }
}
