//! Rows and domain values turned into the API's wire types (`yun_api`), by hand, so a change
//! of the store never changes the contract by accident.

use yun_api::accounts::{Role, User};
use yun_api::billing::{EntryKind, LedgerEntry, Order};
use yun_api::containers as wire;
use yun_api::images::{ExposedPort, Image, Visibility};
use yun_core::{ContainerState, DesiredState};
use yun_store::{ContainerRow, ImageRow, LedgerRow, OrderRow, OrderState, UserRow};

/// Unix milliseconds as RFC 3339 (UTC, milliseconds).
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

pub fn protocol(p: &str) -> wire::Protocol {
    match p {
        "udp" => wire::Protocol::Udp,
        _ => wire::Protocol::Tcp,
    }
}

pub fn container_state(s: ContainerState) -> wire::ContainerState {
    use wire::ContainerState as W;
    match s {
        ContainerState::Creating => W::Creating,
        ContainerState::Running => W::Running,
        ContainerState::Stopping => W::Stopping,
        ContainerState::Stopped => W::Stopped,
        ContainerState::Exited => W::Exited,
        ContainerState::Restarting => W::Restarting,
        ContainerState::Suspended => W::Suspended,
        ContainerState::Lost => W::Lost,
        ContainerState::Removing => W::Removing,
        ContainerState::Failed => W::Failed,
    }
}

fn desired_state(s: DesiredState) -> wire::DesiredState {
    match s {
        DesiredState::Running => wire::DesiredState::Running,
        DesiredState::Stopped => wire::DesiredState::Stopped,
        DesiredState::Removed => wire::DesiredState::Removed,
    }
}

pub fn container(c: &ContainerRow) -> wire::Container {
    wire::Container {
        id: c.id.clone(),
        name: c.name.clone(),
        image: c.image_ref.clone(),
        plan: c.plan.clone(),
        node: c.node_name.clone(),
        state: container_state(c.state),
        desired_state: desired_state(c.desired_state),
        ports: c
            .ports
            .iter()
            .map(|p| wire::Port {
                container_port: p.container_port,
                host_port: p.host_port,
                protocol: protocol(&p.protocol),
                endpoint: format!("{}:{}", c.public_host, p.host_port),
            })
            .collect(),
        command: c.command.clone(),
        env: c
            .env
            .iter()
            .map(|v| (v.key.clone(), v.value.clone()))
            .collect(),
        exit_code: c.exit_code,
        oom_killed: c.oom_killed,
        read_only: c.read_only,
        restart_policy: wire::RestartPolicy {
            name: c.restart.name().to_string(),
            max_retries: c.restart.max_retries(),
            restarts: c.restart_count,
        },
        status_reason: c.status_reason.clone(),
        billing: wire::ContainerBilling {
            price_per_hour: c.price_per_hour,
            deposit: c.deposit,
            run_seconds: c.run_ms / 1000,
            charged: c.charged,
        },
        expires_at: c.expires_at.map(rfc3339),
        created_at: rfc3339(c.created_at),
    }
}

pub fn container_answer(c: &ContainerRow) -> wire::ContainerAnswer {
    wire::ContainerAnswer {
        container: container(c),
    }
}

pub fn user(u: &UserRow) -> User {
    User {
        id: u.id.clone(),
        username: u.username.clone(),
        role: match u.role {
            yun_core::Role::Admin => Role::Admin,
            yun_core::Role::User => Role::User,
        },
        banned: u.banned,
        balance: u.balance,
        created_at: rfc3339(u.created_at),
    }
}

pub fn image(i: &ImageRow) -> Image {
    Image {
        id: i.id.clone(),
        reference: i.reference.clone(),
        visibility: if i.owner_id.is_empty() {
            Visibility::Public
        } else {
            Visibility::Private
        },
        size_bytes: i.size_bytes,
        exposed_ports: i
            .exposed_ports
            .iter()
            .map(|(p, proto)| ExposedPort {
                container_port: *p,
                protocol: protocol(proto),
            })
            .collect(),
        created_at: rfc3339(i.created_at),
    }
}

fn entry_kind(kind: &str) -> EntryKind {
    match kind {
        "signup_credit" => EntryKind::SignupCredit,
        "top_up" => EntryKind::TopUp,
        "deposit" => EntryKind::Deposit,
        "deposit_refund" => EntryKind::DepositRefund,
        "usage" => EntryKind::Usage,
        "usage_refund" => EntryKind::UsageRefund,
        "pull" => EntryKind::Pull,
        _ => EntryKind::AdminAdjustment,
    }
}

pub fn ledger_entry(e: &LedgerRow) -> LedgerEntry {
    LedgerEntry {
        id: e.id,
        kind: entry_kind(&e.kind),
        amount: e.amount,
        balance_after: e.balance_after,
        reference: e.reference.clone(),
        note: e.note.clone(),
        created_at: rfc3339(e.created_at),
    }
}

fn order_state(s: OrderState) -> yun_api::billing::OrderState {
    use yun_api::billing::OrderState as W;
    match s {
        OrderState::Pending => W::Pending,
        OrderState::Paid => W::Paid,
        OrderState::Cancelled => W::Cancelled,
        OrderState::Expired => W::Expired,
    }
}

/// An order as its owner sees it; `with_owner` adds whose it is, for operators.
pub fn order(o: &OrderRow, with_owner: bool) -> Order {
    Order {
        id: o.id.clone(),
        credits: o.credits,
        amount: crate::payments::amount::format_minor(o.amount_minor),
        currency: o.currency.clone(),
        provider: o.provider.clone(),
        state: order_state(o.state),
        created_at: rfc3339(o.created_at),
        expires_at: rfc3339(o.expires_at),
        settled_at: o.settled_at.map(rfc3339),
        user_id: with_owner.then(|| o.user_id.clone()),
    }
}
