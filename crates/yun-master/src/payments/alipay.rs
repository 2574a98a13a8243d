//! Alipay: the page-pay request signed with RSA2 (SHA256withRSA) by the merchant key, and the
//! asynchronous notify verified with Alipay's public key before anything is believed.
//! Both keys are read from files named in config, never from the repository.

use super::amount::{format_minor, parse_minor};
use super::{Checkout, Notice, PaymentProvider, Rejected};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::sha2::Sha256;
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::{RsaPrivateKey, RsaPublicKey};
use std::path::PathBuf;
use yun_store::OrderRow;

#[derive(Debug, Clone)]
pub struct AlipayConfig {
    pub app_id: String,
    /// Default https://openapi.alipay.com/gateway.do; the sandbox has its own.
    pub gateway: String,
    /// The merchant's RSA private key (PEM, PKCS#8 or PKCS#1, or Alipay's bare base64).
    pub private_key_file: PathBuf,
    /// Alipay's RSA public key for this app (PEM or bare base64).
    pub alipay_public_key_file: PathBuf,
    /// Where Alipay posts notifies: https://<your host>/api/v1/payments/alipay/notify.
    pub notify_url: String,
    /// Where the renter's browser returns after paying, if anywhere.
    pub return_url: Option<String>,
}

pub struct Alipay {
    config: AlipayConfig,
    signer: SigningKey<Sha256>,
    verifier: VerifyingKey<Sha256>,
}

fn read_key_text(path: &PathBuf, what: &str) -> Result<String, String> {
    std::fs::read_to_string(path)
        .map_err(|e| format!("reading the {what} from {}: {e}", path.display()))
}

fn bare_base64(text: &str) -> Option<Vec<u8>> {
    let joined: String = text.split_whitespace().collect();
    BASE64.decode(joined).ok()
}

fn private_key(text: &str) -> Result<RsaPrivateKey, String> {
    if text.contains("-----BEGIN") {
        RsaPrivateKey::from_pkcs8_pem(text)
            .or_else(|_| RsaPrivateKey::from_pkcs1_pem(text))
            .map_err(|e| e.to_string())
    } else {
        let der = bare_base64(text).ok_or("neither PEM nor base64")?;
        RsaPrivateKey::from_pkcs8_der(&der)
            .or_else(|_| RsaPrivateKey::from_pkcs1_der(&der))
            .map_err(|e| e.to_string())
    }
}

fn public_key(text: &str) -> Result<RsaPublicKey, String> {
    if text.contains("-----BEGIN") {
        RsaPublicKey::from_public_key_pem(text)
            .or_else(|_| RsaPublicKey::from_pkcs1_pem(text))
            .map_err(|e| e.to_string())
    } else {
        let der = bare_base64(text).ok_or("neither PEM nor base64")?;
        RsaPublicKey::from_public_key_der(&der)
            .or_else(|_| RsaPublicKey::from_pkcs1_der(&der))
            .map_err(|e| e.to_string())
    }
}

/// The string Alipay signs: every parameter but `sign` and `sign_type`, empty ones left out,
/// sorted by name, as `name=value` joined with `&`, values not URL-encoded.
pub fn signing_string<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut kept: Vec<(&str, &str)> = params
        .into_iter()
        .filter(|(k, v)| *k != "sign" && *k != "sign_type" && !v.is_empty())
        .collect();
    kept.sort_unstable();
    kept.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Alipay's clock: Beijing time, as `yyyy-MM-dd HH:mm:ss`.
