//! After a host reboot, containers whose desired state is running are started again. (A restart
//! policy, by contrast, acts only on exits a live worker reports.)

use super::Reconciler;
use crate::containers::observed;
use std::time::Duration;
use yun_core::DesiredState;

/// Waits until the node answers, then starts what should run on it.
pub async fn start_after_reboot(reconciler: Reconciler, node_id: String) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    let client = loop {
        if let Some(c) = reconciler.containers.registry.ready_client(&node_id) {
            break c;
        }
        if tokio::time::Instant::now() > deadline {
            tracing::warn!(node = node_id, "node rebooted but never became ready");
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let Ok(rows) = reconciler
        .containers
        .store
        .containers_on_node(&node_id)
        .await
    else {
        return;
    };
    for row in rows
        .into_iter()
        .filter(|r| r.desired_state == DesiredState::Running)
    {
        let lock = reconciler.containers.locks.get(&row.id);
        let _guard = lock.lock().await;
        match client.start(&row.id).await {
            Ok(s) => {
                let (observed, code) = observed(&s, DesiredState::Running);
                let _ = reconciler
                    .containers
                    .store
                    .set_actual_state(&row.id, observed, code)
                    .await;
                tracing::info!(container = row.id, "started again after a host reboot");
            }
            Err(e) => {
                reconciler.metrics.reconcile_failed("restart");
                tracing::warn!(container = row.id, error = %e, "could not start after reboot")
            }
        }
    }
}
