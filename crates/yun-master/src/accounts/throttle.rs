//! Throttles, kept in this master's memory (decided: counters are per master; with several
//! masters a guesser gets each master's allowance, which the shared store of the PostgreSQL
//! issue can remove; the limits are small enough that a few masters do not change the picture).
//!
//! Logins back off exponentially after a few failures, by account and by source address. The
//! account's wait is capped at a minute; the source's grows to a quarter of an hour, which
//! stops one address from guessing. A login from a known device of the account (OWASP's device
//! cookies) is throttled by that device's own failures alone, so neither a stranger's flood
//! against the account nor a neighbour behind the same address keeps its owner out. A refused
//! attempt checks no password and does not lengthen the wait. Registrations are limited per
//! source address and hour.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Every throttle counts an address as the listener does (an IPv6 client by its /64).
fn source_key(ip: IpAddr) -> IpAddr {
    crate::listener::source::throttle_key(ip)
}

/// How failures turn into waits.
#[derive(Debug, Clone, Copy)]
struct Backoff {
    /// Failures allowed before the first wait.
    free: u32,
    /// The first wait; each further failure doubles it.
    first: Duration,
    cap: Duration,
    /// A key with no failure for this long starts over.
    forget_after: Duration,
}

const BY_ACCOUNT: Backoff = Backoff {
    free: 5,
    first: Duration::from_secs(1),
    cap: Duration::from_secs(60),
    forget_after: Duration::from_secs(3600),
};

const BY_SOURCE: Backoff = Backoff {
    free: 10,
    first: Duration::from_secs(1),
    cap: Duration::from_secs(15 * 60),
    forget_after: Duration::from_secs(3600),
};

/// Keys tracked at most, per table: beyond it, forgotten keys are dropped and, if none are,
/// new keys go untracked (an attacker needs that many addresses or accounts to get there).
const MAX_KEYS: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
    blocked_until: Option<Instant>,
}

struct Table<K> {
    rule: Backoff,
    keys: Mutex<HashMap<K, Failures>>,
}

impl<K: Hash + Eq + Clone> Table<K> {
    fn new(rule: Backoff) -> Self {
        Self {
            rule,
            keys: Mutex::new(HashMap::new()),
        }
    }

    fn wait(&self, key: &K, now: Instant) -> Option<Duration> {
        let keys = self.keys.lock().expect("throttle table");
        let until = keys.get(key)?.blocked_until?;
        (until > now).then(|| until - now)
    }

    /// Counts a failure; answers the wait it starts, if any.
    fn fail(&self, key: &K, now: Instant) -> Option<Duration> {
        let rule = self.rule;
        let mut keys = self.keys.lock().expect("throttle table");
        if keys.len() >= MAX_KEYS && !keys.contains_key(key) {
            keys.retain(|_, f| now.duration_since(f.last) < rule.forget_after);
            if keys.len() >= MAX_KEYS {
                return None;
            }
        }
        let f = keys.entry(key.clone()).or_insert(Failures {
            count: 0,
            last: now,
            blocked_until: None,
        });
        if now.duration_since(f.last) >= rule.forget_after {
            f.count = 0;
        }
        f.count += 1;
        f.last = now;
        let over = f.count.checked_sub(rule.free + 1)?;
        let wait = rule
            .first
            .saturating_mul(2u32.saturating_pow(over.min(30)))
            .min(rule.cap);
        f.blocked_until = Some(now + wait);
        Some(wait)
    }

    fn forget(&self, key: &K) {
        self.keys.lock().expect("throttle table").remove(key);
    }
}

/// A known device guesses no faster than a stranger's account would.
const BY_DEVICE: Backoff = BY_ACCOUNT;

