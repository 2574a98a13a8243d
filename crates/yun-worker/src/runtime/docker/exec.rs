//! A command in one of this node's running containers: with a TTY (one stream of terminal
//! bytes) or without (stdout and stderr apart, stdin binary-safe).

use super::super::{ExecChunk, ExecSession, RuntimeError, RuntimeResult};
use super::{docker_name, DockerRuntime};
use bollard::container::{DownloadFromContainerOptions, LogOutput};
use bollard::exec::{CreateExecOptions, ResizeExecOptions, StartExecOptions, StartExecResults};
use futures::StreamExt;

/// The search path the engine uses when an image sets none.
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

impl DockerRuntime {
    /// Refuses a program the container does not have, before the engine is asked to run it:
    /// the engine's answer would be an OCI error after the console opened, and an image built
    /// `FROM scratch` (the demo's) has no shell at all. A bare name is looked for along the
    /// container's `PATH`; a relative path is left to the engine.
    async fn program_is_there(
        &self,
        id: &str,
        program: Option<&String>,
        path: &str,
    ) -> RuntimeResult<()> {
        let Some(program) = program else {
            return Ok(());
        };
        let candidates: Vec<String> = if program.starts_with('/') {
            vec![program.clone()]
        } else if program.contains('/') {
            return Ok(());
        } else {
            path.split(':')
                .filter(|dir| dir.starts_with('/'))
                .map(|dir| format!("{}/{program}", dir.trim_end_matches('/')))
                .collect()
        };
        for candidate in &candidates {
            if self.has_path(id, candidate).await? {
                return Ok(());
            }
        }
        Err(RuntimeError::CommandCannotRun(format!(
            "{program} is not there (an image built FROM scratch, as the demo is, has no \
             shell); run a program the image has"
        )))
    }

    /// Whether `path` exists in the container's filesystem: the engine's archive call answers
    /// 404 for one that does not. Only the first piece of the archive is read.
    async fn has_path(&self, id: &str, path: &str) -> RuntimeResult<bool> {
        let mut archive = self.docker.download_from_container(
            &docker_name(id),
            Some(DownloadFromContainerOptions { path }),
        );
        match archive.next().await {
            Some(Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404,
                ..
            })) => Ok(false),
            Some(Err(e)) => Err(e.into()),
            Some(Ok(_)) | None => Ok(true),
        }
    }

    pub(super) async fn exec_in(
        &self,
        id: &str,
        command: &[String],
        (cols, rows): (u16, u16),
        tty: bool,
    ) -> RuntimeResult<ExecSession> {
        let Some((_, c)) = self.owned(id).await? else {
            return Err(RuntimeError::NotFound(id.to_string()));
        };
        if c.state.and_then(|s| s.running) != Some(true) {
            return Err(RuntimeError::NotRunning(id.to_string()));
        }
        let path = c
            .config
            .and_then(|config| config.env)
            .unwrap_or_default()
            .into_iter()
            .find_map(|e| e.strip_prefix("PATH=").map(str::to_string))
            .unwrap_or_else(|| DEFAULT_PATH.to_string());
        self.program_is_there(id, command.first(), &path).await?;
        let created = self
            .docker
            .create_exec(
                &docker_name(id),
                CreateExecOptions::<String> {
                    attach_stdin: Some(true),
                    attach_stdout: Some(true),
                    attach_stderr: Some(true),
                    tty: Some(tty),
                    cmd: Some(command.to_vec()),
                    // The container's own user and no-new-privileges apply; never privileged.
                    privileged: Some(false),
                    ..Default::default()
                },
            )
            .await?;
        let started = self
            .docker
            .start_exec(
                &created.id,
                Some(StartExecOptions {
                    detach: false,
                    tty,
                    output_capacity: None,
                }),
            )
            .await?;
        let StartExecResults::Attached { output, input } = started else {
            return Err(RuntimeError::Unsupported("a detached exec"));
        };
        if tty && cols > 0 && rows > 0 {
            // The process may already be gone; a failed first resize is not an error.
            let _ = self.resize(&created.id, (cols, rows)).await;
        }
        let output = output
            .map(|item| {
                item.map(|o| match o {
                    LogOutput::StdErr { message } => ExecChunk {
                        stderr: true,
                        data: message,
                    },
                    other => ExecChunk {
                        stderr: false,
                        data: other.into_bytes(),
                    },
                })
                .map_err(RuntimeError::Docker)
            })
            .boxed();
        Ok(ExecSession {
            exec_id: created.id,
            output,
            input,
        })
    }

    pub(super) async fn resize(
        &self,
        exec_id: &str,
        (cols, rows): (u16, u16),
    ) -> RuntimeResult<()> {
        self.docker
            .resize_exec(
                exec_id,
                ResizeExecOptions {
                    height: rows,
                    width: cols,
                },
            )
            .await?;
        Ok(())
    }

    pub(super) async fn exit_code(&self, exec_id: &str) -> RuntimeResult<i64> {
        // The output closes a moment before the engine records the exit; ask until it has.
        for _ in 0..50 {
            let inspect = self.docker.inspect_exec(exec_id).await?;
            if inspect.running != Some(true) {
                return Ok(inspect.exit_code.unwrap_or(-1));
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        Ok(-1)
    }
}
