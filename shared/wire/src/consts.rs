//! The socket constants a script can name (`AF_INET`, `SO_REUSEADDR`, `ECONNREFUSED`, …),
//! with Linux x86_64 values, and lookups both ways.
//!
//! Values are checked against `/usr/include` (asm-generic/socket.h, netinet/in.h,
//! netinet/tcp.h, bits/socket.h). The errno names come from [`crate::errno`], like
//! Python's `errno` module.

use std::sync::LazyLock;

/// Socket-level constants, in the order `docs/language.md` lists them.
const SOCKET_CONSTANTS: &[(&str, i64)] = &[
    // Address families.
    ("AF_UNSPEC", 0),
    ("AF_UNIX", 1),
    ("AF_LOCAL", 1),
    ("AF_INET", 2),
    ("AF_INET6", 10),
    ("AF_PACKET", 17),
    // Socket types and type flags.
    ("SOCK_STREAM", 1),
    ("SOCK_DGRAM", 2),
    ("SOCK_RAW", 3),
    ("SOCK_SEQPACKET", 5),
    ("SOCK_NONBLOCK", 0o4000),
    ("SOCK_CLOEXEC", 0o2000000),
    // Protocols.
    ("IPPROTO_IP", 0),
    ("IPPROTO_ICMP", 1),
    ("IPPROTO_TCP", 6),
    ("IPPROTO_UDP", 17),
    ("IPPROTO_IPV6", 41),
    ("IPPROTO_ICMPV6", 58),
    ("IPPROTO_RAW", 255),
    // SOL_SOCKET options.
    ("SOL_SOCKET", 1),
    ("SO_DEBUG", 1),
    ("SO_REUSEADDR", 2),
    ("SO_TYPE", 3),
    ("SO_ERROR", 4),
    ("SO_DONTROUTE", 5),
    ("SO_BROADCAST", 6),
    ("SO_SNDBUF", 7),
    ("SO_RCVBUF", 8),
    ("SO_KEEPALIVE", 9),
    ("SO_OOBINLINE", 10),
    ("SO_LINGER", 13),
    ("SO_REUSEPORT", 15),
    ("SO_RCVLOWAT", 18),
    ("SO_SNDLOWAT", 19),
    // The classic (struct timeval) timeouts, as Python's socket module exposes them.
    ("SO_RCVTIMEO", 20),
    ("SO_SNDTIMEO", 21),
    ("SO_BINDTODEVICE", 25),
    ("SO_ACCEPTCONN", 30),
    ("SO_PROTOCOL", 38),
    ("SO_DOMAIN", 39),
    // IPPROTO_TCP options.
    ("TCP_NODELAY", 1),
    ("TCP_MAXSEG", 2),
    ("TCP_CORK", 3),
    ("TCP_KEEPIDLE", 4),
    ("TCP_KEEPINTVL", 5),
    ("TCP_KEEPCNT", 6),
    ("TCP_INFO", 11),
    ("TCP_QUICKACK", 12),
    ("TCP_USER_TIMEOUT", 18),
    // IPPROTO_IP options.
    ("IP_TOS", 1),
    ("IP_TTL", 2),
    ("IP_HDRINCL", 3),
    ("IP_MULTICAST_TTL", 33),
    ("IP_MULTICAST_LOOP", 34),
    // IPPROTO_IPV6 options.
    ("IPV6_UNICAST_HOPS", 16),
    ("IPV6_V6ONLY", 26),
    // shutdown() directions.
    ("SHUT_RD", 0),
    ("SHUT_WR", 1),
    ("SHUT_RDWR", 2),
    // send/recv flags.
    ("MSG_OOB", 0x1),
    ("MSG_PEEK", 0x2),
    ("MSG_DONTROUTE", 0x4),
    ("MSG_TRUNC", 0x20),
    ("MSG_DONTWAIT", 0x40),
    ("MSG_WAITALL", 0x100),
    ("MSG_NOSIGNAL", 0x4000),
    ("MSG_MORE", 0x8000),
    // getaddrinfo() flags (netdb.h).
    ("AI_PASSIVE", 1),
    ("AI_CANONNAME", 2),
    ("AI_NUMERICHOST", 4),
    ("AI_V4MAPPED", 8),
    ("AI_ALL", 0x10),
    ("AI_ADDRCONFIG", 0x20),
    ("AI_NUMERICSERV", 0x400),
    // getnameinfo() flags (netdb.h).
    ("NI_NUMERICHOST", 1),
    ("NI_NUMERICSERV", 2),
    ("NI_NOFQDN", 4),
    ("NI_NAMEREQD", 8),
    ("NI_DGRAM", 16),
    // Misc.
    ("SOMAXCONN", 4096),
];

