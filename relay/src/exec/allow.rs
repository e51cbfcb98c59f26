//! What a script may ask the kernel for: socket families, types and protocols,
//! and setsockopt levels, options and values. Allow-lists, not deny-lists: what
//! `docs/language.md` documents is allowed, everything else is refused with an
//! errno and a sentence naming it. Host mode (the relay's own network) is
//! narrower than a session's private namespace.
//!
//! The relay runs as root where it makes namespaces, so anything the kernel
//! lets only a privileged process do (`SO_*BUFFORCE`, `TCP_REPAIR`, buffers
//! above `net.core.[rw]mem_max`) must be refused here: the kernel will not.

use socklab_wire::protocol::OptValue;

use super::ExecError;

/// Where the session's sockets live, for the checks that differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    /// The relay's own network (host mode).
    pub host: bool,
    /// SOCK_RAW allowed (always in a namespace; `--allow-raw` in host mode).
    pub raw: bool,
}

const TYPE_FLAGS: i32 = libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
/// The obsolete `SOCK_PACKET` type: for AF_INET the kernel makes it a packet socket.
const SOCK_PACKET: i32 = 10;

/// `socket(family, type, proto)`: the base type (flags removed) when allowed.
pub fn check_socket(family: i32, sock_type: i32, proto: i32, scope: Scope) -> Result<i32, ExecError> {
    if sock_type & !0xf & !TYPE_FLAGS != 0 {
        return Err(refuse(libc::EINVAL, format!("socket type {sock_type:#x} has flags other than SOCK_NONBLOCK and SOCK_CLOEXEC")));
    }
    let base = sock_type & !TYPE_FLAGS;
    match family {
        libc::AF_INET | libc::AF_INET6 | libc::AF_UNIX => {}
        _ => {
            return Err(refuse(
                libc::EAFNOSUPPORT,
                format!("address family {} is not allowed: socklab makes AF_INET, AF_INET6 and AF_UNIX sockets", family_label(family)),
            ));
        }
    }
    match base {
        libc::SOCK_STREAM | libc::SOCK_DGRAM | libc::SOCK_SEQPACKET | libc::SOCK_RAW => {}
        SOCK_PACKET => {
            return Err(refuse(libc::EPERM, "socket type 10 (SOCK_PACKET, a packet socket) is not allowed".into()));
        }
        _ => {
            return Err(refuse(
                libc::ESOCKTNOSUPPORT,
                format!("socket type {base} is not allowed: SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET and SOCK_RAW are"),
            ));
        }
    }
    if base == libc::SOCK_RAW && family != libc::AF_UNIX && !scope.raw {
        return Err(ExecError::Policy(
            "raw sockets are switched off on this relay (it runs without a private namespace)".into(),
        ));
    }
    let protos: &[i32] = match (family, base) {
        (libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_DGRAM | libc::SOCK_SEQPACKET) => &[0, libc::PF_UNIX],
        (libc::AF_INET | libc::AF_INET6, libc::SOCK_STREAM) => &[0, libc::IPPROTO_TCP],
        (libc::AF_INET, libc::SOCK_DGRAM) => &[0, libc::IPPROTO_UDP, libc::IPPROTO_ICMP],
        (libc::AF_INET6, libc::SOCK_DGRAM) => &[0, libc::IPPROTO_UDP, libc::IPPROTO_ICMPV6],
        (libc::AF_INET, libc::SOCK_RAW) => &[libc::IPPROTO_ICMP, libc::IPPROTO_TCP, libc::IPPROTO_UDP, libc::IPPROTO_RAW],
        (libc::AF_INET6, libc::SOCK_RAW) => &[libc::IPPROTO_ICMPV6, libc::IPPROTO_TCP, libc::IPPROTO_UDP, libc::IPPROTO_RAW],
        // Combinations the kernel refuses too: its words, as a program outside socklab reads them.
        _ => return Err(as_the_kernel(libc::ESOCKTNOSUPPORT)),
    };
    if !protos.contains(&proto) {
        return Err(as_the_kernel(libc::EPROTONOSUPPORT));
    }
    Ok(base)
}

