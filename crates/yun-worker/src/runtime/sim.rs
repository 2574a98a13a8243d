//! A SIMULATED runtime that keeps containers in memory. It exists only for scale benchmarks of
//! hundreds of workers behind the real gRPC and heartbeat path, and everything that uses it says
//! so. It never touches Docker and enforces nothing.

use super::{
    ContainerEvent, ContainerProcess, ContainerStatus, Counters, DockerState, EngineInfo,
    ExecSession, ImageInfo, LogChunk, LogsQuery, PullProgress, Runtime, RuntimeError,
    RuntimeResult, Scope,
};
use futures::stream::BoxStream;
use futures::StreamExt;
use std::collections::HashMap;
use std::sync::Mutex;
use yun_core::ContainerSpec;

/// In-memory containers of one simulated node.
pub struct SimRuntime {
    containers: Mutex<HashMap<String, ContainerStatus>>,
    scope: Mutex<Option<Scope>>,
    cpu_cores: u32,
    memory_bytes: u64,
}

impl SimRuntime {
    pub fn new(cpu_cores: u32, memory_bytes: u64) -> Self {
        Self {
            containers: Mutex::default(),
            scope: Mutex::default(),
            cpu_cores,
            memory_bytes,
        }
    }

    /// How many containers this simulated node holds.
    pub fn len(&self) -> usize {
        self.containers.lock().expect("sim").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn set_state(&self, id: &str, state: DockerState) -> RuntimeResult<ContainerStatus> {
        let mut map = self.containers.lock().expect("sim");
        let c = map
            .get_mut(id)
            .ok_or_else(|| RuntimeError::NotFound(id.to_string()))?;
        c.state = state;
        Ok(c.clone())
    }
}

impl Runtime for SimRuntime {
    async fn info(&self) -> RuntimeResult<EngineInfo> {
        Ok(EngineInfo {
            version: "simulated".into(),
            cpu_cores: self.cpu_cores,
            memory_bytes: self.memory_bytes,
            unenforced_limits: Vec::new(),
        })
    }

    fn set_scope(&self, scope: Scope) {
        *self.scope.lock().expect("sim") = Some(scope);
    }

    async fn pull_image(
        &self,
        reference: &str,
        _always: bool,
        _max_bytes: u64,
        _progress: tokio::sync::mpsc::Sender<PullProgress>,
    ) -> RuntimeResult<ImageInfo> {
        Ok(ImageInfo {
            reference: reference.to_string(),
            docker_id: format!("sim:{reference}"),
            size_bytes: 1 << 20,
            exposed_ports: vec![(8080, "tcp".into())],
            pulled: true,
        })
    }

    async fn remove_image(&self, _reference: &str, _docker_id: &str) -> RuntimeResult<()> {
        Ok(())
    }

    async fn create_container(&self, spec: &ContainerSpec) -> RuntimeResult<ContainerStatus> {
        if self.scope.lock().expect("sim").is_none() {
            return Err(RuntimeError::NotRegistered);
        }
        let hash = spec.hash();
        let mut map = self.containers.lock().expect("sim");
        if let Some(existing) = map.get(&spec.container_id) {
            if existing.spec_hash != hash {
                return Err(RuntimeError::SpecConflict {
                    container_id: spec.container_id.clone(),
                });
            }
            return Ok(existing.clone());
        }
        let status = ContainerStatus {
            container_id: spec.container_id.clone(),
            owner_id: spec.owner_id.clone(),
            state: DockerState::Running,
            exit_code: 0,
            oom_killed: false,
            spec_hash: hash,
            docker_id: format!("sim-{}", spec.container_id),
            docker_name: format!("yun-{}", spec.container_id),
            size_rw: 0,
        };
        map.insert(spec.container_id.clone(), status.clone());
        Ok(status)
    }

    async fn start_container(&self, id: &str) -> RuntimeResult<ContainerStatus> {
        self.set_state(id, DockerState::Running)
    }

    async fn stop_container(&self, id: &str, _timeout: u32) -> RuntimeResult<ContainerStatus> {
        self.set_state(id, DockerState::Exited)
            .or_else(|_| Ok(ContainerStatus::missing(id)))
    }

    async fn restart_container(&self, id: &str, _timeout: u32) -> RuntimeResult<ContainerStatus> {
        self.set_state(id, DockerState::Running)
    }

    async fn remove_container(&self, id: &str) -> RuntimeResult<()> {
        self.containers.lock().expect("sim").remove(id);
        Ok(())
    }

    async fn remove_orphan(&self, docker_id: &str) -> RuntimeResult<()> {
        self.containers
            .lock()
            .expect("sim")
            .retain(|_, c| c.docker_id != docker_id);
        Ok(())
    }

    async fn inspect_container(&self, id: &str) -> RuntimeResult<ContainerStatus> {
        Ok(self
            .containers
            .lock()
            .expect("sim")
            .get(id)
            .cloned()
            .unwrap_or_else(|| ContainerStatus::missing(id)))
    }

    async fn list_containers(&self, _with_sizes: bool) -> RuntimeResult<Vec<ContainerStatus>> {
        Ok(self
            .containers
            .lock()
            .expect("sim")
            .values()
            .cloned()
            .collect())
    }

    async fn logs(
        &self,
        _id: &str,
        _query: LogsQuery,
    ) -> RuntimeResult<BoxStream<'static, RuntimeResult<LogChunk>>> {
        Ok(futures::stream::empty().boxed())
    }

    fn events(&self) -> RuntimeResult<BoxStream<'static, RuntimeResult<ContainerEvent>>> {
        // Simulated containers never change on their own.
        Ok(futures::stream::pending().boxed())
    }

    /// A running simulated container has no process (pid 0), so samplers use `engine_stats`.
    async fn container_process(&self, id: &str) -> RuntimeResult<Option<ContainerProcess>> {
        let map = self.containers.lock().expect("sim");
        Ok(map
            .get(id)
            .filter(|c| c.state == DockerState::Running)
            .map(|_| ContainerProcess {
                pid: 0,
                docker_id: id.to_string(),
            }))
    }

    /// Made-up figures that move: a tenth of a core busy, 8 MiB in use.
    async fn engine_stats(&self, id: &str) -> RuntimeResult<Option<Counters>> {
        if self.container_process(id).await?.is_none() {
            return Ok(None);
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Ok(Some(Counters {
            cpu_usage_ns: (now.as_nanos() / 10) as u64,
            memory_bytes: 8 << 20,
            memory_limit_bytes: 64 << 20,
            pids: 1,
            ..Counters::default()
        }))
    }

    async fn exec(
        &self,
        _id: &str,
        _command: &[String],
        _size: (u16, u16),
        _tty: bool,
    ) -> RuntimeResult<ExecSession> {
        Err(RuntimeError::Unsupported("exec in a simulated container"))
    }

    async fn exec_resize(&self, _exec_id: &str, _size: (u16, u16)) -> RuntimeResult<()> {
        Err(RuntimeError::Unsupported("exec in a simulated container"))
    }

    async fn exec_exit_code(&self, _exec_id: &str) -> RuntimeResult<i64> {
        Err(RuntimeError::Unsupported("exec in a simulated container"))
    }
}
