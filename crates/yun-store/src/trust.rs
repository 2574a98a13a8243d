//! The fleet's trust in the store, shared by every master: join tokens (hashes only), the
//! node name each joined worker holds, and the node certificates issued and revoked.

use super::{now_ms, Store, StoreResult};
use rusqlite::OptionalExtension;
use sqlx::Row;

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

fn token_from(r: &sqlx::sqlite::SqliteRow) -> JoinTokenRow {
    JoinTokenRow {
        id: r.get("id"),
        created_by: r.get("created_by"),
        created_at: r.get("created_at"),
        expires_at: r.get("expires_at"),
        max_uses: r.get::<Option<i64>, _>("max_uses").map(|n| n as u32),
        uses: r.get::<i64, _>("uses") as u32,
        revoked_at: r.get("revoked_at"),
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
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO join_tokens (id, secret_hash, created_by, created_at, expires_at, max_uses) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(t.id)
        .bind(t.secret_hash)
        .bind(t.created_by)
        .bind(now_ms())
        .bind(t.expires_at)
        .bind(t.max_uses.map(i64::from))
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query("SELECT * FROM join_tokens WHERE id = ?")
            .bind(t.id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(token_from(&row))
    }

    /// Every token, newest first (there are few: operators make them by hand).
    pub async fn join_tokens(&self) -> StoreResult<Vec<JoinTokenRow>> {
        let rows = sqlx::query("SELECT * FROM join_tokens ORDER BY created_at DESC, id DESC")
            .fetch_all(&self.read)
            .await?;
        Ok(rows.iter().map(token_from).collect())
    }

    /// Returns false when no such token exists; revoking twice keeps the first time.
    pub async fn revoke_join_token(&self, id: &str) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let done =
            sqlx::query("UPDATE join_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?")
                .bind(now_ms())
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                > 0;
        tx.commit().await?;
        Ok(done)
    }

    /// Checks the token and the name, takes one use of the token, and records the name and
    /// the certificate, all or nothing. Returns the node's id.
    pub async fn join(&self, j: &Joining<'_>) -> StoreResult<Result<String, JoinRefusal>> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        let Some(token) = sqlx::query("SELECT * FROM join_tokens WHERE secret_hash = ?")
            .bind(j.secret_hash)
            .fetch_optional(&mut *tx)
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
        let existing: Option<String> =
            sqlx::query_scalar("SELECT node_id FROM node_names WHERE name = ?")
                .bind(j.name)
                .fetch_optional(&mut *tx)
                .await?;
        let node_id = match existing {
            // Only the node itself, showing its current certificate, may join under its name again.
            Some(id) if j.caller_node == Some(id.as_str()) => id,
            Some(_) => return Ok(Err(JoinRefusal::NameTaken(j.name.to_string()))),
            None => {
                sqlx::query("INSERT INTO node_names (node_id, name, joined_at) VALUES (?, ?, ?)")
                    .bind(j.new_node_id)
                    .bind(j.name)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                j.new_node_id.to_string()
            }
        };
        sqlx::query("UPDATE join_tokens SET uses = uses + 1 WHERE id = ?")
            .bind(&token.id)
            .execute(&mut *tx)
            .await?;
        insert_certificate(&mut tx, j.serial, &node_id, j.not_after_ms).await?;
        tx.commit().await?;
        Ok(Ok(node_id))
    }

    /// The name a joined node holds.
    pub async fn node_name(&self, node_id: &str) -> StoreResult<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT name FROM node_names WHERE node_id = ?")
                .bind(node_id)
                .fetch_optional(&self.read)
                .await?,
        )
    }

    /// The node that holds `name` (plaintext fleets know their workers by name alone).
    pub async fn node_id_named(&self, name: &str) -> StoreResult<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT node_id FROM node_names WHERE name = ?")
                .bind(name)
                .fetch_optional(&self.read)
                .await?,
        )
    }

    /// Records a certificate issued to a node that renewed.
    pub async fn record_certificate(
        &self,
        serial: &str,
        node_id: &str,
        not_after_ms: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        insert_certificate(&mut tx, serial, node_id, not_after_ms).await?;
        tx.commit().await?;
        Ok(())
    }

    /// When each node's newest unrevoked certificate expires (unix ms).
    pub async fn node_certificate_expiry(
        &self,
    ) -> StoreResult<std::collections::HashMap<String, i64>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT node_id, MAX(not_after) FROM node_certificates WHERE revoked_at IS NULL GROUP BY node_id",
        )
        .fetch_all(&self.read)
        .await?;
        Ok(rows.into_iter().collect())
    }

    /// Serials revoked and not yet expired: what every master must refuse.
    pub async fn revoked_serials(&self) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT serial FROM node_certificates WHERE revoked_at IS NOT NULL AND not_after > ?",
        )
        .bind(now_ms())
        .fetch_all(&self.read)
        .await?)
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
        let (actor, node_id) = (actor.to_string(), node_id.to_string());
        self.write_direct(move |db| {
            let known: Option<String> = db
                .prepare_cached(
                    "SELECT node_id FROM node_names WHERE node_id = ?1 UNION SELECT id FROM nodes WHERE id = ?1",
                )?
                .query_row([&node_id], |r| r.get(0))
                .optional()?;
            if known.is_none() {
                return Ok(Err(ForgetRefusal::Unknown));
            }
            // A node that still answers keeps its containers. A down node's all go, whatever
            // state they were left in (lost, or waiting for the node to be removed): a node
            // can always be forgotten.
            let alive: i64 = db
                .prepare_cached("SELECT COUNT(*) FROM containers WHERE node_id = ?1 AND ?2 = 0")?
                .query_row(rusqlite::params![node_id, node_is_down], |r| r.get(0))?;
            if alive > 0 {
                return Ok(Err(ForgetRefusal::HasContainers(alive)));
            }
            let lost: Vec<(String, String)> = db
                .prepare_cached("SELECT id, owner_id FROM containers WHERE node_id = ?1")?
                .query_map([&node_id], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            let mut refunded = 0;
            for (id, _) in &lost {
                refunded += super::metering::close_account(db, id)?;
                db.prepare_cached("DELETE FROM port_allocations WHERE container_id = ?1")?
                    .execute([id])?;
                db.prepare_cached("DELETE FROM containers WHERE id = ?1")?
                    .execute([id])?;
            }
            let serials: Vec<String> = db
                .prepare_cached(
                    "UPDATE node_certificates SET revoked_at = ?1 WHERE node_id = ?2 AND revoked_at IS NULL RETURNING serial",
                )?
                .query_map(rusqlite::params![now_ms(), node_id], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            for sql in [
                "DELETE FROM node_names WHERE node_id = ?1",
                "DELETE FROM node_usage WHERE node_id = ?1",
                "DELETE FROM nodes WHERE id = ?1",
            ] {
                db.prepare_cached(sql)?.execute([&node_id])?;
            }
            super::ledger::audit_in(
                db,
                &actor,
                "node_forgotten",
                &format!("node:{node_id}"),
                &format!(
                    "{} certificate(s) revoked; {} lost container(s) removed, {refunded} credits refunded",
                    serials.len(),
                    lost.len()
                ),
            )?;
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
    tx: &mut super::timing::WriteTx,
    serial: &str,
    node_id: &str,
    not_after_ms: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO node_certificates (serial, node_id, issued_at, not_after) VALUES (?, ?, ?, ?)",
    )
    .bind(serial)
    .bind(node_id)
    .bind(now_ms())
    .bind(not_after_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
