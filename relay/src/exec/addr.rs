//! Script addresses to kernel addresses and back, with the session's address policy.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::path::{Component, Path, PathBuf};

use socket2::SockAddr;
use socklab_wire::protocol::Addr;

use super::ExecError;
use super::classify::{self, Cidr};

/// Which addresses a session may use. In a private namespace everything is
/// allowed (only loopback exists there); in host mode the relay's own network
/// is shared, so it is fenced.
#[derive(Debug, Clone)]
pub struct AddrPolicy {
    /// Destinations other than loopback are refused.
    pub loopback_only: bool,
    /// Binding ports below 1024 is refused.
    pub unprivileged_ports_only: bool,
    /// Ports no session may touch (the relay's own listener in host mode).
    pub reserved_ports: Vec<u16>,
    /// Where the session's Unix socket paths live; scripts see paths relative to it.
    pub unix_root: PathBuf,
    /// With `loopback_only`: ranges the operator allows besides loopback (`--allow-destination`).
    pub allow: Vec<Cidr>,
    /// Prepended to abstract Unix names. In host mode the abstract namespace is
    /// the whole machine's (X11, D-Bus and others live there), so each session
    /// gets its own corner of it; scripts never see the prefix.
    pub abstract_prefix: Option<String>,
}

impl AddrPolicy {
    /// No fences: for a session in its own network namespace.
    pub fn sandboxed(unix_root: PathBuf) -> AddrPolicy {
        AddrPolicy {
            loopback_only: false,
            unprivileged_ports_only: false,
            reserved_ports: Vec::new(),
            unix_root,
            allow: Vec::new(),
            abstract_prefix: None,
        }
    }

    /// Loopback only, unprivileged ports, never `reserved_ports`.
    pub fn host(unix_root: PathBuf, reserved_ports: Vec<u16>) -> AddrPolicy {
        let abstract_prefix = Some(format!("{}/", unix_root.display()));
        AddrPolicy {
            loopback_only: true,
            unprivileged_ports_only: true,
            reserved_ports,
            unix_root,
            allow: Vec::new(),
            abstract_prefix,
        }
    }
}

/// What an address is used for; the policy differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    Bind,
    Destination,
}

/// Resolve a host name the way the sandbox can: literals, `""`, `localhost`, `<broadcast>`.
pub fn resolve_host(host: &str, family: i32) -> Result<IpAddr, ExecError> {
    let v6 = family == libc::AF_INET6;
    let ip = match host {
        "" => Some(if v6 { IpAddr::V6(Ipv6Addr::UNSPECIFIED) } else { IpAddr::V4(Ipv4Addr::UNSPECIFIED) }),
        // `socket.gethostname()` in a script: the lab host is loopback.
        "localhost" | "ip6-localhost" | "socklab" => {
            Some(if v6 { IpAddr::V6(Ipv6Addr::LOCALHOST) } else { IpAddr::V4(Ipv4Addr::LOCALHOST) })
        }
        "<broadcast>" if !v6 => Some(IpAddr::V4(Ipv4Addr::BROADCAST)),
        _ => host.parse::<IpAddr>().ok(),
    };
    ip.ok_or_else(|| ExecError::name_not_known(host))
}

pub use socklab_wire::protocol::is_outside_name;

