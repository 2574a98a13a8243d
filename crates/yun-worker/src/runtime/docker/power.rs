//! Start, stop and restart. Each is idempotent and answers with the container's new status.

use super::super::{ContainerStatus, DockerState, RuntimeError, RuntimeResult};
use super::{docker_name, is_not_found, DockerRuntime};
use bollard::container::{RestartContainerOptions, StopContainerOptions};

impl DockerRuntime {
    async fn require(&self, id: &str) -> RuntimeResult<ContainerStatus> {
        self.inspect_owned(id)
            .await?
            .ok_or_else(|| RuntimeError::NotFound(id.to_string()))
    }

    pub(super) async fn start(&self, id: &str) -> RuntimeResult<ContainerStatus> {
        let status = self.require(id).await?;
        if status.state != DockerState::Running {
            match self
                .docker
                .start_container::<String>(&docker_name(id), None)
                .await
            {
                Ok(()) => {}
                // 304: already started, which is what was asked.
                Err(bollard::errors::Error::DockerResponseServerError {
                    status_code: 304, ..
                }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        self.inspect(id).await
    }

    pub(super) async fn stop(&self, id: &str, timeout: u32) -> RuntimeResult<ContainerStatus> {
        // Only our own containers: a name alone could belong to another cluster on this engine.
        if self.inspect_owned(id).await?.is_none() {
            return Ok(ContainerStatus::missing(id));
        }
        let options = StopContainerOptions {
            t: i64::from(timeout),
        };
        match self
            .docker
            .stop_container(&docker_name(id), Some(options))
            .await
        {
            Ok(()) => {}
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 304, ..
            }) => {}
            // Not found while stopping counts as stopped.
            Err(e) if is_not_found(&e) => return Ok(ContainerStatus::missing(id)),
            Err(e) => return Err(e.into()),
        }
        self.inspect(id).await
    }

    pub(super) async fn restart(&self, id: &str, timeout: u32) -> RuntimeResult<ContainerStatus> {
        self.require(id).await?;
        let options = RestartContainerOptions {
            t: timeout as isize,
        };
        self.docker
            .restart_container(&docker_name(id), Some(options))
            .await?;
        self.inspect(id).await
    }
}
