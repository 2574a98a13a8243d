//! Every live stream belongs to the session that opened it, so ending a session (a logout or
//! its expiry) or every session of an account (a ban) ends its consoles, terminals, stats
//! sockets, event streams and followed logs at once; none outlives the right to see it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use yun_store::SessionUser;

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
                // Also ends the session's expiry timer.
                e.ended.cancel();
                open.remove(&self.session);
            }
        }
    }
}

impl SessionStreams {
    /// Registers a stream opened in `user`'s session; it ends when the session expires, if
    /// nothing ends it sooner.
    pub fn open(&self, user: &SessionUser) -> StreamGuard {
        self.open_until(&user.session, &user.id, user.session_expires_at)
    }

    fn open_until(&self, session: &str, user: &str, expires_at_ms: i64) -> StreamGuard {
        let mut open = self.open.lock().expect("session streams");
        let e = open.entry(session.to_string()).or_insert_with(|| {
            let ended = CancellationToken::new();
            end_at_expiry(ended.clone(), expires_at_ms);
            Entry {
                user: user.to_string(),
                ended,
                streams: 0,
            }
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

/// Ends a session's streams when the session expires (the timer goes with its last stream).
fn end_at_expiry(ended: CancellationToken, expires_at_ms: i64) {
    let left = expires_at_ms.saturating_sub(chrono::Utc::now().timestamp_millis());
    let left = Duration::from_millis(u64::try_from(left).unwrap_or(0));
    tokio::spawn(async move {
        tokio::select! {
            () = tokio::time::sleep(left) => ended.cancel(),
            () = ended.cancelled() => {}
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn far() -> i64 {
        chrono::Utc::now().timestamp_millis() + 3_600_000
    }

    #[tokio::test]
    async fn a_session_ends_its_own_streams_and_a_ban_all_of_a_users() {
        let s = SessionStreams::default();
        let (a1, a2, b) = (
            s.open_until("s1", "ann", far()),
            s.open_until("s2", "ann", far()),
            s.open_until("s3", "bob", far()),
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

    #[tokio::test]
    async fn streams_end_when_their_session_expires() {
        let s = SessionStreams::default();
        let soon = chrono::Utc::now().timestamp_millis() + 200;
        let (expiring, lasting) = (
            s.open_until("s1", "ann", soon),
            s.open_until("s2", "ann", far()),
        );
        tokio::time::timeout(Duration::from_secs(5), expiring.ended())
            .await
            .expect("the stream ended with its session");
        assert!(!lasting.ended.is_cancelled());
    }
}
