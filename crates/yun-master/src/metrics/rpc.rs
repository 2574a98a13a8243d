//! The master's calls to workers, seen from the master: how many by method and outcome, and
//! how long they took (for a stream, until it opened). Every `WorkerClient` holds these
//! handles, so a call is counted wherever it is made.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
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

fn call_seconds() -> Histogram {
    // 1 ms to about 16 s; a create that pulls may take longer and lands in +Inf.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

impl Default for WorkerRpcMetrics {
    fn default() -> Self {
        Self {
            calls: Family::default(),
            duration: Family::new_with_constructor(call_seconds as fn() -> Histogram),
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
