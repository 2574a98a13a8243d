//! Playing Alipay in tests: key pairs for the merchant and for Alipay, written where a master
//! reads them, and notifies signed as Alipay signs them.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::sha2::Sha256;
use rsa::signature::{SignatureEncoding, Signer};
use rsa::RsaPrivateKey;
use yun_master::payments::signing_string;

use crate::Api;

pub const APP_ID: &str = "2021000000000001";

pub fn new_key() -> RsaPrivateKey {
    RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).expect("an RSA key")
}

/// Signs parameters as Alipay does, with `key`.
pub fn signed(key: &RsaPrivateKey, params: &[(&str, String)]) -> Vec<(String, String)> {
    let content = signing_string(params.iter().map(|(k, v)| (*k, v.as_str())));
    let sig = SigningKey::<Sha256>::new(key.clone()).sign(content.as_bytes());
    let mut out: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    out.push(("sign_type".into(), "RSA2".into()));
    out.push(("sign".into(), BASE64.encode(sig.to_bytes())));
    out
}

pub fn notify_params(order: &str, amount: &str, status: &str) -> Vec<(&'static str, String)> {
    vec![
        ("app_id", APP_ID.to_string()),
        ("notify_type", "trade_status_sync".into()),
        ("notify_time", "2026-11-24 12:00:00".into()),
        ("charset", "utf-8".into()),
        ("version", "1.0".into()),
        ("out_trade_no", order.to_string()),
        ("trade_no", format!("2026112422001{order}")),
        ("total_amount", amount.to_string()),
        ("trade_status", status.to_string()),
        ("subject", "yun credits".into()),
        ("buyer_logon_id", String::new()),
    ]
}

pub async fn notify(api: &Api, params: &[(String, String)]) -> (u16, String) {
    let body = serde_urlencoded::to_string(params).unwrap();
    let r = api
        .http
        .post(api.url("/payments/alipay/notify"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The merchant's key pair and Alipay's, with the files a master reads: the merchant's
/// private key and Alipay's public key.
pub struct PaymentKeys {
    pub merchant: RsaPrivateKey,
    pub alipay: RsaPrivateKey,
    pub private_file: std::path::PathBuf,
    pub public_file: std::path::PathBuf,
}

impl PaymentKeys {
    pub fn in_dir(dir: &std::path::Path) -> Self {
        let (merchant, alipay) = (new_key(), new_key());
        let private_file = dir.join("merchant.pem");
        let public_file = dir.join("alipay-public.pem");
        let pem = merchant.to_pkcs8_pem(LineEnding::LF).unwrap();
        std::fs::write(&private_file, pem.as_bytes()).unwrap();
        let public = alipay.to_public_key().to_public_key_pem(LineEnding::LF);
        std::fs::write(&public_file, public.unwrap()).unwrap();
        Self {
            merchant,
            alipay,
            private_file,
            public_file,
        }
    }
}
