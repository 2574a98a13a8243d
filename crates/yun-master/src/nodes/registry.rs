//! Node leases live in memory: a heartbeat refreshes one and writes nothing to the store.
//! The heartbeat interval is max(base, nodes ÷ 250 per second); a node is `down` after
//! 2 × interval + 5 s without a heartbeat.

use super::{FleetTrust, WorkerClient};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use yun_store::NodeRow;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeState {
    /// Registered (or remembered from before a master restart), but no heartbeat has confirmed
    /// it since.
    Joining,
    Ready,
    /// Alive, but takes no new containers.
    Cordoned,
    Down,
}

impl NodeState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Joining => "joining",
            Self::Ready => "ready",
            Self::Cordoned => "cordoned",
            Self::Down => "down",
        }
    }
}

/// One node's lease. Cloned for every placement's snapshot, so the big parts are shared.
#[derive(Clone)]
pub struct NodeLease {
    pub node: Arc<NodeRow>,
    pub client: Arc<WorkerClient>,
    pub last_heartbeat: Instant,
    pub last_heartbeat_unix_ms: i64,
    pub container_count: u32,
    /// A heartbeat came after the registration, so the worker knows its node id.
    pub confirmed: bool,
    /// Remembered from the store at master start: the worker must register again (its address
    /// may have changed), but the node gets a full lease before it counts as down.
    pub remembered: bool,
    /// Where the worker publishes renters' ports, as it said at registration.
    pub publish_address: Option<std::net::IpAddr>,
}

impl NodeLease {
    /// The address the master reaches the worker at, when it is one.
    pub fn advertise_ip(&self) -> Option<std::net::IpAddr> {
        advertise_ip(&self.node.advertise)
    }
}

/// The IP of a `host:port` the worker advertises, when its host is an address.
pub fn advertise_ip(advertise: &str) -> Option<std::net::IpAddr> {
    advertise
        .parse::<std::net::SocketAddr>()
        .map(|a| a.ip())
        .ok()
}

#[derive(Clone)]
pub struct Registry {
    inner: Arc<RwLock<HashMap<String, NodeLease>>>,
    /// Heartbeats taken since start, for operators watching the fleet's chatter (the
    /// metrics' own counter).
    heartbeats: prometheus_client::metrics::counter::Counter,
    base_interval: Duration,
    trust: FleetTrust,
    rpc: crate::metrics::WorkerRpcMetrics,
}

/// Nodes one heartbeat per second of the master's budget covers (DESIGN: nodes ÷ 250 per second).
const HEARTBEATS_PER_SECOND: u32 = 250;

impl Registry {
    /// `metrics` counts the heartbeats and every call the leases' clients make.
    pub fn new(
        base_interval: Duration,
        trust: FleetTrust,
        metrics: &crate::metrics::MasterMetrics,
    ) -> Self {
        Self {
            inner: Arc::default(),
            heartbeats: metrics.heartbeats.clone(),
            base_interval,
            trust,
            rpc: metrics.worker_rpc.clone(),
        }
    }

    pub fn heartbeat_interval(&self) -> Duration {
        let nodes = self.inner.read().expect("registry lock").len() as u32;
        self.base_interval
            .max(Duration::from_secs(1) * nodes / HEARTBEATS_PER_SECOND)
    }

    pub fn lease_ttl(&self) -> Duration {
        self.heartbeat_interval() * 2 + Duration::from_secs(5)
    }

    fn lease(
        &self,
        node: NodeRow,
        remembered: bool,
        publish_address: Option<std::net::IpAddr>,
    ) -> Result<NodeLease, String> {
        Ok(NodeLease {
            client: Arc::new(WorkerClient::new(
                &node.advertise,
                &node.id,
                &self.trust,
                self.rpc.clone(),
            )?),
            node: Arc::new(node),
            last_heartbeat: Instant::now(),
            last_heartbeat_unix_ms: yun_store::now_ms(),
            container_count: 0,
            confirmed: false,
            remembered,
            publish_address,
        })
    }