/// Every constant: the socket ones, then every errno name (plus `EWOULDBLOCK`).
static ALL: LazyLock<Vec<(&'static str, i64)>> = LazyLock::new(|| {
    let mut all = SOCKET_CONSTANTS.to_vec();
    all.extend(crate::errno::all().map(|(num, name)| (name, i64::from(num))));
    all.push(("EWOULDBLOCK", 11));
    all
});

/// Every constant a script can name, with its value.
pub fn all() -> &'static [(&'static str, i64)] {
    ALL.as_slice()
}

/// The value of a constant, e.g. `value("AF_INET") == Some(2)`.
pub fn value(name: &str) -> Option<i64> {
    all().iter().find(|(n, _)| *n == name).map(|&(_, v)| v)
}

/// The name of an address family, e.g. `AF_INET` for 2.
pub fn family_name(family: i64) -> Option<&'static str> {
    // AF_LOCAL is an alias: prefer AF_UNIX, as Python does.
    first_with_prefix("AF_", family)
}

/// The name of a socket type, e.g. `SOCK_STREAM` for 1 (type flags ignored).
pub fn type_name(sock_type: i64) -> Option<&'static str> {
    let flags = value("SOCK_NONBLOCK").unwrap_or(0) | value("SOCK_CLOEXEC").unwrap_or(0);
    first_with_prefix("SOCK_", sock_type & !flags)
}

fn first_with_prefix(prefix: &str, value: i64) -> Option<&'static str> {
    SOCKET_CONSTANTS
        .iter()
        .find(|(n, v)| {
            *v == value && n.starts_with(prefix) && !matches!(*n, "SOCK_NONBLOCK" | "SOCK_CLOEXEC")
        })
        .map(|&(n, _)| n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_constants_have_linux_values() {
        let expected = [
            ("AF_INET", 2),
            ("AF_INET6", 10),
            ("AF_UNIX", 1),
            ("SOCK_STREAM", 1),
            ("SOCK_DGRAM", 2),
            ("SOCK_SEQPACKET", 5),
            ("SOCK_RAW", 3),
            ("IPPROTO_IP", 0),
            ("IPPROTO_TCP", 6),
            ("IPPROTO_UDP", 17),
            ("IPPROTO_ICMP", 1),
            ("IPPROTO_IPV6", 41),
            ("SOL_SOCKET", 1),
            ("SO_REUSEADDR", 2),
            ("SO_REUSEPORT", 15),
            ("SO_KEEPALIVE", 9),
            ("SO_RCVBUF", 8),
            ("SO_SNDBUF", 7),
            ("SO_RCVTIMEO", 20),
            ("SO_SNDTIMEO", 21),
            ("SO_BROADCAST", 6),
            ("SO_LINGER", 13),
            ("SO_ERROR", 4),
            ("SO_TYPE", 3),
            ("TCP_NODELAY", 1),
            ("IP_TTL", 2),
            ("IPV6_V6ONLY", 26),
            ("SHUT_RD", 0),
            ("SHUT_WR", 1),
            ("SHUT_RDWR", 2),
            ("MSG_PEEK", 2),
            ("MSG_DONTWAIT", 0x40),
            ("MSG_WAITALL", 0x100),
        ];
        for (name, v) in expected {
            assert_eq!(value(name), Some(v), "{name}");
        }
    }

    #[test]
    fn errno_names_are_constants() {
        assert_eq!(value("ECONNREFUSED"), Some(111));
        assert_eq!(value("EWOULDBLOCK"), Some(11));
        assert_eq!(value("NOPE"), None);
    }

    #[test]
    fn names_from_values() {
        assert_eq!(family_name(1), Some("AF_UNIX"));
        assert_eq!(family_name(10), Some("AF_INET6"));
        assert_eq!(type_name(2), Some("SOCK_DGRAM"));
        assert_eq!(type_name(1 | 0o4000), Some("SOCK_STREAM"));
        assert_eq!(type_name(99), None);
    }
}
