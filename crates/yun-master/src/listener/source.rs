//! Who is asking: the connection's peer, or, when the peer is a proxy the operator trusts
//! (`--trusted-proxies`), the address it forwarded in `X-Forwarded-For`, read from the right
//! and skipping further trusted hops (the left end is whatever the client claimed).

use axum::http::HeaderMap;
use ipnet::IpNet;
use std::net::IpAddr;

pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map_while(|a| a.trim().parse().ok())
        .collect();
    let mut client = peer;
    for hop in forwarded.into_iter().rev() {
        client = hop;
        if !is_trusted(&hop) {
            break;
        }
    }
    client
}

/// Throttles count an IPv6 client by its /64, which one subscriber usually holds whole.
pub fn throttle_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        IpAddr::V6(v6) => IpAddr::V4(v6.to_ipv4_mapped().expect("checked")),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", xff.parse().unwrap());
        h
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let proxy: IpAddr = "10.1.2.3".parse().unwrap();
        let stranger: IpAddr = "203.0.113.9".parse().unwrap();
        // A stranger cannot choose its address by sending the header itself.
        assert_eq!(client_ip(stranger, &headers("1.2.3.4"), &trusted), stranger);
        // Behind the proxy: the rightmost untrusted hop; the client's own claim is ignored.
        assert_eq!(
            client_ip(proxy, &headers("6.6.6.6, 198.51.100.7, 10.9.9.9"), &trusted),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        assert_eq!(client_ip(proxy, &HeaderMap::new(), &trusted), proxy);
        assert_eq!(
            client_ip(proxy, &headers("not an address"), &trusted),
            proxy
        );
    }

    #[test]
    fn an_ipv6_client_is_throttled_by_its_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        assert_eq!(throttle_key(a), throttle_key(b));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(throttle_key(mapped), "192.0.2.1".parse::<IpAddr>().unwrap());
    }
}
