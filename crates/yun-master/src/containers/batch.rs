//! A queue whose consumer takes whatever has gathered (up to a limit) as one batch, so that
//! concurrent requests share one write transaction and one durable commit.

use crate::error::ApiError;
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
pub fn stopped() -> ApiError {
    ApiError::unavailable(
        "shutting_down",
        "the master is stopping; try again in a moment",
    )
}

impl<J: Send + 'static> Batches<J> {
    pub async fn send(&self, job: J) -> Result<(), ApiError> {
        self.tx.send(job).await.map_err(|_| stopped())
    }

    /// Hands each batch to `handle`, one batch at a time, until `shutdown`.
    pub fn spawn<F, Fut>(&self, shutdown: CancellationToken, handle: F)
    where
        F: Fn(Vec<J>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send,
    {
        let rx = self.rx.clone();
        tokio::spawn(async move {
            let mut rx = rx.lock().await;
            loop {
                let first = tokio::select! {
                    job = rx.recv() => job,
                    () = shutdown.cancelled() => return,
                };
                let Some(first) = first else { return };
                let mut batch = vec![first];
                while batch.len() < BATCH {
                    match rx.try_recv() {
                        Ok(job) => batch.push(job),
                        Err(_) => break,
                    }
                }
                handle(batch).await;
            }
        });
    }
}
