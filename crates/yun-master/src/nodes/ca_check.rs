//! The store remembers which CA its fleet trusts, so a master started on it with no CA files
//! (a restored backup whose CA was left behind) or with another CA is refused: making a new
//! CA there would leave every worker trusting a master that no longer exists.

use super::{FleetTls, FleetTrust};
use yun_store::Store;

#[derive(Debug, thiserror::Error)]
pub enum CaRefusal {
    #[error(
        "this store's fleet trusts the CA {trusted}, but its files are not at {cert} and {key}: \
         put that CA's ca.crt and ca.key there (`yun master backup` keeps them beside its copy), \
         or give them with --ca-cert and --ca-key. A new CA would not be trusted by any worker"
    )]
    Missing {
        trusted: String,
        cert: String,
        key: String,
    },
    #[error(
        "this store's fleet trusts the CA {trusted}, but {cert} is the CA {found}: give the \
         cluster's own CA files (--ca-cert, --ca-key), or workers would refuse this master"
    )]
    Other {
        trusted: String,
        found: String,
        cert: String,
    },
    #[error("the fleet's certificates: {0}")]
    Trust(#[from] yun_trust::TrustError),
    #[error("reading the fleet's CA from the store: {0}")]
    Store(#[from] yun_store::StoreError),
}

/// Opens the fleet's trust from `tls` after checking it against the CA `store` recorded, and
/// records it when the store has none yet (a new cluster, or one from before the record).
pub async fn open_checked(tls: &FleetTls, store: &Store) -> Result<FleetTrust, CaRefusal> {
    let recorded = store.trusted_ca().await?;
    if let Some(trusted) = &recorded {
        if !tls.ca_cert.exists() && !tls.ca_key.exists() {
            return Err(CaRefusal::Missing {
                trusted: trusted.clone(),
                cert: tls.ca_cert.display().to_string(),
                key: tls.ca_key.display().to_string(),
            });
        }
    }
    let trust = FleetTrust::open(tls)?;
    let found = trust.ca_digest();
    store
        .trust_ca(&found)
        .await?
        .map_err(|m| CaRefusal::Other {
            trusted: m.trusted,
            found,
            cert: tls.ca_cert.display().to_string(),
        })?;
    Ok(trust)
}
