//! What the store's writer costs, in terms any engine has: how long a write waited for the
//! writer (the queue), and how long its transaction held it, from `BEGIN` to `COMMIT` or
//! rollback. The metrics register these same handles (`Store::timings`).

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use std::sync::Arc;
use std::time::Instant;

#[derive(Clone, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelSet)]
pub struct OutcomeLabels {
    /// `commit` or `rollback`.
    pub outcome: String,
}

#[derive(Clone, Debug)]
pub struct StoreTimings {
    pub writer_wait: Histogram,
    pub transaction: Histogram,
    pub transactions: Family<OutcomeLabels, Counter>,
    /// The family's two counters, looked up once rather than at every transaction.
    commits: Counter,
    rollbacks: Counter,
}

impl Default for StoreTimings {
    fn default() -> Self {
        // 0.1 ms to about 3 s: a healthy commit is a few milliseconds (one fsync).
        let buckets = || Histogram::new(exponential_buckets(0.0001, 2.0, 16));
        let transactions = Family::<OutcomeLabels, Counter>::default();
        let outcome = |o: &str| {
            transactions
                .get_or_create(&OutcomeLabels { outcome: o.into() })
                .clone()
        };
        let (commits, rollbacks) = (outcome("commit"), outcome("rollback"));
        Self {
            writer_wait: buckets(),
            transaction: buckets(),
            transactions,
            commits,
            rollbacks,
        }
    }
}

impl StoreTimings {
    /// Starts timing a transaction that got the writer now, `queued_at` being when it asked.
    pub(crate) fn held(self: &Arc<Self>, queued_at: Instant) -> Held {
        self.writer_wait.observe(queued_at.elapsed().as_secs_f64());
        Held {
            timings: self.clone(),
            started: Instant::now(),
            committed: false,
        }
    }
}

/// Records the transaction's time and outcome when it ends, however it ends.
pub(crate) struct Held {
    timings: Arc<StoreTimings>,
    started: Instant,
    committed: bool,
}

impl Held {
    pub(crate) fn committed(&mut self) {
        self.committed = true;
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.timings
            .transaction
            .observe(self.started.elapsed().as_secs_f64());
        let outcome = if self.committed {
            &self.timings.commits
        } else {
            &self.timings.rollbacks
        };
        outcome.inc();
    }
}
