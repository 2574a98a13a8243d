//! The operator's image policy: which registries renters and operators may pull from, checked
//! before any node is asked, so a pull can never make a node contact this machine or its
//! private networks (nor work as a port scanner) unless the operator listed that registry.

use std::time::Duration;
use yun_core::registry::{entry_admits, host_only, is_internal, registry_host};

/// Why a reference may not be pulled, in words for the renter.
#[derive(Debug, Clone, PartialEq)]
pub struct Refused {
    pub registry: String,
    pub why: String,
}

/// Checks `reference` against `allowed` (empty: any registry on a public address).
pub async fn check(allowed: &[String], reference: &str) -> Result<(), Refused> {
    let registry = registry_host(reference);
    if allowed.iter().any(|e| entry_admits(e, &registry)) {
        return Ok(());
    }
    // `.invalid` never resolves (RFC 2606), so no pull can reach a host through it: such names
    // are for images loaded on the nodes by hand, as `yun dev` loads its demo.
    if host_only(&registry).ends_with(".invalid") {
        return Ok(());
    }
    if !allowed.is_empty() {
        return Err(Refused {
            why: format!(
                "images may be pulled only from {}; ask the operator to allow {registry}",
                allowed.join(", ")
            ),
            registry,
        });
    }
    let host = host_only(&registry).to_string();
    let internal = Refused {
        registry: registry.clone(),
        why: format!(
            "{registry} is on this machine or a private network, which pulls may not reach unless the operator lists it in allowed_registries"
        ),
    };
    if host == "localhost" {
        return Err(internal);
    }
    if let Ok(ip) = host.parse() {
        return if is_internal(ip) {
            Err(internal)
        } else {
            Ok(())
        };
    }
    // A name is judged by where it points now; one that does not resolve is left to the
    // node, whose pull then fails like any unreachable registry.
    let lookup = tokio::net::lookup_host(format!("{host}:443"));
    match tokio::time::timeout(Duration::from_secs(2), lookup).await {
        Ok(Ok(addrs)) => {
            let addrs: Vec<_> = addrs.collect();
            if addrs.iter().any(|a| is_internal(a.ip())) {
                Err(internal)
            } else {
                Ok(())
            }
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn internal_registries_need_listing() {
        let open: Vec<String> = vec![];
        assert!(check(&open, "127.0.0.1:5000/a:1").await.is_err());
        assert!(check(&open, "localhost:5000/a:1").await.is_err());
        assert!(check(&open, "10.0.0.7/a:1").await.is_err());
        assert!(check(&open, "[::1]:5000/a:1").await.is_err());
        assert!(check(&open, "8.8.8.8/a:1").await.is_ok());
        let listed = vec!["127.0.0.1".to_string()];
        assert!(check(&listed, "127.0.0.1:5000/a:1").await.is_ok());
        assert!(check(&listed, "yun.invalid/hello:1").await.is_ok());
        let refused = check(&listed, "nginx:1.27").await.unwrap_err();
        assert_eq!(refused.registry, "docker.io");
        assert!(refused.why.contains("127.0.0.1"), "{}", refused.why);
    }
}
