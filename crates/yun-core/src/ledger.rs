//! The ledger's entry kinds: why a balance changed, as the store names it.

/// Why a balance changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    SignupCredit,
    TopUp,
    Deposit,
    DepositRefund,
    Usage,
    UsageRefund,
    Pull,
    AdminAdjustment,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignupCredit => "signup_credit",
            Self::TopUp => "top_up",
            Self::Deposit => "deposit",
            Self::DepositRefund => "deposit_refund",
            Self::Usage => "usage",
            Self::UsageRefund => "usage_refund",
            Self::Pull => "pull",
            Self::AdminAdjustment => "admin_adjustment",
        }
    }
}
