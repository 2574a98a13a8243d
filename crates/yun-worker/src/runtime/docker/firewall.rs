//! Tenant containers kept off this host's own services. A container reaches the host through
//! its bridge's gateway, and from there every service listening on any of the host's addresses
//! (the worker's RPC port, the master, a database). Rules at the top of the host's INPUT chain
//! refuse new connections from the tenant pool to the host itself, except DNS; replies to
//! connections the host opened still pass. Published ports stay reachable: Docker forwards them
//! to the container (FORWARD), it does not deliver them to the host (INPUT). One set of rules per
//! cluster, tagged with its id, added with its first tenant network on this engine and removed
//! with its last; rules are the kernel's, so they outlive a worker restart.

use super::super::{RuntimeError, RuntimeResult, Scope};
use super::{DockerRuntime, HostShield, LABEL_CLUSTER};
use bollard::network::ListNetworksOptions;
use std::collections::HashMap;
use tokio::process::Command;

/// The rules for one cluster, in the order they must match (the first is the top of INPUT).
fn rules(pool: &str, cluster: &str) -> Vec<Vec<String>> {
    let tag = format!("yun:{cluster}");
    let base = |extra: &[&str]| -> Vec<String> {
        ["-s", pool, "-m", "comment", "--comment", &tag]
            .iter()
            .chain(extra)
            .map(|s| s.to_string())
            .collect()
    };
    vec![
        base(&[
            "-m",
            "conntrack",
            "--ctstate",
            "ESTABLISHED,RELATED",
            "-j",
            "ACCEPT",
        ]),
        // Name resolution may be answered by a resolver on the host itself.
        base(&["-p", "udp", "--dport", "53", "-j", "ACCEPT"]),
        base(&["-p", "tcp", "--dport", "53", "-j", "ACCEPT"]),
        base(&["-j", "REJECT"]),
    ]
}

/// Runs `iptables -w OP… RULE…` (`-C INPUT`, `-I INPUT 1`, `-D INPUT`); answers whether it
/// succeeded (for `-C`, whether the rule is there).
async fn iptables(op: &[&str], rule: &[String]) -> Result<bool, String> {
    let out = Command::new("iptables")
        .arg("-w")
        .args(op)
        .args(rule)
        .output()
        .await
        .map_err(|e| {
            format!("cannot run iptables ({e}); is it installed, and does the worker run as root?")
        })?;
    Ok(out.status.success())
}

impl DockerRuntime {
    /// Makes sure this cluster's rules are in place (checked once per process, and again after
    /// they were removed).
    pub(super) async fn shield_host(&self, scope: &Scope) -> RuntimeResult<()> {
        if self.options.shield_host == HostShield::Off {
            return Ok(());
        }
        let _guard = self.firewall.lock().await;
        if self.shielded.load(std::sync::atomic::Ordering::Acquire) {
            return Ok(());
        }
        match self.install_rules(scope).await {
            Err(e) if self.options.shield_host == HostShield::BestEffort => {
                // Said once; the platform runs on, without the protection.
                tracing::warn!(error = %e, "tenant containers can reach this host's services");
                self.shielded
                    .store(true, std::sync::atomic::Ordering::Release);
                Ok(())
            }
            done => done,
        }
    }

    async fn install_rules(&self, scope: &Scope) -> RuntimeResult<()> {
        let pool = self.options.tenant_subnets.to_string();
        let wanted = rules(&pool, &scope.cluster_id);
        let refuse = |why: String| {
            RuntimeError::HostShield(format!(
                "cannot keep tenant containers off this host's services: {why}"
            ))
        };
        let mut present = true;
        for rule in &wanted {
            present &= iptables(&["-C", "INPUT"], rule).await.map_err(refuse)?;
        }
        if !present {
            // Partly there (an interrupted insert): start clean, then insert bottom-up so the
            // first rule ends at the top.
            self.remove_rules(&pool, &scope.cluster_id).await;
            for rule in wanted.iter().rev() {
                if !iptables(&["-I", "INPUT", "1"], rule)
                    .await
                    .map_err(refuse)?
                {
                    return Err(refuse(format!(
                        "iptables refused -I INPUT 1 {}",
                        rule.join(" ")
                    )));
                }
            }
            tracing::info!(
                pool,
                "tenant containers are kept off this host's own addresses"
            );
        }
        self.shielded
            .store(true, std::sync::atomic::Ordering::Release);
        Ok(())
    }

    /// Removes the rules once no tenant network of this cluster is left on this engine.
    pub(super) async fn unshield_host_if_unused(&self, scope: &Scope) {
        if self.options.shield_host == HostShield::Off {
            return;
        }
        let _guard = self.firewall.lock().await;
        let filters = HashMap::from([(
            "label".to_string(),
            vec![format!("{LABEL_CLUSTER}={}", scope.cluster_id)],
        )]);
        match self
            .docker
            .list_networks(Some(ListNetworksOptions { filters }))
            .await
        {
            Ok(left) if left.is_empty() => {}
            Ok(_) => return,
            Err(e) => {
                tracing::warn!(error = %e, "could not list networks; the host's rules stay");
                return;
            }
        }
        self.remove_rules(&self.options.tenant_subnets.to_string(), &scope.cluster_id)
            .await;
        self.shielded
            .store(false, std::sync::atomic::Ordering::Release);
    }

    async fn remove_rules(&self, pool: &str, cluster: &str) {
        for rule in rules(pool, cluster) {
            // Each may be there more than once after an interruption; none is an error.
            while matches!(iptables(&["-D", "INPUT"], &rule).await, Ok(true)) {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_and_names_pass_before_the_refusal() {
        let r = rules("10.210.0.0/16", "c1");
        assert_eq!(r.len(), 4);
        assert!(r[0].join(" ").contains("ESTABLISHED,RELATED -j ACCEPT"));
        assert!(r[3].ends_with(&["-j".to_string(), "REJECT".to_string()]));
        for rule in &r {
            assert_eq!(
                &rule[..6],
                [
                    "-s",
                    "10.210.0.0/16",
                    "-m",
                    "comment",
                    "--comment",
                    "yun:c1"
                ]
            );
        }
    }
}
