//! Node leases live in memory: a heartbeat refreshes one and writes nothing to the store.
//! A node is `down` after 2 x interval + 5 s without a heartbeat.

use super::WorkerClient;
use crate::store::NodeRow;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeState {
    /// Registered, but its first heartbeat (sent once it knows its id) has not come yet.
    Joining,
    Ready,
    Down,
}

impl NodeState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Joining => "joining",
            Self::Ready => "ready",
            Self::Down => "down",
        }
    }
}

#[derive(Clone)]
pub struct NodeLease {
    pub node: NodeRow,
    pub client: WorkerClient,
    pub last_heartbeat: Instant,
    pub last_heartbeat_unix_ms: i64,
    pub container_count: u32,
    /// A heartbeat came after the registration, so the worker knows its node id.
    pub confirmed: bool,
}

#[derive(Clone)]
pub struct Registry {
    inner: Arc<RwLock<HashMap<String, NodeLease>>>,
    interval: Duration,
    token: String,
}

impl Registry {
    pub fn new(interval: Duration, token: String) -> Self {
        Self {
            inner: Arc::default(),
            interval,
            token,
        }
    }

    pub fn heartbeat_interval(&self) -> Duration {
        self.interval
    }

    fn lease_ttl(&self) -> Duration {
        self.interval * 2 + Duration::from_secs(5)
    }

    /// Records a registration; the worker's client is made (lazily connected) here.
    pub fn register(&self, node: NodeRow) -> Result<(), String> {
        let client = WorkerClient::new(&node.advertise, &self.token)?;
        let lease = NodeLease {
            node,
            client,
            last_heartbeat: Instant::now(),
            last_heartbeat_unix_ms: crate::store::now_ms(),
            container_count: 0,
            confirmed: false,
        };
        self.inner
            .write()
            .expect("registry lock")
            .insert(lease.node.id.clone(), lease);
        Ok(())
    }

    /// Refreshes a lease; false when the node is unknown (it must register again).
    pub fn heartbeat(&self, node_id: &str, container_count: u32) -> bool {
        let mut map = self.inner.write().expect("registry lock");
        match map.get_mut(node_id) {
            Some(lease) => {
                lease.last_heartbeat = Instant::now();
                lease.last_heartbeat_unix_ms = crate::store::now_ms();
                lease.container_count = container_count;
                lease.confirmed = true;
                true
            }
            None => false,
        }
    }

    pub fn state_of(&self, lease: &NodeLease) -> NodeState {
        if lease.last_heartbeat.elapsed() > self.lease_ttl() {
            NodeState::Down
        } else if !lease.confirmed {
            NodeState::Joining
        } else {
            NodeState::Ready
        }
    }

    pub fn get(&self, node_id: &str) -> Option<NodeLease> {
        self.inner
            .read()
            .expect("registry lock")
            .get(node_id)
            .cloned()
    }

    /// The client of a node that holds a live lease.
    pub fn ready_client(&self, node_id: &str) -> Option<WorkerClient> {
        let lease = self.get(node_id)?;
        (self.state_of(&lease) == NodeState::Ready).then_some(lease.client)
    }

    pub fn snapshot(&self) -> Vec<NodeLease> {
        self.inner
            .read()
            .expect("registry lock")
            .values()
            .cloned()
            .collect()
    }

    pub fn ready_nodes(&self) -> Vec<NodeLease> {
        self.snapshot()
            .into_iter()
            .filter(|l| self.state_of(l) == NodeState::Ready)
            .collect()
    }
}
