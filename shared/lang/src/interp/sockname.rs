//! The socket module's pure helpers: byte order (`htons`, …), address text
//! (`inet_aton`, `inet_ntop`, …), services and protocols (`getservbyname`,
//! `getprotobyname`), `gethostname`/`getnameinfo`, `getdefaulttimeout`.
//! None of them makes a system call that a learner could watch: CPython reads
//! `/etc/services` and `/etc/protocols` for the tables below.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::args::{Args, to_bytes, to_int};
use super::exception::Exception;
use super::value::Value;
use crate::names::{ExcClass, LibFn};

/// The lab host's name: `gethostname()` gives it, and it resolves to loopback.
pub const LAB_HOSTNAME: &str = "socklab";

/// The services of `/etc/services` socket programs name, as (name, port, protocols).
const SERVICES: &[(&str, u16, &str)] = &[
    ("echo", 7, "tcp udp"),
    ("discard", 9, "tcp udp"),
    ("daytime", 13, "tcp udp"),
    ("ftp-data", 20, "tcp"),
    ("ftp", 21, "tcp"),
    ("ssh", 22, "tcp"),
    ("telnet", 23, "tcp"),
    ("smtp", 25, "tcp"),
    ("time", 37, "tcp udp"),
    ("domain", 53, "tcp udp"),
    ("gopher", 70, "tcp"),
    ("finger", 79, "tcp"),
    ("http", 80, "tcp"),
    ("pop3", 110, "tcp"),
    ("sunrpc", 111, "tcp udp"),
    ("ntp", 123, "udp"),
    ("imap2", 143, "tcp"),
    ("snmp", 161, "tcp udp"),
    ("https", 443, "tcp udp"),
    ("submission", 587, "tcp"),
    ("imaps", 993, "tcp"),
    ("pop3s", 995, "tcp"),
];

/// `/etc/protocols`: (name, number).
const PROTOCOLS: &[(&str, i64)] = &[("ip", 0), ("icmp", 1), ("igmp", 2), ("tcp", 6), ("udp", 17), ("ipv6", 41), ("ipv6-icmp", 58), ("raw", 255)];

/// Whether `f` is one of this file's functions.
pub fn handles(f: LibFn) -> bool {
    f.name().starts_with("socket.")
}

fn text(v: Option<Value>, what: &str) -> Result<String, Exception> {
    match v.unwrap_or(Value::None) {
        Value::Str(s) => Ok(s.to_string()),
        other => Err(Exception::type_error(format!("{what} must be str, not {}", other.type_name()))),
    }
}

fn os_error(message: &str) -> Exception {
    Exception::new(ExcClass::OsError, message)
}

fn service_proto(proto: Option<Value>) -> Result<Option<String>, Exception> {
    match proto {
        None | Some(Value::None) => Ok(None),
        p => text(p, "getservbyname() argument 2").map(Some),
    }
}

