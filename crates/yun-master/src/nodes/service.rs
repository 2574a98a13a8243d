//! `RegistryService`: workers join (a token and a certificate request buy a node
//! certificate), renew, register under the node their certificate names, and heartbeat. Every
//! call but `Join` is checked against the caller's certificate.

// tonic's handlers return `Status` by value; boxing it here would only add noise.
#![allow(clippy::result_large_err)]

use super::{FleetTrust, NodeEvent, Registry};
use crate::request::ConsoleHost;
use std::sync::Arc;
use tokio::sync::mpsc;
use tonic::{Request, Response, Status, Streaming};
use yun_proto::v1;
use yun_proto::v1::registry_service_server::RegistryService;
use yun_store::{JoinRefusal, Joining, NodeUpsert};
use yun_trust::JoinToken;

/// What the registry service needs: the store, the fleet's leases and trust, the console's
/// host (to warn a node that shares it), and where to report what nodes tell (the reconciler
/// owns the other end).
pub struct RegistryGrpc {
    pub store: yun_store::Store,
    pub registry: Registry,
    pub trust: FleetTrust,
    pub console: Arc<ConsoleHost>,
    pub cluster_id: String,
    /// Registries workers may pull from, told at registration.
    pub allowed_registries: Vec<String>,
    pub events: mpsc::UnboundedSender<NodeEvent>,
}

impl RegistryGrpc {
    fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Hands what a node told to the reconciler; it is gone only when the master stops.
    fn report(&self, event: NodeEvent) {
        let _ = self.events.send(event);
    }
}

