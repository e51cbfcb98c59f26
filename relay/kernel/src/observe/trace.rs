//! Every TCP state change from the kernel's `sock:inet_sock_set_state` tracepoint,
//! read from a private tracefs instance by one thread for the whole process.
//!
//! The instance (`instances/socklab-<pid>-<n>`) has its own buffer and enables,
//! so nobody else's tracing is disturbed. It uses the `mono` clock (the same as
//! `CLOCK_MONOTONIC`) and the `fields` option, which prints every field of the
//! event including `skaddr`, the kernel address of the socket: the one key that
//! stays the same across a connection's transitions. The price of `fields` is
//! that 16-byte IPv6 addresses are not printed (`<INVALID-SIZE>`); for IPv6 the
//! ports are matched and the addresses come from the session's own sockets.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::thread::JoinHandle;

use socklab_wire::tcp::TcpState;

use super::tcp_state;

/// Where tracefs is mounted when it is not yet.
const TRACEFS: &str = "/sys/kernel/tracing";
const EVENT_DIR: &str = "events/sock/inet_sock_set_state";
const INSTANCE_PREFIX: &str = "socklab-";
const STOP_MARKER: &str = "socklab-stop";
/// How often, with no traced event, held transitions are looked at again.
pub(crate) const IDLE_TICK: std::time::Duration = std::time::Duration::from_millis(100);

/// Why tracing is not available.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error("tracefs at {TRACEFS} cannot be used (not mounted and not mountable, or not permitted): {0}")]
    Mount(io::Error),
    #[error("cannot create a tracefs instance: {0}")]
    Instance(io::Error),
    #[error("cannot set up the inet_sock_set_state event: {0}")]
    Event(io::Error),
}

/// One state change of one kernel socket, as the tracepoint reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Transition {
    /// `CLOCK_MONOTONIC` nanoseconds (µs precision: that is what the text shows).
    pub ts_ns: u64,
    /// The thread the kernel was running: the caller of the syscall, or whoever
    /// was interrupted when the change happened in softirq or timer context.
    pub pid: i32,
    /// Whether the change happened in softirq context (`pid` is then only the
    /// interrupted thread).
    pub softirq: bool,
    /// The socket's kernel address: same for every transition of one socket.
    pub skaddr: u64,
    pub old: TcpState,
    pub new: TcpState,
    pub family: u16,
    pub sport: u16,
    pub dport: u16,
    /// `None` for IPv6 (not printed by the `fields` option).
    pub saddr: Option<IpAddr>,
    pub daddr: Option<IpAddr>,
}

impl Transition {
    /// Whether this transition starts a new life for `skaddr` (a fresh socket
    /// connecting or listening, or a child cloned from a listener): the address
    /// may be a freed socket's memory reused, so earlier knowledge of it does not apply.
    pub fn starts_new_socket(&self) -> bool {
        self.old == TcpState::Close
            || (self.old == TcpState::Listen && self.new == TcpState::SynRecv)
    }

    /// Parses one line of the instance's `trace_pipe` (with the `fields` option).
    pub fn parse(line: &str) -> Option<Transition> {
        let (head, fields) = line.split_once(": inet_sock_set_state: ")?;
        // head: "<comm>-<pid>  [<cpu>] <flags>  <secs>.<usecs>"
        let mut words = head.split_whitespace().rev();
        let ts = words.next()?.trim_end_matches(':');
        let flags = words.next()?;
        let _cpu = words.next()?;
        let comm_pid = head[..head.find('[')?].trim_end();
        let pid = comm_pid.rsplit_once('-')?.1.parse().ok()?;
        let (secs, micros) = ts.split_once('.')?;
        let ts_ns = secs.parse::<u64>().ok()? * 1_000_000_000 + micros.parse::<u64>().ok()? * 1_000;

        let mut t = Transition {
            ts_ns,
            pid,
            softirq: flags
                .chars()
                .nth(2)
                .is_some_and(|c| matches!(c, 's' | 'H' | 'h')),
            skaddr: 0,
            old: TcpState::Close,
            new: TcpState::Close,
            family: 0,
            sport: 0,
            dport: 0,
            saddr: None,
            daddr: None,
        };
        for word in fields.split_whitespace() {
            let Some((key, value)) = word.split_once('=') else {
                continue;
            };
            let Some(hex) = value.strip_prefix("0x") else {
                continue;
            };
            let Ok(n) = u64::from_str_radix(hex, 16) else {
                continue;
            };
            match key {
                "skaddr" => t.skaddr = n,
                "oldstate" => t.old = tcp_state::from_kernel(u32::try_from(n).ok()?)?,
                "newstate" => t.new = tcp_state::from_kernel(u32::try_from(n).ok()?)?,
                "sport" => t.sport = u16::try_from(n).ok()?,
                "dport" => t.dport = u16::try_from(n).ok()?,
                "family" => t.family = u16::try_from(n).ok()?,
                // A `__u8[4]` printed as the native-endian u32 over its bytes.
                "saddr" => t.saddr = Some(ipv4_from_field(n)?),
                "daddr" => t.daddr = Some(ipv4_from_field(n)?),
                _ => {}
            }
        }
        if t.family != libc::AF_INET as u16 {
            t.saddr = None;
            t.daddr = None;
        }
        (t.skaddr != 0).then_some(t)
    }
}

