//! Queues whose consumer takes whatever has gathered (up to a limit) as one batch, so that
//! concurrent requests share one write transaction and one durable commit.

use super::ContainerError;
use std::future::Future;
use std::sync::Arc;
use tokio::sync::{mpsc, Mutex};
use tokio_util::sync::CancellationToken;

/// Jobs taken in one batch at most; more wait for the next.
const BATCH: usize = 64;

pub struct Batches<J> {
    tx: mpsc::Sender<J>,
    rx: Arc<Mutex<mpsc::Receiver<J>>>,
}

impl<J> Clone for Batches<J> {
    fn clone(&self) -> Self {
        Self {
            tx: self.tx.clone(),
            rx: self.rx.clone(),
        }
    }
}

impl<J: Send + 'static> Default for Batches<J> {
    fn default() -> Self {
        let (tx, rx) = mpsc::channel(1024);
        Self {
            tx,
            rx: Arc::new(Mutex::new(rx)),
        }
    }
}

/// What a caller hears when the master stops before its job was taken or answered.
pub fn stopped() -> ContainerError {
    ContainerError::ShuttingDown
}

impl<J: Send + 'static> Batches<J> {
    pub async fn send(&self, job: J) -> Result<(), ContainerError> {
        self.tx.send(job).await.map_err(|_| stopped())
    }

    /// Hands what has gathered in this queue and in `other` (up to a batch of each, waiting
    /// until either has something) to `handle` as one round, one round at a time, until
    /// `shutdown`: placements and the outcomes of earlier creates then share one commit.
    pub fn spawn_with<K, F, Fut>(&self, other: &Batches<K>, shutdown: CancellationToken, handle: F)
    where
        K: Send + 'static,
        F: Fn(Vec<J>, Vec<K>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send,
    {
        let (rx, other_rx) = (self.rx.clone(), other.rx.clone());
        tokio::spawn(async move {
            let mut rx = rx.lock().await;
            let mut other_rx = other_rx.lock().await;
            loop {
                let (mut jobs, mut others) = (Vec::new(), Vec::new());
                tokio::select! {
                    job = rx.recv() => jobs.extend(job),
                    job = other_rx.recv() => others.extend(job),
                    () = shutdown.cancelled() => {
                        // Nothing more is taken: whoever waits, or sends later, hears
                        // `stopped()` instead of waiting for an answer that never comes.
                        close(&mut rx);
                        close(&mut other_rx);
                        return;
                    }
                }
                if jobs.is_empty() && others.is_empty() {
                    return; // every sender is gone
                }
                take_gathered(&mut rx, &mut jobs);
                take_gathered(&mut other_rx, &mut others);
                handle(jobs, others).await;
            }
        });
    }
}

/// Refuses new jobs and drops the waiting ones, so their callers are answered.
fn close<J>(rx: &mut mpsc::Receiver<J>) {
    rx.close();
    while rx.try_recv().is_ok() {}
}

fn take_gathered<J>(rx: &mut mpsc::Receiver<J>, into: &mut Vec<J>) {
    while into.len() < BATCH {
        match rx.try_recv() {
            Ok(job) => into.push(job),
            Err(_) => break,
        }
    }
}