/// Turn a script address into a kernel address for a socket of `family`.
pub fn to_sockaddr(addr: &Addr, family: i32, policy: &AddrPolicy, usage: Use) -> Result<SockAddr, ExecError> {
    match (family, addr) {
        (libc::AF_INET, Addr::Inet { host, port, flowinfo: None, scope_id: None }) => {
            let port = check_port(*port)?;
            let ip = match resolve_host(host, family)? {
                IpAddr::V4(ip) => ip,
                IpAddr::V6(_) => return Err(ExecError::os(libc::EAFNOSUPPORT)),
            };
            check_inet(IpAddr::V4(ip), port, policy, usage)?;
            Ok(SocketAddr::V4(SocketAddrV4::new(ip, port)).into())
        }
        (libc::AF_INET, Addr::Inet { .. }) => {
            Err(ExecError::BadArgument("AF_INET address must be a pair (host, port)".into()))
        }
        (libc::AF_INET6, Addr::Inet { host, port, flowinfo, scope_id }) => {
            let port = check_port(*port)?;
            let ip = match resolve_host(host, family)? {
                IpAddr::V6(ip) => ip,
                // Python resolves an IPv4 literal for an AF_INET6 socket to its mapped form.
                IpAddr::V4(ip) => ip.to_ipv6_mapped(),
            };
            check_inet(IpAddr::V6(ip), port, policy, usage)?;
            let v6 = SocketAddrV6::new(ip, port, flowinfo.unwrap_or(0), scope_id.unwrap_or(0));
            Ok(SocketAddr::V6(v6).into())
        }
        (libc::AF_UNIX, Addr::Unix { path }) => unix_sockaddr(path, policy),
        (libc::AF_UNIX, Addr::Inet { .. }) => {
            Err(ExecError::BadArgument("AF_UNIX address must be a path string, not a tuple".into()))
        }
        (libc::AF_INET | libc::AF_INET6, Addr::Unix { .. }) => Err(ExecError::BadArgument(format!(
            "{} address must be a tuple (host, port), not a string",
            family_name(family)
        ))),
        _ => Err(ExecError::os(libc::EAFNOSUPPORT)),
    }
}

fn family_name(family: i32) -> &'static str {
    match family {
        libc::AF_INET => "AF_INET",
        libc::AF_INET6 => "AF_INET6",
        libc::AF_UNIX => "AF_UNIX",
        _ => "this family's",
    }
}

fn check_port(port: i64) -> Result<u16, ExecError> {
    u16::try_from(port).map_err(|_| ExecError::BadArgument(format!("port must be 0-65535, not {port}")))
}

/// The policy check for IP addresses, after every IPv4-in-IPv6 encoding is
/// unwrapped (see `classify`): the address checked is the address dialled.
fn check_inet(ip: IpAddr, port: u16, policy: &AddrPolicy, usage: Use) -> Result<(), ExecError> {
    if policy.loopback_only {
        let verdict = match usage {
            Use::Bind => classify::check_bind(ip, &policy.allow),
            Use::Destination => classify::check_destination(ip, &policy.allow),
        };
        verdict.map_err(|forbidden| ExecError::Policy(forbidden.to_string()))?;
    }
    if policy.reserved_ports.contains(&port) && port != 0 {
        return Err(ExecError::Policy(format!("port {port} is the relay's own and cannot be used by scripts")));
    }
    if usage == Use::Bind && policy.unprivileged_ports_only && port != 0 && port < 1024 {
        return Err(ExecError::Policy(format!(
            "binding port {port} is not allowed: this relay allows ports 1024-65535 only"
        )));
    }
    Ok(())
}

/// A Unix path inside the session's own directory. Absolute and relative
/// script paths both land there; `..` and symlinks cannot leave it.
fn unix_sockaddr(path: &str, policy: &AddrPolicy) -> Result<SockAddr, ExecError> {
    check_unix_length(path.len(), path.starts_with('\0'))?;
    if path.contains('\0') && !path.starts_with('\0') {
        return Err(ExecError::BadArgument("a Unix socket path cannot contain NUL except as its first byte".into()));
    }
    if let Some(name) = path.strip_prefix('\0') {
        // Abstract names need no directory: the abstract namespace is per network namespace.
        let full = match &policy.abstract_prefix {
            Some(prefix) => format!("\0{prefix}{name}"),
            None => path.to_string(),
        };
        return SockAddr::unix(full).map_err(|_| ExecError::os(libc::ENAMETOOLONG));
    }
    if path.is_empty() {
        return Err(ExecError::BadArgument("an empty Unix socket path names nothing".into()));
    }
    let inside = inside_path(path)?;
    let full = policy.unix_root.join(&inside);
    // Before anything is created: a path the kernel cannot take must leave no directories behind.
    check_unix_length(std::os::unix::ffi::OsStrExt::as_bytes(full.as_os_str()).len(), false)?;
    if let Some(parent) = full.parent() {
        // Check before creating anything: create_dir_all would follow a symlink out.
        refuse_symlinks(&policy.unix_root, &inside)?;
        std::fs::create_dir_all(parent).map_err(ExecError::Os)?;
    }
    SockAddr::unix(&full).map_err(|_| ExecError::os(libc::ENAMETOOLONG))
}

