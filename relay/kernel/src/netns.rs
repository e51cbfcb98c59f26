//! Private network namespaces for sessions: made, entered and released on helper threads.
//!
//! Network namespaces are per thread on Linux. Rather than switching a tokio
//! worker in and out of a namespace (a failed switch back would leave the worker
//! making every later socket in the wrong place), two dedicated threads do all
//! namespace work: one `unshare`s to make a namespace, the other `setns`es into
//! a namespace to make a socket there and hands the socket back. A socket stays
//! in the namespace it was made in whatever thread later uses it.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::sync::OnceLock;
use std::sync::mpsc;

use socket2::Socket;

/// What `net.ipv4.ping_group_range` is set to inside each namespace: every group,
/// so unprivileged ping sockets (`SOCK_DGRAM`, `IPPROTO_ICMP`) work there.
const PING_GROUP_RANGE: &str = "0 2147483647";

/// A private network namespace with only `lo`, up. Dropping it releases the
/// namespace once its sockets are closed.
#[derive(Debug)]
pub struct Netns {
    /// `/proc/thread-self/ns/net` of the namespace, opened while inside it: holds
    /// the namespace alive and is what `setns` takes.
    fd: OwnedFd,
    /// The namespace's inode number (as in `readlink /proc/PID/ns/net`).
    id: u64,
}

impl Netns {
    /// Makes a namespace: `lo` up, ping sockets allowed for every group.
    pub fn create() -> io::Result<Netns> {
        worker(Helper::Maker)?.run(create_here)?
    }

    /// [`Netns::create`] without blocking the calling thread while the helper
    /// works (making a namespace takes milliseconds): the thread's other
    /// sessions run meanwhile.
    pub async fn create_async() -> io::Result<Netns> {
        on_maker(create_here).await
    }

    /// A socket made inside this namespace, with `SOCK_NONBLOCK | SOCK_CLOEXEC` set.
    pub fn socket(&self, domain: i32, ty: i32, proto: i32) -> io::Result<Socket> {
        let fd = self.fd.try_clone()?;
        let id = self.id;
        worker(Helper::Sockets)?.run(move |state| {
            state.enter(&fd, id)?;
            new_socket(domain, ty, proto)
        })?
    }

    /// Runs `f` on a thread that is inside this namespace (e.g. to read its
    /// `/proc/sys/net` or `/proc/thread-self/net/*`).
    pub fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> io::Result<T> {
        let fd = self.fd.try_clone()?;
        let id = self.id;
        worker(Helper::Sockets)?.run(move |state| {
            state.enter(&fd, id)?;
            Ok(f())
        })?
    }

    /// The namespace's inode number, for attribution and logs.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The descriptor that holds the namespace (for `setns` and `IFLA_NET_NS_FD`).
    pub(crate) fn fd(&self) -> &OwnedFd {
        &self.fd
    }
}

/// Runs `f` on the namespace maker thread (where namespaces are made and
/// links set up) without blocking the caller's thread.
pub(crate) async fn on_maker<T: Send + 'static>(
    f: impl FnOnce(&mut WorkerState) -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    let (done, result) = tokio::sync::oneshot::channel();
    worker(Helper::Maker)?.post(move |state| {
        let _ = done.send(f(state));
    });
    result
        .await
        .map_err(|_| io::Error::other("the namespace helper thread is gone"))?
}

impl Drop for Netns {
    fn drop(&mut self) {
        // A helper thread may still be inside this namespace, which would keep
        // it alive after every socket is gone: send it home if so.
        let id = self.id;
        for helper in [Helper::Maker, Helper::Sockets] {
            if let Ok(worker) = worker(helper) {
                worker.post(move |state| {
                    if state.current == id
                        && let Err(error) = state.go_home()
                    {
                        tracing::error!(%error, "could not leave a released network namespace");
                    }
                });
            }
        }
    }
}

/// Why this process cannot make namespaces, in words for the start-up message.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("cannot create network namespaces ({0}): needs root or CAP_SYS_ADMIN")]
    NotPermitted(io::Error),
    #[error("cannot create network namespaces: {0}")]
    Failed(io::Error),
}

/// Two failures are the same when they say the same (an `io::Error` has no equality).
impl PartialEq for ProbeError {
    fn eq(&self, other: &ProbeError) -> bool {
        self.to_string() == other.to_string()
    }
}

/// Whether this process can make namespaces.
pub fn probe() -> Result<(), ProbeError> {
    match Netns::create() {
        Ok(_) => Ok(()),
        Err(error) if error.raw_os_error() == Some(libc::EPERM) => Err(ProbeError::NotPermitted(error)),
        Err(error) => Err(ProbeError::Failed(error)),
    }
}

/// A socket made in the caller's own network namespace, with the same flags as
/// [`Netns::socket`] (host mode).
pub fn host_socket(domain: i32, ty: i32, proto: i32) -> io::Result<Socket> {
    new_socket(domain, ty, proto)
}

/// The inode of the calling thread's network namespace.
pub fn current_id() -> io::Result<u64> {
    Ok(std::fs::metadata("/proc/thread-self/ns/net")?.ino())
}

