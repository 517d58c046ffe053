//! An IP address range as `TAVLE_TRUSTED_PROXIES` names it (`10.0.0.0/8`,
//! `2001:db8::/32`, or one address): parsed once, from the configuration, and asked
//! by the client-address check (`web::client`) whether a peer is in it.

use std::net::IpAddr;

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

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
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
        let two = " 10.0.0.0/8, ::1 ,";
        assert_eq!(IpNet::parse_list(two).unwrap().len(), 2);
        let bad = "10.0.0.0/8, nonsense";
        assert!(IpNet::parse_list(bad).unwrap_err().contains("nonsense"));
    }
}
