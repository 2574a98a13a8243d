//! `WorkerService` over tonic: a thin layer that converts messages and calls the runtime.

// tonic's handlers return `Status` by value; boxing it here would only add noise.
#![allow(clippy::result_large_err)]

use crate::log_batches::ready_batches;
use crate::pulls::{PullUpdate, SharedPulls};
use crate::runtime::{DockerState, LogStream, LogsQuery, Runtime, RuntimeError};
use crate::stats::{Sample, StatsHub};
use futures::{Stream, StreamExt};
use std::pin::Pin;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::broadcast::error::RecvError;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::{Request, Response, Status, Streaming};
use yun_core::node;
use yun_core::ContainerSpec;
use yun_proto::v1;
use yun_proto::v1::worker_service_server::{WorkerService, WorkerServiceServer};

use yun_proto::PORT_UNAVAILABLE_KEY;

pub struct WorkerGrpc<R> {
    runtime: Arc<R>,
    stats: Arc<StatsHub<R>>,
    pulls: Arc<SharedPulls<R>>,
    metrics: Arc<crate::metrics::WorkerMetrics>,
}

impl<R: Runtime> WorkerGrpc<R> {
    pub fn new(
        runtime: Arc<R>,
        stats: Arc<StatsHub<R>>,
        pulls: Arc<SharedPulls<R>>,
        metrics: Arc<crate::metrics::WorkerMetrics>,
    ) -> Self {
        Self {
            runtime,
            stats,
            pulls,
            metrics,
        }
    }

    /// Counts and times one Docker operation, and answers its result as gRPC does.
    fn measured<T>(
        &self,
        op: &str,
        started: std::time::Instant,
        r: crate::runtime::RuntimeResult<T>,
    ) -> Result<T, Status> {
        self.metrics.docker_op(op, started, r.is_ok());
        r.map_err(status)
    }
}

fn to_proto_sample(id: &str, s: Sample) -> v1::StatsSample {
    v1::StatsSample {
        container_id: id.to_string(),
        ..node::StatsSample {
            ts_unix_ms: s.ts_unix_ms,
            cpu_percent: s.cpu_percent,
            memory_bytes: s.counters.memory_bytes,
            memory_limit_bytes: s.counters.memory_limit_bytes,
            pids: s.counters.pids,
            net_rx_bytes: s.counters.net_rx_bytes,
            net_tx_bytes: s.counters.net_tx_bytes,
            blk_read_bytes: s.counters.blk_read_bytes,
            blk_write_bytes: s.counters.blk_write_bytes,
            source: s.source.to_string(),
            running: s.running,
        }
        .into()
    }
}

/// The stream's end, from a receiver that may lag (missed samples or progress are skipped).
async fn next_update<T: Clone>(rx: &mut tokio::sync::broadcast::Receiver<T>) -> Option<T> {
    loop {
        match rx.recv().await {
            Ok(v) => return Some(v),
            Err(RecvError::Lagged(_)) => continue,
            Err(RecvError::Closed) => return None,
        }
    }
}

pub async fn serve<R: Runtime>(
    service: WorkerGrpc<R>,
    tls: Option<std::sync::Arc<rustls::ServerConfig>>,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), tonic::transport::Error> {
    let only_master = yun_trust::RequireMaster { tls: tls.is_some() };
    let svc = WorkerServiceServer::with_interceptor(service, only_master);
    // Every call's log lines carry the master's request id, when the call serves one.
    let server = tonic::transport::Server::builder()
        .trace_fn(yun_proto::rpc_span)
        .http2_keepalive_interval(Some(std::time::Duration::from_secs(20)))
        .add_service(svc);
    match tls {
        Some(tls) => {
            server
                .serve_with_incoming_shutdown(
                    yun_trust::TlsIncoming::start(listener, tls),
                    shutdown,
                )
                .await
        }
        None => {
            server
                .serve_with_incoming_shutdown(TcpListenerStream::new(listener), shutdown)
                .await
        }
    }
}

fn status(e: RuntimeError) -> Status {
    status_of(&e)
}

