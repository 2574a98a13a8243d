//! The master's calls to workers, seen from the master: how many by method and outcome, and
//! how long they took (for a stream, until it opened). Every `WorkerClient` holds these
//! handles, so a call is counted wherever it is made; each also keeps its own node's figures
//! (`NodeCalls`) for the operator's node list.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MethodLabels {
    /// The worker's RPC (`create`, `stop`, `list`, `logs`, …).
    pub method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CallLabels {
    pub method: String,
    /// `ok`, or what went wrong in the fleet's words (`timeout`, `unreachable`, `refused`, …).
    pub outcome: String,
}

#[derive(Clone, Debug)]
pub struct WorkerRpcMetrics {
    pub calls: Family<CallLabels, Counter>,
    pub duration: Family<MethodLabels, Histogram>,
}

impl Default for WorkerRpcMetrics {
    fn default() -> Self {
        Self {
            calls: Family::default(),
            // A create that pulls may take longer than the last bucket and lands in +Inf.
            duration: Family::new_with_constructor(super::request_seconds as fn() -> Histogram),
        }
    }
}

impl WorkerRpcMetrics {
    /// Counts and times one call that began at `started`.
    pub fn observe(&self, method: &str, started: Instant, outcome: &str) {
        self.calls
            .get_or_create(&CallLabels {
                method: method.into(),
                outcome: outcome.into(),
            })
            .inc();
        self.duration
            .get_or_create(&MethodLabels {
                method: method.into(),
            })
            .observe(started.elapsed().as_secs_f64());
    }
}

/// One node's calls since its lease began.
#[derive(Debug, Default)]
pub struct NodeCalls {
    total: AtomicU64,
    failed: AtomicU64,
    last_failure: Mutex<Option<LastFailure>>,
}

#[derive(Debug, Clone)]
pub struct LastFailure {
    pub method: String,
    pub outcome: &'static str,
    pub at_unix_ms: i64,
}

impl NodeCalls {
    pub fn record(&self, method: &str, outcome: &'static str) {
        self.total.fetch_add(1, Ordering::Relaxed);
        if outcome != "ok" {
            self.failed.fetch_add(1, Ordering::Relaxed);
            *self.last_failure.lock().expect("last failure") = Some(LastFailure {
                method: method.to_string(),
                outcome,
                at_unix_ms: yun_store::now_ms(),
            });
        }
    }

    /// (total, failed, the last failure).
    pub fn read(&self) -> (u64, u64, Option<LastFailure>) {
        (
            self.total.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
            self.last_failure.lock().expect("last failure").clone(),
        )
    }
}