    /// At master start: every known node gets a fresh lease, so none is taken for down before
    /// it had a fair chance to heartbeat.
    pub fn remember(&self, nodes: Vec<NodeRow>) {
        let mut map = self.inner.write().expect("registry lock");
        for node in nodes {
            match self.lease(node, true, None) {
                Ok(lease) => {
                    map.insert(lease.node.id.clone(), lease);
                }
                Err(e) => tracing::warn!(error = e, "cannot remember a node"),
            }
        }
    }

    /// Records a registration; the worker's client is made (lazily connected) here.
    pub fn register(
        &self,
        node: NodeRow,
        publish_address: Option<std::net::IpAddr>,
    ) -> Result<(), String> {
        let lease = self.lease(node, false, publish_address)?;
        self.inner
            .write()
            .expect("registry lock")
            .insert(lease.node.id.clone(), lease);
        Ok(())
    }

    /// Refreshes a lease; false when the worker must register (again).
    pub fn heartbeat(&self, node_id: &str, container_count: u32) -> bool {
        self.heartbeats.inc();
        let mut map = self.inner.write().expect("registry lock");
        match map.get_mut(node_id) {
            Some(lease) if !lease.remembered => {
                lease.last_heartbeat = Instant::now();
                lease.last_heartbeat_unix_ms = yun_store::now_ms();
                lease.container_count = container_count;
                lease.confirmed = true;
                true
            }
            _ => false,
        }
    }

    /// Drops a forgotten node's lease: nothing is placed on it or asked of it again.
    pub fn forget(&self, node_id: &str) {
        self.inner.write().expect("registry lock").remove(node_id);
    }

    pub fn heartbeats_total(&self) -> u64 {
        self.heartbeats.get()
    }

    pub fn set_cordoned(&self, node_id: &str, cordoned: bool) {
        if let Some(lease) = self.inner.write().expect("registry lock").get_mut(node_id) {
            Arc::make_mut(&mut lease.node).cordoned = cordoned;
        }
    }

    pub fn state_of(&self, lease: &NodeLease) -> NodeState {
        if lease.last_heartbeat.elapsed() > self.lease_ttl() {
            NodeState::Down
        } else if !lease.confirmed {
            NodeState::Joining
        } else if lease.node.cordoned {
            NodeState::Cordoned
        } else {
            NodeState::Ready
        }
    }

    fn is_live(&self, lease: &NodeLease) -> bool {
        matches!(self.state_of(lease), NodeState::Ready | NodeState::Cordoned)
    }

    pub fn get(&self, node_id: &str) -> Option<NodeLease> {
        self.inner
            .read()
            .expect("registry lock")
            .get(node_id)
            .cloned()
    }

    /// The client of a node that holds a live lease (ready or cordoned).
    pub fn ready_client(&self, node_id: &str) -> Option<Arc<WorkerClient>> {
        let lease = self.get(node_id)?;
        self.is_live(&lease).then_some(lease.client)
    }

    /// Whether `host` (lowercased, without a port) is where some node publishes containers:
    /// by name, or by the address it stands for (`localhost` is where a node publishing on
    /// 127.0.0.1 answers).
    pub fn is_public_host(&self, host: &str) -> bool {
        let addresses = crate::request::console_host::addresses_of_name(host).unwrap_or_default();
        self.inner.read().expect("registry lock").values().any(|l| {
            l.node.public_host.eq_ignore_ascii_case(host)
                || l.publish_address.is_some_and(|p| {
                    crate::request::console_host::publishes_at(p, l.advertise_ip(), &addresses)
                })
        })
    }

    pub fn snapshot(&self) -> Vec<NodeLease> {
        self.inner
            .read()
            .expect("registry lock")
            .values()
            .cloned()
            .collect()
    }

    /// Nodes that answer: ready or cordoned.
    pub fn live_nodes(&self) -> Vec<NodeLease> {
        self.snapshot()
            .into_iter()
            .filter(|l| self.is_live(l))
            .collect()
    }

    /// Nodes that take new containers.
    pub fn ready_nodes(&self) -> Vec<NodeLease> {
        self.snapshot()
            .into_iter()
            .filter(|l| self.state_of(l) == NodeState::Ready)
            .collect()
    }
}
