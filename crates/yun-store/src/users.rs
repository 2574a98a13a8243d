//! Accounts.

use super::{conflict_on_unique, now_ms, Store, StoreResult};
use sqlx::Row;

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

fn user_from(row: &sqlx::sqlite::SqliteRow) -> UserRow {
    UserRow {
        id: row.get("id"),
        username: row.get("username"),
        password_hash: row.get("password_hash"),
        role: yun_core::Role::from_stored(row.get("role")),
        banned: row.get::<i64, _>("banned") != 0,
        balance: row.get("balance"),
        created_at: row.get("created_at"),
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
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO users (id, username, password_hash, role, banned, created_at) VALUES (?, ?, ?, ?, 0, ?)",
        )
        .bind(&row.id)
        .bind(&row.username)
        .bind(&row.password_hash)
        .bind(row.role.as_str())
        .bind(row.created_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict_on_unique(e, super::Unique::Username))?;
        // The starting balance is an entry like any other, so balance = sum of the ledger.
        if signup_credits > 0 {
            super::ledger::credit(
                &mut tx,
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
                &mut tx,
                actor,
                "user_created",
                &format!("user:{}", row.id),
                &format!("opened the account {}", row.username),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(row)
    }

    pub async fn count_users(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.read)
            .await?)
    }

    pub async fn user_by_name(&self, username: &str) -> StoreResult<Option<UserRow>> {
        let row = sqlx::query("SELECT * FROM users WHERE username = ?")
            .bind(username)
            .fetch_optional(&self.read)
            .await?;
        Ok(row.as_ref().map(user_from))
    }

    pub async fn user_by_id(&self, id: &str) -> StoreResult<Option<UserRow>> {
        let row = sqlx::query("SELECT * FROM users WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        Ok(row.as_ref().map(user_from))
    }

    /// Users in the order they registered; `page.after` is a user id.
    pub async fn list_users(&self, page: &super::Page) -> StoreResult<Vec<UserRow>> {
        let rows =
            sqlx::query("SELECT * FROM users WHERE (? IS NULL OR id > ?) ORDER BY id LIMIT ?")
                .bind(page.after.as_deref())
                .bind(page.after.as_deref())
                .bind(page.limit)
                .fetch_all(&self.read)
                .await?;
        Ok(rows.iter().map(user_from).collect())
    }

    /// Returns false when no such user exists.
    /// Bans or lets back in, recorded in the audit log as `actor`'s in the same transaction.
    pub async fn set_banned(&self, actor: &str, user_id: &str, banned: bool) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("UPDATE users SET banned = ? WHERE id = ?")
            .bind(banned as i64)
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            > 0;
        if banned {
            sqlx::query("DELETE FROM sessions WHERE user_id = ?")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            // For good: an unban lets the owner log in again, never revives a token.
            sqlx::query("DELETE FROM access_tokens WHERE user_id = ?")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM known_devices WHERE user_id = ?")
                .bind(user_id)
                .execute(&mut *tx)
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
            super::ledger::audit(&mut tx, actor, action, &format!("user:{user_id}"), detail)
                .await?;
        }
        tx.commit().await?;
        Ok(done)
    }
}
