//! Every live stream belongs to the session that opened it, so ending a session (a logout) or
//! every session of an account (a ban) ends its consoles, terminals, stats sockets, event
//! streams and followed logs at once; none outlives the right to see it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

#[derive(Clone, Default)]
pub struct SessionStreams {
    open: Arc<Mutex<HashMap<String, Entry>>>,
}

struct Entry {
    user: String,
    ended: CancellationToken,
    streams: usize,
}

/// Held by one open stream; `ended` fires when its session ends.
pub struct StreamGuard {
    registry: SessionStreams,
    session: String,
    ended: CancellationToken,
}

impl StreamGuard {
    /// Resolves when the stream's session is over.
    pub async fn ended(&self) {
        self.ended.cancelled().await
    }

    /// Resolves when the session is over, owning the guard (for a response body's stream).
    pub async fn into_ended(self) {
        let ended = self.ended.clone();
        ended.cancelled().await;
        drop(self);
    }
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        let mut open = self.registry.open.lock().expect("session streams");
        if let Some(e) = open.get_mut(&self.session) {
            e.streams -= 1;
            if e.streams == 0 {
                open.remove(&self.session);
            }
        }
    }
}

impl SessionStreams {
    /// Registers a stream of `session` (its token's hash), opened by `user`.
    pub fn open(&self, session: &str, user: &str) -> StreamGuard {
        let mut open = self.open.lock().expect("session streams");
        let e = open.entry(session.to_string()).or_insert_with(|| Entry {
            user: user.to_string(),
            ended: CancellationToken::new(),
            streams: 0,
        });
        e.streams += 1;
        StreamGuard {
            registry: self.clone(),
            session: session.to_string(),
            ended: e.ended.clone(),
        }
    }

    /// Ends every stream of one session.
    pub fn end_session(&self, session: &str) {
        if let Some(e) = self.open.lock().expect("session streams").get(session) {
            e.ended.cancel();
        }
    }

    /// Ends every stream of every session of `user`.
    pub fn end_user(&self, user: &str) -> usize {
        let open = self.open.lock().expect("session streams");
        let mut ended = 0;
        for e in open.values().filter(|e| e.user == user) {
            e.ended.cancel();
            ended += e.streams;
        }
        ended
    }

    /// Streams open now (for tests and, later, metrics).
    pub fn count(&self) -> usize {
        self.open
            .lock()
            .expect("session streams")
            .values()
            .map(|e| e.streams)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_session_ends_its_own_streams_and_a_ban_all_of_a_users() {
        let s = SessionStreams::default();
        let (a1, a2, b) = (
            s.open("s1", "ann"),
            s.open("s2", "ann"),
            s.open("s3", "bob"),
        );
        assert_eq!(s.count(), 3);
        s.end_session("s1");
        a1.ended().await;
        assert!(!a2.ended.is_cancelled());
        assert_eq!(s.end_user("ann"), 2);
        a2.ended().await;
        assert!(!b.ended.is_cancelled());
        drop((a1, a2, b));
        assert_eq!(s.count(), 0, "closed streams leave nothing behind");
    }
}
