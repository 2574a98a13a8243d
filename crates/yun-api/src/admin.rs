//! Operators' answers: the fleet, users, money checks and the audit log.

use crate::accounts::User;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NodeState {
    /// Registered, but its first heartbeat has not come yet.
    Joining,
    Ready,
    /// Keeps running what it has and takes nothing new.
    Cordoned,
    /// No heartbeat for 2 × interval + 5 s.
    Down,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Node {
    pub id: String,
    pub name: String,
    pub state: NodeState,
    /// Where the master reaches the worker.
    pub advertise: String,
    /// The host in its containers' endpoints.
    pub public_host: String,
    /// `first-last`.
    pub port_range: String,
    pub capacity: NodeCapacity,
    pub allocated: NodeAllocated,
    /// Containers the store has on it.
    pub containers: u64,
    /// What the node itself last reported holding, to compare with `containers`.
    pub reported_containers: Option<u64>,
    /// RFC 3339.
    pub last_heartbeat: Option<String>,
    pub version: String,
    /// Limits its engine cannot enforce.
    pub unenforced_limits: Vec<String>,
    /// Whether it runs containers anyway (`--allow-unenforced-limits`).
    pub allow_unenforced_limits: bool,
    /// Its public host is the console's (`--public-url`): renters' services there would receive
    /// the console's cookie, so the console refuses it there. Give one of them another name.
    pub public_host_is_console: bool,
    /// RFC 3339: when the node's newest certificate expires (it renews by itself at two thirds
    /// of its life). Null on a plaintext fleet or before it joined.
    pub certificate_expires_at: Option<String>,
    /// This master's calls to the node since the node last registered with it.
    pub calls: NodeCalls,
}

/// The master's calls to one node: how many, how many failed, and the last failure. The
/// same calls are in the master's metrics (`yun_worker_rpc_calls_total`), summed over nodes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct NodeCalls {
    pub total: u64,
    /// Calls that timed out, found the node unreachable, or failed on its side (a refusal
    /// the node gives for a renter's mistake, such as a command that cannot run, counts too).
    pub failed: u64,
    pub last_failure: Option<NodeCallFailure>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NodeCallFailure {
    /// The call (`create`, `list`, `logs`, …).
    pub method: String,
    /// What went wrong (`timeout`, `unreachable`, `refused`, `failed`, …).
    pub outcome: String,
    /// RFC 3339.
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NodeCapacity {
    pub cpu_cores: u32,
    /// Cores × overcommit, in thousandths of a core.
    pub cpu_millis: u64,
    pub memory_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NodeAllocated {
    pub cpu_millis: u64,
    pub memory_bytes: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NodeList {
    pub cluster_id: String,
    /// `sha256:` and the hex digest of the cluster CA's certificate, as join tokens carry it.
    pub ca_digest: String,
    /// Master and workers talk without TLS (`--insecure-plaintext`).
    pub insecure_plaintext: bool,
    pub heartbeat_interval_ms: u64,
    pub heartbeats_total: u64,
    pub nodes: Vec<Node>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// An account the operator opens for someone (whatever `--registration` says). It gets the
/// sign-up credits, as a registration would; its owner changes the password on first login.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    /// 3 to 32 characters: lowercase letters, digits, `-` and `_`.
    #[schema(pattern = "^[a-z0-9_-]{3,32}$", example = "carol")]
    pub username: String,
    /// 10 to 128 characters that are hard to guess, as for a registration.
    #[schema(
        min_length = 10,
        max_length = 128,
        example = "plants-tall-sunflowers-7"
    )]
    pub password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserList {
    pub users: Vec<User>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// `POST /admin/users/{id}/credits`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Adjustment {
    /// Positive adds credits, negative takes them; at most 1,000,000,000 either way, not 0.
    #[schema(minimum = -1_000_000_000, maximum = 1_000_000_000, example = 500)]
    pub amount: i64,
    /// Why, in 1 to 500 characters; kept in the ledger and the audit log.
    #[schema(min_length = 1, max_length = 500, example = "refund for the outage")]
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Adjusted {
    pub user_id: String,
    pub balance: i64,
}

/// Every balance against its ledger: an empty list is the expected answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BillingCheck {
    pub unbalanced: Vec<Unbalanced>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Unbalanced {
    pub user_id: String,
    pub balance: i64,
    pub ledger_sum: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditEntry {
    /// RFC 3339; the first time, for an entry that counts repeats.
    pub at: String,
    /// How many times it happened: failed logins for one account from one source share one
    /// entry a day.
    pub repeats: u32,
    /// RFC 3339: the last time.
    pub last_at: String,
    /// Who did it: `admin:<user id>` or `user:<user id>` for an account (subjects name accounts
    /// the same way), `anonymous` for a failed login or a refused sign-up, or the payment
    /// provider.
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditLog {
    pub entries: Vec<AuditEntry>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// What an operator asks of a new join token.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewJoinToken {
    /// Seconds it stays good for, 60 to 31,536,000; 86,400 (a day) when left out.
    pub ttl_seconds: Option<u64>,
    /// How many workers may join with it; any number until it expires when left out.
    pub uses: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JoinTokenState {
    Active,
    Expired,
    UsedUp,
    Revoked,
}

/// A join token as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinToken {
    pub id: String,
    pub state: JoinTokenState,
    pub created_by: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub expires_at: String,
    /// Null: any number.
    pub max_uses: Option<u32>,
    pub uses: u32,
}

/// A token just made: `token` is shown this once and cannot be read again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinTokenCreated {
    /// `YUN1-<CA digest>-<secret>`: give it to `yun worker --join-token`.
    pub token: String,
    pub join_token: JoinToken,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinTokenList {
    /// Newest first.
    pub join_tokens: Vec<JoinToken>,
}

/// What forgetting a node did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Forgotten {
    pub node_id: String,
    /// Serials of the certificates revoked: every master refuses them from now on.
    pub revoked_certificates: Vec<String>,
    /// The node's lost containers, removed with it (their owners got their deposits and
    /// unused paid time back).
    #[serde(default)]
    pub removed_containers: Vec<String>,
    /// Credits refunded to their owners, in all.
    #[serde(default)]
    pub refunded: i64,
}
