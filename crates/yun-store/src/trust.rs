//! The fleet's trust in the store, shared by every master: join tokens (hashes only), the
//! node name each joined worker holds, and the node certificates issued and revoked.

use super::db::{args, Row, Tx};
use super::{now_ms, Store, StoreResult};

#[derive(Debug, Clone)]
pub struct JoinTokenRow {
    pub id: String,
    pub created_by: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub max_uses: Option<u32>,
    pub uses: u32,
    pub revoked_at: Option<i64>,
}

fn token_from(r: &Row) -> JoinTokenRow {
    JoinTokenRow {
        id: r.text("id"),
        created_by: r.text("created_by"),
        created_at: r.int("created_at"),
        expires_at: r.int("expires_at"),
        max_uses: r.opt_int("max_uses").map(|n| n as u32),
        uses: r.int("uses") as u32,
        revoked_at: r.opt_int("revoked_at"),
    }
}

/// Why a join was refused. Each says what to do in `Display`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JoinRefusal {
    #[error("this join token is not known to the master: ask the operator for a new one (`yun master join-token`)")]
    UnknownToken,
    #[error("this join token has expired: ask the operator for a new one")]
    Expired,
    #[error(
        "this join token has been used as many times as it allows: ask the operator for a new one"
    )]
    UsedUp,
    #[error("this join token was revoked: ask the operator for a new one")]
    Revoked,
    #[error("a node called {0:?} is already in the fleet: a worker with that node's state directory rejoins by itself; to join a new host under this name, forget the node first (`yun admin node forget {0}`), or pick another --name")]
    NameTaken(String),
}

/// One join, as the store must check and record it in one transaction.
pub struct Joining<'a> {
    pub secret_hash: &'a str,
    pub name: &'a str,
    /// The id a new node gets.
    pub new_node_id: &'a str,
    /// The node the caller's own certificate names, if it showed one.
    pub caller_node: Option<&'a str>,
    pub serial: &'a str,
    pub not_after_ms: i64,
}

pub struct NewJoinToken<'a> {
    pub id: &'a str,
    pub secret_hash: &'a str,
    pub created_by: &'a str,
    pub expires_at: i64,
    pub max_uses: Option<u32>,
}

/// Why a node could not be forgotten.
#[derive(Debug, thiserror::Error)]
pub enum ForgetRefusal {
    #[error("no such node")]
    Unknown,
    #[error("the node still reports {0} container(s) that are not lost")]
    HasContainers(i64),
}

/// What forgetting a node did.
#[derive(Debug)]
pub struct NodeForgotten {
    /// Serials of the certificates revoked.
    pub revoked: Vec<String>,
    /// The lost containers removed, with their owners.
    pub removed: Vec<(String, String)>,
    /// Credits given back (deposits and unused paid time).
    pub refunded: i64,
}