/// How an option's value is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Value {
    /// An int (or 4 bytes) the kernel reads as a flag or a number it validates itself.
    Int,
    /// An int in this range.
    Range(i64, i64),
    /// A send or receive buffer size: clamped to the namespace's `net.core.wmem_max` / `rmem_max`.
    SndBuf,
    RcvBuf,
    /// SO_RCVTIMEO / SO_SNDTIMEO: int seconds, or a 16-byte `struct timeval`.
    Timeval,
    /// SO_LINGER: int seconds (negative: off), or an 8-byte `struct linger`.
    Linger,
    /// SO_BINDTODEVICE: an interface name.
    Name,
}

/// One allowed option: level, option, its name, the value it takes, and whether host mode allows it.
struct Opt {
    level: i32,
    opt: i32,
    name: &'static str,
    value: Value,
    in_host: bool,
}

const fn opt(level: i32, opt: i32, name: &'static str, value: Value) -> Opt {
    Opt { level, opt, name, value, in_host: true }
}

/// Every option a script may set: the ones `docs/language.md` lists (read-only
/// ones like SO_TYPE are left to getsockopt).
const ALLOWED: &[Opt] = &[
    opt(libc::SOL_SOCKET, libc::SO_DEBUG, "SO_DEBUG", Value::Int),
    opt(libc::SOL_SOCKET, libc::SO_REUSEADDR, "SO_REUSEADDR", Value::Int),
    opt(libc::SOL_SOCKET, libc::SO_DONTROUTE, "SO_DONTROUTE", Value::Int),
    opt(libc::SOL_SOCKET, libc::SO_BROADCAST, "SO_BROADCAST", Value::Int),
    opt(libc::SOL_SOCKET, libc::SO_SNDBUF, "SO_SNDBUF", Value::SndBuf),
    opt(libc::SOL_SOCKET, libc::SO_RCVBUF, "SO_RCVBUF", Value::RcvBuf),
    opt(libc::SOL_SOCKET, libc::SO_KEEPALIVE, "SO_KEEPALIVE", Value::Int),
    opt(libc::SOL_SOCKET, libc::SO_OOBINLINE, "SO_OOBINLINE", Value::Int),
    opt(libc::SOL_SOCKET, libc::SO_LINGER, "SO_LINGER", Value::Linger),
    opt(libc::SOL_SOCKET, libc::SO_REUSEPORT, "SO_REUSEPORT", Value::Int),
    opt(libc::SOL_SOCKET, libc::SO_RCVLOWAT, "SO_RCVLOWAT", Value::Int),
    opt(libc::SOL_SOCKET, libc::SO_SNDLOWAT, "SO_SNDLOWAT", Value::Int),
    opt(libc::SOL_SOCKET, libc::SO_RCVTIMEO, "SO_RCVTIMEO", Value::Timeval),
    opt(libc::SOL_SOCKET, libc::SO_SNDTIMEO, "SO_SNDTIMEO", Value::Timeval),
    Opt { level: libc::SOL_SOCKET, opt: libc::SO_BINDTODEVICE, name: "SO_BINDTODEVICE", value: Value::Name, in_host: false },
    opt(libc::IPPROTO_TCP, libc::TCP_NODELAY, "TCP_NODELAY", Value::Int),
    opt(libc::IPPROTO_TCP, libc::TCP_MAXSEG, "TCP_MAXSEG", Value::Int),
    opt(libc::IPPROTO_TCP, libc::TCP_CORK, "TCP_CORK", Value::Int),
    opt(libc::IPPROTO_TCP, libc::TCP_KEEPIDLE, "TCP_KEEPIDLE", Value::Range(1, 32767)),
    opt(libc::IPPROTO_TCP, libc::TCP_KEEPINTVL, "TCP_KEEPINTVL", Value::Range(1, 32767)),
    opt(libc::IPPROTO_TCP, libc::TCP_KEEPCNT, "TCP_KEEPCNT", Value::Range(1, 127)),
    opt(libc::IPPROTO_TCP, libc::TCP_QUICKACK, "TCP_QUICKACK", Value::Int),
    opt(libc::IPPROTO_TCP, libc::TCP_USER_TIMEOUT, "TCP_USER_TIMEOUT", Value::Range(0, i32::MAX as i64)),
    opt(libc::IPPROTO_IP, libc::IP_TOS, "IP_TOS", Value::Range(0, 255)),
    opt(libc::IPPROTO_IP, libc::IP_TTL, "IP_TTL", Value::Range(-1, 255)),
    opt(libc::IPPROTO_IP, libc::IP_HDRINCL, "IP_HDRINCL", Value::Int),
    opt(libc::IPPROTO_IP, libc::IP_MULTICAST_TTL, "IP_MULTICAST_TTL", Value::Range(-1, 255)),
    opt(libc::IPPROTO_IP, libc::IP_MULTICAST_LOOP, "IP_MULTICAST_LOOP", Value::Int),
    opt(libc::IPPROTO_IPV6, libc::IPV6_UNICAST_HOPS, "IPV6_UNICAST_HOPS", Value::Range(-1, 255)),
    opt(libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, "IPV6_V6ONLY", Value::Int),
];

