//! The master's metrics, in one registry of its own (`yun dev` and the tests run several
//! masters and workers in one process; a global recorder would mix their series). Counters
//! move as things happen (`http.rs`); gauges that describe the present (nodes, open streams)
//! are read when Prometheus scrapes (`render`). Served by `endpoint.rs`.

mod endpoint;
mod http;

pub use endpoint::{routes, serve_apart};
pub use http::layer;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Registry, Unit};

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
struct VersionLabels {
    version: String,
}

pub struct MasterMetrics {
    registry: Registry,
    pub http_requests: Family<RequestLabels, Counter>,
    pub http_duration: Family<RouteLabels, Histogram>,
    pub api_errors: Family<CodeLabels, Counter>,
    nodes: Family<StateLabels, Gauge>,
    open_streams: Gauge,
}

impl Default for MasterMetrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("yun");
        let build = Family::<VersionLabels, Gauge>::default();
        build
            .get_or_create(&VersionLabels {
                version: env!("CARGO_PKG_VERSION").into(),
            })
            .set(1);
        registry.register("build_info", "This master's version (always 1)", build);
        let http_requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route template, method and status",
            http_requests.clone(),
        );
        // 1 ms to about 16 s.
        let http_duration = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.001, 2.0, 15))
        });
        registry.register_with_unit(
            "http_request_duration",
            "Time to answer an HTTP request, streams (WebSockets, followed logs, events) left out",
            Unit::Seconds,
            http_duration.clone(),
        );
        let api_errors = Family::<CodeLabels, Counter>::default();
        registry.register(
            "api_errors",
            "Errors the API answered, by error code",
            api_errors.clone(),
        );
        let nodes = Family::<StateLabels, Gauge>::default();
        registry.register("nodes", "Nodes by state", nodes.clone());
        let open_streams = Gauge::default();
        registry.register(
            "open_streams",
            "Live streams open now (consoles, stats, events, followed logs)",
            open_streams.clone(),
        );
        Self {
            registry,
            http_requests,
            http_duration,
            api_errors,
            nodes,
            open_streams,
        }
    }
}

impl MasterMetrics {
    /// The registry in the OpenMetrics text format, the present read from `state` first.
    pub fn render(&self, state: &crate::state::AppState) -> String {
        let mut by_state = std::collections::BTreeMap::from([
            ("ready", 0i64),
            ("cordoned", 0),
            ("down", 0),
            ("joining", 0),
        ]);
        for lease in state.registry.snapshot() {
            let s = match state.registry.state_of(&lease) {
                crate::nodes::NodeState::Ready => "ready",
                crate::nodes::NodeState::Cordoned => "cordoned",
                crate::nodes::NodeState::Down => "down",
                crate::nodes::NodeState::Joining => "joining",
            };
            *by_state.entry(s).or_default() += 1;
        }
        for (s, n) in by_state {
            self.nodes
                .get_or_create(&StateLabels { state: s.into() })
                .set(n);
        }
        self.open_streams
            .set(i64::try_from(state.streams.count()).unwrap_or(i64::MAX));
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}