fn ipv4_from_field(n: u64) -> Option<IpAddr> {
    let n = u32::try_from(n).ok()?;
    Some(IpAddr::V4(Ipv4Addr::from(n.to_ne_bytes())))
}

/// A private tracefs instance with the event enabled and a thread reading it.
/// Dropping it stops the thread and removes the instance.
#[derive(Debug)]
pub(crate) struct Tracer {
    dir: PathBuf,
    stop: Arc<AtomicBool>,
    reader: Option<JoinHandle<()>>,
}

impl Tracer {
    /// Sets up an instance and starts a thread that hands every transition to
    /// `sink`, and calls `idle` when nothing came for [`IDLE_TICK`].
    pub fn start(
        sink: impl Fn(Transition) + Send + 'static,
        idle: impl Fn() + Send + 'static,
    ) -> Result<Tracer, TraceError> {
        let root = Path::new(TRACEFS);
        ensure_mounted(root).map_err(TraceError::Mount)?;
        remove_stale_instances(root);

        static SEQ: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "{INSTANCE_PREFIX}{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        let dir = root.join("instances").join(name);
        fs::create_dir(&dir).map_err(TraceError::Instance)?;
        // From here on, dropping `tracer` removes the instance.
        let mut tracer = Tracer {
            dir,
            stop: Arc::new(AtomicBool::new(false)),
            reader: None,
        };
        let setup = || -> io::Result<File> {
            write_file(&tracer.dir.join("trace_clock"), "mono")?;
            write_file(&tracer.dir.join("options/fields"), "1")?;
            write_file(&tracer.dir.join(EVENT_DIR).join("filter"), "protocol == 6")?;
            write_file(&tracer.dir.join(EVENT_DIR).join("enable"), "1")?;
            File::open(tracer.dir.join("trace_pipe"))
        };
        let pipe = setup().map_err(TraceError::Event)?;
        let stop = tracer.stop.clone();
        let reader = std::thread::Builder::new()
            .name("socklab-trace".into())
            .spawn(move || read_pipe(pipe, &stop, sink, idle))
            .map_err(TraceError::Instance)?;
        tracer.reader = Some(reader);
        tracing::info!(instance = %tracer.dir.display(), "tracing TCP state changes");
        Ok(tracer)
    }
}

impl Drop for Tracer {
    fn drop(&mut self) {
        if let Some(reader) = self.reader.take() {
            self.stop.store(true, Ordering::SeqCst);
            // The reader blocks in read(2) on trace_pipe: a marker wakes it.
            let _ = write_file(&self.dir.join(EVENT_DIR).join("enable"), "0");
            if write_file(&self.dir.join("trace_marker"), STOP_MARKER).is_ok() {
                let _ = reader.join();
            }
        }
        if let Err(error) = fs::remove_dir(&self.dir) {
            tracing::warn!(%error, instance = %self.dir.display(), "could not remove the tracefs instance");
        }
    }
}

