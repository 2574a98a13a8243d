//! A log leaves the worker in batches of whatever the engine has already written. One message a
//! line made a 100,000-line log cost 100,000 hand-offs between tasks on each side (about 6,000
//! lines a second); a batch never waits for more lines, so a followed log's new line still
//! leaves at once.

use crate::runtime::{LogChunk, RuntimeError};
use futures::{FutureExt, Stream, StreamExt};

/// A batch stops growing past this many bytes, far below gRPC's 4 MiB message limit (a
/// Docker log frame is at most 16 KiB).
pub const MAX_BATCH_BYTES: usize = 64 * 1024;

/// Groups the lines that are ready into one batch each; an error ends the stream after the
/// lines before it.
pub fn ready_batches(
    lines: impl Stream<Item = Result<LogChunk, RuntimeError>> + Send + 'static,
) -> impl Stream<Item = Result<Vec<LogChunk>, RuntimeError>> + Send + 'static {
    async_stream::stream! {
        let lines = lines.fuse();
        futures::pin_mut!(lines);
        while let Some(first) = lines.next().await {
            let first = match first {
                Ok(chunk) => chunk,
                Err(e) => {
                    yield Err(e);
                    return;
                }
            };
            let mut size = first.weight();
            let mut batch = vec![first];
            let mut failed = None;
            // Only lines already here join: a pending read ends the batch.
            while size < MAX_BATCH_BYTES {
                match lines.next().now_or_never() {
                    Some(Some(Ok(chunk))) => {
                        size += chunk.weight();
                        batch.push(chunk);
                    }
                    Some(Some(Err(e))) => {
                        failed = Some(e);
                        break;
                    }
                    Some(None) | None => break,
                }
            }
            yield Ok(batch);
            if let Some(e) = failed {
                yield Err(e);
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::LogStream;
    use futures::stream;

    fn line(n: usize, len: usize) -> Result<LogChunk, RuntimeError> {
        Ok(LogChunk {
            stream: LogStream::Stdout,
            data: bytes::Bytes::from(format!("{n:0len$}\n")),
            ts: String::new(),
        })
    }

    #[tokio::test]
    async fn ready_lines_share_a_batch_up_to_its_size_and_keep_their_order() {
        let lines: Vec<_> = (0..1000).map(|n| line(n, 1023)).collect();
        let batches: Vec<_> = ready_batches(stream::iter(lines)).collect().await;
        let sizes: Vec<_> = batches.iter().map(|b| b.as_ref().unwrap().len()).collect();
        // 1,024 bytes a line: 64 of them fill a batch.
        let mut expected = vec![64; 15];
        expected.push(40);
        assert_eq!(sizes, expected);
        let numbers: Vec<usize> = batches
            .into_iter()
            .flat_map(|b| b.unwrap())
            .map(|c| String::from_utf8_lossy(&c.data).trim().parse().unwrap())
            .collect();
        assert_eq!(numbers, (0..1000).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn a_line_that_is_not_yet_written_is_not_waited_for() {
        let (tx, rx) = futures::channel::mpsc::unbounded();
        let mut batches = Box::pin(ready_batches(rx));
        tx.unbounded_send(line(1, 4)).unwrap();
        tx.unbounded_send(line(2, 4)).unwrap();
        let first = batches.next().await.unwrap().unwrap();
        assert_eq!(first.len(), 2, "both lines were there");
        tx.unbounded_send(line(3, 4)).unwrap();
        let second = batches.next().await.unwrap().unwrap();
        assert_eq!(second.len(), 1, "the next line leaves on its own");
        drop(tx);
        assert!(batches.next().await.is_none());
    }

    #[tokio::test]
    async fn an_error_ends_the_stream_after_the_lines_before_it() {
        let lines = vec![
            line(1, 4),
            line(2, 4),
            Err(RuntimeError::NotFound("c1".into())),
            line(3, 4),
        ];
        let batches: Vec<_> = ready_batches(stream::iter(lines)).collect().await;
        assert_eq!(batches.len(), 2);
        assert_eq!(batches[0].as_ref().unwrap().len(), 2);
        assert!(matches!(batches[1], Err(RuntimeError::NotFound(_))));
    }
}
