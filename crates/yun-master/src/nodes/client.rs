//! How the master calls a worker: every call has a deadline and the channel keeps alive, so a
//! frozen worker cannot hang an HTTP request.

use super::FleetTrust;
use super::NodeError;
use crate::metrics::{NodeCalls, WorkerRpcMetrics};
use futures::stream::{BoxStream, StreamExt};
use std::time::Duration;
use tonic::transport::{Channel, Endpoint};
use yun_core::node::{ContainerStatus, ExecInput, ExecOutput, LogChunk, PullUpdate, StatsSample};
use yun_core::ContainerSpec;
use yun_proto::v1;
use yun_proto::v1::worker_service_client::WorkerServiceClient;

type Inner = WorkerServiceClient<Channel>;

/// Deadline for calls that only talk to the engine.
const QUICK: Duration = Duration::from_secs(30);
/// Calls that only look at one container, made by background loops.
const PROBE: Duration = Duration::from_secs(3);
/// Listing a node's containers; a busy engine may take a while, and each node is listed apart.
const INVENTORY: Duration = Duration::from_secs(10);
/// A create may have to pull the image first.
const SLOW: Duration = Duration::from_secs(600);
/// Seconds a container gets to exit on SIGTERM before it is killed.
pub const STOP_TIMEOUT_SECONDS: u32 = 10;

#[derive(Clone)]
pub struct WorkerClient {
    inner: Inner,
    rpc: WorkerRpcMetrics,
    /// This node's own figures, for the operator's node list.
    calls: std::sync::Arc<NodeCalls>,
}

impl WorkerClient {
    /// A client of node `node_id` at `advertise`; on a TLS fleet the worker must show that
    /// node's certificate, and the master shows its own.
    pub fn new(
        advertise: &str,
        node_id: &str,
        trust: &FleetTrust,
        rpc: WorkerRpcMetrics,
    ) -> Result<Self, String> {
        let endpoint = Endpoint::from_shared(yun_trust::plain_uri(advertise))
            .map_err(|e| format!("bad worker address {advertise}: {e}"))?
            .connect_timeout(Duration::from_secs(3))
            .http2_keep_alive_interval(Duration::from_secs(10))
            .keep_alive_timeout(Duration::from_secs(5))
            .keep_alive_while_idle(true)
            .tcp_nodelay(true);
        Ok(Self {
            inner: WorkerServiceClient::new(trust.worker_channel(endpoint, node_id)?),
            rpc,
            calls: std::sync::Arc::default(),
        })
    }

    /// Makes one call within `deadline`, counted and timed as `method`.
    async fn call<T, F>(&self, method: &str, deadline: Duration, f: F) -> Result<T, NodeError>
    where
        F: std::future::Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    {
        let started = std::time::Instant::now();
        let r = match tokio::time::timeout(deadline, f).await {
            Ok(Ok(r)) => Ok(r.into_inner()),
            Ok(Err(s)) => Err(NodeError::from(s)),
            Err(_) => Err(NodeError::Timeout(deadline)),
        };
        let outcome = r.as_ref().map_or_else(NodeError::kind, |_| "ok");
        self.rpc.observe(method, started, outcome);
        self.calls.record(method, outcome);
        r
    }

    /// This node's calls since its lease began.
    pub fn calls(&self) -> &NodeCalls {
        &self.calls
    }

    /// A call with its deadline and, when made while serving an HTTP request, that request's
    /// id (the worker puts it on its log lines).
    fn request<T>(msg: T, deadline: Duration) -> tonic::Request<T> {
        let mut req = tonic::Request::new(msg);
        req.set_timeout(deadline);
        if let Some(id) = crate::request::id::current() {
            if let Ok(v) = id.parse() {
                req.metadata_mut().insert(yun_proto::REQUEST_ID_KEY, v);
            }
        }
        req
    }

    pub async fn create(&self, spec: &ContainerSpec) -> Result<ContainerStatus, NodeError> {
        let mut c = self.inner.clone();
        let req = v1::CreateContainerRequest {
            spec: Some(spec.into()),
        };
        self.call("create", SLOW, c.create_container(Self::request(req, SLOW)))
            .await
            .map(Into::into)
    }

    pub async fn start(&self, id: &str) -> Result<ContainerStatus, NodeError> {
        let mut c = self.inner.clone();
        let req = v1::ContainerRef {
            container_id: id.to_string(),
            docker_id: String::new(),
        };
        self.call("start", QUICK, c.start_container(Self::request(req, QUICK)))
            .await
            .map(Into::into)
    }

    pub async fn stop(&self, id: &str) -> Result<ContainerStatus, NodeError> {
        let mut c = self.inner.clone();
        let req = v1::StopContainerRequest {
            container_id: id.to_string(),
            timeout_seconds: STOP_TIMEOUT_SECONDS,
        };
        self.call("stop", QUICK, c.stop_container(Self::request(req, QUICK)))
            .await
            .map(Into::into)
    }

    pub async fn restart(&self, id: &str) -> Result<ContainerStatus, NodeError> {
        let mut c = self.inner.clone();
        let req = v1::StopContainerRequest {
            container_id: id.to_string(),
            timeout_seconds: STOP_TIMEOUT_SECONDS,
        };
        self.call(
            "restart",
            QUICK,
            c.restart_container(Self::request(req, QUICK)),
        )
        .await
        .map(Into::into)
    }

