//! Each owner's own bridge network on this node, with a subnet cut from the tenant pool
//! (Docker's default pools hold only about 31 bridges).

use super::super::{RuntimeError, RuntimeResult, Scope};
use super::{is_not_found, DockerRuntime, LABEL_CLUSTER, LABEL_NODE, LABEL_OWNER};
use bollard::models::{Ipam, IpamConfig};
use bollard::network::{CreateNetworkOptions, ListNetworksOptions};
use ipnet::Ipv4Net;
use std::collections::HashMap;

/// The name of a new network: the node's id in it, so several workers of one cluster on one
/// engine each keep their own (a shared name let one node remove the network another node's
/// create was about to join).
pub fn tenant_network_name(scope: &Scope, owner: &str) -> String {
    format!("yun-{}-{}-{}", scope.cluster_id, scope.node_id, owner)
}

/// Docker's filter for the objects one owner has on this node: `label=` cluster, node, owner.
pub(super) fn owner_labels(scope: &Scope, owner: &str) -> HashMap<String, Vec<String>> {
    HashMap::from([(
        "label".to_string(),
        vec![
            format!("{LABEL_CLUSTER}={}", scope.cluster_id),
            format!("{LABEL_NODE}={}", scope.node_id),
            format!("{LABEL_OWNER}={owner}"),
        ],
    )])
}

impl DockerRuntime {
    /// Returns the owner's network name, creating it when missing, with the host's rules in
    /// place before any container joins it. Callers hold the owner lock.
    pub(super) async fn ensure_tenant_network(
        &self,
        scope: &Scope,
        owner: &str,
    ) -> RuntimeResult<String> {
        let name = self.make_tenant_network(scope, owner).await?;
        // After the network exists: a removal of the cluster's last other network either sees
        // this one and keeps the rules, or took them away first and this puts them back.
        self.shield_host(scope).await?;
        Ok(name)
    }

    /// The owner's network on this node, found by its labels (a network made by an earlier
    /// build has another name).
    async fn find_tenant_network(
        &self,
        scope: &Scope,
        owner: &str,
    ) -> RuntimeResult<Option<String>> {
        let found = self
            .docker
            .list_networks(Some(ListNetworksOptions {
                filters: owner_labels(scope, owner),
            }))
            .await?;
        Ok(found.into_iter().find_map(|n| n.name))
    }

    async fn make_tenant_network(&self, scope: &Scope, owner: &str) -> RuntimeResult<String> {
        let name = tenant_network_name(scope, owner);
        let lock = self.network_locks.get(owner);
        let _guard = lock.lock().await;
        if let Some(existing) = self.find_tenant_network(scope, owner).await? {
            return Ok(existing);
        }
        // Another worker on this engine may take a subnet between our listing and our create,
        // or the engine may still hold one it has not finished releasing; Docker then refuses
        // the overlap and we try the next free one.
        let mut refused = Vec::new();
        for _ in 0..16 {
            let subnet = self.free_subnet(&refused).await?;
            let options = CreateNetworkOptions {
                name: name.clone(),
                driver: "bridge".to_string(),
                check_duplicate: true,
                ipam: Ipam {
                    config: Some(vec![IpamConfig {
                        subnet: Some(subnet.to_string()),
                        ..Default::default()
                    }]),
                    ..Default::default()
                },
                labels: HashMap::from([
                    (LABEL_CLUSTER.to_string(), scope.cluster_id.clone()),
                    (LABEL_NODE.to_string(), scope.node_id.clone()),
                    (LABEL_OWNER.to_string(), owner.to_string()),
                ]),
                ..Default::default()
            };
            match self.docker.create_network(options).await {
                Ok(_) => return Ok(name),
                Err(e) => {
                    let msg = e.to_string();
                    if msg.contains("already exists") {
                        return Ok(name);
                    }
                    if !msg.contains("overlap") {
                        return Err(e.into());
                    }
                    tracing::debug!(%subnet, error = msg, "subnet refused; trying the next");
                    refused.push(subnet);
                }
            }
        }
        Err(RuntimeError::SubnetsExhausted(
            self.options.tenant_subnets.to_string(),
        ))
    }

    /// The first subnet of the pool (of the configured size) that no network on this engine
    /// uses, skipping `refused`.
    async fn free_subnet(&self, refused: &[Ipv4Net]) -> RuntimeResult<Ipv4Net> {
        let networks = self
            .docker
            .list_networks(None::<ListNetworksOptions<String>>)
            .await?;
        let used: Vec<Ipv4Net> = networks
            .iter()
            .filter_map(|n| n.ipam.as_ref()?.config.as_ref())
            .flatten()
            .filter_map(|c| c.subnet.as_ref()?.parse::<Ipv4Net>().ok())
            .collect();
        let pool = self.options.tenant_subnets;
        let candidates = pool
            .subnets(self.options.tenant_prefix_len.max(pool.prefix_len()))
            .map_err(|_| RuntimeError::SubnetsExhausted(pool.to_string()))?;
        candidates
            .into_iter()
            .filter(|c| !refused.contains(c))
            .find(|c| {
                !used
                    .iter()
                    .any(|u| u.contains(&c.network()) || c.contains(&u.network()))
            })
            .ok_or_else(|| RuntimeError::SubnetsExhausted(pool.to_string()))
    }

    /// Removes the owner's network once their last container on this node is gone.
    /// Callers hold the owner lock.
    pub(super) async fn remove_tenant_network_if_unused(&self, scope: &Scope, owner: &str) {
        match self.owner_has_containers(scope, owner).await {
            Ok(false) => {}
            Ok(true) => return,
            Err(e) => {
                tracing::warn!(error = %e, "could not list containers before removing a network");
                return;
            }
        }
        let name = match self.find_tenant_network(scope, owner).await {
            Ok(Some(name)) => name,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "could not find a tenant network to remove");
                return;
            }
        };
        match self.docker.remove_network(&name).await {
            Ok(()) => self.unshield_host_if_unused(scope).await,
            // Another worker of this cluster on the same engine may still have endpoints on it.
            Err(e) if !is_not_found(&e) => {
                tracing::debug!(network = name, error = %e, "tenant network kept");
            }
            Err(_) => {}
        }
    }
}
