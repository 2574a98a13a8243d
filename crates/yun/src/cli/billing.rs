//! What running costs and how credits are bought: flags for the figures tests and operators
//! change most, yun.toml for the rest (payment keys are named by file, never given inline).

use super::file::FileConfig;
use clap::Args;
use std::path::PathBuf;
use yun_master::payments::{AlipayConfig, ProviderConfig};
use yun_master::MasterConfig;

#[derive(Args, Default)]
pub struct BillingArgs {
    /// Credits a new account starts with (default 1000; set 0 when selling credits).
    #[arg(long, env = "YUN_SIGNUP_CREDITS")]
    signup_credits: Option<i64>,
    /// Running time is paid this far ahead, interval by interval (default 1m; at least 5s).
    #[arg(long, env = "YUN_METERING_INTERVAL")]
    metering_interval: Option<String>,
    /// How credits are paid for: manual (default; an admin marks orders paid) or alipay.
    #[arg(long, env = "YUN_PAYMENT_PROVIDER")]
    payment_provider: Option<String>,
}

fn non_negative(name: &str, v: i64) -> anyhow::Result<i64> {
    anyhow::ensure!(v >= 0, "{name} cannot be negative");
    Ok(v)
}

impl BillingArgs {
    pub fn apply(&self, cfg: &mut MasterConfig, file: &FileConfig) -> anyhow::Result<()> {
        let p = &mut cfg.pricing;
        if let Some(v) = self.signup_credits.or(file.signup_credits) {
            p.signup_credits = non_negative("signup_credits", v)?;
        }
        if let Some(v) = file.min_balance_to_run {
            p.min_balance_to_run = non_negative("min_balance_to_run", v)?;
        }
        if let Some(v) = file.run_deposit {
            p.run_deposit = non_negative("run_deposit", v)?;
        }
        if let Some(v) = file.pull_price_per_mib {
            p.pull_price_per_mib = non_negative("pull_price_per_mib", v)?;
        }
        if let Some(d) = self
            .metering_interval
            .clone()
            .or(file.metering_interval.clone())
        {
            p.metering_interval = super::parse_duration(&d)?;
            anyhow::ensure!(
                p.metering_interval.as_secs() >= 5,
                "--metering-interval must be at least 5s"
            );
        }
        for plan in &cfg.plans {
            non_negative(
                &format!("plan {}: price_per_hour", plan.name),
                plan.price_per_hour,
            )?;
        }
        let pay = &mut cfg.payments;
        if let Some(d) = &file.order_ttl {
            pay.order_ttl = super::parse_duration(d)?;
        }
        if let Some(n) = file.max_pending_orders {
            anyhow::ensure!(n > 0, "max_pending_orders must be above zero");
            pay.max_pending_orders = n;
        }
        if let Some(c) = &file.currency {
            pay.currency = c.clone();
        }
        if let Some(m) = file.minor_per_credit {
            anyhow::ensure!(m > 0, "minor_per_credit must be above zero");
            pay.minor_per_credit = m;
        }
        let provider = self
            .payment_provider
            .clone()
            .or(file.payment_provider.clone());
        pay.provider = match provider.as_deref() {
            None | Some("manual") => ProviderConfig::Manual,
            Some("alipay") => ProviderConfig::Alipay(alipay(file)?),
            Some(other) => anyhow::bail!("payment provider '{other}' is not 'manual' or 'alipay'"),
        };
        Ok(())
    }
}

fn alipay(file: &FileConfig) -> anyhow::Result<AlipayConfig> {
    let need = |v: &Option<String>, key: &str| {
        v.clone()
            .ok_or_else(|| anyhow::anyhow!("payment_provider = \"alipay\" needs {key} in yun.toml"))
    };
    Ok(AlipayConfig {
        app_id: need(&file.alipay_app_id, "alipay_app_id")?,
        gateway: file
            .alipay_gateway
            .clone()
            .unwrap_or_else(|| "https://openapi.alipay.com/gateway.do".into()),
        private_key_file: PathBuf::from(need(
            &file.alipay_private_key_file,
            "alipay_private_key_file",
        )?),
        alipay_public_key_file: PathBuf::from(need(
            &file.alipay_public_key_file,
            "alipay_public_key_file",
        )?),
        notify_url: need(&file.alipay_notify_url, "alipay_notify_url")?,
        return_url: file.alipay_return_url.clone(),
    })
}
