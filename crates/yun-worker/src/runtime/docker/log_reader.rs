//! Logs are read from the engine on a thread of their own. Docker sends each log line as an HTTP
//! chunk of its own, and hyper hands a response's chunks over one at a time, from the
//! connection's task to the reading task, each waiting for the other. On the worker's threads
//! each hand-off was a wake-up across threads (about 60 µs here: 6,000 lines a second in a debug
//! build); on one thread the two tasks take turns cheaply. The reader gathers the lines the
//! connection has ready into one hand-over to the rest of the worker, so that a wake-up across
//! threads is paid a batch, not a line.

use super::super::{RuntimeError, RuntimeResult};
use bollard::Docker;
use futures::{Stream, StreamExt};
use std::future::Future;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Semaphore};

/// How much of a log may wait for the gRPC stream: a slow master holds the engine back rather
/// than growing the worker's memory. Bounded in bytes (a line is at most 16 KiB) and in
/// hand-overs.
const WAITING_BYTES: usize = 64 * 1024;
const WAITING_SENDS: usize = 64;

/// Hands what was read to the rest of the worker within the waiting budget.
pub(super) struct LineSender<T> {
    tx: mpsc::Sender<(T, u32)>,
    budget: Arc<Semaphore>,
}

impl<T> LineSender<T> {
    /// Sends `item`, which holds `bytes`, once there is room; false when no one reads any more.
    pub(super) async fn send(&self, item: T, bytes: usize) -> bool {
        let bytes = bytes.clamp(1, WAITING_BYTES) as u32;
        let Ok(room) = self.budget.acquire_many(bytes).await else {
            return false;
        };
        room.forget();
        self.tx.send((item, bytes)).await.is_ok()
    }
}

pub(super) struct LogReader {
    /// A client of the engine of its own, made on this thread, so that its connections'
    /// tasks run here.
    docker: Docker,
    thread: tokio::runtime::Handle,
    /// Dropping it ends the thread, and with it every read in progress.
    _stop: oneshot::Sender<()>,
}

impl LogReader {
    /// Starts the thread and connects to the engine at `endpoint` from it.
    pub(super) async fn start(endpoint: &str) -> RuntimeResult<Self> {
        let io = |err| RuntimeError::Docker(bollard::errors::Error::IOError { err });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(io)?;
        let thread = runtime.handle().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("yun-log-reader".into())
            .spawn(move || {
                runtime.block_on(async {
                    let _ = stopped.await;
                })
            })
            .map_err(io)?;
        let endpoint = endpoint.to_string();
        let docker = thread
            .spawn(async move { super::engine::connect(&endpoint).await })
            .await
            .map_err(|e| io(std::io::Error::other(e)))??;
        Ok(Self {
            docker,
            thread,
            _stop: stop,
        })
    }

    /// Runs `read` on the log thread with this reader's client; what it sends arrives on the
    /// returned stream. When the stream is dropped, the read is dropped too, even while it waits
    /// for a line that may never come.
    pub(super) fn read<T, F, Fut>(&self, read: F) -> impl Stream<Item = T> + Send + 'static
    where
        T: Send + 'static,
        F: FnOnce(Docker, LineSender<T>) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let (tx, rx) = mpsc::channel(WAITING_SENDS);
        let budget = Arc::new(Semaphore::new(WAITING_BYTES));
        let closed = tx.clone();
        let sender = LineSender {
            tx,
            budget: budget.clone(),
        };
        let reading = read(self.docker.clone(), sender);
        self.thread.spawn(async move {
            tokio::select! {
                () = reading => {}
                () = closed.closed() => {}
            }
        });
        tokio_stream::wrappers::ReceiverStream::new(rx).map(move |(item, bytes)| {
            budget.add_permits(bytes as usize);
            item
        })
    }
}
