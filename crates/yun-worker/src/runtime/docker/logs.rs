//! A container's logs as a stream straight from the engine: nothing buffered whole, no files.
//! Lines carry the engine's timestamps, which also let a followed stream drop the lines the
//! engine sends twice when its json-file log rotates under a reader.

use super::super::{LogChunk, LogStream, LogsQuery, RuntimeError, RuntimeResult};
use super::log_reader::LineSender;
use super::{docker_name, DockerRuntime};
use bollard::container::{LogOutput, LogsOptions};
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{FutureExt, StreamExt};

/// The most bytes of lines the reader hands over at once (half the waiting budget).
const BATCH_BYTES: usize = 32 * 1024;

/// Splits Docker's `<RFC 3339 nano> <message>` into its time and message.
fn split_timestamp(message: &Bytes) -> Option<(chrono::DateTime<chrono::Utc>, String, Bytes)> {
    let space = message.iter().position(|b| *b == b' ')?;
    let text = std::str::from_utf8(&message[..space]).ok()?;
    let ts = chrono::DateTime::parse_from_rfc3339(text)
        .ok()?
        .with_timezone(&chrono::Utc);
    Some((ts, text.to_string(), message.slice(space + 1..)))
}

/// Remembers the last line delivered of one stream, to recognise the engine repeating itself.
/// Per stream: the engine copies stdout and stderr separately, so their lines interleave in
/// the log file out of timestamp order, while each stream alone is in order.
#[derive(Default)]
struct Seen {
    last: Option<(chrono::DateTime<chrono::Utc>, Bytes)>,
}

impl Seen {
    /// False for a line older than the last one delivered, or the same line again.
    fn fresh(&mut self, ts: chrono::DateTime<chrono::Utc>, data: &Bytes) -> bool {
        if let Some((last, last_data)) = &self.last {
            if ts < *last || (ts == *last && data == last_data) {
                return false;
            }
        }
        self.last = Some((ts, data.clone()));
        true
    }
}

/// Lines read and not yet handed over, and the bytes they hold.
#[derive(Default)]
struct Gathered {
    lines: Vec<LogChunk>,
    bytes: usize,
}

impl Gathered {
    /// Hands the lines over to the rest of the worker; false when no one reads any more.
    async fn hand_over(&mut self, tx: &LineSender<RuntimeResult<Vec<LogChunk>>>) -> bool {
        let bytes = std::mem::take(&mut self.bytes);
        tx.send(Ok(std::mem::take(&mut self.lines)), bytes).await
    }
}

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
            timestamps: true,
            tail: query
                .tail
                .map(|n| n.to_string())
                .unwrap_or_else(|| "all".into()),
            ..Default::default()
        };
        let name = docker_name(id);
        let batches = self.logs.read(move |docker, tx| async move {
            let mut raw = docker.logs(&name, Some(options));
            let mut seen: [Seen; 2] = Default::default();
            let mut gathered = Gathered::default();
            loop {
                // With lines in hand, the connection gets one turn to hand over the next; if it
                // has none, the lines go now rather than wait.
                let item = if gathered.lines.is_empty() {
                    raw.next().await
                } else {
                    tokio::task::yield_now().await;
                    match raw.next().now_or_never() {
                        Some(item) => item,
                        None if gathered.hand_over(&tx).await => continue,
                        None => return,
                    }
                };
                let (stream, message) = match item {
                    None => break,
                    Some(Ok(LogOutput::StdOut { message }))
                    | Some(Ok(LogOutput::Console { message })) => (LogStream::Stdout, message),
                    Some(Ok(LogOutput::StdErr { message })) => (LogStream::Stderr, message),
                    Some(Ok(LogOutput::StdIn { .. })) => continue,
                    Some(Err(e)) => {
                        if gathered.hand_over(&tx).await {
                            tx.send(Err(RuntimeError::Docker(e)), 0).await;
                        }
                        return;
                    }
                };
                // A line of its own bytes: a slice of the engine's answer would keep the whole
                // read buffer it came in alive while it waits to be sent.
                let chunk = match split_timestamp(&message) {
                    Some((at, ts, data)) => {
                        let data = Bytes::copy_from_slice(&data);
                        if !seen[usize::from(stream == LogStream::Stderr)].fresh(at, &data) {
                            continue;
                        }
                        LogChunk { stream, data, ts }
                    }
                    None => {
                        let data = Bytes::copy_from_slice(&message);
                        LogChunk {
                            stream,
                            data,
                            ts: String::new(),
                        }
                    }
                };
                gathered.bytes += chunk.weight();
                gathered.lines.push(chunk);
                if gathered.bytes >= BATCH_BYTES && !gathered.hand_over(&tx).await {
                    return;
                }
            }
            if !gathered.lines.is_empty() {
                gathered.hand_over(&tx).await;
            }
        });
        // The trait's stream is of lines; the gRPC layer batches them again as they come.
        let lines = batches.flat_map(|batch| {
            futures::stream::iter(match batch {
                Ok(lines) => lines.into_iter().map(Ok).collect::<Vec<_>>(),
                Err(e) => vec![Err(e)],
            })
        });
        Ok(lines.boxed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_split_off_and_repeats_dropped() {
        let first = Bytes::from_static(b"2026-11-24T10:00:00.000000001Z line 1\n");
        let second = Bytes::from_static(b"2026-11-24T10:00:00.5Z line 2\n");
        let (t1, text, data) = split_timestamp(&first).unwrap();
        assert_eq!(text, "2026-11-24T10:00:00.000000001Z");
        assert_eq!(&data[..], b"line 1\n");
        let (t2, _, data2) = split_timestamp(&second).unwrap();
        let mut seen = Seen::default();
        assert!(seen.fresh(t1, &data));
        assert!(seen.fresh(t2, &data2));
        // After a rotation the engine sends older lines again: dropped.
        assert!(!seen.fresh(t1, &data));
        assert!(!seen.fresh(t2, &data2));
    }
}
