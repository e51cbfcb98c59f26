//! Where a session's sockets live: the relay's network (host mode) or a
//! private network namespace, plus a private directory for Unix socket paths.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use std::sync::Arc;

use socklab_kernel::netns::{self, Netns, ProbeError};
use socklab_kernel::observe::{Observer, ObserverConfig, SessionObserver};
use socklab_wire::protocol::{Capabilities, Event, SandboxMode};

use crate::metrics;
use crate::exec::{AddrPolicy, BufferMax, Cidr, ExecConfig, Executor, SocketMaker, host_socket_maker};

/// Where sessions' sockets should live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum SandboxChoice {
    /// A private network namespace per session when this process may make one, else host mode.
    #[default]
    Auto,
    /// A private network namespace per session; refuse to start without.
    Namespace,
    /// The relay's own network, loopback only.
    Host,
}

/// What the operator allows; the rest is decided by what the machine permits.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    pub sandbox: SandboxChoice,
    /// The relay's own port: never usable by scripts in host mode.
    pub relay_port: Option<u16>,
    /// Allow SOCK_RAW in host mode.
    pub allow_raw_in_host: bool,
    pub max_sockets: usize,
    /// Directory under which each session gets its own directory for Unix paths.
    pub unix_base: PathBuf,
    /// Host mode: destination ranges allowed besides loopback.
    pub allow_destinations: Vec<Cidr>,
    /// Host mode: allow binding ports below 1024.
    pub allow_privileged_ports: bool,
    /// How TCP states and segments are observed.
    pub observe: ObserverConfig,
}

impl Default for SandboxConfig {
    fn default() -> SandboxConfig {
        SandboxConfig {
            sandbox: SandboxChoice::Auto,
            relay_port: None,
            allow_raw_in_host: false,
            max_sockets: 64,
            unix_base: std::env::temp_dir().join(format!("socklab-{}", std::process::id())),
            allow_destinations: Vec::new(),
            allow_privileged_ports: false,
            observe: ObserverConfig::default(),
        }
    }
}

/// The operator asked for namespaces (`--sandbox namespace`) and this process cannot make them.
#[derive(Debug, thiserror::Error)]
#[error("cannot make network namespaces ({0}); run as root or with CAP_SYS_ADMIN, or choose --sandbox host")]
pub struct NoNamespaces(ProbeError);

/// Makes sessions. One per relay process.
pub struct Sandbox {
    config: SandboxConfig,
    mode: SandboxMode,
    /// Why the mode is what it is, when it is less than a namespace.
    notes: Vec<String>,
    /// Watches the kernel (TCP states, capture) for every session.
    observer: Arc<Observer>,
    next_session: AtomicU64,
    /// `net.core.wmem_max` / `rmem_max`, read at start.
    buffer_max: BufferMax,
}

/// Everything one session owns. Dropping it closes the sockets and removes the directory.
pub struct SessionEnv {
    pub exec: Executor,
    pub observer: Observation,
    pub dir: SessionDir,
}

impl Sandbox {
    /// Decide the mode from the operator's choice and what this process may do.
    pub fn new(mut config: SandboxConfig) -> Result<Sandbox, NoNamespaces> {
        config.unix_base = private_base(config.unix_base);
        let mut notes = Vec::new();
        let mode = match (config.sandbox, netns::probe()) {
            (SandboxChoice::Host, _) => {
                notes.push("the operator chose host mode: sessions share the relay's network, loopback only".into());
                SandboxMode::Host
            }
            (SandboxChoice::Auto | SandboxChoice::Namespace, Ok(())) => SandboxMode::Namespace,
            (SandboxChoice::Namespace, Err(why)) => {
                return Err(NoNamespaces(why));
            }
            (SandboxChoice::Auto, Err(why)) => {
                tracing::warn!(reason = %why, "network namespaces unavailable: running in host mode (loopback only)");
                notes.push(format!("no private network per session ({why}): host mode, loopback only"));
                SandboxMode::Host
            }
        };
        let observer = Observer::start_with(config.observe);
        if let Some(port) = config.relay_port {
            observer.relay_listens_on(port);
        }
        Ok(Sandbox { config, mode, notes, observer, next_session: AtomicU64::new(1), buffer_max: BufferMax::read() })
    }

