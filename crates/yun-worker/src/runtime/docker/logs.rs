//! A container's logs as a stream straight from the engine: nothing buffered whole, no files.

use super::super::{LogChunk, LogStream, LogsQuery, RuntimeError, RuntimeResult};
use super::{docker_name, DockerRuntime};
use bollard::container::{LogOutput, LogsOptions};
use futures::stream::BoxStream;
use futures::StreamExt;

impl DockerRuntime {
    pub(super) async fn log_stream(
        &self,
        id: &str,
        query: LogsQuery,
    ) -> RuntimeResult<BoxStream<'static, RuntimeResult<LogChunk>>> {
        if self.inspect_owned(id).await?.is_none() {
            return Err(RuntimeError::NotFound(id.to_string()));
        }
        let options = LogsOptions::<String> {
            follow: query.follow,
            stdout: true,
            stderr: true,
            since: query.since_unix,
            tail: query
                .tail
                .map(|n| n.to_string())
                .unwrap_or_else(|| "all".into()),
            ..Default::default()
        };
        let stream = self
            .docker
            .logs(&docker_name(id), Some(options))
            .filter_map(|item| async move {
                match item {
                    Ok(LogOutput::StdOut { message }) | Ok(LogOutput::Console { message }) => {
                        Some(Ok(LogChunk {
                            stream: LogStream::Stdout,
                            data: message,
                        }))
                    }
                    Ok(LogOutput::StdErr { message }) => Some(Ok(LogChunk {
                        stream: LogStream::Stderr,
                        data: message,
                    })),
                    Ok(LogOutput::StdIn { .. }) => None,
                    Err(e) => Some(Err(RuntimeError::Docker(e))),
                }
            });
        Ok(stream.boxed())
    }
}