fn status_of(e: &RuntimeError) -> Status {
    let msg = e.to_string();
    match e {
        RuntimeError::NotRegistered => Status::unavailable(msg),
        RuntimeError::LimitsUnenforced(_)
        | RuntimeError::HostShield(_)
        | RuntimeError::CreateWarning(_)
        | RuntimeError::ImageUnavailable { .. } => Status::failed_precondition(msg),
        RuntimeError::ImageTooLarge { .. } => Status::out_of_range(msg),
        RuntimeError::SpecConflict { .. } => Status::already_exists(msg),
        RuntimeError::NotRunning(_) | RuntimeError::OverDisk { .. } => {
            Status::failed_precondition(msg)
        }
        RuntimeError::Unsupported(_) => Status::unimplemented(msg),
        RuntimeError::PortUnavailable { port } => {
            let mut s = Status::resource_exhausted(msg);
            s.metadata_mut().insert(
                PORT_UNAVAILABLE_KEY,
                port.to_string().parse().expect("digits are valid metadata"),
            );
            s
        }
        RuntimeError::SubnetsExhausted(_) => Status::resource_exhausted(msg),
        RuntimeError::CommandCannotRun(_) => Status::invalid_argument(msg),
        RuntimeError::NotFound(_) => Status::not_found(msg),
        // A tenant network holds so many containers (61 in a /26).
        RuntimeError::Docker(e) if e.to_string().contains("no available IPv4 addresses") => {
            Status::resource_exhausted(
                "this owner's network on the node is full (61 containers per owner and node with /26 subnets; the operator can give larger ones with --tenant-subnet-prefix); remove one first",
            )
        }
        RuntimeError::Docker(e) => {
            tracing::warn!(error = %e, "docker call failed");
            Status::internal(format!("the Docker engine failed: {e}"))
        }
    }
}

type RpcStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

#[tonic::async_trait]
impl<R: Runtime> WorkerService for WorkerGrpc<R> {
    type PullImageStream = RpcStream<v1::PullProgress>;

    async fn pull_image(
        &self,
        req: Request<v1::PullImageRequest>,
    ) -> Result<Response<Self::PullImageStream>, Status> {
        let req = req.into_inner();
        let mut rx = self.pulls.join(&req.reference, req.always, req.max_bytes);
        let (metrics, started) = (self.metrics.clone(), std::time::Instant::now());
        let count = move |outcome: &str| {
            metrics
                .pulls
                .get_or_create(&crate::metrics::PullOutcome {
                    outcome: outcome.into(),
                })
                .inc();
            metrics
                .pull_duration
                .observe(started.elapsed().as_secs_f64());
        };
        let out = async_stream::stream! {
            while let Some(update) = next_update(&mut rx).await {
                match update {
                    PullUpdate::Progress(p) => yield Ok(node::PullUpdate::Progress(p).into()),
                    PullUpdate::Done(Ok(image)) => {
                        count(if image.pulled { "pulled" } else { "present" });
                        yield Ok(node::PullUpdate::Done(image).into());
                        return;
                    }
                    PullUpdate::Done(Err(e)) => {
                        count("error");
                        yield Err(status_of(&e));
                        return;
                    }
                }
            }
        };
        Ok(Response::new(Box::pin(out)))
    }

    async fn remove_image(
        &self,
        req: Request<v1::RemoveImageRequest>,
    ) -> Result<Response<v1::RemoveImageResponse>, Status> {
        let req = req.into_inner();
        let started = std::time::Instant::now();
        let r = self
            .runtime
            .remove_image(&req.reference, &req.docker_id)
            .await;
        self.measured("remove_image", started, r)?;
        Ok(Response::new(v1::RemoveImageResponse {}))
    }

