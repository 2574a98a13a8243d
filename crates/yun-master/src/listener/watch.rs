//! What the idle timeout watches: when a connection's socket last moved a byte, and whether a
//! whole answer (one with a length, written at once) is waiting for the client to read it. A
//! client that stops reading such an answer is cut after the idle timeout. Streams (answers
//! without a length: followed logs, events, downloads that pause) and upgraded WebSockets may
//! stay quiet as long as they like.

use super::admission::Ticket;
use axum::body::{Body, Bytes};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

pub struct Activity {
    born: Instant,
    /// Milliseconds after `born` of the last byte read or written.
    last_io_ms: AtomicU64,
    /// Whole answers being written.
    writing: AtomicUsize,
}

impl Activity {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            born: Instant::now(),
            last_io_ms: AtomicU64::new(0),
            writing: AtomicUsize::new(0),
        })
    }

    fn touch(&self) {
        let ms = u64::try_from(self.born.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_io_ms.store(ms, Ordering::Relaxed);
    }

    /// An answer is being written and the client has taken nothing for `idle`.
    pub fn stalled(&self, idle: Duration) -> bool {
        let last = Duration::from_millis(self.last_io_ms.load(Ordering::Relaxed));
        self.writing.load(Ordering::Relaxed) > 0 && self.born.elapsed().saturating_sub(last) > idle
    }

    /// Tracks a response while its body is written, when it is a whole answer.
    pub fn track(self: &Arc<Self>, response: axum::response::Response) -> axum::response::Response {
        use http_body::Body as _;
        if response.body().size_hint().exact().is_none() {
            return response;
        }
        self.writing.fetch_add(1, Ordering::Relaxed);
        let guard = Writing(self.clone());
        response.map(|body| {
            Body::new(Guarded {
                body,
                _guard: guard,
            })
        })
    }
}

struct Writing(Arc<Activity>);

impl Drop for Writing {
    fn drop(&mut self) {
        self.0.writing.fetch_sub(1, Ordering::Relaxed);
    }
}

struct Guarded {
    body: Body,
    _guard: Writing,
}

impl http_body::Body for Guarded {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// A connection's socket, with its admission ticket (held until the socket closes, through a
/// WebSocket upgrade too) and its activity.
pub struct Watched<T> {
    inner: T,
    activity: Arc<Activity>,
    _ticket: Ticket,
}

impl<T> Watched<T> {
    pub fn new(inner: T, activity: Arc<Activity>, ticket: Ticket) -> Self {
        Self {
            inner,
            activity,
            _ticket: ticket,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_a_whole_answer_left_unread_counts_as_stalled() {
        let idle = Duration::from_millis(50);
        let a = Activity::new();
        let whole = a.track(axum::response::Response::new(Body::from("a whole answer")));
        let stream = a.track(axum::response::Response::new(Body::from_stream(
            futures::stream::pending::<Result<Bytes, std::io::Error>>(),
        )));
        tokio::time::sleep(idle * 2).await;
        assert!(a.stalled(idle), "a whole answer nobody reads");
        drop(whole);
        assert!(!a.stalled(idle), "a quiet stream is not stalled");
        drop(stream);
    }
}
