//! Desired state vs actual state. Docker events (sent by the registry service on the channel
//! the reconciler owns: the fleet never calls up into it) and a periodic pass over every node's inventory
//! put container ids on a queue; `container.rs` reconciles one container at a time under its
//! lock, so there are never two reconciles of one container at once, and every action is
//! idempotent. The pass (`pass.rs`) is the safety net for missed events: it marks the
//! containers of down nodes `lost`, re-attaches them when their node returns, and removes
//! labelled containers that no record owns after the orphan grace.

mod container;
mod pass;
mod reboot;

use pass::run_passes;
use reboot::start_after_reboot;

use crate::containers::Containers;
use crate::metrics::MasterMetrics;
use crate::nodes::NodeEvent;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// The reconciler: its queue, and what reconciling needs (the containers' service and the
/// metrics it counts into); cheap to clone.
#[derive(Clone)]
pub struct Reconciler {
    pub containers: Containers,
    pub metrics: Arc<MasterMetrics>,
    queue: Arc<Queue>,
}

struct Queue {
    tx: mpsc::UnboundedSender<String>,
    queued: Mutex<HashSet<String>>,
    /// Containers with an automatic restart scheduled: one per exit.
    restarting: Mutex<HashSet<String>>,
    rx: tokio::sync::Mutex<mpsc::UnboundedReceiver<String>>,
}

/// Containers reconciled at once; each one still holds its own lock.
const CONCURRENCY: usize = 8;

impl Reconciler {
    pub fn new(containers: Containers, metrics: Arc<MasterMetrics>) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Self {
            containers,
            metrics,
            queue: Arc::new(Queue {
                tx,
                queued: Mutex::default(),
                restarting: Mutex::default(),
                rx: tokio::sync::Mutex::new(rx),
            }),
        }
    }

    /// Queues a container unless it is queued already.
    pub fn enqueue(&self, id: &str) {
        let q = &self.queue;
        if q.queued.lock().expect("queue").insert(id.to_string()) {
            let _ = q.tx.send(id.to_string());
        }
    }

    /// Claims the one scheduled restart of a container; false when one is scheduled already.
    pub fn claim_restart(&self, id: &str) -> bool {
        self.queue
            .restarting
            .lock()
            .expect("restarts")
            .insert(id.to_string())
    }

    pub fn release_restart(&self, id: &str) {
        self.queue.restarting.lock().expect("restarts").remove(id);
    }

    /// Queues a container again after `delay` (it was busy).
    pub fn requeue_after(&self, id: String, delay: Duration) {
        let me = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            me.enqueue(&id);
        });
    }

    /// Runs the consumers, the periodic pass and what the fleet reports (`events`, the other
    /// end of the channel the registry service was given) until `shutdown`.
    pub fn spawn(&self, events: mpsc::UnboundedReceiver<NodeEvent>, shutdown: CancellationToken) {
        for _ in 0..CONCURRENCY {
            let (me, shutdown) = (self.clone(), shutdown.clone());
            tokio::spawn(async move {
                loop {
                    let next = tokio::select! {
                        next = async { me.queue.rx.lock().await.recv().await } => next,
                        () = shutdown.cancelled() => return,
                    };
                    let Some(id) = next else { return };
                    me.queue.queued.lock().expect("queue").remove(&id);
                    container::reconcile(&me, &id).await;
                }
            });
        }
        tokio::spawn(run_passes(self.clone(), shutdown.clone()));
        tokio::spawn(self.clone().follow(events, shutdown));
    }

    /// What nodes report: an engine event is a hint to look at a container; a host that
    /// rebooted gets what should run there started again.
    async fn follow(
        self,
        mut events: mpsc::UnboundedReceiver<NodeEvent>,
        shutdown: CancellationToken,
    ) {
        loop {
            let event = tokio::select! {
                e = events.recv() => e,
                () = shutdown.cancelled() => return,
            };
            match event {
                Some(NodeEvent::ContainerChanged { container_id }) => {
                    self.enqueue(&container_id);
                    self.metrics.reconciled("engine_event", 1);
                }
                Some(NodeEvent::Rebooted { node_id }) => {
                    tokio::spawn(start_after_reboot(self.clone(), node_id));
                }
                None => return,
            }
        }
    }
}
