//! Personal access tokens: a user's named, expiring bearer tokens for scripts and CI.

use super::ledger::audit;
use super::sessions::{CredentialKind, SessionUser};
use super::{now_ms, Store, StoreResult};
use sqlx::Row;

/// Live tokens one user may hold.
pub const MAX_PER_USER: i64 = 50;

#[derive(Debug, Clone)]
pub struct AccessTokenRow {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub last_used_at: Option<i64>,
}

fn token_from(r: &sqlx::sqlite::SqliteRow) -> AccessTokenRow {
    AccessTokenRow {
        id: r.get("id"),
        name: r.get("name"),
        created_at: r.get("created_at"),
        expires_at: r.get("expires_at"),
        last_used_at: r.get("last_used_at"),
    }
}

/// Why a token was not made.
pub enum TokenRefusal {
    TooMany,
}

impl Store {
    /// Makes a token (only its hash is kept), in the audit log.
    pub async fn create_access_token(
        &self,
        actor: &str,
        user_id: &str,
        name: &str,
        token_hash: &str,
        expires_at: i64,
    ) -> StoreResult<Result<AccessTokenRow, TokenRefusal>> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        let live: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM access_tokens WHERE user_id = ? AND expires_at > ?",
        )
        .bind(user_id)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        if live >= MAX_PER_USER {
            return Ok(Err(TokenRefusal::TooMany));
        }
        let row = AccessTokenRow {
            id: yun_core::new_id(),
            name: name.to_string(),
            created_at: now,
            expires_at,
            last_used_at: None,
        };
        sqlx::query(
            "INSERT INTO access_tokens (id, user_id, name, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&row.id)
        .bind(user_id)
        .bind(name)
        .bind(token_hash)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        audit(
            &mut tx,
            actor,
            "token_created",
            &format!("token:{}", row.id),
            &format!("'{name}' for user:{user_id}"),
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(row))
    }

    /// A user's unexpired tokens, newest first.
    pub async fn list_access_tokens(&self, user_id: &str) -> StoreResult<Vec<AccessTokenRow>> {
        let rows = sqlx::query(
            "SELECT * FROM access_tokens WHERE user_id = ? AND expires_at > ? ORDER BY created_at DESC, id DESC",
        )
        .bind(user_id)
        .bind(now_ms())
        .fetch_all(&self.read)
        .await?;
        Ok(rows.iter().map(token_from).collect())
    }

    /// The user of an unexpired access token.
    pub async fn access_token_user(&self, token_hash: &str) -> StoreResult<Option<SessionUser>> {
        let row = sqlx::query(
            "SELECT u.id, u.username, u.role, u.banned, t.id AS token, t.expires_at, t.last_used_at \
             FROM access_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = ? AND t.expires_at > ?",
        )
        .bind(token_hash)
        .bind(now_ms())
        .fetch_optional(&self.read)
        .await?;
        Ok(row.map(|r| SessionUser {
            id: r.get("id"),
            username: r.get("username"),
            role: yun_core::Role::from_stored(r.get("role")),
            banned: r.get::<i64, _>("banned") != 0,
            session: r.get("token"),
            kind: CredentialKind::AccessToken,
            session_expires_at: r.get("expires_at"),
            last_used_at: r.get("last_used_at"),
        }))
    }
}