fn beijing(ms: i64) -> String {
    let offset = chrono::FixedOffset::east_opt(8 * 3600).expect("a valid offset");
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .with_timezone(&offset)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

impl Alipay {
    pub fn load(config: AlipayConfig) -> Result<Self, String> {
        let private = private_key(&read_key_text(
            &config.private_key_file,
            "Alipay merchant private key",
        )?)
        .map_err(|e| {
            format!(
                "the merchant private key in {}: {e}",
                config.private_key_file.display()
            )
        })?;
        let public = public_key(&read_key_text(
            &config.alipay_public_key_file,
            "Alipay public key",
        )?)
        .map_err(|e| {
            format!(
                "the Alipay public key in {}: {e}",
                config.alipay_public_key_file.display()
            )
        })?;
        Ok(Self {
            config,
            signer: SigningKey::new(private),
            verifier: VerifyingKey::new(public),
        })
    }

    fn sign(&self, content: &str) -> String {
        BASE64.encode(self.signer.sign(content.as_bytes()).to_bytes())
    }
}

impl PaymentProvider for Alipay {
    fn name(&self) -> &'static str {
        "alipay"
    }

    /// The signed `alipay.trade.page.pay` request the renter's browser opens.
    fn checkout(&self, order: &OrderRow) -> Checkout {
        let biz = serde_json::json!({
            "out_trade_no": order.id,
            "product_code": "FAST_INSTANT_TRADE_PAY",
            "total_amount": format_minor(order.amount_minor),
            "subject": format!("yun credits x{}", order.credits),
            // Alipay itself refuses payment once the order would have expired here.
            "time_expire": beijing(order.expires_at),
        })
        .to_string();
        let mut params: Vec<(String, String)> = vec![
            ("app_id".into(), self.config.app_id.clone()),
            ("method".into(), "alipay.trade.page.pay".into()),
            ("format".into(), "JSON".into()),
            ("charset".into(), "utf-8".into()),
            ("sign_type".into(), "RSA2".into()),
            ("timestamp".into(), beijing(yun_store::now_ms())),
            ("version".into(), "1.0".into()),
            ("notify_url".into(), self.config.notify_url.clone()),
            ("biz_content".into(), biz),
        ];
        if let Some(r) = &self.config.return_url {
            params.push(("return_url".into(), r.clone()));
        }
        let sign = self.sign(&signing_string(
            params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        ));
        params.push(("sign".into(), sign));
        let query = serde_urlencoded::to_string(&params).expect("strings encode");
        Checkout {
            url: Some(format!("{}?{query}", self.config.gateway)),
            instructions: "open the URL to pay with Alipay; credits arrive once Alipay confirms"
                .into(),
        }
    }

    /// Verifies a notify and reads what it says. Nothing in it is trusted before the signature.
    fn verify(&self, params: &[(String, String)]) -> Result<Notice, Rejected> {
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        if let Some(t) = get("sign_type") {
            if t != "RSA2" {
                return Err(Rejected::BadSignature(format!("sign_type {t} is not RSA2")));
            }
        }
        let sign = get("sign").ok_or_else(|| Rejected::BadSignature("no sign".into()))?;
        let bytes = BASE64
            .decode(sign)
            .map_err(|_| Rejected::BadSignature("sign is not base64".into()))?;
        let signature = Signature::try_from(bytes.as_slice())
            .map_err(|_| Rejected::BadSignature("sign is not an RSA signature".into()))?;
        let content = signing_string(params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        self.verifier
            .verify(content.as_bytes(), &signature)
            .map_err(|_| {
                Rejected::BadSignature("the signature does not match Alipay's key".into())
            })?;
        let app_id = get("app_id").unwrap_or_default();
        if app_id != self.config.app_id {
            return Err(Rejected::Invalid(format!(
                "app_id {app_id} is not this merchant's"
            )));
        }
        let order_id = get("out_trade_no")
            .filter(|s| !s.is_empty())
            .ok_or_else(|| Rejected::Invalid("no out_trade_no".into()))?;
        let amount = get("total_amount").unwrap_or_default();
        let amount_minor = parse_minor(amount).ok_or_else(|| {
            Rejected::Invalid(format!("total_amount {amount:?} is not an amount"))
        })?;
        let status = get("trade_status").unwrap_or_default();
        Ok(Notice {
            order_id: order_id.to_string(),
            amount_minor,
            trade_no: get("trade_no").map(str::to_string),
            paid: matches!(status, "TRADE_SUCCESS" | "TRADE_FINISHED"),
            status: status.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::signing_string;

    #[test]
    fn signing_string_sorts_and_leaves_out_sign_and_empty_values() {
        let params = [
            ("trade_status", "TRADE_SUCCESS"),
            ("sign", "xyz"),
            ("app_id", "2021"),
            ("sign_type", "RSA2"),
            ("buyer_logon_id", ""),
            ("total_amount", "1.00"),
        ];
        assert_eq!(
            signing_string(params),
            "app_id=2021&total_amount=1.00&trade_status=TRADE_SUCCESS"
        );
    }
}