/// Who is logging in, as the throttles tell them apart.
#[derive(Debug, Clone, Copy)]
pub enum Attempt<'a> {
    /// No device of the account: counted by account and by source.
    Stranger { username: &'a str, source: IpAddr },
    /// A known device of the account (the SHA-256 of its token), or a session of it proving
    /// its password again: counted by that key alone.
    Known(&'a str),
}

/// Failed logins, by account and by source address, or by known device.
pub struct LoginThrottle {
    accounts: Table<String>,
    sources: Table<IpAddr>,
    devices: Table<String>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self {
            accounts: Table::new(BY_ACCOUNT),
            sources: Table::new(BY_SOURCE),
            devices: Table::new(BY_DEVICE),
        }
    }
}

impl LoginThrottle {
    /// How long this login must wait, when a table that counts it is waiting.
    pub fn wait(&self, attempt: Attempt<'_>) -> Option<Duration> {
        self.wait_at(attempt, Instant::now())
    }

    fn wait_at(&self, attempt: Attempt<'_>, now: Instant) -> Option<Duration> {
        match attempt {
            Attempt::Stranger { username, source } => {
                let a = self.accounts.wait(&username.to_string(), now);
                let s = self.sources.wait(&source_key(source), now);
                a.max(s)
            }
            Attempt::Known(device) => self.devices.wait(&device.to_string(), now),
        }
    }

    /// Counts a failed login; answers the wait it starts, if it starts one.
    pub fn failed(&self, attempt: Attempt<'_>) -> Option<Duration> {
        self.failed_at(attempt, Instant::now())
    }

    fn failed_at(&self, attempt: Attempt<'_>, now: Instant) -> Option<Duration> {
        match attempt {
            Attempt::Stranger { username, source } => {
                let a = self.accounts.fail(&username.to_string(), now);
                let s = self.sources.fail(&source_key(source), now);
                a.max(s)
            }
            Attempt::Known(device) => self.devices.fail(&device.to_string(), now),
        }
    }

    /// A good password clears the failures of what counted the login: the device's, or the
    /// account's. A source's failures are not cleared by one success: a guesser with an
    /// account of their own could otherwise reset their address's count at will.
    pub fn succeeded(&self, attempt: Attempt<'_>) {
        match attempt {
            Attempt::Stranger { username, .. } => self.accounts.forget(&username.to_string()),
            Attempt::Known(device) => self.devices.forget(&device.to_string()),
        }
    }
}

