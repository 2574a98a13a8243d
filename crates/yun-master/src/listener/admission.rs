//! Which connections the HTTP listener keeps: at most so many in all (below the open-file
//! limit, so a flood cannot starve the store, the RPC port and the workers' connections of
//! descriptors) and so many per source address. A refused connection is closed at once; an
//! admitted one holds a ticket until its socket closes, streams included. Trusted proxies carry
//! everyone's connections, so only the total applies to them.

use ipnet::IpNet;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

pub struct Admission {
    total: usize,
    per_source: usize,
    trusted: Vec<IpNet>,
    open: Mutex<Open>,
}

#[derive(Default)]
struct Open {
    all: usize,
    by_source: HashMap<IpAddr, usize>,
}

/// Why a connection was closed unserved.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    Full,
    SourceFull,
}

/// Held for as long as an admitted connection's socket is open.
pub struct Ticket {
    admission: Arc<Admission>,
    source: Option<IpAddr>,
}

impl Admission {
    pub fn new(total: usize, per_source: usize, trusted: Vec<IpNet>) -> Arc<Self> {
        Arc::new(Self {
            total,
            per_source,
            trusted,
            open: Mutex::new(Open::default()),
        })
    }

    pub fn admit(self: &Arc<Self>, peer: IpAddr) -> Result<Ticket, Refusal> {
        let mut open = self.open.lock().expect("admission");
        if open.all >= self.total {
            return Err(Refusal::Full);
        }
        let counted = !self.trusted.iter().any(|n| n.contains(&peer));
        let source = counted.then(|| super::source::throttle_key(peer));
        if let Some(s) = source {
            let n = open.by_source.entry(s).or_default();
            if *n >= self.per_source {
                return Err(Refusal::SourceFull);
            }
            *n += 1;
        }
        open.all += 1;
        Ok(Ticket {
            admission: self.clone(),
            source,
        })
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.open.lock().expect("admission").all
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut open = self.admission.open.lock().expect("admission");
        open.all -= 1;
        if let Some(s) = self.source {
            if let Some(n) = open.by_source.get_mut(&s) {
                *n -= 1;
                if *n == 0 {
                    open.by_source.remove(&s);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_hold_per_source_and_in_all_and_free_on_close() {
        let a = Admission::new(3, 2, vec!["10.0.0.0/8".parse().unwrap()]);
        let (x, y, proxy) = (
            "192.0.2.1".parse().unwrap(),
            "192.0.2.2".parse().unwrap(),
            "10.0.0.5".parse().unwrap(),
        );
        let t1 = a.admit(x).unwrap();
        let _t2 = a.admit(x).unwrap();
        assert_eq!(a.admit(x).err(), Some(Refusal::SourceFull));
        let _t3 = a.admit(y).unwrap();
        assert_eq!(a.admit(proxy).err(), Some(Refusal::Full));
        drop(t1);
        assert_eq!(a.open(), 2);
        let _t4 = a.admit(proxy).unwrap();
        assert_eq!(a.open(), 3);
    }

    #[test]
    fn a_trusted_proxy_is_held_only_by_the_total() {
        let a = Admission::new(10, 1, vec!["10.0.0.0/8".parse().unwrap()]);
        let proxy = "10.0.0.5".parse().unwrap();
        let tickets: Vec<_> = (0..5).map(|_| a.admit(proxy).unwrap()).collect();
        assert_eq!(a.open(), tickets.len());
    }
}
