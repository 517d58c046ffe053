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

pub use crate::domain::ip_net::IpNet;

/// The address a request is counted and audited under; put into the request's
/// extensions by the first middleware (`web::security::rate_limit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

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
