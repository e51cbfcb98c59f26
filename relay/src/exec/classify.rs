//! What an IP address really is, for the host-mode address policy.
//!
//! An IPv6 address can carry an IPv4 address in several encodings (mapped,
//! compatible, NAT64, 6to4, Teredo), and several IPv4 ranges reach this host
//! without looking like loopback (`0.0.0.0/8`). A check on the literal text, or
//! on `IpAddr::is_loopback`, can be walked around; this module unwraps every
//! encoding first and names the class of what is left. The policy is deny by
//! default: loopback only, plus the operator's allowlist of CIDRs. An address
//! that carries another one (other than IPv4-mapped, which *is* the IPv4
//! address to the kernel) is allowed only when the operator allowlisted both
//! the IPv6 address and the IPv4 address it carries.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// The class of an address, after unwrapping IPv4-mapped IPv6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// `0.0.0.0`, `::`: "any" for bind; as a destination Linux dials this host.
    Unspecified,
    /// `0.0.0.0/8` other than `0.0.0.0`: "this network"; reaches this host on Linux.
    ThisNetwork,
    /// `127.0.0.0/8`, `::1`.
    Loopback,
    /// RFC 1918: `10/8`, `172.16/12`, `192.168/16`.
    Private,
    /// `100.64.0.0/10`, carrier-grade NAT.
    SharedAddress,
    /// `169.254/16`, `fe80::/10`.
    LinkLocal,
    /// `fc00::/7`.
    UniqueLocal,
    /// `fec0::/10` (deprecated site-local).
    SiteLocal,
    /// `224/4`, `ff00::/8`.
    Multicast,
    /// `255.255.255.255`.
    Broadcast,
    /// `192.0.2/24`, `198.51.100/24`, `203.0.113/24`, `2001:db8::/32`.
    Documentation,
    /// `198.18/15`, `2001:2::/48`.
    Benchmarking,
    /// `240/4`, `192.0.0/24`, `100::/64` (discard) and other special-purpose ranges.
    Reserved,
    /// An IPv6 address that carries an IPv4 address: compatible, NAT64, 6to4, Teredo.
    Tunnel,
    /// Anything else: a public address.
    Global,
}

/// How an IPv6 address carries an IPv4 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Embedding {
    /// `::ffff:a.b.c.d`: the kernel dials the IPv4 address itself.
    Mapped,
    /// `::a.b.c.d` (deprecated).
    Compatible,
    /// `64:ff9b::/96` (RFC 6052).
    Nat64,
    /// `64:ff9b:1::/48` (RFC 8215, local use; read as a /96 prefix).
    Nat64Local,
    /// `2002::/16`: the IPv4 address is bits 16..48.
    SixToFour,
    /// `2001:0::/32`: the client's IPv4 address is the bitwise NOT of the last 32 bits.
    Teredo,
}

/// An address, what it carries, and its class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classified {
    /// The address the kernel will see: an IPv4-mapped address is its IPv4 address.
    pub canonical: IpAddr,
    pub class: Class,
    /// IPv4 addresses carried inside an IPv6 address (other than mapped).
    pub embedded: Vec<(Embedding, Ipv4Addr)>,
}

/// Unwrap and classify.
pub fn classify(ip: IpAddr) -> Classified {
    match ip {
        IpAddr::V4(v4) => Classified { canonical: ip, class: class_v4(v4), embedded: Vec::new() },
        IpAddr::V6(v6) => {
            if let Some(v4) = mapped(v6) {
                return Classified { canonical: IpAddr::V4(v4), class: class_v4(v4), embedded: Vec::new() };
            }
            let embedded = embedded_v4(v6);
            let class = if embedded.is_empty() { class_v6(v6) } else { Class::Tunnel };
            Classified { canonical: ip, class, embedded }
        }
    }
}

fn mapped(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    match v6.segments() {
        [0, 0, 0, 0, 0, 0xffff, hi, lo] => Some(v4_from(hi, lo)),
        _ => None,
    }
}

fn v4_from(hi: u16, lo: u16) -> Ipv4Addr {
    Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo))
}