/// Names of options scripts are known to try, for the refusal's sentence.
const KNOWN_REFUSED: &[(i32, i32, &str)] = &[
    (libc::SOL_SOCKET, libc::SO_SNDBUFFORCE, "SO_SNDBUFFORCE"),
    (libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, "SO_RCVBUFFORCE"),
    (libc::SOL_SOCKET, libc::SO_MARK, "SO_MARK"),
    (libc::SOL_SOCKET, libc::SO_BINDTOIFINDEX, "SO_BINDTOIFINDEX"),
    (libc::SOL_SOCKET, libc::SO_PRIORITY, "SO_PRIORITY"),
    (libc::SOL_SOCKET, libc::SO_ATTACH_FILTER, "SO_ATTACH_FILTER"),
    (libc::SOL_SOCKET, libc::SO_ATTACH_BPF, "SO_ATTACH_BPF"),
    (libc::SOL_SOCKET, libc::SO_PASSCRED, "SO_PASSCRED"),
    (libc::SOL_SOCKET, libc::SO_ZEROCOPY, "SO_ZEROCOPY"),
    (libc::IPPROTO_TCP, libc::TCP_REPAIR, "TCP_REPAIR"),
    (libc::IPPROTO_TCP, libc::TCP_REPAIR_QUEUE, "TCP_REPAIR_QUEUE"),
    (libc::IPPROTO_TCP, libc::TCP_REPAIR_OPTIONS, "TCP_REPAIR_OPTIONS"),
    (libc::IPPROTO_TCP, libc::TCP_QUEUE_SEQ, "TCP_QUEUE_SEQ"),
    (libc::IPPROTO_TCP, libc::TCP_MD5SIG, "TCP_MD5SIG"),
    (libc::IPPROTO_TCP, libc::TCP_ULP, "TCP_ULP"),
    (libc::IPPROTO_TCP, libc::TCP_CONGESTION, "TCP_CONGESTION"),
    (libc::IPPROTO_IP, libc::IP_OPTIONS, "IP_OPTIONS"),
    (libc::IPPROTO_IP, libc::IP_TRANSPARENT, "IP_TRANSPARENT"),
    (libc::IPPROTO_IP, libc::IP_FREEBIND, "IP_FREEBIND"),
    (libc::IPPROTO_IP, libc::IP_ADD_MEMBERSHIP, "IP_ADD_MEMBERSHIP"),
    (libc::IPPROTO_IPV6, libc::IPV6_RTHDR, "IPV6_RTHDR"),
    (libc::IPPROTO_IPV6, libc::IPV6_HOPOPTS, "IPV6_HOPOPTS"),
    (libc::IPPROTO_IPV6, libc::IPV6_DSTOPTS, "IPV6_DSTOPTS"),
    (libc::IPPROTO_IPV6, libc::IPV6_RTHDRDSTOPTS, "IPV6_RTHDRDSTOPTS"),
    (libc::IPPROTO_IPV6, libc::IPV6_TRANSPARENT, "IPV6_TRANSPARENT"),
];

fn level_name(level: i32) -> String {
    match level {
        libc::SOL_SOCKET => "SOL_SOCKET".into(),
        libc::IPPROTO_TCP => "IPPROTO_TCP".into(),
        libc::IPPROTO_IP => "IPPROTO_IP".into(),
        libc::IPPROTO_IPV6 => "IPPROTO_IPV6".into(),
        libc::IPPROTO_UDP => "IPPROTO_UDP".into(),
        other => format!("level {other}"),
    }
}

