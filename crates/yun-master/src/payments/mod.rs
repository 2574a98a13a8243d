//! Payment providers behind one interface: each makes the checkout for an order and, where
//! the provider calls back, verifies the callback. Only a verified, amount-checked callback
//! for a pending order creates credits (`notify.rs`).

mod alipay;
pub mod amount;
pub mod notify;

pub use alipay::{signing_string, Alipay, AlipayConfig};

use crate::store::OrderRow;
use std::time::Duration;

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
        }
    }
}

/// How the renter pays an order.
#[derive(Debug, Clone)]
pub struct Checkout {
    pub provider: &'static str,
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

pub enum Provider {
    Manual,
    Alipay(Box<Alipay>),
}

impl Provider {
    pub fn load(config: &ProviderConfig) -> Result<Self, String> {
        Ok(match config {
            ProviderConfig::Manual => Self::Manual,
            ProviderConfig::Alipay(c) => Self::Alipay(Box::new(Alipay::load(c.clone())?)),
        })
    }

    pub fn name(&self) -> &'static str {
        match self {
            Self::Manual => "manual",
            Self::Alipay(_) => "alipay",
        }
    }

    pub fn checkout(&self, order: &OrderRow) -> Checkout {
        match self {
            Self::Manual => Checkout {
                provider: "manual",
                url: None,
                instructions: format!(
                    "pay the operator {} and quote order {}; credits arrive when they mark it paid",
                    order.amount_minor, order.id
                ),
            },
            Self::Alipay(a) => a.checkout(order),
        }
    }
}
