//! The events relay: one tailer per master reads new rows of `container_events` (written by
//! triggers with each state change) and fans them out to every subscriber; it runs only while
//! someone listens, and prunes events older than an hour as it goes.

use crate::state::AppState;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::broadcast;
use yun_store::EventRow;

/// How often the tailer looks for new events: the most an event waits before it is sent.
const TAIL: Duration = Duration::from_millis(200);
/// How long events are kept, so a client can resume with `since` after a short absence.
const KEEP: Duration = Duration::from_secs(3600);
const PRUNE_EVERY: Duration = Duration::from_secs(60);
const BATCH: i64 = 500;

#[derive(Clone)]
pub struct EventRelay {
    tx: broadcast::Sender<Arc<EventRow>>,
    tailing: Arc<AtomicBool>,
}

impl Default for EventRelay {
    fn default() -> Self {
        Self {
            tx: broadcast::channel(4096).0,
            tailing: Arc::new(AtomicBool::new(false)),
        }
    }
}

/// A subscriber's view: events after the seq it has seen, from the relay or, when it lagged,
/// read back from the store.
pub struct Subscription {
    rx: broadcast::Receiver<Arc<EventRow>>,
    /// The last seq delivered.
    seen: i64,
    backlog: std::collections::VecDeque<EventRow>,
}

impl EventRelay {
    /// Subscribes from `since` (None: from now). Events already stored after `since` come first.
    pub async fn subscribe(
        &self,
        state: &AppState,
        since: Option<i64>,
    ) -> yun_store::StoreResult<Subscription> {
        // Listen before reading the tail, so nothing falls between the two.
        let rx = self.tx.subscribe();
        self.ensure_tailing(state).await?;
        let (seen, backlog) = match since {
            Some(s) => (s, state.store.events_after(s, BATCH).await?.into()),
            None => (state.store.last_event_seq().await?, Default::default()),
        };
        Ok(Subscription { rx, seen, backlog })
    }

    async fn ensure_tailing(&self, state: &AppState) -> yun_store::StoreResult<()> {
        if self.tailing.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let start = state.store.last_event_seq().await?;
        let relay = self.clone();
        let state = state.clone();
        tokio::spawn(async move { relay.tail(state, start).await });
        Ok(())
    }

    async fn tail(self, state: AppState, mut last: i64) {
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
            match state.store.events_after(last, BATCH).await {
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
                if let Err(e) = state.store.prune_events(before).await {
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
    pub async fn next(&mut self, state: &AppState) -> yun_store::StoreResult<Arc<EventRow>> {
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
                    let rows = state.store.events_after(self.seen, BATCH).await?;
                    self.backlog.extend(rows);
                }
                // The relay lives as long as the master; until then, wait.
                Err(broadcast::error::RecvError::Closed) => tokio::time::sleep(TAIL).await,
            }
        }
    }
}
