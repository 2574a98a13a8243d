//! Logs streamed from the node as the container writes them: nothing buffered whole, no files.

use super::{find, node_client};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::ContainerRow;
use bytes::Bytes;
use futures::{Stream, StreamExt};

#[derive(Debug, Clone, Copy)]
pub struct LogsQuery {
    pub tail: Option<u32>,
    pub follow: bool,
}

/// Opens the stream, so that a missing container or a down node is an error before any byte.
pub async fn open_logs(
    state: &AppState,
    owner: Option<&str>,
    id: &str,
    query: LogsQuery,
) -> ApiResult<(
    ContainerRow,
    impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
)> {
    let row = find(state, owner, id).await?;
    let client = node_client(state, &row)?;
    let stream = client
        .logs(&row.id, query.tail, query.follow)
        .await
        .map_err(|e| ApiError::from_worker(&row.node_name, e))?;
    let bytes = stream.map(|item| {
        item.map(|chunk| Bytes::from(chunk.data))
            .map_err(|s| std::io::Error::other(s.message().to_string()))
    });
    Ok((row, bytes))
}