/// Every IPv4 address an IPv6 address carries, by encoding.
fn embedded_v4(v6: Ipv6Addr) -> Vec<(Embedding, Ipv4Addr)> {
    let s = v6.segments();
    let last = v4_from(s[6], s[7]);
    match s {
        // `::` and `::1` are not IPv4-compatible addresses.
        [0, 0, 0, 0, 0, 0, 0, 0 | 1] => Vec::new(),
        [0, 0, 0, 0, 0, 0, _, _] => vec![(Embedding::Compatible, last)],
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => vec![(Embedding::Nat64, last)],
        [0x64, 0xff9b, 1, ..] => vec![(Embedding::Nat64Local, last)],
        [0x2002, hi, lo, ..] => vec![(Embedding::SixToFour, v4_from(hi, lo))],
        [0x2001, 0, server_hi, server_lo, _, _, hi, lo] => vec![
            (Embedding::Teredo, v4_from(!hi, !lo)),
            // The Teredo server is dialled too.
            (Embedding::Teredo, v4_from(server_hi, server_lo)),
        ],
        _ => Vec::new(),
    }
}

fn class_v4(ip: Ipv4Addr) -> Class {
    let [a, b, c, _] = ip.octets();
    match (a, b, c) {
        _ if ip.is_unspecified() => Class::Unspecified,
        (0, _, _) => Class::ThisNetwork,
        (127, _, _) => Class::Loopback,
        (10, _, _) | (192, 168, _) => Class::Private,
        (172, 16..=31, _) => Class::Private,
        (100, 64..=127, _) => Class::SharedAddress,
        (169, 254, _) => Class::LinkLocal,
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => Class::Documentation,
        (198, 18..=19, _) => Class::Benchmarking,
        _ if ip.is_broadcast() => Class::Broadcast,
        (224..=239, _, _) => Class::Multicast,
        (240..=255, _, _) | (192, 0, 0) => Class::Reserved,
        // 192.88.99.0/24: the retired 6to4 relay anycast.
        (192, 88, 99) => Class::Reserved,
        _ => Class::Global,
    }
}

fn class_v6(ip: Ipv6Addr) -> Class {
    let s = ip.segments();
    if ip.is_unspecified() {
        Class::Unspecified
    } else if ip.is_loopback() {
        Class::Loopback
    } else if s[0] & 0xff00 == 0xff00 {
        Class::Multicast
    } else if s[0] & 0xffc0 == 0xfe80 {
        Class::LinkLocal
    } else if s[0] & 0xffc0 == 0xfec0 {
        Class::SiteLocal
    } else if s[0] & 0xfe00 == 0xfc00 {
        Class::UniqueLocal
    } else if s[0] == 0x2001 && s[1] == 0x0db8 {
        Class::Documentation
    } else if s[0] == 0x2001 && s[1] == 2 && s[2] == 0 {
        Class::Benchmarking
    } else if matches!(s, [0x100, 0, 0, 0, ..]) || s[0] & 0xe000 != 0x2000 {
        // The discard prefix, and everything outside 2000::/3 (global unicast).
        Class::Reserved
    } else {
        Class::Global
    }
}

/// An allowlist entry: `10.0.0.0/8`, `2001:db8::/32`, or one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Whether `ip` is in the range. IPv4 ranges hold IPv4 addresses only; pass the canonical form.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// Text that is not an address range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadCidr {
    #[error("{0:?} is not an address or a CIDR range")]
    NotAnAddress(String),
    #[error("{text:?}: the prefix length must be 0-{max}")]
    Prefix { text: String, max: u8 },
}

impl FromStr for Cidr {
    type Err = BadCidr;

    fn from_str(text: &str) -> Result<Cidr, BadCidr> {
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let network: IpAddr = addr.parse().map_err(|_| BadCidr::NotAnAddress(text.to_string()))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| BadCidr::Prefix { text: text.to_string(), max })?,
        };
        Ok(Cidr { network, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl<'de> serde::Deserialize<'de> for Cidr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Cidr, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

fn allowlisted(ip: IpAddr, allow: &[Cidr]) -> bool {
    allow.iter().any(|cidr| cidr.contains(ip))
}

const HOW_TO_ALLOW: &str = "the relay runs in host mode and allows loopback destinations only \
                            (an operator can add ranges with --allow-destination)";

/// An address a session in host mode may not use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Forbidden {
    #[error("{ip} is not a destination: Linux dials this host itself for {range}; use 127.0.0.1 or ::1")]
    ThisHost { ip: IpAddr, range: &'static str },
    #[error("{ip} carries the IPv4 address {carried}; such addresses are refused unless both are allowlisted ({how})", how = HOW_TO_ALLOW)]
    Tunnel { ip: IpAddr, carried: String },
    #[error("{0} is not reachable from this relay: {how}", how = HOW_TO_ALLOW)]
    Unreachable(IpAddr),
    #[error("binding {0} is not allowed: the relay runs in host mode and allows loopback or any-address binds")]
    BindSpecial(IpAddr),
    #[error(
        "binding {0} is not allowed: the relay runs in host mode and allows loopback or any-address binds \
         (an operator can add ranges with --allow-destination)"
    )]
    Bind(IpAddr),
}

