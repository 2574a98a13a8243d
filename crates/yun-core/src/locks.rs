//! One lock per key (a container, an owner), made on first use and dropped once nobody holds
//! it, so the map does not grow with every key ever seen. Generic over the lock, so the
//! master's per-container mutexes and the worker's per-owner read-write locks share it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Entries beyond this are swept of locks nobody holds before a new one is made.
const SWEEP_ABOVE: usize = 1024;

pub struct KeyedLocks<L> {
    inner: Arc<Mutex<HashMap<String, Arc<L>>>>,
}

impl<L> Clone for KeyedLocks<L> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<L> Default for KeyedLocks<L> {
    fn default() -> Self {
        Self {
            inner: Arc::default(),
        }
    }
}

impl<L: Default> KeyedLocks<L> {
    /// The lock for `key`; every caller with the same key gets the same lock.
    pub fn get(&self, key: &str) -> Arc<L> {
        let mut map = self.inner.lock().expect("keyed locks");
        if map.len() > SWEEP_ABOVE {
            map.retain(|_, l| Arc::strong_count(l) > 1);
        }
        map.entry(key.to_string()).or_default().clone()
    }

    /// Keys with a lock in the map (held or not yet swept).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.inner.lock().expect("keyed locks").len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_key_one_lock_and_unheld_locks_are_swept() {
        let locks: KeyedLocks<Mutex<()>> = KeyedLocks::default();
        let held = locks.get("a");
        assert!(Arc::ptr_eq(&held, &locks.get("a")));
        assert!(!Arc::ptr_eq(&held, &locks.get("b")));
        let mut i = 0;
        while locks.len() <= SWEEP_ABOVE {
            locks.get(&i.to_string());
            i += 1;
        }
        locks.get("after the sweep");
        // Only the held lock and the one just made survive the sweep.
        assert_eq!(locks.len(), 2);
        assert!(Arc::ptr_eq(&held, &locks.get("a")));
    }
}