    pub fn mode(&self) -> SandboxMode {
        self.mode
    }

    /// Remove the base of the session directories with whatever is still in it
    /// (at shutdown: sessions still being reaped, or cut off by the shutdown
    /// timeout). Only a directory that is ours and private is removed.
    pub fn remove_base(&self) {
        let base = &self.config.unix_base;
        if !is_private(base) {
            return;
        }
        match std::fs::remove_dir_all(base) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(path = %base.display(), error = %e, "could not remove the session directories"),
        }
    }

    /// What sessions can observe, told to clients in the hello.
    pub fn capabilities(&self) -> Capabilities {
        let mut capabilities = self.observer.capabilities_for(self.mode);
        capabilities.notes.extend(self.notes.iter().cloned());
        capabilities
    }

    /// A fresh session environment.
    pub fn new_session(&self) -> io::Result<SessionEnv> {
        let setting_up = Instant::now();
        let netns = match self.mode {
            SandboxMode::Namespace => Some(Netns::create()?),
            SandboxMode::Host => None,
        };
        self.session_with(netns, setting_up)
    }

    /// [`Sandbox::new_session`] for a session thread: the thread serves other
    /// sessions while the namespace is made.
    pub async fn new_session_async(&self) -> io::Result<SessionEnv> {
        let setting_up = Instant::now();
        let netns = match self.mode {
            SandboxMode::Namespace => Some(Netns::create_async().await?),
            SandboxMode::Host => None,
        };
        self.session_with(netns, setting_up)
    }

    fn session_with(&self, netns: Option<Netns>, setting_up: Instant) -> io::Result<SessionEnv> {
        let n = self.next_session.fetch_add(1, Ordering::Relaxed);
        let dir = SessionDir::create(&self.config.unix_base.join(format!("s{n}")))?;
        let (netns, policy, make_socket): (_, _, SocketMaker) = match netns {
            Some(netns) => {
                let netns = Arc::new(netns);
                let inside = netns.clone();
                // Counted while the executor, which holds the socket maker, lives.
                let in_use = metrics::namespace_in_use();
                let policy = AddrPolicy::sandboxed(dir.path().to_path_buf());
                let make_socket = move |family, ty, proto| {
                    let _counted = &in_use;
                    inside.socket(family, ty, proto)
                };
                (Some(netns), policy, Arc::new(make_socket))
            }
            None => {
                let mut policy = AddrPolicy::host(dir.path().to_path_buf(), self.config.relay_port.into_iter().collect());
                policy.allow = self.config.allow_destinations.clone();
                policy.unprivileged_ports_only = !self.config.allow_privileged_ports;
                (None, policy, host_socket_maker())
            }
        };
        let observer = Arc::new(self.observer.session(netns.clone()));
        let exec = Executor::new(ExecConfig {
            policy,
            make_socket,
            // Inside a namespace only loopback exists, so raw ICMP reaches nothing else.
            allow_raw: netns.is_some() || self.config.allow_raw_in_host,
            max_sockets: self.config.max_sockets,
            max_recv: 16 << 20,
            max_sleep: Duration::from_secs(60),
            buffer_max: self.buffer_max,
            peers_on_well_known_ports: netns.is_some(),
            watch: Some(observer.clone()),
            session_netns: netns.clone(),
        });
        metrics::session_set_up(self.mode, setting_up.elapsed());
        Ok(SessionEnv { exec, observer: Observation { observer }, dir })
    }
}

/// The kernel's view of a session's sockets, as events.
pub struct Observation {
    observer: Arc<SessionObserver>,
}

impl Observation {
    /// The next state or segment event. Cancel-safe.
    pub async fn next_event(&self) -> Event {
        self.observer.next_event().await
    }

