//! The client's address: what the rate limits count and the audit log records.
//!
//! It is the socket's peer address, unless that peer is one of the reverse proxies
//! named in `TAVLE_TRUSTED_PROXIES`: then it is the right-most address of
//! `X-Forwarded-For` that is not itself a trusted proxy. Each proxy appends the address
//! it received the request from, so everything right of that entry was written by a
//! proxy we trust, and everything left of it by whoever the client was, who may have
//! written anything (a forged header from an untrusted peer changes nothing).

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;

/// The address a request is counted and audited under; put into the request's
/// extensions by the first middleware (`web::security::rate_limit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// An address range: `10.0.0.0/8`, `2001:db8::/32`, or one address (`192.0.2.7`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    pub fn parse(s: &str) -> Option<Self> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr.trim().parse().ok()?;
        let addr = addr.to_canonical();
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.trim().parse::<u8>().ok().filter(|p| *p <= max)?,
            None => max,
        };
        Some(Self { addr, prefix })
    }

    /// A comma-separated list, as `TAVLE_TRUSTED_PROXIES` holds it.
    pub fn parse_list(s: &str) -> Result<Vec<Self>, String> {
        s.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| {
                Self::parse(p).ok_or_else(|| {
                    format!("{p:?} is not an IP address or CIDR range (e.g. 10.0.0.0/8, 192.0.2.7, ::1)")
                })
            })
            .collect()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                masked(u128::from(u32::from(net)), u128::from(u32::from(ip)), self.prefix, 32)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => masked(u128::from(net), u128::from(ip), self.prefix, 128),
            _ => false,
        }
    }
}

fn masked(net: u128, ip: u128, prefix: u8, bits: u32) -> bool {
    let host_bits = bits - u32::from(prefix);
    host_bits >= bits || (net >> host_bits) == (ip >> host_bits)
}

/// The client's address for a request that came from `peer` (see the module docs).
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = peer.to_canonical();
    let is_trusted = |ip: IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    // Several X-Forwarded-For lines are one list, in order.
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for entry in entries.iter().rev() {
        // A trusted proxy writes a valid address; anything else was not written by
        // one, so the last trusted hop is as far as we can believe.
        let Some(ip) = parse_entry(entry) else { break };
        client = ip;
        if !is_trusted(ip) {
            break;
        }
    }
    client
}

/// `192.0.2.7`, `2001:db8::1`, or with a port: `192.0.2.7:5000`, `[2001:db8::1]:5000`.
fn parse_entry(s: &str) -> Option<IpAddr> {
    s.parse::<IpAddr>().ok().or_else(|| s.parse::<SocketAddr>().ok().map(|a| a.ip())).map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn nets(list: &str) -> Vec<IpNet> {
        IpNet::parse_list(list).unwrap()
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn ranges_and_single_addresses() {
        let n = IpNet::parse("10.0.0.0/8").unwrap();
        assert!(n.contains(ip("10.200.3.4")));
        assert!(!n.contains(ip("11.0.0.1")));
        assert!(n.contains(ip("::ffff:10.1.2.3")), "IPv4-mapped IPv6 is the IPv4 address");
        let one = IpNet::parse("192.0.2.7").unwrap();
        assert!(one.contains(ip("192.0.2.7")) && !one.contains(ip("192.0.2.8")));
        let v6 = IpNet::parse("2001:db8::/32").unwrap();
        assert!(v6.contains(ip("2001:db8:1::5")) && !v6.contains(ip("2001:db9::1")));
        assert!(!v6.contains(ip("10.0.0.1")));
        assert!(IpNet::parse("0.0.0.0/0").unwrap().contains(ip("203.0.113.9")));
        for bad in ["10.0.0.0/33", "::/129", "proxy", "10.0.0.0/", "10.0.0.0/-1", ""] {
            assert!(IpNet::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(nets(" 10.0.0.0/8, ::1 ,").len(), 2);
        let bad = "10.0.0.0/8, nonsense";
        assert!(IpNet::parse_list(bad).unwrap_err().contains("nonsense"));
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let trusted = nets("10.0.0.0/8");
        let h = xff(&["203.0.113.9"]);
        assert_eq!(client_address(ip("198.51.100.2"), &h, &trusted), ip("198.51.100.2"));
        assert_eq!(client_address(ip("198.51.100.2"), &h, &[]), ip("198.51.100.2"));
    }

    #[test]
    fn behind_trusted_proxies_the_right_most_untrusted_address_counts() {
        let trusted = nets("10.0.0.0/8, 192.0.2.7");
        // The client forged the first entry; the proxy appended the real address.
        let h = xff(&["1.2.3.4, 203.0.113.9"]);
        assert_eq!(client_address(ip("10.0.0.5"), &h, &trusted), ip("203.0.113.9"));
        // Two proxies: the inner one appended the outer one's address.
        let h = xff(&["1.2.3.4, 203.0.113.9", "192.0.2.7"]);
        assert_eq!(client_address(ip("10.0.0.5"), &h, &trusted), ip("203.0.113.9"));
        // With ports, and IPv6.
        let h = xff(&["[2001:db8::9]:5000, 203.0.113.9:443"]);
        assert_eq!(client_address(ip("10.0.0.5"), &h, &trusted), ip("203.0.113.9"));
        let h = xff(&["2001:db8::9"]);
        assert_eq!(client_address(ip("::ffff:10.0.0.5"), &h, &trusted), ip("2001:db8::9"));
        // No header: the proxy itself. Garbage: the last trusted hop.
        assert_eq!(client_address(ip("10.0.0.5"), &HeaderMap::new(), &trusted), ip("10.0.0.5"));
        let h = xff(&["203.0.113.9, garbage, 10.1.1.1"]);
        assert_eq!(client_address(ip("10.0.0.5"), &h, &trusted), ip("10.1.1.1"));
        // Everyone in the chain trusted: the left-most.
        let h = xff(&["10.9.9.9, 10.1.1.1"]);
        assert_eq!(client_address(ip("10.0.0.5"), &h, &trusted), ip("10.9.9.9"));
    }
}
