//! Login sessions: made at login, valid until their absolute expiry or until unused for the
//! idle limit, listed and ended by their owner, all ended but one by a password change.

use super::db::{args, Row};
use super::ledger::audit;
use super::{now_ms, Store, StoreResult};

/// `last_used_at` is written at most this often per session, so a busy client does not load
/// the single writer (the idle limit is minutes to days; a minute's error is nothing to it).
pub const TOUCH_EVERY_MS: i64 = 60_000;

/// What a login records about itself.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    pub token_hash: &'a str,
    pub user_id: &'a str,
    pub lifetime_ms: i64,
    /// The client's address, as the throttles saw it.
    pub source: &'a str,
    pub user_agent: &'a str,
    /// The SHA-256 of the device token the login came with or was given; the device is
    /// remembered for the account with the session.
    pub device_hash: &'a str,
}

/// One of a user's sessions as its owner sees it.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub id: String,
    pub created_at: i64,
    pub last_used_at: i64,
    /// The absolute expiry; the idle one is `last_used_at + idle`.
    pub expires_at: i64,
    pub source: String,
    pub user_agent: String,
}

/// What proved the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    /// A login's token (bearer) or the console's cookie.
    Session,
    /// A personal access token (bearer only).
    AccessToken,
}

/// The user behind a valid session or access token.
#[derive(Debug, Clone)]
pub struct SessionUser {
    pub id: String,
    pub username: String,
    pub role: yun_core::Role,
    pub banned: bool,
    /// The session's (or access token's) id: its streams end with it.
    pub session: String,
    pub kind: CredentialKind,
    /// When the session ends at the latest (milliseconds since the epoch); so do its streams.
    pub session_expires_at: i64,
    /// When it was last recorded as used (None: an access token never used before).
    pub last_used_at: Option<i64>,
}

impl SessionUser {
    /// Who this is in the audit log: `admin:<id>` or `user:<id>`, as subjects name accounts.
    pub fn actor(&self) -> String {
        format!("{}:{}", self.role.as_str(), self.id)
    }

    /// Whether this use should be written down (at most once a minute).
    pub fn due_for_touch(&self, now: i64) -> bool {
        self.last_used_at
            .is_none_or(|at| now.saturating_sub(at) >= TOUCH_EVERY_MS)
    }
}

fn session_from(r: &Row) -> SessionRow {
    SessionRow {
        id: r.text("id"),
        created_at: r.int("created_at"),
        last_used_at: r.int("last_used_at"),
        expires_at: r.int("expires_at"),
        source: r.text("source"),
        user_agent: r.text("user_agent"),
    }
}

impl Store {
    /// Starts a session; answers its id.
    pub async fn create_session(&self, s: &NewSession<'_>) -> StoreResult<String> {
        let (id, now) = (yun_core::new_id(), now_ms());
        self.write(async |tx| {
            tx.execute(
                "INSERT INTO sessions (id, token_hash, user_id, created_at, expires_at, last_used_at, source, user_agent, device) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?4, ?6, ?7, ?8)",
                args![
                    &id,
                    s.token_hash,
                    s.user_id,
                    now,
                    now.saturating_add(s.lifetime_ms),
                    s.source,
                    s.user_agent,
                    s.device_hash
                ],
            )
            .await?;
            super::devices::remember(tx, s.user_id, s.device_hash).await
        })
        .await?;
        Ok(id)
    }

    /// The user of a session that is neither past its expiry nor idle for `idle_ms`.
    pub async fn session_user(
        &self,
        token_hash: &str,
        idle_ms: i64,
    ) -> StoreResult<Option<SessionUser>> {
        let now = now_ms();
        let row = self
            .read(async |db| {
                Ok(db
                    .row(
                        "SELECT u.id, u.username, u.role, u.banned, s.id AS session, s.expires_at, s.last_used_at \
                         FROM sessions s JOIN users u ON u.id = s.user_id \
                         WHERE s.token_hash = ?1 AND s.expires_at > ?2 AND s.last_used_at > ?3",
                        args![token_hash, now, now.saturating_sub(idle_ms)],
                    )
                    .await?)
            })
            .await?;
        Ok(row.map(|r| SessionUser {
            id: r.text("id"),
            username: r.text("username"),
            role: yun_core::Role::from_stored(&r.text("role")),
            banned: r.flag("banned"),
            session: r.text("session"),
            kind: CredentialKind::Session,
            session_expires_at: r.int("expires_at"),
            last_used_at: Some(r.int("last_used_at")),
        }))
    }

