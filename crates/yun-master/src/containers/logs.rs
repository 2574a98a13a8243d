//! Logs streamed from the node as the container writes them: nothing buffered whole, no files.

use super::log_lines::LineSplitter;
use super::{find, node_client};
use super::{ContainerError, ContainerResult};
use crate::state::AppState;
use crate::store::ContainerRow;
use bytes::Bytes;
use futures::{Stream, StreamExt};

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
    state: &AppState,
    owner: Option<&str>,
    id: &str,
    query: LogsQuery,
    format: LogFormat,
) -> ContainerResult<(
    ContainerRow,
    futures::stream::BoxStream<'static, Result<Bytes, std::io::Error>>,
)> {
    let row = find(state, owner, id).await?;
    let client = node_client(state, &row)?;
    let stream = client
        .logs(&row.id, query.tail, query.follow)
        .await
        .map_err(|e| ContainerError::node(&row.node_name, e))?;
    let chunks = stream.map(|item| {
        item.map(|chunk| (chunk.stderr, chunk.ts, Bytes::from(chunk.data)))
            .map_err(std::io::Error::other)
    });
    let out = match format {
        LogFormat::Raw => chunks.map(|item| item.map(|(_, _, data)| data)).boxed(),
        LogFormat::Ndjson => ndjson(chunks).boxed(),
    };
    Ok((row, out))
}

fn ndjson(
    chunks: impl Stream<Item = Result<(bool, String, Bytes), std::io::Error>> + Send + 'static,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    async_stream::try_stream! {
        let mut splitter = LineSplitter::default();
        futures::pin_mut!(chunks);
        while let Some(item) = chunks.next().await {
            let (stderr, ts, data) = item?;
            let mut out = Vec::new();
            splitter.push(stderr, &ts, &data, &mut out);
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
