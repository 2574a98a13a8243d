//! Desired state vs actual state. Docker events and a periodic pass over every node's inventory
//! put container ids on a queue; `container.rs` reconciles one container at a time under its
//! lock, so there are never two reconciles of one container at once, and every action is
//! idempotent. The pass (`pass.rs`) is the safety net for missed events: it marks the
//! containers of down nodes `lost`, re-attaches them when their node returns, and removes
//! labelled containers that no record owns after the orphan grace.

mod container;
mod pass;
mod reboot;

pub use pass::run_passes;
pub use reboot::start_after_reboot;

use crate::state::AppState;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// A handle to enqueue containers for reconciliation; cheap to clone.
#[derive(Clone)]
pub struct Reconciler {
    tx: mpsc::UnboundedSender<String>,
    queued: Arc<Mutex<HashSet<String>>>,
    /// Containers with an automatic restart scheduled: one per exit.
    restarting: Arc<Mutex<HashSet<String>>>,
    rx: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<String>>>,
}

/// Containers reconciled at once; each one still holds its own lock.
const CONCURRENCY: usize = 8;

impl Default for Reconciler {
    fn default() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Self {
            tx,
            queued: Arc::default(),
            restarting: Arc::default(),
            rx: Arc::new(tokio::sync::Mutex::new(rx)),
        }
    }
}

impl Reconciler {
    /// Queues a container unless it is queued already.
    pub fn enqueue(&self, id: &str) {
        if self.queued.lock().expect("queue").insert(id.to_string()) {
            let _ = self.tx.send(id.to_string());
        }
    }

    /// Claims the one scheduled restart of a container; false when one is scheduled already.
    pub fn claim_restart(&self, id: &str) -> bool {
        self.restarting
            .lock()
            .expect("restarts")
            .insert(id.to_string())
    }

    pub fn release_restart(&self, id: &str) {
        self.restarting.lock().expect("restarts").remove(id);
    }

    /// Queues a container again after `delay` (it was busy).
    pub fn requeue_after(&self, id: String, delay: Duration) {
        let me = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            me.enqueue(&id);
        });
    }

    /// Runs the consumers until `shutdown`.
    pub fn spawn_workers(&self, state: AppState, shutdown: CancellationToken) {
        for _ in 0..CONCURRENCY {
            let (me, state, shutdown) = (self.clone(), state.clone(), shutdown.clone());
            tokio::spawn(async move {
                loop {
                    let next = tokio::select! {
                        next = async { me.rx.lock().await.recv().await } => next,
                        () = shutdown.cancelled() => return,
                    };
                    let Some(id) = next else { return };
                    me.queued.lock().expect("queue").remove(&id);
                    container::reconcile(&state, &id).await;
                }
            });
        }
    }
}