/// Calls a helper.
pub fn call(f: LibFn, args: Args, lib: &mut super::library::LibState) -> Result<Value, Exception> {
    let short = |n: i64, bits: u32| -> Result<i64, Exception> {
        if n < 0 {
            return Err(Exception::overflow(format!("{}: can't convert negative Python int to C {}", f.short_name(), if bits == 16 { "16-bit unsigned integer" } else { "unsigned long" })));
        }
        if bits == 16 && n > 0xffff {
            return Err(Exception::overflow(format!("{}: Python int too large to convert to C 16-bit unsigned integer", f.short_name())));
        }
        if bits == 32 && n > 0xffff_ffff {
            return Err(Exception::overflow("int larger than 32 bits"));
        }
        Ok(n)
    };
    Ok(match f {
        LibFn::SocketHtons | LibFn::SocketNtohs => {
            let [x] = args.bind(["x"], 1)?;
            let n = short(to_int(&x.unwrap_or(Value::None))?, 16)?;
            Value::Int(i64::from((n as u16).swap_bytes()))
        }
        LibFn::SocketHtonl | LibFn::SocketNtohl => {
            let [x] = args.bind(["x"], 1)?;
            let n = short(to_int(&x.unwrap_or(Value::None))?, 32)?;
            Value::Int(i64::from((n as u32).swap_bytes()))
        }
        LibFn::SocketInetAton => {
            let [s] = args.bind(["string"], 1)?;
            let s = text(s, "inet_aton() argument 1")?;
            let ip = inet_aton(&s).ok_or_else(|| os_error("illegal IP address string passed to inet_aton"))?;
            Value::bytes(ip.octets())
        }
        LibFn::SocketInetNtoa => {
            let [b] = args.bind(["packed_ip"], 1)?;
            let b = to_bytes(&b.unwrap_or(Value::None))?;
            let octets: [u8; 4] = (*b).try_into().map_err(|_| os_error("packed IP wrong length for inet_ntoa"))?;
            Value::str(Ipv4Addr::from(octets).to_string())
        }
        LibFn::SocketInetPton => {
            let [family, s] = args.bind(["address_family", "ip_string"], 2)?;
            let family = to_int(&family.unwrap_or(Value::None))?;
            let s = text(s, "inet_pton() argument 2")?;
            let illegal = || os_error("illegal IP address string passed to inet_pton");
            match family {
                2 => Value::bytes(s.parse::<Ipv4Addr>().map_err(|_| illegal())?.octets()),
                10 => Value::bytes(s.parse::<Ipv6Addr>().map_err(|_| illegal())?.octets()),
                _ => return Err(Exception::os_errno(97)),
            }
        }
        LibFn::SocketInetNtop => {
            let [family, b] = args.bind(["address_family", "packed_ip"], 2)?;
            let family = to_int(&family.unwrap_or(Value::None))?;
            let b = to_bytes(&b.unwrap_or(Value::None))?;
            match family {
                2 => {
                    let octets: [u8; 4] = (*b).try_into().map_err(|_| Exception::value_error("invalid length of packed IP address string"))?;
                    Value::str(Ipv4Addr::from(octets).to_string())
                }
                10 => {
                    let octets: [u8; 16] = (*b).try_into().map_err(|_| Exception::value_error("invalid length of packed IP address string"))?;
                    Value::str(Ipv6Addr::from(octets).to_string())
                }
                _ => return Err(Exception::value_error(format!("unknown address family {family}"))),
            }
        }
        LibFn::SocketGethostname => {
            args.bind::<0>([], 0)?;
            Value::str(LAB_HOSTNAME)
        }
        LibFn::SocketGetfqdn => {
            let [name] = args.bind(["name"], 0)?;
            match name {
                Some(Value::Str(s)) if !s.is_empty() && s.as_ref() != "0.0.0.0" => Value::Str(s),
                _ => Value::str(LAB_HOSTNAME),
            }
        }
        LibFn::SocketGetservbyname => {
            let [name, proto] = args.bind(["servicename", "protocolname"], 1)?;
            let name = text(name, "getservbyname() argument 1")?;
            let proto = service_proto(proto)?;
            let found = SERVICES
                .iter()
                .find(|(n, _, protos)| *n == name && proto.as_ref().is_none_or(|p| protos.split(' ').any(|x| x == p)));
            Value::Int(i64::from(found.ok_or_else(|| os_error("service/proto not found"))?.1))
        }
        LibFn::SocketGetservbyport => {
            let [port, proto] = args.bind(["port", "protocolname"], 1)?;
            let port = to_int(&port.unwrap_or(Value::None))?;
            if !(0..=65535).contains(&port) {
                return Err(Exception::overflow("getservbyport: port must be 0-65535."));
            }
            let proto = service_proto(proto)?;
            let found = SERVICES
                .iter()
                .find(|(_, p, protos)| i64::from(*p) == port && proto.as_ref().is_none_or(|x| protos.split(' ').any(|y| y == x)));
            Value::str(found.ok_or_else(|| os_error("port/proto not found"))?.0)
        }
        LibFn::SocketGetprotobyname => {
            let [name] = args.bind(["protocolname"], 1)?;
            let name = text(name, "getprotobyname() argument 1")?;
            let found = PROTOCOLS.iter().find(|(n, _)| n.eq_ignore_ascii_case(&name));
            Value::Int(found.ok_or_else(|| os_error("protocol not found"))?.1)
        }
        LibFn::SocketGetnameinfo => {
            let [sockaddr, flags] = args.bind(["sockaddr", "flags"], 2)?;
            let flags = to_int(&flags.unwrap_or(Value::None))?;
            let (host, port) = match sockaddr.unwrap_or(Value::None) {
                Value::Tuple(t) if (2..=4).contains(&t.len()) => (t[0].clone(), to_int(&t[1])?),
                _ => return Err(Exception::type_error("getnameinfo() argument 1 must be a tuple")),
            };
            let host = text(Some(host), "getnameinfo() argument 1")?;
            let ip: std::net::IpAddr = host
                .parse()
                .map_err(|_| Exception::new(ExcClass::OsError, "[Errno -2] Name or service not known"))?;
            // NI_NUMERICHOST = 1, NI_NUMERICSERV = 2, NI_DGRAM = 16.
            let name = if flags & 1 == 0 && ip.is_loopback() { "localhost".to_string() } else { ip.to_string() };
            let proto = if flags & 16 != 0 { "udp" } else { "tcp" };
            let service = SERVICES
                .iter()
                .find(|(_, p, protos)| i64::from(*p) == port && protos.split(' ').any(|x| x == proto))
                .filter(|_| flags & 2 == 0)
                .map_or_else(|| port.to_string(), |s| s.0.to_string());
            Value::tuple(vec![Value::str(name), Value::str(service)])
        }
        LibFn::SocketGetdefaulttimeout => {
            args.bind::<0>([], 0)?;
            lib.default_timeout.map_or(Value::None, Value::Float)
        }
        LibFn::SocketSetdefaulttimeout => {
            let [t] = args.bind(["timeout"], 1)?;
            let t = super::args::to_seconds(&t.unwrap_or(Value::None), "timeout")?;
            if t.is_some_and(|t| t < 0.0) {
                return Err(Exception::value_error("Timeout value out of range"));
            }
            lib.default_timeout = t;
            Value::None
        }
        _ => Value::None,
    })
}

/// `inet_aton`'s forms: `a.b.c.d`, `a.b.c`, `a.b`, `a`, each part decimal, octal or hex.
fn inet_aton(s: &str) -> Option<Ipv4Addr> {
    let parts: Vec<u32> = s
        .split('.')
        .map(|p| {
            if let Some(h) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
                u32::from_str_radix(h, 16).ok()
            } else if p.len() > 1 && p.starts_with('0') {
                u32::from_str_radix(&p[1..], 8).ok()
            } else if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) {
                p.parse().ok()
            } else {
                None
            }
        })
        .collect::<Option<Vec<u32>>>()?;
    let value = match parts.as_slice() {
        [a] => *a,
        [a, b] if *a < 256 && *b < (1 << 24) => (a << 24) | b,
        [a, b, c] if *a < 256 && *b < 256 && *c < (1 << 16) => (a << 24) | (b << 16) | c,
        [a, b, c, d] if [a, b, c, d].iter().all(|x| **x < 256) => (a << 24) | (b << 16) | (c << 8) | d,
        _ => return None,
    };
    Some(Ipv4Addr::from(value))
}