    /// Microseconds on the session's event clock (`ts_us`).
    pub fn now_us(&self) -> u64 {
        self.observer.now_us()
    }

    /// Keeps the frames the session's hosts send (up to `max_bytes`), for a pcapng export.
    pub fn keep_frames(&self, max_bytes: usize) -> socklab_kernel::observe::links::FrameLog {
        self.observer.keep_frames(max_bytes)
    }

    /// The events still coming once a run's lanes are done (FIN_WAIT2, TIME_WAIT…): waits
    /// until the kernel has been quiet for `quiet` and no connection is mid-transition.
    pub async fn settle(&self, quiet: Duration) -> Vec<Event> {
        self.observer.settle(quiet, Duration::from_secs(3)).await
    }
}

/// The base of the session directories, made private (0700, ours, not a
/// symlink). `/tmp/socklab-<pid>` is a predictable name: another local user
/// could create it first to plant symlinks or sockets, so when it exists and
/// is not ours, a random name is used instead. When it exists and is ours, an
/// earlier process with this PID left it, and it is emptied.
fn private_base(wanted: PathBuf) -> PathBuf {
    use std::os::unix::fs::DirBuilderExt;
    let make = |path: &Path| std::fs::DirBuilder::new().mode(0o700).create(path);
    let mut candidate = wanted.clone();
    for _ in 0..8 {
        let error = match make(&candidate) {
            Ok(()) => return candidate,
            // Ours and private, yet there before us: left by an earlier process
            // that had this PID (one sandbox per process). Its sessions are
            // long gone, and what they left would pass for ours.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && is_private(&candidate) => {
                match std::fs::remove_dir_all(&candidate).and_then(|()| make(&candidate)) {
                    Ok(()) => {
                        tracing::info!(path = %candidate.display(), "removed what an earlier process with this PID left");
                        return candidate;
                    }
                    Err(e) => e,
                }
            }
            Err(e) => e,
        };
        tracing::warn!(path = %candidate.display(), %error, "session base directory unusable; trying another name");
        let suffix: u64 = rand::random();
        candidate = wanted.with_file_name(format!(
            "{}-{suffix:016x}",
            wanted.file_name().and_then(|n| n.to_str()).unwrap_or("socklab")
        ));
    }
    candidate
}

/// A directory of ours (not a symlink) that no one else may enter.
fn is_private(path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(path).is_ok_and(|m| {
        // SAFETY: geteuid has no preconditions.
        m.is_dir() && m.uid() == unsafe { libc::geteuid() } && m.mode() & 0o077 == 0
    })
}

/// A session's directory for Unix socket paths, removed with everything in it when dropped.
pub struct SessionDir {
    path: PathBuf,
}

impl SessionDir {
    fn create(path: &Path) -> io::Result<SessionDir> {
        std::fs::create_dir_all(path)?;
        Ok(SessionDir { path: path.to_path_buf() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SessionDir {
    fn drop(&mut self) {
        // Already gone when the relay removed every session directory at shutdown.
        if let Err(e) = std::fs::remove_dir_all(&self.path)
            && e.kind() != io::ErrorKind::NotFound
        {
            tracing::warn!(path = %self.path.display(), error = %e, "could not remove a session directory");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_base_an_earlier_process_with_this_pid_left_is_emptied() {
        use std::os::unix::fs::DirBuilderExt;
        let wanted = std::env::temp_dir().join(format!("socklab-base-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&wanted);
        std::fs::DirBuilder::new().mode(0o700).create(&wanted).unwrap();
        std::fs::create_dir(wanted.join("s7")).unwrap();
        std::fs::write(wanted.join("s7").join("left"), b"").unwrap();
        let base = private_base(wanted.clone());
        assert_eq!(base, wanted);
        assert!(is_private(&base));
        assert_eq!(std::fs::read_dir(&base).unwrap().count(), 0, "the stale session directory is gone");
        std::fs::remove_dir_all(&base).unwrap();
    }
}
