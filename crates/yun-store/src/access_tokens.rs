//! Personal access tokens: a user's named, expiring bearer tokens for scripts and CI.

use super::db::{args, Row};
use super::ledger::audit;
use super::sessions::{CredentialKind, SessionUser};
use super::{now_ms, Store, StoreResult};

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

fn token_from(r: &Row) -> AccessTokenRow {
    AccessTokenRow {
        id: r.text("id"),
        name: r.text("name"),
        created_at: r.int("created_at"),
        expires_at: r.int("expires_at"),
        last_used_at: r.opt_int("last_used_at"),
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
        self.write(async |tx| {
            let live = tx
                .int(
                    "SELECT COUNT(*) FROM access_tokens WHERE user_id = ?1 AND expires_at > ?2",
                    args![user_id, now],
                )
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
            tx.execute(
                "INSERT INTO access_tokens (id, user_id, name, token_hash, created_at, expires_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                args![&row.id, user_id, name, token_hash, now, expires_at],
            )
            .await?;
            audit(
                tx,
                actor,
                "token_created",
                &format!("token:{}", row.id),
                &format!("'{name}' for user:{user_id}"),
            )
            .await?;
            Ok(Ok(row))
        })
        .await
    }

    /// A user's unexpired tokens, newest first.
    pub async fn list_access_tokens(&self, user_id: &str) -> StoreResult<Vec<AccessTokenRow>> {
        self.read(async |db| {
            let rows = db
                .rows(
                    "SELECT * FROM access_tokens WHERE user_id = ?1 AND expires_at > ?2 \
                     ORDER BY created_at DESC, id DESC",
                    args![user_id, now_ms()],
                )
                .await?;
            Ok(rows.iter().map(token_from).collect())
        })
        .await
    }

    /// The user of an unexpired access token.
    pub async fn access_token_user(&self, token_hash: &str) -> StoreResult<Option<SessionUser>> {
        let row = self
            .read(async |db| {
                Ok(db
                    .row(
                        "SELECT u.id, u.username, u.role, u.banned, t.id AS token, t.expires_at, t.last_used_at \
                         FROM access_tokens t JOIN users u ON u.id = t.user_id \
                         WHERE t.token_hash = ?1 AND t.expires_at > ?2",
                        args![token_hash, now_ms()],
                    )
                    .await?)
            })
            .await?;
        Ok(row.map(|r| SessionUser {
            id: r.text("id"),
            username: r.text("username"),
            role: yun_core::Role::from_stored(&r.text("role")),
            banned: r.flag("banned"),
            session: r.text("token"),
            kind: CredentialKind::AccessToken,
            session_expires_at: r.int("expires_at"),
            last_used_at: r.opt_int("last_used_at"),
        }))
    }
}