/// A file path (`os.unlink`, `os.path.exists`) where `bind` puts the same
/// Unix socket path: inside the session's directory, `..` and symlinks
/// refused; nothing is created. An abstract name or empty path names no file.
pub fn unix_file(path: &str, policy: &AddrPolicy) -> Result<PathBuf, ExecError> {
    if path.is_empty() || path.contains('\0') {
        return Err(ExecError::os(libc::ENOENT));
    }
    if path.len() > libc::PATH_MAX as usize {
        return Err(ExecError::os(libc::ENAMETOOLONG));
    }
    let inside = inside_path(path)?;
    refuse_symlinks(&policy.unix_root, &inside)?;
    Ok(policy.unix_root.join(inside))
}

/// The room in `sockaddr_un.sun_path`, terminating NUL included.
const SUN_PATH: usize = 108;

/// Refuse a Unix socket path longer than the kernel takes, before it is
/// looked at further (CPython: `OSError: AF_UNIX path too long`).
/// `len` counts the session directory's part too, once it is prefixed.
fn check_unix_length(len: usize, abstract_name: bool) -> Result<(), ExecError> {
    // A pathname needs its NUL within sun_path; an abstract name may fill it.
    let room = if abstract_name { SUN_PATH } else { SUN_PATH - 1 };
    if len > room {
        return Err(ExecError::NotAllowed {
            errno: libc::ENAMETOOLONG,
            why: format!("AF_UNIX path too long: {len} bytes, and the kernel takes at most {room} (the session's directory counts)"),
        });
    }
    Ok(())
}

/// A script path as a path relative to the session's directory.
fn inside_path(path: &str) -> Result<PathBuf, ExecError> {
    let mut inside = PathBuf::new();
    for component in Path::new(path).components() {
        match component {
            Component::RootDir | Component::CurDir => {}
            Component::Normal(part) => inside.push(part),
            Component::ParentDir | Component::Prefix(_) => {
                return Err(ExecError::Policy(format!(
                    "Unix socket path {path:?} uses '..': paths stay inside the session's directory"
                )));
            }
        }
    }
    Ok(inside)
}

/// Refuse a path whose directories pass through a symlink (a script cannot
/// make one, but the directory is on the relay's disk).
fn refuse_symlinks(root: &Path, inside: &Path) -> Result<(), ExecError> {
    let mut at = root.to_path_buf();
    let parts: Vec<_> = inside.components().collect();
    for part in parts.iter().take(parts.len().saturating_sub(1)) {
        at.push(part);
        match std::fs::symlink_metadata(&at) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(ExecError::Policy(format!(
                    "{} is a symlink; Unix paths cannot leave the session",
                    at.display()
                )));
            }
            Ok(_) => {}
            // Nothing deeper exists, so nothing deeper is a symlink: each lookup costs the
            // path so far, and stopping here keeps a long path's check short.
            Err(_) => break,
        }
    }
    Ok(())
}

