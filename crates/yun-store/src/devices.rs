//! Known devices: the browsers and CLIs that logged in to an account before. Their token is
//! random and only its SHA-256 is kept, so the cookie proves a past login without any key to
//! keep or rotate, and a ban or a password change can forget it (a signed cookie could only
//! expire).

use super::{now_ms, Store, StoreResult};

/// A device unused for this long is forgotten: its next login is a stranger's again.
pub const DEVICE_LIFETIME_MS: i64 = 365 * 24 * 3600 * 1000;

/// Devices kept per account; a new one beyond it forgets the least recently used.
pub const DEVICES_PER_ACCOUNT: i64 = 20;

impl Store {
    /// The username of the account a device token was given to, while it is remembered.
    pub async fn known_device_owner(&self, token_hash: &str) -> StoreResult<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT u.username FROM known_devices d JOIN users u ON u.id = d.user_id \
             WHERE d.token_hash = ? AND d.last_used_at > ?",
        )
        .bind(token_hash)
        .bind(now_ms().saturating_sub(DEVICE_LIFETIME_MS))
        .fetch_optional(&self.read)
        .await?)
    }
}

/// Inside a login's transaction: remembers the device (new) or that it was used now (known),
/// and keeps at most `DEVICES_PER_ACCOUNT` per account.
pub(super) async fn remember(
    tx: &mut sqlx::SqliteConnection,
    user_id: &str,
    token_hash: &str,
) -> StoreResult<()> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO known_devices (token_hash, user_id, created_at, last_used_at) VALUES (?, ?, ?, ?) \
         ON CONFLICT (token_hash) DO UPDATE SET last_used_at = excluded.last_used_at \
         WHERE known_devices.user_id = excluded.user_id",
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(now)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "DELETE FROM known_devices WHERE user_id = ? AND token_hash NOT IN \
         (SELECT token_hash FROM known_devices WHERE user_id = ? ORDER BY last_used_at DESC LIMIT ?)",
    )
    .bind(user_id)
    .bind(user_id)
    .bind(DEVICES_PER_ACCOUNT)
    .execute(&mut *tx)
    .await?;
    Ok(())
}