    async fn create_container(
        &self,
        req: Request<v1::CreateContainerRequest>,
    ) -> Result<Response<v1::ContainerStatus>, Status> {
        let spec = req
            .into_inner()
            .spec
            .ok_or_else(|| Status::invalid_argument("create without a spec"))?;
        let spec =
            ContainerSpec::try_from(spec).map_err(|e| Status::invalid_argument(e.to_string()))?;
        // Finish the Docker work even if the caller goes away mid-way (a master that dies),
        // so a create is never left half done between Docker's create and start.
        let (runtime, started) = (self.runtime.clone(), std::time::Instant::now());
        let r = tokio::spawn(async move { runtime.create_container(&spec).await })
            .await
            .map_err(|_| Status::internal("the create task failed"))?;
        let s = self.measured("create", started, r)?;
        Ok(Response::new(s.into()))
    }

    async fn start_container(
        &self,
        req: Request<v1::ContainerRef>,
    ) -> Result<Response<v1::ContainerStatus>, Status> {
        let started = std::time::Instant::now();
        let r = self
            .runtime
            .start_container(&req.into_inner().container_id)
            .await;
        let s = self.measured("start", started, r)?;
        Ok(Response::new(s.into()))
    }

    async fn stop_container(
        &self,
        req: Request<v1::StopContainerRequest>,
    ) -> Result<Response<v1::ContainerStatus>, Status> {
        let req = req.into_inner();
        let started = std::time::Instant::now();
        let r = self
            .runtime
            .stop_container(&req.container_id, req.timeout_seconds)
            .await;
        let s = self.measured("stop", started, r)?;
        Ok(Response::new(s.into()))
    }

    async fn restart_container(
        &self,
        req: Request<v1::StopContainerRequest>,
    ) -> Result<Response<v1::ContainerStatus>, Status> {
        let req = req.into_inner();
        let started = std::time::Instant::now();
        let r = self
            .runtime
            .restart_container(&req.container_id, req.timeout_seconds)
            .await;
        let s = self.measured("restart", started, r)?;
        Ok(Response::new(s.into()))
    }

    async fn remove_container(
        &self,
        req: Request<v1::ContainerRef>,
    ) -> Result<Response<v1::RemoveContainerResponse>, Status> {
        let r = req.into_inner();
        let started = std::time::Instant::now();
        let (op, done) = if r.docker_id.is_empty() {
            (
                "remove",
                self.runtime.remove_container(&r.container_id).await,
            )
        } else {
            (
                "remove_orphan",
                self.runtime.remove_orphan(&r.docker_id).await,
            )
        };
        self.measured(op, started, done)?;
        Ok(Response::new(v1::RemoveContainerResponse {}))
    }

    async fn inspect_container(
        &self,
        req: Request<v1::ContainerRef>,
    ) -> Result<Response<v1::ContainerStatus>, Status> {
        let started = std::time::Instant::now();
        let r = self
            .runtime
            .inspect_container(&req.into_inner().container_id)
            .await;
        let s = self.measured("inspect", started, r)?;
        Ok(Response::new(s.into()))
    }

    async fn list_containers(
        &self,
        req: Request<v1::ListContainersRequest>,
    ) -> Result<Response<v1::ListContainersResponse>, Status> {
        let with_sizes = req.into_inner().with_sizes;
        let started = std::time::Instant::now();
        let r = self.runtime.list_containers(with_sizes).await;
        let op = if with_sizes { "list_sizes" } else { "list" };
        let list = self.measured(op, started, r)?;
        if with_sizes {
            self.metrics.record_sizes(&list);
        }
        Ok(Response::new(v1::ListContainersResponse {
            containers: list.into_iter().map(v1::ContainerStatus::from).collect(),
        }))
    }

    type LogsStream = RpcStream<v1::LogChunks>;

