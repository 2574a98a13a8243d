//! Logs streamed from the node as the container writes them: nothing buffered whole, no files.

use super::log_lines::LineSplitter;
use super::Containers;
use super::{find, node_client};
use super::{ContainerError, ContainerResult};
use bytes::Bytes;
use futures::{Stream, StreamExt};
use yun_core::node::LogChunk;
use yun_store::ContainerRow;

#[derive(Debug, Clone, Copy)]
pub struct LogsQuery {
    pub tail: Option<u32>,
    pub follow: bool,
}

/// How the log bytes are framed for the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// The container's bytes as written, stdout and stderr interleaved.
    Raw,
    /// One JSON object per line saying which stream it came from.
    Ndjson,
}

/// Opens the stream, so that a missing container or a down node is an error before any byte.
pub async fn open_logs(
    containers: &Containers,
    owner: Option<&str>,
    id: &str,
    query: LogsQuery,
    format: LogFormat,
) -> ContainerResult<(
    ContainerRow,
    futures::stream::BoxStream<'static, Result<Bytes, std::io::Error>>,
)> {
    let row = find(containers, owner, id).await?;
    let client = node_client(containers, &row)?;
    let stream = client
        .logs(&row.id, query.tail, query.follow)
        .await
        .map_err(|e| ContainerError::node(&row.node_name, e))?;
    // Each batch the node sent is one piece of the answer: the client's reads follow the node's.
    let batches = stream.map(|item| item.map_err(std::io::Error::other));
    let out = match format {
        LogFormat::Raw => batches
            .map(|item| item.map(|batch| Bytes::from(joined(batch))))
            .boxed(),
        LogFormat::Ndjson => ndjson(batches).boxed(),
    };
    Ok((row, out))
}

/// A batch's bytes in order, as the container wrote them.
fn joined(batch: Vec<LogChunk>) -> Vec<u8> {
    match <[LogChunk; 1]>::try_from(batch) {
        Ok([one]) => one.data,
        Err(many) => many.into_iter().flat_map(|c| c.data).collect(),
    }
}

fn ndjson(
    batches: impl Stream<Item = Result<Vec<LogChunk>, std::io::Error>> + Send + 'static,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    async_stream::try_stream! {
        let mut splitter = LineSplitter::default();
        futures::pin_mut!(batches);
        while let Some(batch) = batches.next().await {
            let mut out = Vec::new();
            for chunk in batch? {
                splitter.push(chunk.stderr, &chunk.ts, &chunk.data, &mut out);
            }
            if !out.is_empty() {
                yield Bytes::from(out);
            }
        }
        let mut out = Vec::new();
        splitter.finish(&mut out);
        if !out.is_empty() {
            yield Bytes::from(out);
        }
    }
}