    pub async fn remove(&self, id: &str) -> Result<(), NodeError> {
        let mut c = self.inner.clone();
        let req = v1::ContainerRef {
            container_id: id.to_string(),
            docker_id: String::new(),
        };
        self.call(
            "remove",
            QUICK,
            c.remove_container(Self::request(req, QUICK)),
        )
        .await
        .map(|_| ())
    }

    /// Removes one engine container by its Docker id: an orphan the inventory found, whatever
    /// its name or labels say (the worker checks it is this cluster's and node's).
    pub async fn remove_orphan(&self, docker_id: &str) -> Result<(), NodeError> {
        let mut c = self.inner.clone();
        let req = v1::ContainerRef {
            container_id: String::new(),
            docker_id: docker_id.to_string(),
        };
        self.call(
            "remove_orphan",
            QUICK,
            c.remove_container(Self::request(req, QUICK)),
        )
        .await
        .map(|_| ())
    }

    pub async fn inspect(&self, id: &str) -> Result<ContainerStatus, NodeError> {
        let mut c = self.inner.clone();
        let req = v1::ContainerRef {
            container_id: id.to_string(),
            docker_id: String::new(),
        };
        self.call(
            "inspect",
            PROBE,
            c.inspect_container(Self::request(req, PROBE)),
        )
        .await
        .map(Into::into)
    }

    /// The node's inventory: every container of this cluster and node.
    /// The node's inventory; `with_sizes` also measures each container's writable layer.
    pub async fn list(&self, with_sizes: bool) -> Result<Vec<ContainerStatus>, NodeError> {
        let mut c = self.inner.clone();
        let req = v1::ListContainersRequest { with_sizes };
        let method = if with_sizes { "list_sizes" } else { "list" };
        self.call(
            method,
            INVENTORY,
            c.list_containers(Self::request(req, INVENTORY)),
        )
        .await
        .map(|r| r.containers.into_iter().map(Into::into).collect())
    }

    /// A pull's progress, ending with the image (identical pulls on a node share one pull).
    pub async fn pull_progress(
        &self,
        reference: &str,
        always: bool,
        max_bytes: u64,
    ) -> Result<BoxStream<'static, Result<PullUpdate, NodeError>>, NodeError> {
        let mut c = self.inner.clone();
        let req = v1::PullImageRequest {
            reference: reference.to_string(),
            always,
            max_bytes,
        };
        let stream = self
            .call("pull", QUICK, c.pull_image(Self::request(req, SLOW)))
            .await?;
        Ok(stream
            .map(|item| item.map(PullUpdate::from).map_err(NodeError::from))
            .boxed())
    }

    /// Removes an image yun pulled from the node, unless a container there uses it.
    pub async fn remove_image(&self, reference: &str, docker_id: &str) -> Result<(), NodeError> {
        let mut c = self.inner.clone();
        let req = v1::RemoveImageRequest {
            reference: reference.to_string(),
            docker_id: docker_id.to_string(),
        };
        self.call(
            "remove_image",
            QUICK,
            c.remove_image(Self::request(req, QUICK)),
        )
        .await
        .map(|_| ())
    }

    /// Live samples of one container, about once a second, until the stream is dropped.
    pub async fn stats(
        &self,
        id: &str,
    ) -> Result<BoxStream<'static, Result<StatsSample, NodeError>>, NodeError> {
        let mut c = self.inner.clone();
        let req = v1::StatsRequest {
            container_ids: vec![id.to_string()],
            interval_ms: 1000,
        };
        let stream = self
            .call("stats", QUICK, c.stats(tonic::Request::new(req)))
            .await?;
        Ok(stream
            .map(|item| item.map(StatsSample::from).map_err(NodeError::from))
            .boxed())
    }

    /// A console session: `input` starts with `ExecInput::Start`, then stdin and resizes; the
    /// output ends with the exit code.
    pub async fn exec(
        &self,
        input: impl futures::Stream<Item = ExecInput> + Send + 'static,
    ) -> Result<BoxStream<'static, Result<ExecOutput, NodeError>>, NodeError> {
        let mut c = self.inner.clone();
        let input = input.map(v1::ExecInput::from);
        let stream = self
            .call("exec", QUICK, c.exec(tonic::Request::new(input)))
            .await?;
        Ok(stream
            .map(|item| item.map(ExecOutput::from).map_err(NodeError::from))
            .boxed())
    }

    /// A stream of batches of log chunks (whatever the node had read together); only opening it
    /// has a deadline, a followed stream may run for hours.
    pub async fn logs(
        &self,
        id: &str,
        tail: Option<u32>,
        follow: bool,
    ) -> Result<BoxStream<'static, Result<Vec<LogChunk>, NodeError>>, NodeError> {
        let mut c = self.inner.clone();
        let req = v1::LogsRequest {
            container_id: id.to_string(),
            tail: tail.unwrap_or(0),
            follow,
            since_unix: 0,
        };
        let stream = self
            .call("logs", QUICK, c.logs(tonic::Request::new(req)))
            .await?;
        Ok(stream
            .map(|item| {
                item.map(|batch| batch.chunks.into_iter().map(LogChunk::from).collect())
                    .map_err(NodeError::from)
            })
            .boxed())
    }
}