/// A kernel address as the script sees it.
pub fn from_sockaddr(addr: &SockAddr, policy: &AddrPolicy) -> Option<Addr> {
    if let Some(sa) = addr.as_socket() {
        return Some(match sa {
            SocketAddr::V4(v4) => Addr::inet(v4.ip().to_string(), v4.port()),
            SocketAddr::V6(v6) => Addr::Inet {
                host: v6.ip().to_string(),
                port: v6.port().into(),
                flowinfo: Some(v6.flowinfo()),
                scope_id: Some(v6.scope_id()),
            },
        });
    }
    if addr.family() == libc::AF_UNIX as libc::sa_family_t {
        if let Some(name) = addr.as_abstract_namespace() {
            let name = String::from_utf8_lossy(name);
            let shown = match &policy.abstract_prefix {
                Some(prefix) => name.strip_prefix(prefix.as_str()).unwrap_or(&name),
                None => &name,
            };
            return Some(Addr::Unix { path: format!("\0{shown}") });
        }
        if let Some(path) = addr.as_pathname() {
            let shown = match path.strip_prefix(&policy.unix_root) {
                Ok(rest) => format!("/{}", rest.display()),
                Err(_) => path.display().to_string(),
            };
            return Some(Addr::Unix { path: shown });
        }
        return Some(Addr::Unix { path: String::new() });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> AddrPolicy {
        AddrPolicy::host(std::env::temp_dir().join("socklab-addr-test"), vec![7878])
    }

    #[test]
    fn names_spelled_like_outside_hosts() {
        for name in ["baidu.com", "www.example.org", "example.com.", "a-b.c1.io"] {
            assert!(is_outside_name(name), "{name}");
        }
        for name in ["", "localhost", "foo", "1.2.3.4", "-a.com", "a..com", "a b.com", ".com", "x.123", "a_b.com"] {
            assert!(!is_outside_name(name), "{name}");
        }
    }

    #[test]
    fn host_mode_is_loopback_only_in_canonical_form() {
        let p = policy();
        let ok = Addr::inet("127.0.0.1", 5500);
        assert!(to_sockaddr(&ok, libc::AF_INET, &p, Use::Destination).is_ok());
        let outside = Addr::inet("10.0.0.1", 80);
        assert!(matches!(to_sockaddr(&outside, libc::AF_INET, &p, Use::Destination), Err(ExecError::Policy(_))));
        let mapped = Addr::inet("::ffff:10.0.0.1", 5500);
        assert!(matches!(to_sockaddr(&mapped, libc::AF_INET6, &p, Use::Destination), Err(ExecError::Policy(_))));
        let mapped_lo = Addr::inet("::ffff:127.0.0.1", 5500);
        assert!(to_sockaddr(&mapped_lo, libc::AF_INET6, &p, Use::Destination).is_ok());
        let own = Addr::inet("127.0.0.1", 7878);
        assert!(matches!(to_sockaddr(&own, libc::AF_INET, &p, Use::Destination), Err(ExecError::Policy(_))));
        let low = Addr::inet("127.0.0.1", 80);
        assert!(matches!(to_sockaddr(&low, libc::AF_INET, &p, Use::Bind), Err(ExecError::Policy(_))));
    }

    #[test]
    fn unix_paths_stay_inside_the_session_directory() {
        let p = policy();
        let inside = to_sockaddr(&Addr::Unix { path: "/tmp/echo.sock".into() }, libc::AF_UNIX, &p, Use::Bind).unwrap();
        assert!(inside.as_pathname().unwrap().starts_with(&p.unix_root));
        assert_eq!(from_sockaddr(&inside, &p), Some(Addr::Unix { path: "/tmp/echo.sock".into() }));
        let escape = Addr::Unix { path: "../../etc/x".into() };
        assert!(matches!(to_sockaddr(&escape, libc::AF_UNIX, &p, Use::Bind), Err(ExecError::Policy(_))));
    }

    #[test]
    fn long_unix_paths_are_refused_before_the_file_system() {
        let root = tempfile_root();
        let p = AddrPolicy::host(root.clone(), vec![]);
        let long = "d/".repeat(400_000);
        let err = to_sockaddr(&Addr::Unix { path: long }, libc::AF_UNIX, &p, Use::Bind).unwrap_err();
        assert!(err.to_string().contains("AF_UNIX path too long"), "{err}");
        // Short for the script but too long once inside the session's directory.
        let nested = format!("{}/x.sock", "a/".repeat(50));
        assert!(to_sockaddr(&Addr::Unix { path: nested }, libc::AF_UNIX, &p, Use::Bind).is_err());
        assert!(!root.exists(), "nothing was created");
        let abstract_name = format!("\0{}", "x".repeat(200));
        assert!(to_sockaddr(&Addr::Unix { path: abstract_name }, libc::AF_UNIX, &p, Use::Bind).is_err());
    }

    fn tempfile_root() -> PathBuf {
        std::env::temp_dir().join(format!("socklab-addr-long-{}", std::process::id()))
    }

    #[test]
    fn wrong_shapes_are_named() {
        let p = policy();
        let err = to_sockaddr(&Addr::Unix { path: "x".into() }, libc::AF_INET, &p, Use::Bind).unwrap_err();
        assert!(err.to_string().contains("AF_INET address must be a tuple"), "{err}");
        let err = to_sockaddr(&Addr::inet("127.0.0.1", 0), libc::AF_INET, &p, Use::Bind);
        assert!(err.is_ok());
        let big = Addr::Inet { host: "127.0.0.1".into(), port: 70000, flowinfo: None, scope_id: None };
        assert!(to_sockaddr(&big, libc::AF_INET, &p, Use::Bind).unwrap_err().to_string().contains("0-65535"));
    }
}
