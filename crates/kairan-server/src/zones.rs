//! Network zones (I5): the device class of a request, from the address it came from and the
//! configured networks, never from anything the client says. A forwarded-for header is
//! believed only when the connection itself comes from a configured trusted proxy; a header
//! from anywhere else is ignored, and a trusted proxy that sends none makes the request an
//! internet device (the least trusted class), not whatever the proxy's own address is.

use kairan_domain::DeviceClass;
use std::net::IpAddr;

/// An IP network: `10.0.0.0/8`, `2001:db8::/32`, or one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    prefix: u8,
}

/// IPv4 addresses written as IPv6 (`::ffff:10.1.2.3`, as dual-stack sockets report them)
/// are compared as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

impl Cidr {
    pub fn parse(s: &str) -> Result<Cidr, String> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let net: IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| format!("{s}: not an IP address"))?;
        let net = canonical(net);
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s}: the prefix must be 0–{max}"))?,
            None => max,
        };
        Ok(Cidr { net, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.net, canonical(ip)) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// The parsed zone configuration of a node.
#[derive(Debug, Clone, Default)]
pub struct Zones {
    lgwan: Vec<Cidr>,
    trusted_proxies: Vec<Cidr>,
    header: String,
}

fn parse_all(list: &[String]) -> Result<Vec<Cidr>, String> {
    list.iter().map(|s| Cidr::parse(s)).collect()
}

impl Zones {
    pub fn new(
        lgwan: &[String],
        trusted_proxies: &[String],
        header: &str,
    ) -> Result<Zones, String> {
        Ok(Zones {
            lgwan: parse_all(lgwan)?,
            trusted_proxies: parse_all(trusted_proxies)?,
            header: header.to_ascii_lowercase(),
        })
    }

    fn trusted(&self, ip: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|c| c.contains(ip))
    }

    /// The client's address and device class for a connection from `peer` with these headers.
    pub fn resolve(&self, peer: IpAddr, headers: &axum::http::HeaderMap) -> (IpAddr, DeviceClass) {
        let peer = canonical(peer);
        if !self.trusted(peer) {
            return (peer, self.class_of(peer));
        }
        // Behind a trusted proxy: walk the forwarded chain from the nearest hop, skipping our
        // own proxies; the first address that is not one of them is the client.
        let chain: Vec<&str> = headers
            .get_all(self.header.as_str())
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .collect();
        for hop in chain.iter().rev() {
            match hop.trim().parse::<IpAddr>() {
                Ok(ip) if self.trusted(ip) => continue,
                Ok(ip) => {
                    let ip = canonical(ip);
                    return (ip, self.class_of(ip));
                }
                // A hop we cannot read: nothing to its left can be trusted either.
                Err(_) => break,
            }
        }
        (peer, DeviceClass::InternetDevice)
    }

    fn class_of(&self, ip: IpAddr) -> DeviceClass {
        if self.lgwan.iter().any(|c| c.contains(ip)) {
            DeviceClass::LgwanPc
        } else {
            DeviceClass::InternetDevice
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn zones() -> Zones {
        Zones::new(
            &["10.20.0.0/16".into(), "fd00::/8".into()],
            &["192.0.2.10".into(), "192.0.2.11".into()],
            "X-Forwarded-For",
        )
        .unwrap()
    }

    fn forwarded(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Ok(v) = v.parse() {
            h.insert("x-forwarded-for", v);
        }
        h
    }

    #[test]
    fn networks_match_by_prefix_in_both_families() {
        let c = Cidr::parse("10.20.0.0/16").unwrap();
        assert!(c.contains(ip("10.20.255.1")));
        assert!(!c.contains(ip("10.21.0.1")));
        assert!(
            c.contains(ip("::ffff:10.20.3.4")),
            "IPv4 seen through a dual-stack socket"
        );
        assert!(Cidr::parse("0.0.0.0/0").is_ok_and(|c| c.contains(ip("203.0.113.5"))));
        assert!(Cidr::parse("2001:db8::/32").is_ok_and(|c| c.contains(ip("2001:db8::1"))));
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(Cidr::parse("lgwan").is_err());
    }

    #[test]
    fn the_class_comes_from_the_peer_unless_a_trusted_proxy_forwarded_it() {
        let z = zones();
        let none = HeaderMap::new();
        assert_eq!(z.resolve(ip("10.20.1.5"), &none).1, DeviceClass::LgwanPc);
        assert_eq!(
            z.resolve(ip("203.0.113.9"), &none).1,
            DeviceClass::InternetDevice
        );
        // A client that claims an LGWAN address is not believed.
        let spoofed = forwarded("10.20.1.5");
        assert_eq!(
            z.resolve(ip("203.0.113.9"), &spoofed),
            (ip("203.0.113.9"), DeviceClass::InternetDevice)
        );
        // Through our proxies, the first hop that is not ours is the client.
        assert_eq!(
            z.resolve(ip("192.0.2.10"), &forwarded("10.20.1.5, 192.0.2.11")),
            (ip("10.20.1.5"), DeviceClass::LgwanPc)
        );
        // A client that prepends a fake LGWAN address still ends up as itself.
        assert_eq!(
            z.resolve(ip("192.0.2.10"), &forwarded("10.20.1.5, 203.0.113.9")),
            (ip("203.0.113.9"), DeviceClass::InternetDevice)
        );
        // Our proxy without a readable header: the least trusted class.
        assert_eq!(
            z.resolve(ip("192.0.2.10"), &none).1,
            DeviceClass::InternetDevice
        );
        assert_eq!(
            z.resolve(ip("192.0.2.10"), &forwarded("garbage")).1,
            DeviceClass::InternetDevice
        );
    }
}
