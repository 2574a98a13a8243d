//! The cluster's identity: its id (it scopes every Docker label) and the CA its fleet trusts.

use super::db::args;
use super::{now_ms, Store, StoreResult};

/// The CA a master was started with is not the one this store's fleet trusts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaMismatch {
    /// The digest the store recorded.
    pub trusted: String,
}

impl Store {
    /// The cluster's id, made on first start; it scopes every Docker label this cluster writes.
    pub async fn cluster_id(&self) -> StoreResult<String> {
        self.write(async |db| {
            let known = db.row("SELECT id FROM cluster LIMIT 1", &[]).await?;
            if let Some(id) = known.and_then(|r| r.first_text()) {
                return Ok(id);
            }
            let id = yun_core::new_id();
            db.execute(
                "INSERT INTO cluster (id, created_at) VALUES (?, ?)",
                args![&id, now_ms()],
            )
            .await?;
            Ok(id)
        })
        .await
    }

    /// The digest of the CA the fleet trusts, once a master recorded one.
    pub async fn trusted_ca(&self) -> StoreResult<Option<String>> {
        self.read(async |db| {
            let row = db.row("SELECT ca_digest FROM cluster LIMIT 1", &[]).await?;
            Ok(row.and_then(|r| r.opt_text("ca_digest")))
        })
        .await
    }

    /// Records `digest` as the fleet's CA when none is recorded; another one recorded is a
    /// mismatch (the cluster row must exist: `cluster_id` first).
    pub async fn trust_ca(&self, digest: &str) -> StoreResult<Result<(), CaMismatch>> {
        self.write(async |db| {
            db.execute(
                "UPDATE cluster SET ca_digest = ? WHERE ca_digest IS NULL",
                args![digest],
            )
            .await?;
            let row = db.row("SELECT ca_digest FROM cluster LIMIT 1", &[]).await?;
            let trusted = row.map(|r| r.text("ca_digest")).unwrap_or_default();
            Ok(if trusted == digest {
                Ok(())
            } else {
                Err(CaMismatch { trusted })
            })
        })
        .await
    }
}
