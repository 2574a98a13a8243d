//! The events relay: one tailer per master reads new rows of `container_events` (written by
//! triggers with each state change) and fans them out to every subscriber; it runs only while
//! someone listens, and prunes events older than an hour as it goes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::broadcast;
use yun_store::{EventRow, Store};

/// How often the tailer looks for new events: the most an event waits before it is sent.
const TAIL: Duration = Duration::from_millis(200);
/// How long events are kept, so a client can resume with `since` after a short absence.
const KEEP: Duration = Duration::from_secs(3600);
const PRUNE_EVERY: Duration = Duration::from_secs(60);
const BATCH: i64 = 500;

#[derive(Clone)]
pub struct EventRelay {
    store: Store,
    tx: broadcast::Sender<Arc<EventRow>>,
    tailing: Arc<AtomicBool>,
}

/// A subscriber's view: events after the seq it has seen, from the relay or, when it lagged,
/// read back from the store.
pub struct Subscription {
    store: Store,
    rx: broadcast::Receiver<Arc<EventRow>>,
    /// The last seq delivered.
    seen: i64,
    backlog: std::collections::VecDeque<EventRow>,
}

impl EventRelay {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            tx: broadcast::channel(4096).0,
            tailing: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Subscribes from `since` (None: from now). Events already stored after `since` come first.
    pub async fn subscribe(&self, since: Option<i64>) -> yun_store::StoreResult<Subscription> {
        // Listen before reading the tail, so nothing falls between the two.
        let rx = self.tx.subscribe();
        self.ensure_tailing().await?;
        let (seen, backlog) = match since {
            Some(s) => (s, self.store.events_after(s, BATCH).await?.into()),
            None => (self.store.last_event_seq().await?, Default::default()),
        };
        Ok(Subscription {
            store: self.store.clone(),
            rx,
            seen,
            backlog,
        })
    }

    async fn ensure_tailing(&self) -> yun_store::StoreResult<()> {
        if self.tailing.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let start = self.store.last_event_seq().await?;
        let relay = self.clone();
        tokio::spawn(async move { relay.tail(start).await });
        Ok(())
    }

    async fn tail(self, mut last: i64) {
        let mut pruned = Instant::now() - PRUNE_EVERY;
        loop {
            tokio::time::sleep(TAIL).await;
            if self.tx.receiver_count() == 0 {
                self.tailing.store(false, Ordering::SeqCst);
                // A subscriber that came in between the count and the flag restarts it.
                if self.tx.receiver_count() == 0 || self.tailing.swap(true, Ordering::SeqCst) {
                    return;
                }
            }
            match self.store.events_after(last, BATCH).await {
                Ok(rows) => {
                    for row in rows {
                        last = row.seq;
                        let _ = self.tx.send(Arc::new(row));
                    }
                }
                Err(e) => tracing::warn!(error = %e, "reading container events"),
            }
            if pruned.elapsed() >= PRUNE_EVERY {
                pruned = Instant::now();
                let before = yun_store::now_ms() - KEEP.as_millis() as i64;
                if let Err(e) = self.store.prune_events(before).await {
                    tracing::warn!(error = %e, "pruning container events");
                }
            }
        }
    }
}

impl Subscription {
    /// The next event after the last one delivered, waiting for it. Seqs come in order and
    /// without gaps, so a gap means this subscriber missed some (it lagged, or it resumes from
    /// `since`): those are read back from the store first.
    pub async fn next(&mut self) -> yun_store::StoreResult<Arc<EventRow>> {
        loop {
            if let Some(row) = self.backlog.pop_front() {
                if row.seq > self.seen {
                    self.seen = row.seq;
                    return Ok(Arc::new(row));
                }
                continue;
            }
            match self.rx.recv().await {
                Ok(row) if row.seq <= self.seen => {}
                Ok(row) if row.seq == self.seen + 1 => {
                    self.seen = row.seq;
                    return Ok(row);
                }
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {
                    let rows = self.store.events_after(self.seen, BATCH).await?;
                    self.backlog.extend(rows);
                }
                // The relay lives as long as the master; until then, wait.
                Err(broadcast::error::RecvError::Closed) => tokio::time::sleep(TAIL).await,
            }
        }
    }
}
