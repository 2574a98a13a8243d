//! Registration and heartbeats: the worker's side of the registry that ZooKeeper was in the
//! original. It registers until the master accepts it, then heartbeats; when the master has
//! forgotten it (a restarted master), it registers again under the same name and gets its id back.

use crate::membership::{why, MasterLink};
use crate::runtime::{Runtime, Scope};
use futures::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use yun_proto::v1;
use yun_proto::v1::registry_service_client::RegistryServiceClient;

#[derive(Debug, Clone)]
pub struct Identity {
    pub name: String,
    pub advertise: String,
    pub public_host: String,
    pub publish_address: std::net::IpAddr,
    pub port_range: (u16, u16),
    pub allow_unenforced_limits: bool,
    pub boot_id: String,
}

type Client = RegistryServiceClient<tonic::transport::Channel>;

/// A client of the master's registry. Unary calls get a deadline; the event stream must not,
/// as it stays open for as long as the worker runs.
fn client(link: &MasterLink, deadline: Option<Duration>) -> Result<Client, String> {
    Ok(RegistryServiceClient::new(link.channel(deadline)?))
}

async fn register<R: Runtime>(
    client: &mut Client,
    runtime: &R,
    id: &Identity,
) -> Result<(Scope, Duration), String> {
    let info = runtime.info().await.map_err(|e| e.to_string())?;
    let resp = client
        .register(v1::RegisterRequest {
            name: id.name.clone(),
            advertise: id.advertise.clone(),
            capacity: Some(v1::Capacity {
                cpu_cores: info.cpu_cores,
                memory_bytes: info.memory_bytes,
            }),
            version: env!("CARGO_PKG_VERSION").to_string(),
            public_host: id.public_host.clone(),
            port_range_start: id.port_range.0.into(),
            port_range_end: id.port_range.1.into(),
            unenforced_limits: info.unenforced_limits,
            allow_unenforced_limits: id.allow_unenforced_limits,
            boot_id: id.boot_id.clone(),
            publish_address: id.publish_address.to_string(),
        })
        .await
        .map_err(|s| why(&s))?
        .into_inner();
    let scope = Scope {
        cluster_id: resp.cluster_id,
        node_id: resp.node_id,
        allowed_registries: resp.allowed_registries,
    };
    Ok((scope, interval(resp.heartbeat_interval_ms)))
}

/// The kernel's id for this boot; it changes when the host reboots.
pub fn host_boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// Streams this node's container events to the master until the stream breaks, then again.
async fn forward_events<R: Runtime>(
    runtime: Arc<R>,
    mut client: Client,
    node_id: String,
    metrics: Arc<crate::metrics::WorkerMetrics>,
) {
    let mut first = true;
    loop {
        if !std::mem::take(&mut first) {
            metrics.event_reconnects.inc();
        }
        match runtime.events() {
            Ok(mut events) => {
                let (tx, rx) = tokio::sync::mpsc::channel(256);
                let node = node_id.clone();
                let read = async move {
                    while let Some(item) = events.next().await {
                        let e = match item {
                            Ok(e) => e,
                            Err(err) => {
                                tracing::warn!(error = %err, "the engine's event stream broke");
                                return;
                            }
                        };
                        let msg = v1::ContainerEvent {
                            node_id: node.clone(),
                            container_id: e.container_id,
                            action: e.action,
                            exit_code: e.exit_code,
                            ts_unix_ms: e.ts_unix_ms,
                        };
                        if tx.send(msg).await.is_err() {
                            return;
                        }
                    }
                };
                // Whichever side ends first ends this round: the engine's stream or the master's.
                tokio::select! {
                    () = read => {}
                    r = client.report_events(ReceiverStream::new(rx)) => {
                        if let Err(s) = r {
                            tracing::warn!(error = why(&s), "event stream to the master ended");
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot watch the engine's events"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

fn interval(ms: u32) -> Duration {
    Duration::from_millis(u64::from(ms.max(100)))
}

/// How many of this cluster's containers run here, for the node list to compare with the store.
async fn container_count<R: Runtime>(runtime: &R) -> u32 {
    runtime
        .list_containers(false)
        .await
        .map_or(0, |list| list.len() as u32)
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

pub async fn run<R: Runtime>(
    runtime: Arc<R>,
    id: Identity,
    link: MasterLink,
    metrics: Arc<crate::metrics::WorkerMetrics>,
    shutdown: CancellationToken,
) {
    let master = link.uri.clone();
    let clients = client(&link, Some(Duration::from_secs(10)))
        .and_then(|unary| Ok((unary, client(&link, None)?)));
    let (mut client, events_client) = match clients {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = e, "worker cannot talk to the master");
            return;
        }
    };
    let mut backoff = Duration::from_millis(200);
    loop {
        let (scope, mut every) = loop {
            match register(&mut client, runtime.as_ref(), &id).await {
                Ok(ok) => break ok,
                Err(e) => {
                    tracing::warn!(master, error = e, "registration failed; retrying");
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {}
                        () = shutdown.cancelled() => return,
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        };
        backoff = Duration::from_millis(200);
        tracing::info!(
            node = scope.node_id,
            name = id.name,
            "registered with the master"
        );
        let node_id = scope.node_id.clone();
        runtime.set_scope(scope);
        let events = tokio::spawn(forward_events(
            runtime.clone(),
            events_client.clone(),
            node_id.clone(),
            metrics.clone(),
        ));
        // Stops forwarding when this registration ends (or the worker stops).
        let _events = AbortOnDrop(events);
        // Heartbeat at once (the master takes the node as ready only then, when we know our
        // id), then every interval, until the master says it does not know us any more.
        let mut first = true;
        loop {
            if !first {
                tokio::select! {
                    () = tokio::time::sleep(every) => {}
                    () = shutdown.cancelled() => return,
                }
            }
            first = false;
            let count = container_count(runtime.as_ref()).await;
            let beat = client
                .heartbeat(v1::HeartbeatRequest {
                    node_id: node_id.clone(),
                    container_count: count,
                })
                .await;
            match beat {
                Ok(resp) => {
                    let resp = resp.into_inner();
                    if !resp.known {
                        tracing::info!("the master does not know this node; registering again");
                        break;
                    }
                    every = interval(resp.heartbeat_interval_ms);
                }
                Err(s) => tracing::warn!(error = why(&s), "heartbeat failed"),
            }
        }
    }
}