fn read_pipe(pipe: File, stop: &AtomicBool, sink: impl Fn(Transition), idle: impl Fn()) {
    use std::os::fd::AsRawFd;
    let fd = pipe.as_raw_fd();
    let mut reader = BufReader::with_capacity(64 * 1024, pipe);
    let mut line = String::new();
    while !stop.load(Ordering::SeqCst) {
        if reader.buffer().is_empty() && !wait_readable(fd, IDLE_TICK) {
            idle();
            continue;
        }
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) => break,
            Ok(_) => {
                if let Some(transition) = Transition::parse(&line) {
                    sink(transition);
                }
            }
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => {
                tracing::error!(%error, "reading trace_pipe failed; TCP states stop");
                break;
            }
        }
    }
}

/// Whether `fd` became readable within `timeout`.
fn wait_readable(fd: std::os::fd::RawFd, timeout: std::time::Duration) -> bool {
    let mut pollfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    let millis = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
    // SAFETY: one valid pollfd that outlives the call.
    let ready = unsafe { libc::poll(&mut pollfd, 1, millis) };
    // On an error, read anyway: read(2) reports it properly.
    ready != 0
}

fn write_file(path: &Path, text: &str) -> io::Result<()> {
    OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(path)?
        .write_all(text.as_bytes())
}

fn ensure_mounted(root: &Path) -> io::Result<()> {
    match fs::metadata(root.join("instances")) {
        Ok(meta) if meta.is_dir() => return Ok(()),
        // Mounted, but not ours to use (tracefs is root's, mode 0700).
        Err(error) if error.kind() == io::ErrorKind::PermissionDenied => return Err(error),
        _ => {}
    }
    let target = std::ffi::CString::new(TRACEFS).map_err(io::Error::other)?;
    // SAFETY: every pointer is a NUL-terminated string that outlives the call.
    let rc = unsafe {
        libc::mount(
            c"nodev".as_ptr(),
            target.as_ptr(),
            c"tracefs".as_ptr(),
            0,
            std::ptr::null(),
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Removes `socklab-<pid>-*` instances whose process is gone (a relay that was killed).
fn remove_stale_instances(root: &Path) {
    let Ok(entries) = fs::read_dir(root.join("instances")) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(INSTANCE_PREFIX))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new("/proc").join(pid.to_string()).exists() {
            match fs::remove_dir(entry.path()) {
                Ok(()) => tracing::info!(instance = ?name, "removed a stale tracefs instance"),
                // Another relay starting at the same moment removed it first.
                Err(error) if matches!(error.raw_os_error(), Some(libc::ENOENT | libc::ENODEV)) => {}
                Err(error) => {
                    tracing::warn!(%error, instance = ?name, "stale tracefs instance left")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_fields_line() {
        let line = "         python3-4311    [001] .Ns2.   298.245737: inet_sock_set_state: skaddr=0xffff888108119bc0 (-131387209180224) oldstate=0xa (10) newstate=0x3 (3) sport=0xd48b (54411) dport=0x981e (38942) family=0x2 (2) protocol=0x6 (6) saddr=0x100007f (16777343) daddr=0x100007f (16777343) saddr_v6=<INVALID-SIZE> daddr_v6=<INVALID-SIZE>\n";
        let t = Transition::parse(line).expect("parses");
        assert_eq!(t.ts_ns, 298_245_737_000);
        assert_eq!(t.pid, 4311);
        assert!(t.softirq);
        assert_eq!(t.skaddr, 0xffff888108119bc0);
        assert_eq!((t.old, t.new), (TcpState::Listen, TcpState::SynRecv));
        assert_eq!((t.sport, t.dport), (54411, 38942));
        assert_eq!(t.saddr, Some(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        assert!(t.starts_new_socket());
    }

    #[test]
    fn comm_with_dashes_and_spaces() {
        let line = "  tokio-rt worker-77  [000] .....   1.000001: inet_sock_set_state: skaddr=0x1 (1) oldstate=0x7 (7) newstate=0xa (10) sport=0x157c (5500) dport=0x0 (0) family=0xa (10) protocol=0x6 (6) saddr=0x0 (0) daddr=0x0 (0) saddr_v6=<INVALID-SIZE> daddr_v6=<INVALID-SIZE>";
        let t = Transition::parse(line).expect("parses");
        assert_eq!(t.pid, 77);
        assert!(!t.softirq);
        assert_eq!(t.saddr, None);
        assert_eq!(t.sport, 5500);
    }

    #[test]
    fn ignores_other_lines() {
        assert_eq!(
            Transition::parse("  <...>-1 [000] ..... 1.0: tracing_mark_write: socklab-stop"),
            None
        );
    }
}
