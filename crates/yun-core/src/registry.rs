//! Which registry an image reference names, and which addresses no renter may make a node
//! contact (loopback, private, link-local): the pure half of the operator's image policy.

use std::net::IpAddr;

/// The registry a reference is pulled from: its first part when that names a host (a `.`, a
/// `:` or `localhost`), else Docker Hub as `docker.io`. Lowercased.
pub fn registry_host(reference: &str) -> String {
    let name = reference.split('@').next().unwrap_or(reference);
    match name.split_once('/') {
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            first.to_ascii_lowercase()
        }
        _ => "docker.io".into(),
    }
}

/// The host of `host[:port]` (an IPv6 literal in brackets keeps its brackets off).
pub fn host_only(registry: &str) -> &str {
    if let Some(rest) = registry.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    registry.split(':').next().unwrap_or(registry)
}

/// Whether an allow-list entry admits a registry: `host` admits every port of that host,
/// `host:port` only that port.
pub fn entry_admits(entry: &str, registry: &str) -> bool {
    let entry = entry.trim().to_ascii_lowercase();
    entry == registry || (!entry.contains(':') && entry == host_only(registry))
}

/// Addresses inside this machine or its private networks.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                // 100.64.0.0/10, carrier-grade NAT, is as internal as 10/8.
                || (v4.octets()[0] == 100 && (v4.octets()[1] & 0xC0) == 64)
        }
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| is_internal(IpAddr::V4(v4)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_name_their_registry() {
        assert_eq!(registry_host("nginx:1.27"), "docker.io");
        assert_eq!(registry_host("library/nginx"), "docker.io");
        assert_eq!(registry_host("ghcr.io/a/b:1"), "ghcr.io");
        assert_eq!(registry_host("127.0.0.1:5000/a:1"), "127.0.0.1:5000");
        assert_eq!(registry_host("localhost/a"), "localhost");
        assert_eq!(
            registry_host("Reg.Example.com/a@sha256:00"),
            "reg.example.com"
        );
    }

    #[test]
    fn entries_admit_a_host_or_one_port() {
        assert!(entry_admits("127.0.0.1", "127.0.0.1:5000"));
        assert!(entry_admits("127.0.0.1:5000", "127.0.0.1:5000"));
        assert!(!entry_admits("127.0.0.1:5001", "127.0.0.1:5000"));
        assert!(entry_admits("docker.io", "docker.io"));
        assert!(!entry_admits("docker.io", "ghcr.io"));
    }

    #[test]
    fn internal_addresses() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "172.16.0.1",
            "169.254.169.254",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "0.0.0.0",
        ] {
            assert!(is_internal(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "140.82.112.3", "2606:4700::1"] {
            assert!(!is_internal(ip.parse().unwrap()), "{ip}");
        }
    }
}