fn new_socket(domain: i32, ty: i32, proto: i32) -> io::Result<Socket> {
    // SAFETY: socket(2) takes no pointers; the returned fd is checked and then
    // owned by exactly one `Socket`.
    let fd = unsafe { libc::socket(domain, ty | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, proto) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just returned by socket(2) and nothing else owns it.
    Ok(unsafe { Socket::from_raw_fd(fd) })
}

/// Runs on the maker thread, which `unshare` has just put in a fresh namespace.
pub(crate) fn create_here(state: &mut WorkerState) -> io::Result<Netns> {
    // SAFETY: unshare(2) takes no pointers and affects only this thread.
    if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let file = File::open("/proc/thread-self/ns/net")?;
    let id = file.metadata()?.ino();
    state.current = id;
    let netns = Netns {
        fd: OwnedFd::from(file),
        id,
    };
    bring_loopback_up().map_err(|e| io::Error::new(e.kind(), format!("bringing lo up (needs CAP_NET_ADMIN): {e}")))?;
    // Best effort: where /proc/sys is read-only (most containers) sessions still get a
    // namespace, only ping sockets stay off in it (raw ICMP sockets still work).
    if let Err(error) = std::fs::write("/proc/sys/net/ipv4/ping_group_range", PING_GROUP_RANGE) {
        static WARNED: std::sync::Once = std::sync::Once::new();
        WARNED.call_once(|| {
            tracing::warn!(%error, "cannot open ping sockets in session namespaces (/proc/sys/net/ipv4/ping_group_range); raw ICMP still works");
        });
    }
    Ok(netns)
}

/// `ip link set lo up` in the calling thread's namespace.
fn bring_loopback_up() -> io::Result<()> {
    let sock = new_socket(libc::AF_INET, libc::SOCK_DGRAM, 0)?;
    // SAFETY: `ifreq` is plain old data; all-zero is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as libc::c_char;
    }
    // SAFETY: SIOCGIFFLAGS/SIOCSIFFLAGS read and write only the `ifreq` we pass,
    // which lives across both calls; the union field read is the one they set.
    unsafe {
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) != 0 {
            return Err(io::Error::last_os_error());
        }
        req.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

type Job = Box<dyn FnOnce(&mut WorkerState) + Send>;

/// A helper thread's handle.
struct Worker {
    jobs: mpsc::Sender<Job>,
}

/// What a helper thread knows about where it is.
pub(crate) struct WorkerState {
    /// The namespace the thread started in, to return to.
    home: OwnedFd,
    home_id: u64,
    /// The inode of the namespace the thread is in now.
    current: u64,
}

impl WorkerState {
    pub(crate) fn enter(&mut self, fd: &OwnedFd, id: u64) -> io::Result<()> {
        if self.current != id {
            setns(fd)?;
            self.current = id;
        }
        Ok(())
    }

    fn go_home(&mut self) -> io::Result<()> {
        setns(&self.home)?;
        self.current = self.home_id;
        Ok(())
    }
}

fn setns(fd: &OwnedFd) -> io::Result<()> {
    // SAFETY: setns(2) takes an fd we own for the duration of the call.
    if unsafe { libc::setns(fd.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

impl Worker {
    fn start(name: &str) -> io::Result<Worker> {
        let home = File::open("/proc/thread-self/ns/net")?;
        let home_id = home.metadata()?.ino();
        let mut state = WorkerState {
            home: OwnedFd::from(home),
            home_id,
            current: home_id,
        };
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                for job in queue {
                    job(&mut state);
                }
            })?;
        Ok(Worker { jobs })
    }

    /// Runs `f` on this helper thread and waits for its result.
    fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut WorkerState) -> T + Send + 'static,
    ) -> io::Result<T> {
        let (done, result) = mpsc::sync_channel(1);
        self.post(move |state| {
            let _ = done.send(f(state));
        });
        result
            .recv()
            .map_err(|_| io::Error::other("the namespace helper thread is gone"))
    }

    fn post(&self, f: impl FnOnce(&mut WorkerState) + Send + 'static) {
        let _ = self.jobs.send(Box::new(f));
    }
}

/// The two helper threads: one makes namespaces (milliseconds each, more under
/// load), the other enters them to make sockets (microseconds), so a session's
/// `socket()` never waits behind another session's namespace being made.
#[derive(Debug, Clone, Copy)]
enum Helper {
    Maker,
    Sockets,
}

fn worker(helper: Helper) -> io::Result<&'static Worker> {
    static MAKER: OnceLock<Result<Worker, String>> = OnceLock::new();
    static SOCKETS: OnceLock<Result<Worker, String>> = OnceLock::new();
    let (cell, name) = match helper {
        Helper::Maker => (&MAKER, "socklab-netns"),
        Helper::Sockets => (&SOCKETS, "socklab-netns-s"),
    };
    cell.get_or_init(|| Worker::start(name).map_err(|error| error.to_string()))
        .as_ref()
        .map_err(|message| io::Error::other(message.clone()))
}
