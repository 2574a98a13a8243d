//! Docker's event stream, narrowed to this cluster's and node's containers and to the actions
//! the master acts on.

use super::super::{ContainerEvent, RuntimeError, RuntimeResult};
use super::{DockerRuntime, LABEL_CLUSTER, LABEL_CONTAINER, LABEL_NODE};
use bollard::system::EventsOptions;
use futures::stream::BoxStream;
use futures::StreamExt;
use std::collections::HashMap;

const ACTIONS: [&str; 4] = ["start", "die", "oom", "destroy"];

impl DockerRuntime {
    pub(super) fn event_stream(
        &self,
    ) -> RuntimeResult<BoxStream<'static, RuntimeResult<ContainerEvent>>> {
        let scope = self.scope()?;
        let filters = HashMap::from([
            ("type".to_string(), vec!["container".to_string()]),
            (
                "label".to_string(),
                vec![
                    format!("{LABEL_CLUSTER}={}", scope.cluster_id),
                    format!("{LABEL_NODE}={}", scope.node_id),
                ],
            ),
            (
                "event".to_string(),
                ACTIONS.iter().map(|a| a.to_string()).collect(),
            ),
        ]);
        let options = EventsOptions::<String> {
            filters,
            ..Default::default()
        };
        let stream = self
            .docker
            .events(Some(options))
            .filter_map(|item| async move {
                let msg = match item {
                    Ok(m) => m,
                    Err(e) => return Some(Err(RuntimeError::Docker(e))),
                };
                let attributes = msg.actor.and_then(|a| a.attributes).unwrap_or_default();
                let container_id = attributes.get(LABEL_CONTAINER)?.clone();
                // Docker 20.10 says "exec_die", "health_status: …" and such too; keep the plain ones.
                let action = msg.action?.split(':').next()?.trim().to_string();
                if !ACTIONS.contains(&action.as_str()) {
                    return None;
                }
                Some(Ok(ContainerEvent {
                    container_id,
                    exit_code: attributes
                        .get("exitCode")
                        .and_then(|c| c.parse().ok())
                        .unwrap_or(0),
                    ts_unix_ms: msg.time_nano.map(|n| n / 1_000_000).unwrap_or(0),
                    action,
                }))
            });
        Ok(stream.boxed())
    }
}
