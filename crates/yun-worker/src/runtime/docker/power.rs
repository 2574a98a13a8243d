//! Start, stop and restart. Each is idempotent and answers with the container's new status.

use super::super::{ContainerStatus, DockerState, RuntimeError, RuntimeResult};
use super::{docker_name, is_not_found, DockerRuntime, LABEL_DISK};
use bollard::container::{InspectContainerOptions, RestartContainerOptions, StopContainerOptions};

impl DockerRuntime {
    async fn require(&self, id: &str) -> RuntimeResult<ContainerStatus> {
        self.inspect_owned(id)
            .await?
            .ok_or_else(|| RuntimeError::NotFound(id.to_string()))
    }

    /// Refuses to start a container that holds more than its plan's disk (one the disk check
    /// stopped, which would otherwise run on over it until the next check).
    async fn within_disk(&self, id: &str) -> RuntimeResult<()> {
        let Some((labels, _)) = self.owned(id).await? else {
            return Err(RuntimeError::NotFound(id.to_string()));
        };
        let allowed: u64 = labels
            .get(LABEL_DISK)
            .and_then(|d| d.parse().ok())
            .unwrap_or(0);
        if allowed == 0 {
            return Ok(());
        }
        let measured = self
            .docker
            .inspect_container(
                &docker_name(id),
                Some(InspectContainerOptions { size: true }),
            )
            .await?;
        let held = measured.size_rw.map_or(0, |s| s.max(0) as u64);
        if held > allowed {
            return Err(RuntimeError::OverDisk { held, allowed });
        }
        Ok(())
    }

    pub(super) async fn start(&self, id: &str) -> RuntimeResult<ContainerStatus> {
        let status = self.require(id).await?;
        if status.state != DockerState::Running {
            self.within_disk(id).await?;
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