/// May a session's socket connect or send to `ip`?
pub fn check_destination(ip: IpAddr, allow: &[Cidr]) -> Result<(), Forbidden> {
    let seen = classify(ip);
    match seen.class {
        Class::Unspecified | Class::ThisNetwork => {
            let range = if seen.canonical.is_ipv4() { "0.0.0.0/8" } else { "::" };
            return Err(Forbidden::ThisHost { ip, range });
        }
        Class::Tunnel => {
            let carried = seen.embedded.iter().map(|(how, v4)| format!("{v4} ({how:?})")).collect::<Vec<_>>();
            let every_part_allowed =
                allowlisted(ip, allow) && seen.embedded.iter().all(|(_, v4)| allowlisted(IpAddr::V4(*v4), allow));
            if !every_part_allowed {
                return Err(Forbidden::Tunnel { ip, carried: carried.join(", ") });
            }
            return Ok(());
        }
        Class::Loopback => return Ok(()),
        _ => {}
    }
    if allowlisted(seen.canonical, allow) {
        Ok(())
    } else {
        Err(Forbidden::Unreachable(ip))
    }
}

/// May a session's socket bind to `ip`? Loopback, "any", or an allowlisted (local) address.
pub fn check_bind(ip: IpAddr, allow: &[Cidr]) -> Result<(), Forbidden> {
    let seen = classify(ip);
    match seen.class {
        Class::Loopback | Class::Unspecified => Ok(()),
        Class::Tunnel | Class::ThisNetwork => Err(Forbidden::BindSpecial(ip)),
        _ if allowlisted(seen.canonical, allow) => Ok(()),
        _ => Err(Forbidden::Bind(ip)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or_else(|_| panic!("{text} parses"))
    }

    /// (address, class, allowed as a destination by default, allowed with the test allowlist)
    const TABLE: &[(&str, Class, bool, bool)] = &[
        // IPv4 loopback and "this host".
        ("127.0.0.1", Class::Loopback, true, true),
        ("127.0.0.2", Class::Loopback, true, true),
        ("127.255.255.254", Class::Loopback, true, true),
        ("127.1.2.3", Class::Loopback, true, true),
        ("0.0.0.0", Class::Unspecified, false, false),
        ("0.0.0.1", Class::ThisNetwork, false, false),
        ("0.1.2.3", Class::ThisNetwork, false, false),
        ("0.255.255.255", Class::ThisNetwork, false, false),
        // IPv4 private and special ranges.
        ("10.0.0.1", Class::Private, false, true),
        ("10.255.255.255", Class::Private, false, true),
        ("172.16.0.1", Class::Private, false, false),
        ("172.31.255.255", Class::Private, false, false),
        ("172.15.255.255", Class::Global, false, false),
        ("172.32.0.0", Class::Global, false, false),
        ("192.168.0.1", Class::Private, false, false),
        ("192.168.255.255", Class::Private, false, false),
        ("100.64.0.1", Class::SharedAddress, false, false),
        ("100.127.255.255", Class::SharedAddress, false, false),
        ("100.128.0.0", Class::Global, false, false),
        ("169.254.169.254", Class::LinkLocal, false, false),
        ("169.254.0.1", Class::LinkLocal, false, false),
        ("192.0.2.1", Class::Documentation, false, false),
        ("198.51.100.7", Class::Documentation, false, false),
        ("203.0.113.9", Class::Documentation, false, false),
        ("198.18.0.1", Class::Benchmarking, false, false),
        ("198.19.255.255", Class::Benchmarking, false, false),
        ("224.0.0.1", Class::Multicast, false, false),
        ("239.255.255.250", Class::Multicast, false, false),
        ("255.255.255.255", Class::Broadcast, false, false),
        ("240.0.0.1", Class::Reserved, false, false),
        ("192.0.0.8", Class::Reserved, false, false),
        ("192.88.99.1", Class::Reserved, false, false),
        ("8.8.8.8", Class::Global, false, false),
        ("1.1.1.1", Class::Global, false, false),
        ("93.184.216.34", Class::Global, false, true),
        // IPv6 plain.
        ("::1", Class::Loopback, true, true),
        ("0:0:0:0:0:0:0:1", Class::Loopback, true, true),
        ("::", Class::Unspecified, false, false),
        ("fe80::1", Class::LinkLocal, false, false),
        ("febf::1", Class::LinkLocal, false, false),
        ("fec0::1", Class::SiteLocal, false, false),
        ("fc00::1", Class::UniqueLocal, false, false),
        ("fd12:3456::1", Class::UniqueLocal, false, true),
        ("ff02::1", Class::Multicast, false, false),
        ("ff05::2", Class::Multicast, false, false),
        ("2001:db8::1", Class::Documentation, false, false),
        ("2001:2::1", Class::Benchmarking, false, false),
        ("100::1", Class::Reserved, false, false),
        ("4000::1", Class::Reserved, false, false),
        ("2606:4700::1111", Class::Global, false, false),
        // IPv4-mapped: judged as the IPv4 address.
        ("::ffff:127.0.0.1", Class::Loopback, true, true),
        ("::ffff:7f00:1", Class::Loopback, true, true),
        ("::ffff:127.9.9.9", Class::Loopback, true, true),
        ("::ffff:0.0.0.0", Class::Unspecified, false, false),
        ("::ffff:0.1.2.3", Class::ThisNetwork, false, false),
        ("::ffff:10.0.0.1", Class::Private, false, true),
        ("::ffff:192.168.1.1", Class::Private, false, false),
        ("::ffff:169.254.169.254", Class::LinkLocal, false, false),
        ("::ffff:255.255.255.255", Class::Broadcast, false, false),
        ("::ffff:8.8.8.8", Class::Global, false, false),
        ("::ffff:172.16.0.1", Class::Private, false, false),
        ("::ffff:100.64.0.1", Class::SharedAddress, false, false),
        ("::ffff:224.0.0.1", Class::Multicast, false, false),
        ("::ffff:240.0.0.1", Class::Reserved, false, false),
        ("::ffff:93.184.216.34", Class::Global, false, true),
        ("172.20.10.5", Class::Private, false, false),
        ("ff01::1", Class::Multicast, false, false),
        ("fdff:ffff::1", Class::UniqueLocal, false, false),
        ("64:ff9b::8.8.8.8", Class::Tunnel, false, false),
        ("2002:c000:0201::1", Class::Tunnel, false, false),
        // IPv4-compatible (deprecated): a tunnel, refused unless both parts are allowlisted.
        ("::127.0.0.1", Class::Tunnel, false, false),
        ("::7f00:1", Class::Tunnel, false, false),
        ("::10.0.0.1", Class::Tunnel, false, false),
        ("::192.168.0.1", Class::Tunnel, false, false),
        ("::0.0.0.2", Class::Tunnel, false, false),
        // NAT64 well-known prefix.
        ("64:ff9b::127.0.0.1", Class::Tunnel, false, false),
        ("64:ff9b::7f00:1", Class::Tunnel, false, false),
        ("64:ff9b::10.1.1.1", Class::Tunnel, false, false),
        ("64:ff9b::a9fe:a9fe", Class::Tunnel, false, false),
        // NAT64 local-use prefix.
        ("64:ff9b:1::127.0.0.1", Class::Tunnel, false, false),
        ("64:ff9b:1:abcd::a00:1", Class::Tunnel, false, false),
        // 6to4.
        ("2002:7f00:1::", Class::Tunnel, false, false),
        ("2002:7f00:0001::1", Class::Tunnel, false, false),
        ("2002:a00:1::1", Class::Tunnel, false, false),
        ("2002:c0a8:101::1", Class::Tunnel, false, false),
        ("2002:0:0::1", Class::Tunnel, false, false),
        // Teredo: client 127.0.0.1 is stored inverted (80ff:fffe).
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", Class::Tunnel, false, false),
        ("2001::5ef5:79fb:0:0:f5ff:fffe", Class::Tunnel, false, false),
        ("2001:0:0a00:0001::ffff:fffe", Class::Tunnel, false, false),
    ];

    fn test_allowlist() -> Vec<Cidr> {
        ["10.0.0.0/8", "fd12:3456::/32", "93.184.216.34"].iter().map(|c| c.parse().unwrap()).collect()
    }

    #[test]
    fn the_classification_table() {
        assert!(TABLE.len() >= 80, "{} cases", TABLE.len());
        let allow = test_allowlist();
        for &(text, class, default_ok, allowlisted_ok) in TABLE {
            let seen = classify(ip(text));
            assert_eq!(seen.class, class, "{text}: {seen:?}");
            assert_eq!(check_destination(ip(text), &[]).is_ok(), default_ok, "{text} by default");
            assert_eq!(check_destination(ip(text), &allow).is_ok(), allowlisted_ok, "{text} with the allowlist");
        }
    }

    #[test]
    fn embedded_addresses_are_unwrapped() {
        let lo = Ipv4Addr::LOCALHOST;
        let cases = [
            ("::127.0.0.1", Embedding::Compatible, lo),
            ("64:ff9b::127.0.0.1", Embedding::Nat64, lo),
            ("64:ff9b:1::127.0.0.1", Embedding::Nat64Local, lo),
            ("2002:7f00:1::", Embedding::SixToFour, lo),
            ("2001:0:4136:e378:8000:63bf:80ff:fffe", Embedding::Teredo, lo),
            ("2001:0:4136:e378::f5ff:fffe", Embedding::Teredo, Ipv4Addr::new(10, 0, 0, 1)),
        ];
        for (text, how, v4) in cases {
            let seen = classify(ip(text));
            assert_eq!(seen.embedded[0], (how, v4), "{text}");
            let err = check_destination(ip(text), &[]).unwrap_err().to_string();
            assert!(err.contains(&v4.to_string()), "{text}: {err}");
        }
        assert_eq!(classify(ip("::ffff:127.0.0.1")).canonical, ip("127.0.0.1"));
        // The Teredo server address is checked too.
        assert_eq!(classify(ip("2001:0:4136:e378::f5ff:fffe")).embedded[1].1, Ipv4Addr::new(65, 54, 227, 120));
    }

    #[test]
    fn a_tunnel_needs_both_halves_allowlisted() {
        let only_v6: Vec<Cidr> = vec!["2002::/16".parse().unwrap()];
        assert!(check_destination(ip("2002:a00:1::1"), &only_v6).is_err());
        let both: Vec<Cidr> = vec!["2002::/16".parse().unwrap(), "10.0.0.0/8".parse().unwrap()];
        assert!(check_destination(ip("2002:a00:1::1"), &both).is_ok());
        assert!(check_destination(ip("2002:7f00:1::1"), &both).is_err(), "loopback is not allowlisted by range");
        // Even "everything" does not make 0.0.0.0/8 a destination.
        let all: Vec<Cidr> = vec!["0.0.0.0/0".parse().unwrap(), "::/0".parse().unwrap()];
        assert!(check_destination(ip("0.0.0.0"), &all).is_err());
        assert!(check_destination(ip("0.1.2.3"), &all).is_err());
        assert!(check_destination(ip("::"), &all).is_err());
        assert!(check_destination(ip("8.8.8.8"), &all).is_ok());
    }

    #[test]
    fn binds_are_loopback_any_or_allowlisted() {
        for ok in ["127.0.0.1", "0.0.0.0", "::", "::1", "::ffff:127.0.0.1", "::ffff:0.0.0.0"] {
            assert!(check_bind(ip(ok), &[]).is_ok(), "{ok}");
        }
        for refused in ["10.0.0.1", "192.168.1.10", "0.0.0.1", "::127.0.0.1", "2002:7f00:1::", "fe80::1"] {
            assert!(check_bind(ip(refused), &[]).is_err(), "{refused}");
        }
        assert!(check_bind(ip("10.0.0.1"), &test_allowlist()).is_ok());
    }

    #[test]
    fn cidrs_parse_and_match() {
        let c: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(c.contains(ip("10.200.0.1")) && !c.contains(ip("11.0.0.1")));
        assert!(!c.contains(ip("::ffff:10.0.0.1")), "callers pass the canonical form");
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("1.2.3.4")));
        let one: Cidr = "::1".parse().unwrap();
        assert_eq!(one.to_string(), "::1/128");
        for bad in ["10.0.0.0/33", "::/129", "example.org/8", "10.0.0.0/", "10.0.0.0/-1"] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn only_strict_literals_are_addresses() {
        // Forms some resolvers accept as 127.0.0.1; the relay does not treat them as addresses at all.
        for text in ["127.1", "0x7f.0.0.1", "2130706433", "0177.0.0.1", "127.0.0.1.", "[::1]", "::1%lo", " 127.0.0.1"] {
            assert!(text.parse::<IpAddr>().is_err(), "{text}");
        }
    }
}
