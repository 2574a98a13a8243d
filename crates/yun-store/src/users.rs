//! Accounts.

use super::db::{args, Row};
use super::{now_ms, Store, StoreResult};

#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: String,
    pub username: String,
    pub password_hash: String,
    pub role: yun_core::Role,
    pub banned: bool,
    /// Credits, in whole units; always the sum of the user's ledger.
    pub balance: i64,
    pub created_at: i64,
}

fn user_from(row: &Row) -> UserRow {
    UserRow {
        id: row.text("id"),
        username: row.text("username"),
        password_hash: row.text("password_hash"),
        role: yun_core::Role::from_stored(&row.text("role")),
        banned: row.flag("banned"),
        balance: row.int("balance"),
        created_at: row.int("created_at"),
    }
}

impl Store {
    /// Opens an account with its starting credits; `opened_by` (an operator's actor) is
    /// recorded in the audit log in the same transaction.
    pub async fn create_user(
        &self,
        username: &str,
        password_hash: &str,
        role: yun_core::Role,
        signup_credits: i64,
        opened_by: Option<&str>,
    ) -> StoreResult<UserRow> {
        let row = UserRow {
            id: yun_core::new_id(),
            username: username.to_string(),
            password_hash: password_hash.to_string(),
            role,
            banned: false,
            balance: signup_credits.max(0),
            created_at: now_ms(),
        };
        self.write(async |tx| {
            tx.execute(
                "INSERT INTO users (id, username, password_hash, role, banned, created_at) \
                 VALUES (?, ?, ?, ?, FALSE, ?)",
                args![
                    &row.id,
                    &row.username,
                    &row.password_hash,
                    row.role.as_str(),
                    row.created_at
                ],
            )
            .await
            .map_err(|e| e.unique(|_| super::Unique::Username))?;
            // The starting balance is an entry like any other, so balance = sum of the ledger.
            if signup_credits > 0 {
                super::ledger::credit(
                    tx,
                    super::Entry {
                        user_id: row.id.clone(),
                        kind: super::EntryKind::SignupCredit,
                        amount: signup_credits,
                        reference: format!("user:{}", row.id),
                        idempotency_key: format!("signup:{}", row.id),
                        note: "credits every new account starts with".into(),
                    },
                )
                .await?;
            }
            if let Some(actor) = opened_by {
                super::ledger::audit(
                    tx,
                    actor,
                    "user_created",
                    &format!("user:{}", row.id),
                    &format!("opened the account {}", row.username),
                )
                .await?;
            }
            Ok(())
        })
        .await?;
        Ok(row)
    }

    pub async fn count_users(&self) -> StoreResult<i64> {
        self.read(async |db| Ok(db.int("SELECT COUNT(*) FROM users", &[]).await?))
            .await
    }

    pub async fn user_by_name(&self, username: &str) -> StoreResult<Option<UserRow>> {
        self.read(async |db| {
            let row = db
                .row("SELECT * FROM users WHERE username = ?", args![username])
                .await?;
            Ok(row.as_ref().map(user_from))
        })
        .await
    }

    pub async fn user_by_id(&self, id: &str) -> StoreResult<Option<UserRow>> {
        self.read(async |db| {
            let row = db
                .row("SELECT * FROM users WHERE id = ?", args![id])
                .await?;
            Ok(row.as_ref().map(user_from))
        })
        .await
    }

    /// Users in the order they registered; `page.after` is a user id.
    pub async fn list_users(&self, page: &super::Page) -> StoreResult<Vec<UserRow>> {
        self.read(async |db| {
            let rows = db
                .rows(
                    "SELECT * FROM users WHERE (?1 IS NULL OR id > ?1) ORDER BY id LIMIT ?2",
                    args![page.after.as_deref(), page.limit],
                )
                .await?;
            Ok(rows.iter().map(user_from).collect())
        })
        .await
    }

    /// Returns false when no such user exists.
    /// Bans or lets back in, recorded in the audit log as `actor`'s in the same transaction.
    pub async fn set_banned(&self, actor: &str, user_id: &str, banned: bool) -> StoreResult<bool> {
        self.write(async |tx| {
            let done = tx
                .execute(
                    "UPDATE users SET banned = ? WHERE id = ?",
                    args![banned, user_id],
                )
                .await?
                > 0;
            if banned {
                tx.execute("DELETE FROM sessions WHERE user_id = ?", args![user_id])
                    .await?;
                // For good: an unban lets the owner log in again, never revives a token.
                tx.execute(
                    "DELETE FROM access_tokens WHERE user_id = ?",
                    args![user_id],
                )
                .await?;
                tx.execute(
                    "DELETE FROM known_devices WHERE user_id = ?",
                    args![user_id],
                )
                .await?;
            }
            if done {
                let (action, detail) = if banned {
                    (
                        "user_banned",
                        "sessions, access tokens, known devices and open streams ended",
                    )
                } else {
                    ("user_unbanned", "may log in again")
                };
                super::ledger::audit(tx, actor, action, &format!("user:{user_id}"), detail).await?;
            }
            Ok(done)
        })
        .await
    }
}
