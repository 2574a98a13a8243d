//! Known devices: the browsers and CLIs that logged in to an account before. Their token is
//! random and only its SHA-256 is kept, so the cookie proves a past login without any key to
//! keep or rotate, and a ban or a password change can forget it (a signed cookie could only
//! expire).

use super::db::{args, Tx};
use super::{now_ms, Store, StoreResult};

/// A device unused for this long is forgotten: its next login is a stranger's again.
pub const DEVICE_LIFETIME_MS: i64 = 365 * 24 * 3600 * 1000;

/// Devices kept per account; a new one beyond it forgets the least recently used.
pub const DEVICES_PER_ACCOUNT: i64 = 20;

impl Store {
    /// The username of the account a device token was given to, while it is remembered.
    pub async fn known_device_owner(&self, token_hash: &str) -> StoreResult<Option<String>> {
        self.read(async |db| {
            let row = db
                .row(
                    "SELECT u.username FROM known_devices d JOIN users u ON u.id = d.user_id \
                     WHERE d.token_hash = ?1 AND d.last_used_at > ?2",
                    args![token_hash, now_ms().saturating_sub(DEVICE_LIFETIME_MS)],
                )
                .await?;
            Ok(row.and_then(|r| r.first_text()))
        })
        .await
    }
}

/// Inside a login's transaction: remembers the device (new) or that it was used now (known),
/// and keeps at most `DEVICES_PER_ACCOUNT` per account.
pub(super) async fn remember(tx: &mut Tx<'_>, user_id: &str, token_hash: &str) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO known_devices (token_hash, user_id, created_at, last_used_at) VALUES (?1, ?2, ?3, ?3) \
         ON CONFLICT (token_hash) DO UPDATE SET last_used_at = excluded.last_used_at \
         WHERE known_devices.user_id = excluded.user_id",
        args![token_hash, user_id, now_ms()],
    )
    .await?;
    tx.execute(
        "DELETE FROM known_devices WHERE user_id = ?1 AND token_hash NOT IN \
         (SELECT token_hash FROM known_devices WHERE user_id = ?1 ORDER BY last_used_at DESC LIMIT ?2)",
        args![user_id, DEVICES_PER_ACCOUNT],
    )
    .await?;
    Ok(())
}
