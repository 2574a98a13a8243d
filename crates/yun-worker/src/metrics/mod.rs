//! A worker's metrics, in a registry of its own: Docker operations (latency and errors by
//! operation), pulls, live-stats samplers, reconnects of the event stream to the master, and
//! per-container series under cAdvisor's own names (`containers.rs`), read from the same
//! cgroup files as the live stats. Served on `--metrics ADDR` (`endpoint.rs`).

mod containers;
mod endpoint;

pub use endpoint::serve;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Registry, Unit};
use std::sync::Arc;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OpLabels {
    /// `create`, `start`, `stop`, `restart`, `remove`, `inspect`, `list`, `remove_image`.
    pub op: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OpOutcome {
    pub op: String,
    /// `ok` or `error`.
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PullOutcome {
    /// `pulled`, `present` (already on the host) or `error`.
    pub outcome: String,
}

fn op_seconds() -> Histogram {
    // 1 ms to about 16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

fn read_seconds() -> Histogram {
    // 10 µs to about 0.3 s: a cgroup read is tens of microseconds, the stats API a second.
    Histogram::new(exponential_buckets(0.00001, 2.0, 15))
}

pub struct WorkerMetrics {
    registry: Registry,
    pub docker_ops: Family<OpOutcome, Counter>,
    pub docker_op_duration: Family<OpLabels, Histogram>,
    pub pulls: Family<PullOutcome, Counter>,
    pub pull_duration: Histogram,
    pub event_reconnects: Counter,
    samplers: Gauge,
    /// Every read of a container's counters, by samplers and scrapes alike.
    pub stats_reads: crate::stats::ReadCost,
    containers: Arc<containers::ContainerSeries>,
}

impl Default for WorkerMetrics {
    fn default() -> Self {
        // No registry prefix: the per-container series keep cAdvisor's names; ours say yun_.
        let mut r = Registry::default();
        let docker_ops = Family::<OpOutcome, Counter>::default();
        r.register(
            "yun_docker_operations",
            "Docker operations by operation and outcome",
            docker_ops.clone(),
        );
        let docker_op_duration =
            Family::<OpLabels, Histogram>::new_with_constructor(op_seconds as fn() -> Histogram);
        r.register_with_unit(
            "yun_docker_operation_duration",
            "Time of a Docker operation",
            Unit::Seconds,
            docker_op_duration.clone(),
        );
        let pulls = Family::<PullOutcome, Counter>::default();
        r.register("yun_image_pulls", "Image pulls by outcome", pulls.clone());
        let pull_duration = Histogram::new(exponential_buckets(0.01, 2.0, 15));
        r.register_with_unit(
            "yun_image_pull_duration",
            "Time of an image pull",
            Unit::Seconds,
            pull_duration.clone(),
        );
        let event_reconnects = Counter::default();
        r.register(
            "yun_event_stream_reconnects",
            "Times the stream of Docker events to the master was opened again",
            event_reconnects.clone(),
        );
        let samplers = Gauge::default();
        r.register(
            "yun_stats_samplers",
            "Containers whose live stats are being sampled now",
            samplers.clone(),
        );
        let stats_reads = crate::stats::ReadCost::new_with_constructor(read_seconds);
        r.register_with_unit(
            "yun_stats_read_duration",
            "Time to read one container's counters (cgroup files; the engine's stats API where no cgroup is found), by samplers and scrapes",
            Unit::Seconds,
            stats_reads.clone(),
        );
        let containers = Arc::new(containers::ContainerSeries::default());
        // cAdvisor's names and units, without the yun_ prefix.
        r.register_collector(Box::new(containers.clone()));
        Self {
            registry: r,
            docker_ops,
            docker_op_duration,
            pulls,
            pull_duration,
            event_reconnects,
            samplers,
            stats_reads,
            containers,
        }
    }
}

impl WorkerMetrics {
    /// Counts and times one Docker operation.
    pub fn docker_op(&self, op: &str, started: std::time::Instant, ok: bool) {
        self.docker_ops
            .get_or_create(&OpOutcome {
                op: op.into(),
                outcome: if ok { "ok" } else { "error" }.into(),
            })
            .inc();
        self.docker_op_duration
            .get_or_create(&OpLabels { op: op.into() })
            .observe(started.elapsed().as_secs_f64());
    }

    /// Keeps the writable layers' sizes a listing with sizes measured (the master's disk
    /// check asks every few minutes; measuring per scrape would walk every layer).
    pub fn record_sizes(&self, list: &[yun_core::node::ContainerStatus]) {
        self.containers.record_sizes(list);
    }

    /// The registry in the OpenMetrics text format, the containers read first.
    pub async fn render<R: crate::runtime::Runtime>(
        &self,
        runtime: &R,
        stats: &crate::stats::StatsHub<R>,
    ) -> String {
        self.samplers
            .set(i64::try_from(stats.active()).unwrap_or(i64::MAX));
        self.containers.refresh(runtime, stats).await;
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}
