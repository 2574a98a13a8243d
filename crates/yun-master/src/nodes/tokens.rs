//! Making join tokens: the admin API, the console and `yun master join-token` all come here.
//! The secret is shown once and only its hash is stored.

use super::FleetTrust;
use std::time::Duration;
use yun_store::{JoinTokenRow, NewJoinToken, Store, StoreResult};

/// How long a token is good for when the operator does not say.
pub const DEFAULT_TTL: Duration = Duration::from_secs(24 * 3600);
/// The longest a token may live: a leaked token that never expires is a standing invitation.
pub const MAX_TTL: Duration = Duration::from_secs(365 * 24 * 3600);

/// Why a token cannot be made as asked.
pub fn check(ttl: Duration, uses: Option<u32>) -> Result<(), String> {
    if ttl < Duration::from_secs(60) || ttl > MAX_TTL {
        return Err("a join token lives between 1 minute and 365 days".into());
    }
    if uses == Some(0) {
        return Err("a join token allows at least 1 use; leave it out for any number".into());
    }
    Ok(())
}

/// Makes a token; returns it whole (to show once) and as stored.
pub async fn create(
    store: &Store,
    trust: &FleetTrust,
    created_by: &str,
    ttl: Duration,
    uses: Option<u32>,
) -> StoreResult<(String, JoinTokenRow)> {
    let token = trust.new_token();
    let id = yun_core::new_id();
    let row = store
        .create_join_token(&NewJoinToken {
            id: &id,
            secret_hash: &token.secret_hash(),
            created_by,
            expires_at: yun_store::now_ms() + ttl.as_millis() as i64,
            max_uses: uses,
        })
        .await?;
    tracing::info!(
        token = id,
        created_by,
        ttl_s = ttl.as_secs(),
        uses,
        "made a join token"
    );
    Ok((token.reveal(), row))
}
