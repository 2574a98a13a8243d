//! Payment providers behind one interface: each makes the checkout for an order and, where
//! the provider calls back, verifies the callback. Only a verified, amount-checked callback
//! for a pending order creates credits (`notify.rs`).

mod alipay;
pub mod amount;
pub mod notify;

pub use alipay::{signing_string, Alipay, AlipayConfig};

use std::time::Duration;
use yun_store::OrderRow;

#[derive(Debug, Clone)]
pub enum ProviderConfig {
    /// No provider: an admin marks orders paid (`POST /admin/orders/{id}/paid`).
    Manual,
    Alipay(AlipayConfig),
}

#[derive(Debug, Clone)]
pub struct PaymentsConfig {
    pub provider: ProviderConfig,
    /// What credits are sold in, and the price of one credit in its minor unit
    /// (as in the original: 1 credit = 0.01 CNY = 1 fen).
    pub currency: String,
    pub minor_per_credit: i64,
    /// An unpaid order expires after this.
    pub order_ttl: Duration,
    pub min_order_credits: i64,
    pub max_order_credits: i64,
    /// How many unpaid orders one account may hold at once (each is a row and, with Alipay,
    /// a trade opened at the provider).
    pub max_pending_orders: u32,
}

impl Default for PaymentsConfig {
    fn default() -> Self {
        Self {
            provider: ProviderConfig::Manual,
            currency: "CNY".into(),
            minor_per_credit: 1,
            order_ttl: Duration::from_secs(15 * 60),
            min_order_credits: 100,
            max_order_credits: 10_000_000,
            max_pending_orders: 10,
        }
    }
}

/// How the renter pays an order.
#[derive(Debug, Clone)]
pub struct Checkout {
    pub url: Option<String>,
    pub instructions: String,
}

/// What a verified callback says.
#[derive(Debug, Clone)]
pub struct Notice {
    pub order_id: String,
    pub amount_minor: i64,
    pub trade_no: Option<String>,
    /// The provider says the money arrived.
    pub paid: bool,
    pub status: String,
}

#[derive(Debug)]
pub enum Rejected {
    BadSignature(String),
    Invalid(String),
}

/// What every payment provider does: make the checkout for an order, and verify what it
/// calls back with. Nothing a callback says is believed before `verify` has accepted it.
pub trait PaymentProvider: Send + Sync {
    /// The name in orders and in the callback URL (`/payments/{name}/notify`).
    fn name(&self) -> &'static str;
    fn checkout(&self, order: &OrderRow) -> Checkout;
    /// Verifies a callback's parameters and reads them.
    fn verify(&self, params: &[(String, String)]) -> Result<Notice, Rejected>;
    /// Whether an admin confirms payments by hand (no provider calls back).
    fn manual(&self) -> bool {
        false
    }
}

/// For operators without a payment provider: the renter pays the operator, who marks the order
/// paid. It takes no callbacks.
pub struct Manual;

impl PaymentProvider for Manual {
    fn name(&self) -> &'static str {
        "manual"
    }

    fn checkout(&self, order: &OrderRow) -> Checkout {
        Checkout {
            url: None,
            instructions: format!(
                "pay the operator {} {} and quote order {}; credits arrive when they mark it paid",
                amount::format_minor(order.amount_minor),
                order.currency,
                order.id
            ),
        }
    }

    fn verify(&self, _params: &[(String, String)]) -> Result<Notice, Rejected> {
        Err(Rejected::Invalid(
            "the manual provider takes no callbacks; an admin marks orders paid".into(),
        ))
    }

    fn manual(&self) -> bool {
        true
    }
}

/// The provider the configuration names, with its keys loaded.
pub fn load(config: &ProviderConfig) -> Result<Box<dyn PaymentProvider>, String> {
    Ok(match config {
        ProviderConfig::Manual => Box::new(Manual),
        ProviderConfig::Alipay(c) => Box::new(Alipay::load(c.clone())?),
    })
}
