//! Image pulls shared on this node: identical pulls that overlap become one pull, and every
//! caller sees its progress and its result.

use crate::runtime::{ImageInfo, PullProgress, Runtime, RuntimeError};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{broadcast, mpsc};

#[derive(Debug, Clone)]
pub enum PullUpdate {
    Progress(PullProgress),
    Done(Result<ImageInfo, Arc<RuntimeError>>),
}

/// (reference, always, the most it may weigh).
type Key = (String, bool, u64);

pub struct SharedPulls<R> {
    runtime: Arc<R>,
    running: Mutex<HashMap<Key, broadcast::Sender<PullUpdate>>>,
    started: AtomicU64,
}

impl<R: Runtime> SharedPulls<R> {
    pub fn new(runtime: Arc<R>) -> Self {
        Self {
            runtime,
            running: Mutex::new(HashMap::new()),
            started: AtomicU64::new(0),
        }
    }

    /// How many pulls this node has actually started (joined ones are not counted).
    pub fn started(&self) -> u64 {
        self.started.load(Ordering::Relaxed)
    }

    /// Joins the pull of `reference` under way, or starts it.
    pub fn join(
        self: &Arc<Self>,
        reference: &str,
        always: bool,
        max_bytes: u64,
    ) -> broadcast::Receiver<PullUpdate> {
        let key = (reference.to_string(), always, max_bytes);
        let mut running = self.running.lock().expect("pulls");
        if let Some(tx) = running.get(&key) {
            return tx.subscribe();
        }
        let (tx, rx) = broadcast::channel(256);
        running.insert(key.clone(), tx.clone());
        self.started.fetch_add(1, Ordering::Relaxed);
        let me = self.clone();
        tokio::spawn(async move {
            let (progress_tx, mut progress_rx) = mpsc::channel(64);
            let runtime = me.runtime.clone();
            let (reference, always, max_bytes) = key.clone();
            let pull = tokio::spawn(async move {
                runtime
                    .pull_image(&reference, always, max_bytes, progress_tx)
                    .await
            });
            while let Some(p) = progress_rx.recv().await {
                let _ = tx.send(PullUpdate::Progress(p));
            }
            let result = match pull.await {
                Ok(r) => r.map_err(Arc::new),
                Err(_) => Err(Arc::new(RuntimeError::Unsupported(
                    "a pull task that panicked",
                ))),
            };
            // Removed and answered under the lock: a caller either joined this pull (and hears
            // its result) or comes after and starts a new one.
            let mut running = me.running.lock().expect("pulls");
            running.remove(&key);
            let _ = tx.send(PullUpdate::Done(result));
        });
        rx
    }
}