    /// Records that a session or an access token was used now (callers do it at most once a
    /// minute).
    pub async fn touch_credential(&self, kind: CredentialKind, id: &str) -> StoreResult<()> {
        let sql = match kind {
            CredentialKind::Session => "UPDATE sessions SET last_used_at = ?1 WHERE id = ?2",
            CredentialKind::AccessToken => {
                "UPDATE access_tokens SET last_used_at = ?1 WHERE id = ?2"
            }
        };
        self.write(async |tx| {
            tx.execute(sql, args![now_ms(), id]).await?;
            Ok(())
        })
        .await
    }

    /// A user's live sessions, newest first.
    pub async fn list_sessions(&self, user_id: &str, idle_ms: i64) -> StoreResult<Vec<SessionRow>> {
        let now = now_ms();
        self.read(async |db| {
            let rows = db
                .rows(
                    "SELECT * FROM sessions WHERE user_id = ?1 AND expires_at > ?2 AND last_used_at > ?3 \
                     ORDER BY created_at DESC, id DESC",
                    args![user_id, now, now.saturating_sub(idle_ms)],
                )
                .await?;
            Ok(rows.iter().map(session_from).collect())
        })
        .await
    }

    /// Ends one of `user_id`'s sessions or revokes one of its access tokens (false: none by
    /// that id), in the audit log with `why` (a logout, ended from another session, revoked).
    pub async fn end_credential(
        &self,
        kind: CredentialKind,
        actor: &str,
        user_id: &str,
        id: &str,
        why: &str,
    ) -> StoreResult<bool> {
        let (sql, action, subject) = match kind {
            CredentialKind::Session => (
                "DELETE FROM sessions WHERE id = ?1 AND user_id = ?2 RETURNING id",
                "session_ended",
                format!("session:{id}"),
            ),
            CredentialKind::AccessToken => (
                "DELETE FROM access_tokens WHERE id = ?1 AND user_id = ?2 RETURNING name",
                "token_revoked",
                format!("token:{id}"),
            ),
        };
        self.write(async |tx| {
            let ended = tx
                .row(sql, args![id, user_id])
                .await?
                .and_then(|r| r.first_text());
            if let Some(what) = &ended {
                let detail = match kind {
                    CredentialKind::Session => why.to_string(),
                    CredentialKind::AccessToken => format!("'{what}' of user:{user_id}: {why}"),
                };
                audit(tx, actor, action, &subject, &detail).await?;
            }
            Ok(ended.is_some())
        })
        .await
    }

    /// Sets a new password hash and ends every session of the user but `keep`; answers the
    /// ended sessions' ids (their streams must end too).
    pub async fn change_password(
        &self,
        actor: &str,
        user_id: &str,
        password_hash: &str,
        keep: &str,
    ) -> StoreResult<Vec<String>> {
        self.write(async |tx| {
            tx.execute(
                "UPDATE users SET password_hash = ?1 WHERE id = ?2",
                args![password_hash, user_id],
            )
            .await?;
            let ended: Vec<String> = tx
                .rows(
                    "DELETE FROM sessions WHERE user_id = ?1 AND id != ?2 RETURNING id",
                    args![user_id, keep],
                )
                .await?
                .iter()
                .filter_map(|r| r.first_text())
                .collect();
            // Whoever knew the old password may have a device of this account: only the
            // device the change was made from stays known.
            let forgotten = tx
                .execute(
                    "DELETE FROM known_devices WHERE user_id = ?1 AND token_hash != \
                     COALESCE((SELECT device FROM sessions WHERE id = ?2), '')",
                    args![user_id, keep],
                )
                .await?;
            audit(
                tx,
                actor,
                "password_changed",
                &format!("user:{user_id}"),
                &format!(
                    "{} other session(s) ended, {forgotten} other device(s) forgotten",
                    ended.len()
                ),
            )
            .await?;
            Ok(ended)
        })
        .await
    }

    /// Deletes sessions past their expiry or idle limit, expired access tokens and devices
    /// unused for a year.
    pub async fn purge_expired_credentials(&self, idle_ms: i64) -> StoreResult<Purged> {
        let now = now_ms();
        self.write(async |tx| {
            let sessions = tx
                .execute(
                    "DELETE FROM sessions WHERE expires_at <= ?1 OR last_used_at <= ?2",
                    args![now, now.saturating_sub(idle_ms)],
                )
                .await?;
            let tokens = tx
                .execute(
                    "DELETE FROM access_tokens WHERE expires_at <= ?1",
                    args![now],
                )
                .await?;
            let devices = tx
                .execute(
                    "DELETE FROM known_devices WHERE last_used_at <= ?1",
                    args![now.saturating_sub(super::DEVICE_LIFETIME_MS)],
                )
                .await?;
            Ok(Purged {
                sessions,
                tokens,
                devices,
            })
        })
        .await
    }
}

/// What a purge deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub sessions: u64,
    pub tokens: u64,
    pub devices: u64,
}