fn option_label(level: i32, opt: i32) -> String {
    let known = ALLOWED.iter().map(|o| (o.level, o.opt, o.name)).chain(KNOWN_REFUSED.iter().copied());
    match known.into_iter().find(|&(l, o, _)| l == level && o == opt) {
        Some((_, _, name)) => format!("{} {name}", level_name(level)),
        None => format!("{} option {opt}", level_name(level)),
    }
}

/// The kernel's buffer ceilings, as `setsockopt` without privilege sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferMax {
    pub wmem_max: i64,
    pub rmem_max: i64,
}

impl BufferMax {
    /// `net.core.wmem_max` and `rmem_max` as this thread's network namespace shows them
    /// (the host's where they are not per namespace); 208 KiB, Linux's default, if unreadable.
    pub fn read() -> BufferMax {
        let read = |name: &str| {
            std::fs::read_to_string(format!("/proc/sys/net/core/{name}"))
                .ok()
                .and_then(|text| text.trim().parse::<i64>().ok())
                .filter(|v| *v > 0)
                .unwrap_or(212_992)
        };
        BufferMax { wmem_max: read("wmem_max"), rmem_max: read("rmem_max") }
    }
}

/// `setsockopt(level, opt, value)`: the value to hand the kernel (a buffer size
/// may be clamped), or the refusal.
pub fn check_sockopt(level: i32, opt: i32, value: &OptValue, scope: Scope, max: BufferMax) -> Result<OptValue, ExecError> {
    let Some(allowed) = ALLOWED.iter().find(|o| o.level == level && o.opt == opt) else {
        return Err(refuse(
            libc::EPERM,
            format!("setsockopt({}) is not allowed: socklab allows the options its language documents", option_label(level, opt)),
        ));
    };
    if scope.host && !allowed.in_host {
        return Err(refuse(
            libc::EPERM,
            format!("setsockopt({}) is not allowed in host mode: sessions share the relay's network", option_label(level, opt)),
        ));
    }
    let name = allowed.name;
    let int = match value {
        OptValue::Int(v) => Some(*v),
        OptValue::Bytes(b) if b.as_slice().len() == 4 => {
            Some(i64::from(i32::from_ne_bytes(b.as_slice().try_into().unwrap_or_default())))
        }
        OptValue::Bytes(_) => None,
    };
    let bytes_len = match value {
        OptValue::Bytes(b) => Some(b.as_slice().len()),
        OptValue::Int(_) => None,
    };
    let out_of_range = |lo: i64, hi: i64| {
        refuse(libc::EINVAL, format!("{name} must be between {lo} and {hi}"))
    };
    match allowed.value {
        Value::Int => match (int, bytes_len) {
            (Some(v), _) if i32::try_from(v).is_err() => Err(refuse(libc::EINVAL, format!("{name} value {v} does not fit a C int"))),
            (Some(_), _) => Ok(value.clone()),
            // IP_MULTICAST_LOOP and friends also take a single byte, as in C.
            (None, Some(1)) => Ok(value.clone()),
            (None, _) => Err(refuse(libc::EINVAL, format!("{name} takes an int or 4 bytes"))),
        },
        Value::Range(lo, hi) => match int {
            Some(v) if (lo..=hi).contains(&v) => Ok(value.clone()),
            Some(_) => Err(out_of_range(lo, hi)),
            None if bytes_len == Some(1) => Ok(value.clone()),
            None => Err(refuse(libc::EINVAL, format!("{name} takes an int or 4 bytes"))),
        },
        Value::SndBuf | Value::RcvBuf => {
            let ceiling = if allowed.value == Value::SndBuf { max.wmem_max } else { max.rmem_max };
            match int {
                Some(v) if v < 0 => Err(refuse(libc::EINVAL, format!("{name} must not be negative"))),
                // What the kernel itself does for a process without CAP_NET_ADMIN.
                Some(v) => Ok(OptValue::Int(v.min(ceiling))),
                None => Err(refuse(libc::EINVAL, format!("{name} takes an int or 4 bytes"))),
            }
        }
        Value::Timeval => match (value, bytes_len) {
            (OptValue::Int(v), _) if *v < 0 => Err(ExecError::os(libc::EDOM)),
            (OptValue::Int(_), _) => Ok(value.clone()),
            (_, Some(16)) => Ok(value.clone()),
            _ => Err(refuse(libc::EINVAL, format!("{name} takes int seconds or a 16-byte struct timeval"))),
        },
        Value::Linger => match (value, bytes_len) {
            (OptValue::Int(v), _) if *v > i64::from(i32::MAX) => Err(out_of_range(i64::MIN, i64::from(i32::MAX))),
            (OptValue::Int(_), _) => Ok(value.clone()),
            (_, Some(8)) => Ok(value.clone()),
            _ => Err(refuse(libc::EINVAL, format!("{name} takes int seconds or an 8-byte struct linger"))),
        },
        Value::Name => match bytes_len {
            Some(len) if len <= libc::IFNAMSIZ => Ok(value.clone()),
            _ => Err(refuse(libc::EINVAL, format!("{name} takes an interface name of at most {} bytes", libc::IFNAMSIZ))),
        },
    }
}

