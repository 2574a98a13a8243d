//! The master's metrics, in one registry of its own (`yun dev` and the tests run several
//! masters and workers in one process; a global recorder would mix their series). Counters
//! move as things happen (`http/metrics_layer.rs`, and the parts that count their own work);
//! what describes the present (nodes, containers and orders by state, open streams,
//! certificates) is handed to `render` when Prometheus scrapes, read from memory and from
//! indexes by `http/metrics.rs`, which serves it. This module knows no other part of the
//! master: the parts it counts call down into it.

mod rpc;

pub use rpc::{NodeCalls, WorkerRpcMetrics};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Registry, Unit};
use std::sync::Mutex;

/// What the master holds in memory when it is scraped, read by the caller (the fleet and the
/// streams sit above the metrics, which they count into).
pub struct Present {
    /// Nodes by their state's name.
    pub nodes: Vec<(String, i64)>,
    /// Node names by id, to label their certificates.
    pub node_names: std::collections::HashMap<String, String>,
    pub master_certificate_expires: Option<std::time::SystemTime>,
    pub open_streams: usize,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The route's template (`/api/v1/containers/{id}`), `unmatched` for an unknown API path,
    /// `console` for the console's files: bounded whatever clients send.
    pub route: String,
    pub method: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
    pub method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CodeLabels {
    pub code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StateLabels {
    pub state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// `placed`, or the refusal's error code (`no_capacity`, `quota_exceeded`, …).
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CertificateLabels {
    /// `master`, or `node` with the node's name.
    subject: String,
    node: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StepLabels {
    /// What failed: `container`, `inventory`, `mark_lost`, `orphan_removal`, `disk_stop`,
    /// `restart`.
    pub step: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    /// `read` or `write`.
    pool: String,
    /// `busy` or `idle`.
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VersionLabels {
    version: String,
}

fn seconds(start: f64, factor: f64, n: u16) -> Histogram {
    Histogram::new(exponential_buckets(start, factor, n))
}

/// 1 ms to about 16 s.
fn request_seconds() -> Histogram {
    seconds(0.001, 2.0, 15)
}

pub struct MasterMetrics {
    registry: Registry,
    pub http_requests: Family<RequestLabels, Counter>,
    pub http_duration: Family<RouteLabels, Histogram>,
    pub api_errors: Family<CodeLabels, Counter>,
    /// Creates by outcome, and the time a placed one took.
    pub placements: Family<OutcomeLabels, Counter>,
    pub placement_duration: Histogram,
    pub heartbeats: Counter,
    pub reconcile_actions: Family<KindLabels, Counter>,
    reconcile_failures: Family<StepLabels, Counter>,
    /// The master's calls to workers (every lease's client holds a clone).
    pub worker_rpc: WorkerRpcMetrics,
    store_connections: Family<PoolLabels, Gauge>,
    pub meter_tick_duration: Histogram,
    /// Balances that differ from their ledger at the last background check, and when it ran.
    pub billing_unbalanced: Gauge,
    pub billing_checked_at: Gauge,
    nodes: Family<StateLabels, Gauge>,
    containers: Family<StateLabels, Gauge>,
    orders: Family<StateLabels, Gauge>,
    ledger_entries: Family<KindLabels, Counter>,
    ledger_credits: Family<KindLabels, Counter>,
    /// The ledger's totals by kind as last read: (entries, credits).
    ledger_seen: Mutex<std::collections::HashMap<String, (i64, i64)>>,
    certificates: Family<CertificateLabels, Gauge>,
    open_streams: Gauge,
}

impl MasterMetrics {
    /// The registry, with the store's own timings in it.
    pub fn new(store: &yun_store::Store) -> Self {
        let mut r = Registry::with_prefix("yun");
        let build = Family::<VersionLabels, Gauge>::default();
        build
            .get_or_create(&VersionLabels {
                version: env!("CARGO_PKG_VERSION").into(),
            })
            .set(1);
        r.register("build_info", "This master's version (always 1)", build);
        let http_requests = Family::<RequestLabels, Counter>::default();
        r.register(
            "http_requests",
            "HTTP requests answered, by route template, method and status",
            http_requests.clone(),
        );
        let http_duration = Family::<RouteLabels, Histogram>::new_with_constructor(
            request_seconds as fn() -> Histogram,
        );
        r.register_with_unit(
            "http_request_duration",
            "Time to answer an HTTP request, streams (WebSockets, followed logs, events) left out",
            Unit::Seconds,
            http_duration.clone(),
        );
        let api_errors = Family::<CodeLabels, Counter>::default();
        r.register(
            "api_errors",
            "Errors the API answered, by error code",
            api_errors.clone(),
        );
        let placements = Family::<OutcomeLabels, Counter>::default();
        r.register(
            "placements",
            "Container creates by outcome: placed, or the refusal's error code",
            placements.clone(),
        );
        let placement_duration = request_seconds();
        r.register_with_unit(
            "placement_duration",
            "Time from a create's request to its container running",
            Unit::Seconds,
            placement_duration.clone(),
        );
        let heartbeats = Counter::default();
        r.register(
            "heartbeats",
            "Heartbeats taken from workers",
            heartbeats.clone(),
        );
        let reconcile_actions = Family::<KindLabels, Counter>::default();
        r.register(
            "reconcile_actions",
            "What reconciling did, by kind (lost, reattached, orphan_removed, disk_stopped, …)",
            reconcile_actions.clone(),
        );
        let reconcile_failures = Family::<StepLabels, Counter>::default();
        r.register(
            "reconcile_failures",
            "Reconciling steps that failed and wait for the next pass, by step",
            reconcile_failures.clone(),
        );
        let worker_rpc = WorkerRpcMetrics::default();
        r.register(
            "worker_rpc_calls",
            "Calls the master made to workers, by method and outcome",
            worker_rpc.calls.clone(),
        );
        r.register_with_unit(
            "worker_rpc_duration",
            "Time of a call to a worker, as the master saw it (a stream's until it opened)",
            Unit::Seconds,
            worker_rpc.duration.clone(),
        );
        let timings = store.timings();
        r.register_with_unit(
            "store_writer_wait",
            "Time a write waited for the store's writer (the write queue)",
            Unit::Seconds,
            timings.writer_wait.clone(),
        );
        r.register_with_unit(
            "store_transaction_duration",
            "Time a write transaction held the store's writer, from BEGIN to COMMIT or rollback",
            Unit::Seconds,
            timings.transaction.clone(),
        );
        r.register(
            "store_transactions",
            "Write transactions by outcome (commit or rollback)",
            timings.transactions.clone(),
        );
        let store_connections = Family::<PoolLabels, Gauge>::default();
        r.register(
            "store_connections",
            "The store's connections by pool (read, write) and state (busy, idle)",
            store_connections.clone(),
        );
        let meter_tick_duration = seconds(0.0005, 2.0, 14);
        r.register_with_unit(
            "meter_tick_duration",
            "Time of one metering tick (buying running time, settling, suspending)",
            Unit::Seconds,
            meter_tick_duration.clone(),
        );
        let billing_unbalanced = Gauge::default();
        r.register(
            "billing_unbalanced_users",
            "Users whose balance differs from the sum of their ledger, at the last check (always 0)",
            billing_unbalanced.clone(),
        );
        let billing_checked_at = Gauge::default();
        r.register_with_unit(
            "billing_check_last_run_timestamp",
            "When the background billing check last ran (unix time)",
            Unit::Seconds,
            billing_checked_at.clone(),
        );
        let nodes = Family::<StateLabels, Gauge>::default();
        r.register("nodes", "Nodes by state", nodes.clone());
        let containers = Family::<StateLabels, Gauge>::default();
        r.register("containers", "Containers by state", containers.clone());
        let orders = Family::<StateLabels, Gauge>::default();
        r.register("orders", "Recharge orders by state", orders.clone());
        let ledger_entries = Family::<KindLabels, Counter>::default();
        r.register(
            "ledger_postings",
            "Ledger entries by kind (since this master started)",
            ledger_entries.clone(),
        );
        let ledger_credits = Family::<KindLabels, Counter>::default();
        r.register(
            "ledger_credits",
            "Credits moved by ledger entries, by kind, either way (since this master started)",
            ledger_credits.clone(),
        );
        let certificates = Family::<CertificateLabels, Gauge>::default();
        r.register_with_unit(
            "certificate_expiry_timestamp",
            "When the fleet's certificates expire (unix time): the master's and each node's newest",
            Unit::Seconds,
            certificates.clone(),
        );
        let open_streams = Gauge::default();
        r.register(
            "open_streams",
            "Live streams open now (consoles, stats, events, followed logs)",
            open_streams.clone(),
        );
        Self {
            registry: r,
            http_requests,
            http_duration,
            api_errors,
            placements,
            placement_duration,
            heartbeats,
            reconcile_actions,
            reconcile_failures,
            worker_rpc,
            store_connections,
            meter_tick_duration,
            billing_unbalanced,
            billing_checked_at,
            nodes,
            containers,
            orders,
            ledger_entries,
            ledger_credits,
            ledger_seen: Mutex::default(),
            certificates,
            open_streams,
        }
    }
}

/// Sets one gauge per state, zero for the known states that have none now.
fn by_state(family: &Family<StateLabels, Gauge>, known: &[&str], counts: &[(String, i64)]) {
    for s in known {
        family
            .get_or_create(&StateLabels { state: (*s).into() })
            .set(0);
    }
    for (s, n) in counts {
        family
            .get_or_create(&StateLabels { state: s.clone() })
            .set(*n);
    }
}

impl MasterMetrics {
    /// Counts a reconciling step that failed (the next pass tries again).
    pub fn reconcile_failed(&self, step: &str) {
        self.reconcile_failures
            .get_or_create(&StepLabels { step: step.into() })
            .inc();
    }

    /// Counts one reconcile action.
    pub fn reconciled(&self, kind: &str, n: u64) {
        self.reconcile_actions
            .get_or_create(&KindLabels { kind: kind.into() })
            .inc_by(n);
    }

    /// The registry in the OpenMetrics text format, with `present` and the store's figures
    /// written first.
    pub async fn render(&self, store: &yun_store::Store, present: Present) -> String {
        by_state(
            &self.nodes,
            &["ready", "cordoned", "down", "joining"],
            &present.nodes,
        );
        match store.containers_by_state().await {
            Ok(c) => by_state(&self.containers, &["running", "exited", "lost"], &c),
            Err(e) => tracing::warn!(error = %e, "metrics: containers by state"),
        }
        match store.orders_by_state().await {
            Ok(o) => by_state(&self.orders, &["pending", "paid"], &o),
            Err(e) => tracing::warn!(error = %e, "metrics: orders by state"),
        }
        self.read_ledger(store).await;
        if let Some(at) = present.master_certificate_expires {
            let secs = at
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64);
            self.certificates
                .get_or_create(&CertificateLabels {
                    subject: "master".into(),
                    node: String::new(),
                })
                .set(secs);
        }
        if let Ok(expiry) = store.node_certificate_expiry().await {
            for (id, ms) in expiry {
                let node = present.node_names.get(&id).cloned().unwrap_or(id);
                self.certificates
                    .get_or_create(&CertificateLabels {
                        subject: "node".into(),
                        node,
                    })
                    .set(ms / 1000);
            }
        }
        self.open_streams
            .set(i64::try_from(present.open_streams).unwrap_or(i64::MAX));
        for (pool, busy, idle) in store.connections() {
            for (s, n) in [("busy", busy), ("idle", idle)] {
                self.store_connections
                    .get_or_create(&PoolLabels {
                        pool: pool.into(),
                        state: s.into(),
                    })
                    .set(i64::from(n));
            }
        }
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }

    /// Counts the ledger from `totals` on (the store's at this master's start: counters count
    /// from the start, as counters do).
    pub fn count_ledger_from(&self, totals: Vec<(String, i64, i64)>) {
        *self.ledger_seen.lock().expect("ledger totals") = totals
            .into_iter()
            .map(|(kind, entries, credits)| (kind, (entries, credits)))
            .collect();
    }

    /// Adds what the ledger's totals grew by since the last scrape.
    async fn read_ledger(&self, store: &yun_store::Store) {
        let Ok(totals) = store.ledger_totals().await else {
            return;
        };
        let mut seen = self.ledger_seen.lock().expect("ledger totals");
        for (kind, entries, credits) in totals {
            let (was_entries, was_credits) = seen.get(&kind).copied().unwrap_or((0, 0));
            let labels = KindLabels { kind: kind.clone() };
            self.ledger_entries
                .get_or_create(&labels)
                .inc_by((entries - was_entries).max(0) as u64);
            self.ledger_credits
                .get_or_create(&labels)
                .inc_by((credits - was_credits).max(0) as u64);
            seen.insert(kind, (entries.max(was_entries), credits.max(was_credits)));
        }
    }
}