    async fn logs(
        &self,
        req: Request<v1::LogsRequest>,
    ) -> Result<Response<Self::LogsStream>, Status> {
        let req = req.into_inner();
        let query = LogsQuery {
            tail: (req.tail > 0).then_some(req.tail),
            follow: req.follow,
            since_unix: req.since_unix,
        };
        let stream = self
            .runtime
            .logs(&req.container_id, query)
            .await
            .map_err(status)?;
        let out = ready_batches(stream).map(|item| {
            item.map(|batch| v1::LogChunks {
                chunks: batch
                    .into_iter()
                    .map(|chunk| v1::LogChunk {
                        stream: match chunk.stream {
                            LogStream::Stdout => v1::log_chunk::Stream::Stdout as i32,
                            LogStream::Stderr => v1::log_chunk::Stream::Stderr as i32,
                        },
                        data: chunk.data.to_vec(),
                        ts: chunk.ts,
                    })
                    .collect(),
            })
            .map_err(status)
        });
        Ok(Response::new(Box::pin(out)))
    }

    type StatsStream = RpcStream<v1::StatsSample>;

    /// Samples of one container about every `interval_ms` (default 1 s), from the sampler all
    /// subscribers share; dropping the stream unsubscribes.
    async fn stats(
        &self,
        req: Request<v1::StatsRequest>,
    ) -> Result<Response<Self::StatsStream>, Status> {
        let req = req.into_inner();
        let [id] = req.container_ids.as_slice() else {
            return Err(Status::invalid_argument("name exactly one container"));
        };
        let found = self.runtime.inspect_container(id).await.map_err(status)?;
        if found.state == DockerState::Missing {
            return Err(status(RuntimeError::NotFound(id.clone())));
        }
        let interval = std::time::Duration::from_millis(match req.interval_ms {
            0 => 1000,
            ms => ms.into(),
        });
        let mut rx = self.stats.subscribe(id, interval);
        let id = id.clone();
        let out = async_stream::stream! {
            while let Some(sample) = next_update(&mut rx).await {
                yield Ok(to_proto_sample(&id, sample));
            }
        };
        Ok(Response::new(Box::pin(out)))
    }

    type ExecStream = RpcStream<v1::ExecOutput>;

    /// A TTY session: the first message names the container and command, later ones carry
    /// stdin and resizes; the output ends with the exit code.
    async fn exec(
        &self,
        req: Request<Streaming<v1::ExecInput>>,
    ) -> Result<Response<Self::ExecStream>, Status> {
        let mut inbound = req.into_inner();
        let first = inbound
            .message()
            .await?
            .ok_or_else(|| Status::invalid_argument("exec without a first message"))?;
        if first.command.is_empty() {
            return Err(Status::invalid_argument("exec without a command"));
        }
        let size = (first.cols as u16, first.rows as u16);
        let session = self
            .runtime
            .exec(&first.container_id, &first.command, size, !first.no_tty)
            .await
            .map_err(status)?;
        let (runtime, exec_id) = (self.runtime.clone(), session.exec_id.clone());
        let mut input = session.input;
        if !first.stdin.is_empty() {
            input
                .write_all(&first.stdin)
                .await
                .map_err(|e| Status::internal(e.to_string()))?;
        }
        let (resize_runtime, resize_id) = (runtime.clone(), exec_id.clone());
        tokio::spawn(async move {
            while let Ok(Some(msg)) = inbound.message().await {
                if !msg.stdin.is_empty() && input.write_all(&msg.stdin).await.is_err() {
                    break;
                }
                if msg.cols > 0 && msg.rows > 0 {
                    let size = (msg.cols as u16, msg.rows as u16);
                    let _ = resize_runtime.exec_resize(&resize_id, size).await;
                }
                if msg.stdin_eof {
                    break;
                }
            }
            // The caller is done sending: the command sees end of input.
            let _ = input.shutdown().await;
        });
        let mut output = session.output;
        let out = async_stream::stream! {
            while let Some(chunk) = output.next().await {
                match chunk {
                    Ok(chunk) => yield Ok(node::ExecOutput::Data { stderr: chunk.stderr, data: chunk.data.to_vec() }.into()),
                    Err(e) => {
                        yield Err(status(e));
                        return;
                    }
                }
            }
            match runtime.exec_exit_code(&exec_id).await {
                Ok(exit_code) => yield Ok(node::ExecOutput::Exited { exit_code }.into()),
                Err(e) => yield Err(status(e)),
            }
        };
        Ok(Response::new(Box::pin(out)))
    }
}