fn family_label(family: i32) -> String {
    match family {
        libc::AF_PACKET => "17 (AF_PACKET)".into(),
        libc::AF_NETLINK => "16 (AF_NETLINK)".into(),
        other => other.to_string(),
    }
}

/// An OSError with the kernel's words for `errno`, then why.
/// A refusal worded exactly as the kernel's own (`e.strerror` as CPython shows it).
fn as_the_kernel(errno: i32) -> ExecError {
    ExecError::NotAllowed { errno, why: socklab_wire::errno::strerror(errno).to_string() }
}

fn refuse(errno: i32, why: String) -> ExecError {
    ExecError::NotAllowed { errno, why: format!("{} ({why})", socklab_wire::errno::strerror(errno)) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use socklab_wire::protocol::Bytes;

    const HOST: Scope = Scope { host: true, raw: false };
    const NETNS: Scope = Scope { host: false, raw: true };
    const MAX: BufferMax = BufferMax { wmem_max: 212_992, rmem_max: 212_992 };

    fn errno(e: ExecError) -> i32 {
        match e {
            ExecError::NotAllowed { errno, .. } => errno,
            ExecError::Policy(_) => libc::EACCES,
            ExecError::Os(e) => e.raw_os_error().unwrap_or(0),
            other => panic!("not an OS error: {other}"),
        }
    }

    #[test]
    fn documented_sockets_are_allowed_with_their_flags() {
        for scope in [HOST, NETNS] {
            for (family, ty, proto) in [
                (libc::AF_INET, libc::SOCK_STREAM, 0),
                (libc::AF_INET6, libc::SOCK_STREAM | libc::SOCK_NONBLOCK, libc::IPPROTO_TCP),
                (libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, libc::IPPROTO_ICMP),
                (libc::AF_UNIX, libc::SOCK_SEQPACKET | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0),
            ] {
                assert_eq!(check_socket(family, ty, proto, scope).unwrap(), ty & !TYPE_FLAGS);
            }
        }
        assert_eq!(check_socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_ICMP, NETNS).unwrap(), libc::SOCK_RAW);
    }

    #[test]
    fn packet_raw_and_unknown_sockets_are_refused() {
        for scope in [HOST, NETNS] {
            assert_eq!(errno(check_socket(libc::AF_INET, SOCK_PACKET, 768, scope).unwrap_err()), libc::EPERM);
            assert_eq!(errno(check_socket(libc::AF_INET, SOCK_PACKET | libc::SOCK_NONBLOCK, 768, scope).unwrap_err()), libc::EPERM);
            assert_eq!(errno(check_socket(libc::AF_PACKET, libc::SOCK_RAW, 768, scope).unwrap_err()), libc::EAFNOSUPPORT);
            assert_eq!(errno(check_socket(libc::AF_NETLINK, libc::SOCK_DGRAM, 0, scope).unwrap_err()), libc::EAFNOSUPPORT);
            assert_eq!(errno(check_socket(libc::AF_INET, 4, 0, scope).unwrap_err()), libc::ESOCKTNOSUPPORT);
            assert_eq!(errno(check_socket(libc::AF_INET, libc::SOCK_STREAM | 0x100, 0, scope).unwrap_err()), libc::EINVAL);
            assert_eq!(errno(check_socket(libc::AF_INET, libc::SOCK_STREAM, 262, scope).unwrap_err()), libc::EPROTONOSUPPORT);
            assert_eq!(errno(check_socket(libc::AF_INET, libc::SOCK_SEQPACKET, 132, scope).unwrap_err()), libc::ESOCKTNOSUPPORT);
        }
        let raw = check_socket(libc::AF_INET, libc::SOCK_RAW | libc::SOCK_NONBLOCK, libc::IPPROTO_ICMP, HOST).unwrap_err();
        assert_eq!(errno(raw), libc::EACCES);
        let message = check_socket(libc::AF_INET, SOCK_PACKET, 768, HOST).unwrap_err().to_string();
        assert!(message.contains("SOCK_PACKET"), "{message}");
    }

    #[test]
    fn options_outside_the_list_are_refused_by_name() {
        for scope in [HOST, NETNS] {
            for (level, opt, name) in [
                (libc::SOL_SOCKET, libc::SO_SNDBUFFORCE, "SO_SNDBUFFORCE"),
                (libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, "SO_RCVBUFFORCE"),
                (libc::SOL_SOCKET, libc::SO_BINDTOIFINDEX, "SO_BINDTOIFINDEX"),
                (libc::IPPROTO_TCP, libc::TCP_REPAIR, "TCP_REPAIR"),
                (libc::IPPROTO_IP, libc::IP_OPTIONS, "IP_OPTIONS"),
                            (libc::SOL_SOCKET, 9999, "option 9999"),
            ] {
                let err = check_sockopt(level, opt, &OptValue::Int(1), scope, MAX).unwrap_err();
                assert!(err.to_string().contains(name), "{err}");
                assert_eq!(errno(err), libc::EPERM);
            }
        }
        let dev = OptValue::Bytes(Bytes::new(b"lo".to_vec()));
        assert_eq!(errno(check_sockopt(libc::SOL_SOCKET, libc::SO_BINDTODEVICE, &dev, HOST, MAX).unwrap_err()), libc::EPERM);
        assert!(check_sockopt(libc::SOL_SOCKET, libc::SO_BINDTODEVICE, &dev, NETNS, MAX).is_ok());
    }

    #[test]
    fn values_are_range_checked_and_buffers_clamped() {
        let set = |level, opt, v: i64| check_sockopt(level, opt, &OptValue::Int(v), HOST, MAX);
        assert_eq!(set(libc::SOL_SOCKET, libc::SO_RCVBUF, 1 << 30).unwrap(), OptValue::Int(212_992));
        assert_eq!(set(libc::SOL_SOCKET, libc::SO_SNDBUF, 4096).unwrap(), OptValue::Int(4096));
        assert!(set(libc::SOL_SOCKET, libc::SO_SNDBUF, -1).is_err());
        let big = OptValue::Bytes(Bytes::new(i32::MAX.to_ne_bytes().to_vec()));
        assert_eq!(check_sockopt(libc::SOL_SOCKET, libc::SO_RCVBUF, &big, HOST, MAX).unwrap(), OptValue::Int(212_992));
        assert!(set(libc::SOL_SOCKET, libc::SO_REUSEADDR, 1 << 40).is_err());
        assert!(set(libc::IPPROTO_IP, libc::IP_TTL, 256).is_err());
        assert!(set(libc::IPPROTO_IP, libc::IP_TTL, 64).is_ok());
        assert!(set(libc::IPPROTO_TCP, libc::TCP_KEEPCNT, 0).is_err());
        assert!(set(libc::SOL_SOCKET, libc::SO_LINGER, 1 << 40).is_err());
        assert!(set(libc::SOL_SOCKET, libc::SO_LINGER, -1).is_ok());
        assert!(set(libc::SOL_SOCKET, libc::SO_RCVTIMEO, i64::MAX).is_ok());
        let long = OptValue::Bytes(Bytes::new(vec![0; 100]));
        assert!(check_sockopt(libc::SOL_SOCKET, libc::SO_REUSEADDR, &long, HOST, MAX).is_err());
    }
}
