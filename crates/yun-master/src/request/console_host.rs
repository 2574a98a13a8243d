//! Where the console lives, by address: a node must never publish renters' ports there.
//! Browsers send a host's cookies to every port of it, so a renter's service that answers at
//! the console's host on any port would receive the console's session. It compares the
//! names (`is_named`) and the addresses the names stand for (`shared_by`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The host of a `Host` header or an origin's authority, without the port, lowercased.
pub fn hostname(authority: &str) -> String {
    let a = authority.trim();
    let host = if let Some(rest) = a.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        a.rsplit_once(':').map_or(a, |(h, port)| {
            if port.chars().all(|c| c.is_ascii_digit()) {
                h
            } else {
                a
            }
        })
    };
    host.to_ascii_lowercase()
}

/// The console's host (`--public-url`'s) and the addresses it stands for.
#[derive(Debug, Clone, Default)]
pub struct ConsoleHost {
    pub name: Option<String>,
    pub addresses: Vec<IpAddr>,
}

impl ConsoleHost {
    /// Resolves `--public-url`'s host once, at start. `localhost` is the loopback addresses
    /// without asking DNS (RFC 6761), as browsers treat it.
    pub async fn resolve(public_url: Option<&str>) -> Self {
        let Some(url) = public_url else {
            return Self::default();
        };
        let authority = url.split_once("://").map_or(url, |(_, a)| a);
        let authority = authority.split('/').next().unwrap_or("");
        let name = hostname(authority);
        let addresses = match addresses_of_name(&name) {
            Some(a) => a,
            None => tokio::net::lookup_host((name.as_str(), 0))
                .await
                .map(|addrs| addrs.map(|a| a.ip()).collect())
                .unwrap_or_default(),
        };
        Self {
            name: Some(name),
            addresses,
        }
    }

    /// Whether a node publishing on `public_host` would share a host name with the console
    /// (then renters' services would receive its cookie: operators are told at registration and
    /// in the node list).
    pub fn is_named(&self, public_host: &str) -> bool {
        self.name
            .as_deref()
            .is_some_and(|name| name == hostname(public_host))
    }

    /// Whether a node that publishes on `publish` (and is reached at `advertise_ip`) would
    /// answer at the console's host.
    pub fn shared_by(&self, publish: IpAddr, advertise_ip: Option<IpAddr>) -> bool {
        publishes_at(publish, advertise_ip, &self.addresses)
    }
}

/// The addresses a host name stands for without DNS: a literal address, or `localhost`.
pub fn addresses_of_name(host: &str) -> Option<Vec<IpAddr>> {
    if let Ok(a) = host.parse::<IpAddr>() {
        return Some(vec![a]);
    }
    if host == "localhost" || host.ends_with(".localhost") {
        return Some(vec![Ipv4Addr::LOCALHOST.into(), Ipv6Addr::LOCALHOST.into()]);
    }
    None
}

/// Whether publishing on `publish` answers at any of `addresses`. Every interface (0.0.0.0,
/// ::) covers the node's own addresses, loopback among them when the node is on this machine.
pub fn publishes_at(publish: IpAddr, advertise_ip: Option<IpAddr>, addresses: &[IpAddr]) -> bool {
    if publish.is_unspecified() {
        return addresses.iter().any(|a| {
            Some(*a) == advertise_ip
                || (a.is_loopback() && advertise_ip.is_some_and(|n| n.is_loopback()))
        });
    }
    addresses
        .iter()
        .any(|a| canonical(*a) == canonical(publish))
}

/// An IPv4-mapped IPv6 address as the IPv4 address it is.
fn canonical(a: IpAddr) -> IpAddr {
    match a {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(a, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn hostnames_drop_ports_and_case() {
        assert_eq!(hostname("LocalHost:8088"), "localhost");
        assert_eq!(hostname("127.0.0.1"), "127.0.0.1");
        assert_eq!(hostname("[::1]:8088"), "::1");
        assert_eq!(hostname("cloud.example.com"), "cloud.example.com");
    }

    #[test]
    fn localhost_is_loopback_and_another_loopback_address_is_not_it() {
        let console = addresses_of_name("localhost").unwrap();
        assert!(publishes_at(ip("127.0.0.1"), None, &console));
        assert!(publishes_at(ip("::1"), None, &console));
        assert!(publishes_at(ip("::ffff:127.0.0.1"), None, &console));
        assert!(!publishes_at(ip("127.0.0.2"), None, &console));
    }

    #[test]
    fn every_interface_covers_the_console_when_the_node_is_on_its_machine() {
        let console = addresses_of_name("localhost").unwrap();
        assert!(publishes_at(ip("0.0.0.0"), Some(ip("127.0.0.1")), &console));
        assert!(!publishes_at(ip("0.0.0.0"), Some(ip("10.0.0.5")), &console));
        let public = vec![ip("203.0.113.7")];
        assert!(publishes_at(ip("::"), Some(ip("203.0.113.7")), &public));
        assert!(publishes_at(ip("203.0.113.7"), None, &public));
        assert!(!publishes_at(ip("203.0.113.8"), None, &public));
    }
}
