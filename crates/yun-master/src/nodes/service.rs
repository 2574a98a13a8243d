//! `RegistryService`: workers register (getting their old id back by name) and heartbeat.

// tonic's handlers return `Status` by value; boxing it here would only add noise.
#![allow(clippy::result_large_err)]

use super::Registry;
use crate::reconciler::Reconciler;
use crate::state::AppState;
use crate::store::NodeUpsert;
use tonic::{Request, Response, Status, Streaming};
use yun_proto::v1;
use yun_proto::v1::registry_service_server::RegistryService;

pub struct RegistryGrpc {
    pub state: AppState,
}

impl RegistryGrpc {
    fn registry(&self) -> &Registry {
        &self.state.registry
    }

    fn reconciler(&self) -> &Reconciler {
        &self.state.reconciler
    }
}

fn port(n: u32, what: &str) -> Result<u16, Status> {
    u16::try_from(n)
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| Status::invalid_argument(format!("{what} {n} is not a port")))
}

#[tonic::async_trait]
impl RegistryService for RegistryGrpc {
    async fn register(
        &self,
        req: Request<v1::RegisterRequest>,
    ) -> Result<Response<v1::RegisterResponse>, Status> {
        let r = req.into_inner();
        yun_core::validate::container_name(&r.name).map_err(|_| {
            Status::invalid_argument("a worker name is 1-63 letters, digits, '_', '-' or '.'")
        })?;
        let capacity = r.capacity.unwrap_or_default();
        let upsert = NodeUpsert {
            name: r.name,
            advertise: r.advertise,
            public_host: r.public_host,
            port_range: (
                port(r.port_range_start, "port range start")?,
                port(r.port_range_end, "port range end")?,
            ),
            cpu_cores: capacity.cpu_cores,
            memory_bytes: capacity.memory_bytes,
            version: r.version,
            unenforced_limits: r.unenforced_limits,
            allow_unenforced: r.allow_unenforced_limits,
            boot_id: r.boot_id,
        };
        let (node, rebooted) = self.state.store.upsert_node(&upsert).await.map_err(|e| {
            tracing::error!(error = %e, "recording a node failed");
            Status::internal("the master could not record this node")
        })?;
        let node_id = node.id.clone();
        tracing::info!(
            node = node_id,
            name = node.name,
            advertise = node.advertise,
            "node registered"
        );
        if crate::http::origin::shares_console_host(&self.state, &node.public_host) {
            tracing::warn!(
                node = node_id,
                public_host = node.public_host,
                "this node's public host is the console's (--public-url): the console's session is refused there, \
                 and renters' services could read its cookie if it were not; give the console or the node another host name"
            );
        }
        self.registry()
            .register(node)
            .map_err(Status::invalid_argument)?;
        if rebooted {
            tracing::warn!(
                node = node_id,
                "node's host rebooted; starting what should run there"
            );
            tokio::spawn(crate::reconciler::start_after_reboot(
                self.state.clone(),
                node_id.clone(),
            ));
        }
        Ok(Response::new(v1::RegisterResponse {
            node_id,
            cluster_id: self.state.cluster_id.clone(),
            heartbeat_interval_ms: self.registry().heartbeat_interval().as_millis() as u32,
        }))
    }

    async fn heartbeat(
        &self,
        req: Request<v1::HeartbeatRequest>,
    ) -> Result<Response<v1::HeartbeatResponse>, Status> {
        let r = req.into_inner();
        let known = self.registry().heartbeat(&r.node_id, r.container_count);
        Ok(Response::new(v1::HeartbeatResponse {
            known,
            heartbeat_interval_ms: self.registry().heartbeat_interval().as_millis() as u32,
        }))
    }

    /// Docker events are hints: each puts its container on the reconcile queue, and the
    /// reconciler asks the container's own node what is true. So a worker's events can never
    /// change another node's containers.
    async fn report_events(
        &self,
        req: Request<Streaming<v1::ContainerEvent>>,
    ) -> Result<Response<v1::ReportEventsResponse>, Status> {
        let mut stream = req.into_inner();
        while let Some(event) = stream.message().await? {
            if self.registry().get(&event.node_id).is_none() {
                return Err(Status::failed_precondition(
                    "events from an unregistered node; register first",
                ));
            }
            tracing::debug!(
                node = event.node_id,
                container = event.container_id,
                action = event.action,
                "event"
            );
            self.reconciler().enqueue(&event.container_id);
        }
        Ok(Response::new(v1::ReportEventsResponse {}))
    }
}