/// Registrations per source address in a rolling hour.
pub struct SignupThrottle {
    per_hour: u32,
    sources: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

const HOUR: Duration = Duration::from_secs(3600);

impl SignupThrottle {
    /// `per_hour` 0 means no limit.
    pub fn new(per_hour: u32) -> Self {
        Self {
            per_hour,
            sources: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one registration from the source's allowance, or answers how long until the
    /// allowance renews.
    pub fn take(&self, source: IpAddr) -> Result<(), Duration> {
        self.take_at(source, Instant::now())
    }

    fn take_at(&self, source: IpAddr, now: Instant) -> Result<(), Duration> {
        if self.per_hour == 0 {
            return Ok(());
        }
        let mut sources = self.sources.lock().expect("signup throttle");
        if sources.len() >= MAX_KEYS {
            sources.retain(|_, (start, _)| now.duration_since(*start) < HOUR);
        }
        let (start, count) = sources.entry(source_key(source)).or_insert((now, 0));
        if now.duration_since(*start) >= HOUR {
            (*start, *count) = (now, 0);
        }
        if *count >= self.per_hour {
            return Err(HOUR - now.duration_since(*start));
        }
        *count += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn stranger<'a>(username: &'a str, source: &str) -> Attempt<'a> {
        Attempt::Stranger {
            username,
            source: ip(source),
        }
    }

    #[test]
    fn a_guesser_waits_longer_and_longer_and_an_owner_at_most_a_minute() {
        let t = LoginThrottle::default();
        let start = Instant::now();
        let guesser = stranger("ann", "203.0.113.1");
        let mut now = start;
        for _ in 0..5 {
            assert_eq!(t.failed_at(guesser, now), None, "free failures");
        }
        assert_eq!(t.failed_at(guesser, now), Some(Duration::from_secs(1)));
        assert!(t.wait_at(guesser, now).is_some());
        // Each failure after its wait doubles the account's wait, up to a minute.
        let mut waits = Vec::new();
        for _ in 0..8 {
            now += t.wait_at(guesser, now).unwrap_or_default();
            waits.push(t.failed_at(stranger("ann", "198.51.100.2"), now).unwrap());
        }
        assert_eq!(waits[0], Duration::from_secs(2));
        assert_eq!(*waits.last().unwrap(), Duration::from_secs(60), "capped");
        // The owner, from elsewhere, waits out at most the minute and then gets in.
        let owner = stranger("ann", "192.0.2.50");
        assert!(t.wait_at(owner, now).unwrap() <= Duration::from_secs(60));
        now += Duration::from_secs(61);
        assert_eq!(t.wait_at(owner, now), None);
        t.succeeded(owner);
        assert_eq!(t.failed_at(owner, now), None, "a success starts over");
        // Another account from the guesser's address is not held by ann's failures.
        assert_eq!(t.wait_at(stranger("bob", "192.0.2.50"), now), None);
    }

    #[test]
    fn a_known_device_is_held_by_its_own_failures_alone() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        // A flood against ann's account from everywhere, and from the owner's own address.
        for i in 0..50 {
            t.failed_at(stranger("ann", &format!("203.0.113.{i}")), now);
            t.failed_at(stranger("ann", "192.0.2.50"), now);
        }
        assert!(t.wait_at(stranger("ann", "192.0.2.50"), now).is_some());
        let device = Attempt::Known("hash-of-anns-laptop");
        assert_eq!(t.wait_at(device, now), None, "the owner's device gets in");
        // The device's own guesses back off as an account's would.
        for _ in 0..5 {
            assert_eq!(t.failed_at(device, now), None);
        }
        assert_eq!(t.failed_at(device, now), Some(Duration::from_secs(1)));
        assert!(t.wait_at(device, now).is_some());
        assert_eq!(t.wait_at(Attempt::Known("another"), now), None);
        t.succeeded(device);
        assert_eq!(t.wait_at(device, now), None);
    }

    #[test]
    fn one_source_trying_many_accounts_is_stopped() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        let names: Vec<String> = (0..11).map(|i| format!("user{i}")).collect();
        let waits: Vec<_> = names
            .iter()
            .map(|name| t.failed_at(stranger(name, "203.0.113.7"), now))
            .collect();
        assert!(waits[..10].iter().all(Option::is_none));
        assert_eq!(waits[10], Some(Duration::from_secs(1)));
        assert!(t
            .wait_at(stranger("someone-else", "203.0.113.7"), now)
            .is_some());
        assert!(t
            .wait_at(stranger("someone-else", "192.0.2.1"), now)
            .is_none());
        // A success for an account of the guesser's own leaves the address waiting.
        t.succeeded(stranger("mallory", "203.0.113.7"));
        assert!(t
            .wait_at(stranger("someone-else", "203.0.113.7"), now)
            .is_some());
    }

    #[test]
    fn failures_are_forgotten_after_an_hour() {
        let t = LoginThrottle::default();
        let (now, cy) = (Instant::now(), stranger("cy", "203.0.113.8"));
        for _ in 0..5 {
            t.failed_at(cy, now);
        }
        let later = now + Duration::from_secs(3601);
        assert_eq!(t.failed_at(cy, later), None);
    }

    #[test]
    fn registrations_are_counted_per_source_and_hour() {
        let t = SignupThrottle::new(2);
        let (now, a, b) = (Instant::now(), ip("203.0.113.1"), ip("203.0.113.2"));
        assert!(t.take_at(a, now).is_ok());
        assert!(t.take_at(a, now).is_ok());
        let wait = t.take_at(a, now).unwrap_err();
        assert!(wait > Duration::from_secs(3590));
        assert!(t.take_at(b, now).is_ok());
        assert!(t.take_at(a, now + HOUR).is_ok());
        assert!(SignupThrottle::new(0).take_at(a, now).is_ok());
    }
}
