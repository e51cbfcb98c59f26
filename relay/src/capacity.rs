//! How many sessions one relay process can hold within its open-files limit.
//!
//! RLIMIT_NOFILE bounds every fd a process holds: listeners, connections,
//! each session's WebSocket, namespace and capture sockets, and the script's
//! own sockets. Past it, accept() and socket() fail with EMFILE inside
//! sessions already admitted. So the default session limit is derived from
//! it, and sessions past it are refused at the hello with `limit_exceeded`.

/// Fds assumed for a session's own sockets, on top of its WebSocket and
/// sandbox: a lesson's listener, client and accepted connection, and a
/// readiness registration (a dup) for a call that waits.
pub const SOCKET_FDS_PER_SESSION: usize = 4;

/// What one process has to spend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FdBudget {
    /// The soft RLIMIT_NOFILE, once raised.
    pub nofile: u64,
    /// Fds open once the relay is ready to serve (listeners, observer, log…).
    pub open_at_start: usize,
    /// Fds one session's sandbox holds (namespace, capture, diag sockets), measured.
    pub sandbox_fds: usize,
}

/// What fits in an [`FdBudget`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capacity {
    /// Fds counted per session.
    pub per_session: usize,
    /// Sessions one process can hold.
    pub sessions: usize,
    /// Connections one process may have open: its sessions, plus page loads and handshakes.
    pub connections: usize,
}

impl FdBudget {
    /// Kept free for connections that are not sessions (page loads, handshakes), lab
    /// peers and accept headroom.
    pub fn reserve(&self) -> usize {
        usize::try_from(self.nofile / 16).unwrap_or(usize::MAX).max(64)
    }

    pub fn capacity(&self) -> Capacity {
        let per_session = 1 + self.sandbox_fds + SOCKET_FDS_PER_SESSION;
        let nofile = usize::try_from(self.nofile).unwrap_or(usize::MAX);
        let free = nofile.saturating_sub(self.open_at_start).saturating_sub(self.reserve());
        let sessions = (free / per_session).max(1);
        Capacity { per_session, sessions, connections: sessions.saturating_add(self.reserve()) }
    }
}

/// Raise the soft limit on open files to the hard one; the soft limit after.
pub fn raise_nofile() -> u64 {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit with a valid pointer to a properly sized struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 1024;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
    }
    limit.rlim_cur
}

/// Fds this process has open now.
pub fn open_fds() -> usize {
    // The directory listing itself holds one while it is read.
    std::fs::read_dir("/proc/self/fd").map_or(0, |dir| dir.count().saturating_sub(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_fill_what_the_limit_leaves() {
        let budget = FdBudget { nofile: 20_000, open_at_start: 20, sandbox_fds: 3 };
        let capacity = budget.capacity();
        assert_eq!(budget.reserve(), 1250);
        assert_eq!(capacity.per_session, 8);
        assert_eq!(capacity.sessions, (20_000 - 20 - 1250) / 8);
        assert_eq!(capacity.connections, capacity.sessions + 1250);
        let tiny = FdBudget { nofile: 64, open_at_start: 30, sandbox_fds: 0 };
        assert_eq!(tiny.capacity().sessions, 1, "at least one session");
    }
}