fn internal(what: &'static str) -> impl Fn(yun_store::StoreError) -> Status {
    move |e| {
        tracing::error!(error = %e, "{what} failed");
        Status::internal(format!("the master could not finish {what}; try again"))
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
    async fn join(
        &self,
        req: Request<v1::JoinRequest>,
    ) -> Result<Response<v1::JoinResponse>, Status> {
        let trust = &self.trust;
        // A certificate is not needed here; one that is shown must be a node's, unrevoked.
        let caller = match yun_trust::peer_of(&req) {
            Some(_) => trust.node_caller(&req)?,
            None => None,
        };
        let r = req.into_inner();
        valid_name(&r.name)?;
        let token =
            JoinToken::parse(&r.token).map_err(|e| Status::invalid_argument(e.to_string()))?;
        if token.ca_digest != trust.ca_digest() {
            return Err(Status::permission_denied(
                "this join token names another cluster's CA: ask this cluster's operator for a token",
            ));
        }
        let store = &self.store;
        let holder = store
            .node_id_named(&r.name)
            .await
            .map_err(internal("a join"))?;
        // The certificate names the node before the store has said yes; a refusal drops it.
        let node_id = match (&holder, &caller) {
            (Some(held), Some(me)) if held == me => held.clone(),
            _ => yun_core::new_id(),
        };
        let issued = trust
            .sign_node(&r.csr, &node_id)
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        let joined = store
            .join(&Joining {
                secret_hash: &token.secret_hash(),
                name: &r.name,
                new_node_id: &node_id,
                caller_node: caller.as_deref(),
                serial: &issued.serial,
                not_after_ms: unix_ms(issued.not_after),
            })
            .await
            .map_err(internal("a join"))?;
        match joined {
            Ok(id) if id == node_id => {}
            Ok(_) => {
                return Err(Status::aborted(
                    "the node's name changed hands meanwhile; join again",
                ))
            }
            Err(refusal @ JoinRefusal::NameTaken(_)) => {
                tracing::warn!(name = r.name, "a join under a taken node name was refused");
                return Err(Status::already_exists(refusal.to_string()));
            }
            Err(refusal) => {
                tracing::info!(name = r.name, reason = ?refusal, "a join was refused");
                return Err(Status::permission_denied(refusal.to_string()));
            }
        }
        tracing::info!(
            node = node_id,
            name = r.name,
            serial = issued.serial,
            "a worker joined"
        );
        Ok(Response::new(v1::JoinResponse {
            node_id,
            certificate: issued.der,
            ca_certificate: trust.ca_der().to_vec(),
        }))
    }

    async fn renew(
        &self,
        req: Request<v1::RenewRequest>,
    ) -> Result<Response<v1::RenewResponse>, Status> {
        let trust = &self.trust;
        let Some(node_id) = trust.node_caller(&req)? else {
            return Err(Status::failed_precondition(
                "a plaintext fleet (--insecure-plaintext) has no certificates to renew",
            ));
        };
        let r = req.into_inner();
        let issued = trust
            .sign_node(&r.csr, &node_id)
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        self.store
            .record_certificate(&issued.serial, &node_id, unix_ms(issued.not_after))
            .await
            .map_err(internal("a renewal"))?;
        tracing::info!(
            node = node_id,
            serial = issued.serial,
            "renewed a node's certificate"
        );
        Ok(Response::new(v1::RenewResponse {
            certificate: issued.der,
            ca_certificate: trust.ca_der().to_vec(),
        }))
    }

    async fn register(
        &self,
        req: Request<v1::RegisterRequest>,
    ) -> Result<Response<v1::RegisterResponse>, Status> {
        let caller = self.trust.node_caller(&req)?;
        let r = req.into_inner();
        valid_name(&r.name)?;
        let store = &self.store;
        let id = match caller {
            Some(id) => {
                let name = store.node_name(&id).await.map_err(internal("a registration"))?;
                if name.as_deref() != Some(r.name.as_str()) {
                    return Err(Status::permission_denied(format!(
                        "this worker's certificate is for node {:?}, not {:?}: start it with that --name, or give it another --state-dir and a join token",
                        name.unwrap_or_default(),
                        r.name
                    )));
                }
                id
            }
            None => store
                .node_id_named(&r.name)
                .await
                .map_err(internal("a registration"))?
                .ok_or_else(|| {
                    Status::failed_precondition(format!(
                        "node {:?} has not joined: start the worker with a join token (`yun master join-token`)",
                        r.name
                    ))
                })?,
        };
        // A worker of an older build says nothing: it is checked by name only.
        let publish = match r.publish_address.as_str() {
            "" => None,
            a => Some(a.parse::<std::net::IpAddr>().map_err(|_| {
                Status::invalid_argument(format!("publish address {a:?} is not an IP address"))
            })?),
        };
        if let Some(p) = publish {
            if self
                .console
                .shared_by(p, super::registry::advertise_ip(&r.advertise))
            {
                let console = self.console.name.as_deref().unwrap_or("the console's host");
                tracing::error!(
                    name = r.name,
                    publish_address = %p,
                    console,
                    "refused a node that would publish renters' ports where the console is served"
                );
                return Err(Status::failed_precondition(format!(
                    "node {:?} would publish renters' ports on {p}, where the console ({console}) is served: a renter's \
                     service there would receive the console's session cookies. Start the worker with --publish-address \
                     and --public-host of another address (yun dev uses 127.0.0.2), or give the master a --public-url on another host",
                    r.name
                )));
            }
        }
        let capacity = r.capacity.unwrap_or_default();
        let upsert = NodeUpsert {
            id,
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
        let (node, rebooted) = self.store.upsert_node(&upsert).await.map_err(|e| {
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
        if self.console.is_named(&node.public_host) {
            tracing::warn!(
                node = node_id,
                public_host = node.public_host,
                "this node's public host is the console's (--public-url): the console's session is refused there, \
                 and renters' services could read its cookie if it were not; give the console or the node another host name"
            );
        }
        self.registry()
            .register(node, publish)
            .map_err(Status::invalid_argument)?;
        if rebooted {
            tracing::warn!(
                node = node_id,
                "node's host rebooted; starting what should run there"
            );
            self.report(NodeEvent::Rebooted {
                node_id: node_id.clone(),
            });
        }
        Ok(Response::new(v1::RegisterResponse {
            node_id,
            cluster_id: self.cluster_id.clone(),
            heartbeat_interval_ms: self.registry().heartbeat_interval().as_millis() as u32,
            allowed_registries: self.allowed_registries.clone(),
        }))
    }

    async fn heartbeat(
        &self,
        req: Request<v1::HeartbeatRequest>,
    ) -> Result<Response<v1::HeartbeatResponse>, Status> {
        let caller = self.trust.node_caller(&req)?;
        let r = req.into_inner();
        speaks_for(&caller, &r.node_id)?;
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
        let caller = self.trust.node_caller(&req)?;
        let mut stream = req.into_inner();
        while let Some(event) = stream.message().await? {
            speaks_for(&caller, &event.node_id)?;
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
            self.report(NodeEvent::ContainerChanged {
                container_id: event.container_id,
            });
        }
        Ok(Response::new(v1::ReportEventsResponse {}))
    }
}

fn valid_name(name: &str) -> Result<(), Status> {
    yun_core::validate::container_name(name).map_err(|_| {
        Status::invalid_argument("a worker name is 1-63 letters, digits, '_', '-' or '.'")
    })
}

/// A node's certificate speaks only for that node.
fn speaks_for(caller: &super::Caller, node_id: &str) -> Result<(), Status> {
    match caller {
        Some(me) if me != node_id => Err(Status::permission_denied(format!(
            "this certificate is node {me}'s; it cannot speak for node {node_id}"
        ))),
        _ => Ok(()),
    }
}

fn unix_ms(t: std::time::SystemTime) -> i64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