impl Store {
    pub async fn create_join_token(&self, t: &NewJoinToken<'_>) -> StoreResult<JoinTokenRow> {
        self.write(async |tx| {
            tx.execute(
                "INSERT INTO join_tokens (id, secret_hash, created_by, created_at, expires_at, max_uses) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                args![
                    t.id,
                    t.secret_hash,
                    t.created_by,
                    now_ms(),
                    t.expires_at,
                    t.max_uses.map(i64::from)
                ],
            )
            .await?;
            let row = tx
                .row("SELECT * FROM join_tokens WHERE id = ?1", args![t.id])
                .await?
                .ok_or_else(|| super::StoreError::Decode("the token just written is gone".into()))?;
            Ok(token_from(&row))
        })
        .await
    }

    /// Every token, newest first (there are few: operators make them by hand).
    pub async fn join_tokens(&self) -> StoreResult<Vec<JoinTokenRow>> {
        self.read(async |db| {
            let rows = db
                .rows(
                    "SELECT * FROM join_tokens ORDER BY created_at DESC, id DESC",
                    &[],
                )
                .await?;
            Ok(rows.iter().map(token_from).collect())
        })
        .await
    }

    /// Returns false when no such token exists; revoking twice keeps the first time.
    pub async fn revoke_join_token(&self, id: &str) -> StoreResult<bool> {
        self.write(async |tx| {
            Ok(tx
                .execute(
                    "UPDATE join_tokens SET revoked_at = COALESCE(revoked_at, ?1) WHERE id = ?2",
                    args![now_ms(), id],
                )
                .await?
                > 0)
        })
        .await
    }

    /// Checks the token and the name, takes one use of the token, and records the name and
    /// the certificate, all or nothing. Returns the node's id.
    pub async fn join(&self, j: &Joining<'_>) -> StoreResult<Result<String, JoinRefusal>> {
        let now = now_ms();
        self.write(async |tx| {
            let Some(token) = tx
                .row(
                    "SELECT * FROM join_tokens WHERE secret_hash = ?1",
                    args![j.secret_hash],
                )
                .await?
                .map(|r| token_from(&r))
            else {
                return Ok(Err(JoinRefusal::UnknownToken));
            };
            if token.revoked_at.is_some() {
                return Ok(Err(JoinRefusal::Revoked));
            }
            if token.expires_at <= now {
                return Ok(Err(JoinRefusal::Expired));
            }
            if token.max_uses.is_some_and(|max| token.uses >= max) {
                return Ok(Err(JoinRefusal::UsedUp));
            }
            let existing = tx
                .row(
                    "SELECT node_id FROM node_names WHERE name = ?1",
                    args![j.name],
                )
                .await?
                .and_then(|r| r.first_text());
            let node_id = match existing {
                // Only the node itself, showing its current certificate, may join under its
                // name again.
                Some(id) if j.caller_node == Some(id.as_str()) => id,
                Some(_) => return Ok(Err(JoinRefusal::NameTaken(j.name.to_string()))),
                None => {
                    tx.execute(
                        "INSERT INTO node_names (node_id, name, joined_at) VALUES (?1, ?2, ?3)",
                        args![j.new_node_id, j.name, now],
                    )
                    .await?;
                    j.new_node_id.to_string()
                }
            };
            tx.execute(
                "UPDATE join_tokens SET uses = uses + 1 WHERE id = ?1",
                args![&token.id],
            )
            .await?;
            insert_certificate(tx, j.serial, &node_id, j.not_after_ms).await?;
            Ok(Ok(node_id))
        })
        .await
    }

    /// The name a joined node holds.
    pub async fn node_name(&self, node_id: &str) -> StoreResult<Option<String>> {
        self.read(async |db| {
            Ok(db
                .row(
                    "SELECT name FROM node_names WHERE node_id = ?1",
                    args![node_id],
                )
                .await?
                .and_then(|r| r.first_text()))
        })
        .await
    }

    /// The node that holds `name` (plaintext fleets know their workers by name alone).
    pub async fn node_id_named(&self, name: &str) -> StoreResult<Option<String>> {
        self.read(async |db| {
            Ok(db
                .row(
                    "SELECT node_id FROM node_names WHERE name = ?1",
                    args![name],
                )
                .await?
                .and_then(|r| r.first_text()))
        })
        .await
    }

    /// Records a certificate issued to a node that renewed.
    pub async fn record_certificate(
        &self,
        serial: &str,
        node_id: &str,
        not_after_ms: i64,
    ) -> StoreResult<()> {
        self.write(async |tx| insert_certificate(tx, serial, node_id, not_after_ms).await)
            .await
    }

    /// When each node's newest unrevoked certificate expires (unix ms).
    pub async fn node_certificate_expiry(
        &self,
    ) -> StoreResult<std::collections::HashMap<String, i64>> {
        self.read(async |db| {
            let rows = db
                .rows(
                    "SELECT node_id, MAX(not_after) AS not_after FROM node_certificates \
                     WHERE revoked_at IS NULL GROUP BY node_id",
                    &[],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|r| (r.text("node_id"), r.int("not_after")))
                .collect())
        })
        .await
    }

    /// Serials revoked and not yet expired: what every master must refuse.
    pub async fn revoked_serials(&self) -> StoreResult<Vec<String>> {
        self.read(async |db| {
            let rows = db
                .rows(
                    "SELECT serial FROM node_certificates WHERE revoked_at IS NOT NULL AND not_after > ?1",
                    args![now_ms()],
                )
                .await?;
            Ok(rows.iter().filter_map(|r| r.first_text()).collect())
        })
        .await
    }

    /// Forgets a node that will not return: its certificates are revoked, its lease, name and
    /// usage go, and its containers (only lost ones are allowed: a node that still reports
    /// running containers is refused) are removed from the store with their ports, their
    /// deposits and unused paid time refunded in the ledger. One transaction; in the audit log.
    pub async fn forget_node(
        &self,
        actor: &str,
        node_id: &str,
        node_is_down: bool,
    ) -> StoreResult<Result<NodeForgotten, ForgetRefusal>> {
        self.write(async |db| {
            let known = db
                .row(
                    "SELECT node_id FROM node_names WHERE node_id = ?1 UNION SELECT id FROM nodes WHERE id = ?1",
                    args![node_id],
                )
                .await?;
            if known.is_none() {
                return Ok(Err(ForgetRefusal::Unknown));
            }
            // A node that still answers keeps its containers. A down node's all go, whatever
            // state they were left in (lost, or waiting for the node to be removed): a node
            // can always be forgotten.
            let alive = db
                .int(
                    "SELECT COUNT(*) FROM containers WHERE node_id = ?1 AND NOT ?2",
                    args![node_id, node_is_down],
                )
                .await?;
            if alive > 0 {
                return Ok(Err(ForgetRefusal::HasContainers(alive)));
            }
            let lost: Vec<(String, String)> = db
                .rows(
                    "SELECT id, owner_id FROM containers WHERE node_id = ?1",
                    args![node_id],
                )
                .await?
                .iter()
                .map(|r| (r.text("id"), r.text("owner_id")))
                .collect();
            let mut refunded = 0;
            for (id, _) in &lost {
                refunded += super::metering::close_account(db, id).await?;
                db.execute(
                    "DELETE FROM port_allocations WHERE container_id = ?1",
                    args![id],
                )
                .await?;
                db.execute("DELETE FROM containers WHERE id = ?1", args![id])
                    .await?;
            }
            let serials: Vec<String> = db
                .rows(
                    "UPDATE node_certificates SET revoked_at = ?1 WHERE node_id = ?2 AND revoked_at IS NULL \
                     RETURNING serial",
                    args![now_ms(), node_id],
                )
                .await?
                .iter()
                .filter_map(|r| r.first_text())
                .collect();
            for sql in [
                "DELETE FROM node_names WHERE node_id = ?1",
                "DELETE FROM node_usage WHERE node_id = ?1",
                "DELETE FROM nodes WHERE id = ?1",
            ] {
                db.execute(sql, args![node_id]).await?;
            }
            super::ledger::audit(
                db,
                actor,
                "node_forgotten",
                &format!("node:{node_id}"),
                &format!(
                    "{} certificate(s) revoked; {} lost container(s) removed, {refunded} credits refunded",
                    serials.len(),
                    lost.len()
                ),
            )
            .await?;
            Ok(Ok(NodeForgotten {
                revoked: serials,
                removed: lost,
                refunded,
            }))
        })
        .await
    }
}

async fn insert_certificate(
    tx: &mut Tx<'_>,
    serial: &str,
    node_id: &str,
    not_after_ms: i64,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO node_certificates (serial, node_id, issued_at, not_after) VALUES (?1, ?2, ?3, ?4)",
        args![serial, node_id, now_ms(), not_after_ms],
    )
    .await?;
    Ok(())
}
